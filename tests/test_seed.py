"""End to end on the seed: a Russia Insider repost of a Zero Hedge article, as a text dump."""

from __future__ import annotations

import html
import json

import pytest
from conftest import SEED, invoke_cli, needs_shared, rows

pytestmark = needs_shared(SEED)

TITLE = "Iraq Turns on US, Wants Russia Iran as Battle Partners"
BANNER = "Support Russia Insider - Go Ad-Free!"


def seed_paragraphs() -> list[str]:
    # whitespace (no-break spaces included) is normalised in stored text
    return [" ".join(line.split()) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def seeded(tmp_path, config_dir):
    db = tmp_path / "seed.db"
    result = invoke_cli("import", SEED, db=db, config=config_dir)
    return db, result


def test_seed_is_stored_clean_with_its_claim(seeded):
    db, result = seeded
    assert "imported 1" in result.stderr
    (doc,) = rows(db, "SELECT * FROM documents")
    assert doc["site"] == "russia-insider"
    assert doc["title"] == TITLE
    text, chrome = doc["text"], json.loads(doc["chrome"])
    paragraphs = seed_paragraphs()
    subtitle = paragraphs[2]
    assert text.startswith(subtitle)  # the subtitle is kept, first
    assert BANNER not in text and "Our commenting rules:" not in text
    assert chrome.count(BANNER) == 2 and any(line.startswith("Our commenting rules:") for line in chrome)
    assert "Originally appeared at Zero Hedge" not in text
    # the whole body is kept: every other paragraph of the dump, in order
    body = [p for p in paragraphs if p not in (BANNER, TITLE, "Originally appeared at Zero Hedge") and not p.startswith("Our commenting rules:")]
    assert text.split("\n") == body
    claims = rows(db, "SELECT kind, claimed_site, claimed_name FROM claims")
    assert claims == [{"kind": "attribution", "claimed_site": "zerohedge", "claimed_name": "Zero Hedge"}]


def test_zero_hedge_copy_imported_later_becomes_the_origin(seeded, tmp_path, config_dir):
    db, _ = seeded
    before = rows(db, "SELECT * FROM documents")
    body = [p for p in seed_paragraphs()[2:] if p != BANNER and not p.startswith(("Our commenting", "Originally appeared"))]
    page = tmp_path / "zerohedge.html"
    url = "https://www.zerohedge.com/news/2015-10-28/iraq-turns-us-wants-russia-iran-battle-partners"
    page.write_text(
        "<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(TITLE)} | ZeroHedge</title><link rel='canonical' href='{url}'>"
        "<meta property='article:published_time' content='2015-10-28T15:40:00-04:00'></head><body>"
        "<nav><a href='/'>Home</a></nav><article>"
        f"<h1>{html.escape(TITLE)}</h1>" + "".join(f"<p>{html.escape(p)}</p>" for p in body) + "</article></body></html>",
        encoding="utf-8",
    )
    invoke_cli("import", page, db=db, config=config_dir)
    group = json.loads(invoke_cli("lineage", SEED, "--json", db=db).stdout)
    assert group["origin"]["site"] == "zerohedge"
    assert group["origin"]["url"] == url
    assert group["origin"]["published"].startswith("2015-10-28T15:40:00")
    (copy,) = group["copies"]
    assert copy["site"] == "russia-insider" and copy["relation"] == "copy"
    assert copy["similarity"] > 0.9
    assert group["origin"]["evidence"].startswith("attribution claim")
    # the seed was linked, not re-imported
    assert rows(db, "SELECT * FROM documents WHERE site = 'russia-insider'") == before
    tree = invoke_cli("lineage", SEED, db=db).stdout
    assert "ORIGIN" in tree and "COPY" in tree and "Originally appeared at Zero Hedge" in tree
