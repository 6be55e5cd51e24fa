"""Lineage: relations, the origin's evidence order, late originals, incremental and repeated runs."""

from __future__ import annotations

import json

import pytest
from conftest import invoke_cli, rows
from textgen import article

from collector.ingest import run_items
from collector.core.document import Document


def doc(url, seed=1, *, text=None, title=None, published=None, fetched="2026-03-10T00:00:00+00:00", top=(), bottom=(), cut=None, site=None):
    t, paras = article(seed)
    if cut is not None:
        paras = paras[:cut]
    return Document(
        url=url,
        source=url,
        site=site,
        title=title or t,
        text=text if text is not None else "\n".join([*top, *paras, *bottom]),
        published=published,
        fetched=fetched,
    )


@pytest.fixture
def db_path(db_url):
    """Every test here runs on SQLite and on PostgreSQL (conftest's ``db_url``)."""
    return db_url


def ingest(context, *items):
    return run_items(list(items), context)


def links(db_path):
    return {
        (r["copy_url"], r["origin_url"], r["relation"]): r
        for r in rows(db_path, "SELECT * FROM lineage")
    }


def origin_of(db_path, url):
    found = rows(db_path, "SELECT origin_url, relation, evidence FROM lineage WHERE copy_url = ?", (url,))
    return found[0] if found else None


DL = "https://dailyledger.example/"
HW = "https://harbourwatch.example/"
CD = "https://coastaldigest.example/"
MW = "https://morningwire.example/"


def test_relations_copy_excerpt_duplicate_and_unrelated(context, db_path):
    edited_title, paras = article(1)
    edited = [p.replace("thousand", "thousand dollars", 1) for p in paras[:-1]]  # light edits, a paragraph dropped
    summary = ingest(
        context,
        doc(DL + "a", 1, published="2026-03-01T08:00:00+00:00"),
        doc(HW + "a", 1, title="A new title for the same story", published="2026-03-01T10:00:00+00:00", text="\n".join(edited)),
        doc(CD + "a", 1, cut=2, bottom=["Read more at The Daily Ledger"], published="2026-03-01T11:00:00+00:00"),
        doc(MW + "a", 1, published="2026-03-01T12:00:00+00:00"),
        doc(MW + "amp/a", 1, published="2026-03-01T12:00:00+00:00"),
        doc(DL + "b", 2, published="2026-03-01T09:00:00+00:00"),  # same beat, different story
    )
    assert summary.new == 6 and summary.skipped == 0
    got = {(r["copy_url"], r["relation"]): r for r in rows(db_path, "SELECT * FROM lineage")}
    assert set(got) == {
        (HW + "a", "copy"),
        (CD + "a", "excerpt"),
        (MW + "a", "copy"),
        (MW + "amp/a", "duplicate"),
    }
    assert got[(HW + "a", "copy")]["origin_url"] == DL + "a"
    assert got[(CD + "a", "excerpt")]["containment"] > 0.95
    assert got[(CD + "a", "excerpt")]["similarity"] < 0.5
    assert got[(MW + "amp/a", "duplicate")]["origin_url"] == MW + "a"  # the site's first copy
    assert origin_of(db_path, DL + "b") is None


def test_attribution_claim_beats_an_earlier_date(context, db_path):
    ingest(
        context,
        doc(DL + "a", 3, published="2026-03-02T12:00:00+00:00"),
        doc(HW + "a", 3, top=["Originally appeared at The Daily Ledger"], published="2026-03-02T06:00:00+00:00"),
    )
    found = origin_of(db_path, HW + "a")
    assert found["origin_url"] == DL + "a"
    assert found["evidence"].startswith("attribution claim")
    # the attribution line is provenance: out of the text, into claims
    text = rows(db_path, "SELECT text FROM documents WHERE url = ?", (HW + "a",))[0]["text"]
    assert "Originally appeared" not in text
    claims = rows(db_path, "SELECT claimed_site, evidence FROM claims")
    assert claims == [{"claimed_site": "dailyledger", "evidence": "Originally appeared at The Daily Ledger"}]


def test_canonical_link_beats_an_earlier_date(context, db_path):
    _, paras = article(4)
    page = "<html><head><link rel='canonical' href='{c}'></head><body><article>{b}</article></body></html>"
    body = "".join(f"<p>{p}</p>" for p in paras)
    ingest(
        context,
        Document(url=DL + "c", source="t", html=page.format(c=DL + "c", b=body), published="2026-03-03T12:00:00+00:00"),
        Document(url=HW + "c", source="t", html=page.format(c=DL + "c", b=body), published="2026-03-03T07:00:00+00:00"),
    )
    found = origin_of(db_path, HW + "c")
    assert found["origin_url"] == DL + "c" and found["evidence"].startswith("canonical link")


