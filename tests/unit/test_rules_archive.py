"""The archive's records, made on a crawl node and checked by the link-worker before it keeps
them; and reading a record back refuses what is not one (warcio also reads ARC, where any
line of text is a header)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request

from collector.core.errors import RawMissing
from collector.raw import read_record
from collector.storage.archive import ArchiveWriter, records_problem, warc_records

PAGE = "<html><head><meta charset='shift_jis'></head><body><p>東京の図書館は深夜まで開館する。</p></body></html>"


def response() -> HtmlResponse:
    url = "https://ニュース.example/2026/記事?id=7"
    return HtmlResponse(url, body=PAGE.encode("shift_jis"), headers={"Content-Type": "text/html"}, request=Request(url))


def test_a_nodes_records_pass_the_check_and_read_back_as_the_page(tmp_path):
    records = warc_records(response())
    assert records_problem(records) is None
    writer = ArchiveWriter(tmp_path / "a.warc", "日本語", 10**9, tmp_path)
    ref = writer.append(records)
    writer.close()
    path, offset = ref.split("#offset=")
    assert read_record(tmp_path / path, int(offset))[2] == PAGE.encode("shift_jis")


@pytest.mark.parametrize("damage, why", [
    (lambda r: b"\x00\xffnot a warc at all", "not WARC"),
    (lambda r: r[: len(r) // 3], "no whole record"),  # cut inside the first record
    (lambda r: r[: len(r) // 2], "truncated"),
    (lambda r: b"\x1f\x8b" + r[2:], None),  # the same bytes: still whole
    (lambda r: b"\x1f\x8b\x08\x00garbage" * 3, "unreadable"),
])
def test_damaged_records_are_named(damage, why):
    problem = records_problem(damage(warc_records(response())))
    assert (problem is None) if why is None else (why in problem)


def test_reading_back_refuses_a_line_of_text_that_warcio_would_take_for_an_arc_record(tmp_path):
    path = tmp_path / "x.warc.gz"
    path.write_bytes(b"not a warc at all, but five fields\n")
    with pytest.raises(RawMissing, match="not a WARC record"):
        read_record(path, 0)
