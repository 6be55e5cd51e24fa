"""Every way sources write a publication date comes out as ISO-8601 (collector.core.dates)."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from collector.core.dates import moment, normalize_date


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Wed, 04 Mar 2026 07:30:00 GMT", "2026-03-04T07:30:00+00:00"),
        ("Tue, 3 Mar 2026 23:30:00 -0800", "2026-03-03T23:30:00-08:00"),
        ("2026-03-04 07:30", "2026-03-04T07:30:00+00:00"),
        ("2026-03-04T07:30", "2026-03-04T07:30:00+00:00"),
        ("2026-03-04T07:30:00.000Z", "2026-03-04T07:30:00+00:00"),
        ("2026-03-04T07:30:00+0100", "2026-03-04T07:30:00+01:00"),
        ("2026-03-04T07:30:00 UTC", "2026-03-04T07:30:00+00:00"),
        ("1772609400", "2026-03-04T07:30:00+00:00"),
        ("1772609400000", "2026-03-04T07:30:00+00:00"),
        (1772609400, "2026-03-04T07:30:00+00:00"),
        ("2026-03-04", "2026-03-04"),
        ("2026-03-04T00:00:00", "2026-03-04"),  # metadata's "this day, no time"
        ("March 4, 2026", "2026-03-04"),
        ("2026年3月4日", "2026-03-04"),
    ],
)
def test_formats(raw, expected):
    assert normalize_date(raw) == expected


def test_language_decides_numeric_order():
    assert normalize_date("04/03/2026", "fr") == "2026-03-04"
    assert normalize_date("04/03/2026", "de") == "2026-03-04"
    assert normalize_date("03/04/2026", "en") == "2026-03-04"
    assert normalize_date("4 mars 2026", "fr") == "2026-03-04"
    assert normalize_date("4. März 2026, 07:30 Uhr", "de") == "2026-03-04T07:30:00+00:00"


@pytest.mark.parametrize("raw", ["yesterday", "3 hours ago", "garbage 12", "2026-02-30", "", "   ", "Spring 2026", "12"])
def test_unreadable_or_relative_is_none(raw):
    assert normalize_date(raw) is None


def test_random_moments_round_trip_through_every_format():
    """Seeded: random moments written in each format a source uses read back as the same instant."""
    rng = random.Random(20261204)
    for _ in range(200):
        when = datetime(2000, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(0, 30 * 365 * 86400))
        offset = timezone(timedelta(minutes=rng.choice([-480, -300, 0, 60, 330, 540])))
        local = when.astimezone(offset)
        written = [
            local.strftime("%a, %d %b %Y %H:%M:%S %z"),
            local.isoformat(),
            local.strftime("%Y-%m-%dT%H:%M:%S%z"),
            when.strftime("%Y-%m-%dT%H:%M:%S.123Z"),
            str(int(when.timestamp())),
            str(int(when.timestamp() * 1000)),
        ]
        for text in written:
            value = normalize_date(text)
            assert value is not None, text
            assert moment(value)[1] == when, (text, value)


def test_jsonl_dates_are_normalised_and_an_unreadable_one_is_kept_raw_and_said(tmp_path, config_dir):
    import json
    import sqlite3

    from conftest import invoke_cli
    from textgen import article

    title, paras = article(3)
    text = "\n".join(paras)
    lines = [
        {"url": "https://morningwire.example/late", "text": text, "published": "Wed, 04 Mar 2026 09:30:00 GMT"},
        {"url": "https://coastaldigest.example/early", "text": text, "published": "Tue, 03 Mar 2026 23:30:00 -0800"},
        {"url": "https://harbourwatch.example/odd", "text": text + "\nA last line.", "published": "the ides of March"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    db = tmp_path / "t.db"
    result = invoke_cli("import", path, db=db, config=config_dir)
    warnings = [line for line in result.stderr.splitlines() if "the ides of March" in line]
    assert len(warnings) == 1 and "published_raw" in warnings[0] and "in.jsonl" in warnings[0]
    conn = sqlite3.connect(db)
    stored = dict(conn.execute("SELECT url, published FROM documents"))
    raw = dict(conn.execute("SELECT url, published_raw FROM documents"))
    assert stored == {"https://morningwire.example/late": "2026-03-04T09:30:00+00:00",
                      "https://coastaldigest.example/early": "2026-03-03T23:30:00-08:00",
                      "https://harbourwatch.example/odd": None}
    assert raw["https://harbourwatch.example/odd"] == "the ides of March"
    origin = conn.execute("SELECT origin_url FROM lineage WHERE copy_url = 'https://morningwire.example/late'").fetchone()
    assert origin == ("https://coastaldigest.example/early",)