def test_earliest_date_keeps_time_of_day_then_fetch_decides(context, db_path):
    ingest(
        context,
        doc(CD + "d", 5, published="2026-03-04T15:00:00+00:00", fetched="2026-03-04T01:00:00+00:00"),
        doc(MW + "d", 5, published="2026-03-04T09:30:00+02:00", fetched="2026-03-05T00:00:00+00:00"),
    )
    found = origin_of(db_path, CD + "d")
    assert found["origin_url"] == MW + "d" and found["evidence"].startswith("earliest published")
    # same day, one without a time: it was published by the end of that day, or by its
    # fetch if that came first
    ingest(
        context,
        doc(CD + "e", 6, published="2026-03-04", fetched="2026-03-06T00:00:00+00:00"),
        doc(MW + "e", 6, published="2026-03-04T09:30:00+00:00", fetched="2026-03-05T00:00:00+00:00"),
    )
    found = origin_of(db_path, CD + "e")
    assert found["origin_url"] == MW + "e" and found["evidence"].startswith("earliest published")
    ingest(
        context,
        doc(CD + "g", 8, published="2026-03-04", fetched="2026-03-04T08:00:00+00:00"),
        doc(MW + "g", 8, published="2026-03-04T09:30:00+00:00", fetched="2026-03-05T00:00:00+00:00"),
    )
    assert origin_of(db_path, MW + "g")["origin_url"] == CD + "g"


def test_dates_in_other_formats_and_in_the_future(context, db_path):
    """RFC 2822 is read as a date, not compared as a string; a date more than a day after
    the fetch is not believed."""
    ingest(
        context,
        doc(CD + "h", 9, published="Wed, 04 Mar 2026 09:30:00 GMT", fetched="2026-03-05T00:00:00+00:00"),
        doc(MW + "h", 9, published="Tue, 03 Mar 2026 23:30:00 -0800", fetched="2026-03-05T00:00:00+00:00"),
    )
    found = rows(db_path, "SELECT origin_url, origin_published FROM lineage WHERE copy_url = ?", (CD + "h",))[0]
    assert found == {"origin_url": MW + "h", "origin_published": "2026-03-03T23:30:00-08:00"}
    ingest(
        context,
        doc(CD + "i", 10, published="2031-01-01T00:00:00+00:00", fetched="2026-03-05T00:00:00+00:00"),
        doc(MW + "i", 10, published="2026-03-04T09:30:00+00:00", fetched="2026-03-05T00:00:00+00:00"),
    )
    assert origin_of(db_path, CD + "i")["origin_url"] == MW + "i"


def test_late_arriving_original_becomes_origin(context, db_path):
    ingest(
        context,
        doc(HW + "f", 7, top=["Originally appeared at The Daily Ledger"], published="2026-03-05T10:00:00+00:00"),
        doc(CD + "f", 7, cut=2, bottom=["Read more at The Daily Ledger"], published="2026-03-05T09:00:00+00:00"),
    )
    # Before the original arrives, the copies form a group among themselves.
    assert origin_of(db_path, HW + "f") is not None or origin_of(db_path, CD + "f") is not None
    before = rows(db_path, "SELECT id, text, content_hash FROM documents ORDER BY id")
    summary = ingest(context, doc(DL + "f", 7, published="2026-03-05T12:00:00+00:00"))
    assert summary.new == 1
    assert origin_of(db_path, HW + "f")["origin_url"] == DL + "f"
    assert origin_of(db_path, CD + "f") == {
        "origin_url": DL + "f",
        "relation": "excerpt",
        "evidence": origin_of(db_path, CD + "f")["evidence"],
    }
    # the stored copies were not re-processed
    assert rows(db_path, "SELECT id, text, content_hash FROM documents WHERE id <= 2 ORDER BY id") == before


def test_incremental_and_repeated_imports(tmp_path, config_dir, db_path):
    folder1, folder2 = tmp_path / "batch1", tmp_path / "batch2"
    folder1.mkdir()
    folder2.mkdir()
    for seed in range(10, 20):
        title, paras = article(seed)
        (folder1 / f"dl-{seed}.jsonl").write_text(
            json.dumps({"url": f"{DL}{seed}", "title": title, "text": "\n".join(paras), "published": "2026-03-01T08:00:00+00:00"}) + "\n"
        )
        (folder2 / f"hw-{seed}.jsonl").write_text(
            json.dumps({"url": f"{HW}{seed}", "title": title, "text": "\n".join(["Source: Daily Ledger", *paras])}) + "\n"
        )
    first = json.loads(invoke_cli("import", folder1, "--json", db=db_path, config=config_dir).stdout)
    assert first["new"] == 10 and first["new_links"] == 0
    second = json.loads(invoke_cli("import", folder2, "--json", db=db_path, config=config_dir).stdout)
    assert second["new"] == 10 and second["new_links"] == 10
    assert len(rows(db_path, "SELECT * FROM lineage WHERE origin_site = 'dailyledger' AND relation = 'copy'")) == 10

    def snapshot():
        return {
            table: rows(db_path, f"SELECT * FROM {table} ORDER BY 1, 2")
            for table in ("documents", "claims", "links", "lsh_index", "chrome_lines", "line_sightings")
        }

    before = snapshot()
    again = json.loads(invoke_cli("import", folder1, folder2, "--json", db=db_path, config=config_dir).stdout)
    assert again["unchanged"] == 20 and again["new"] == 0 and again["new_links"] == 0
    assert snapshot() == before
    # The persisted index holds one bucket row per band per document.
    from collector.storage.lsh import BANDS

    assert len(before["lsh_index"]) == 20 * BANDS
