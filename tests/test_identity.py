"""One URL identity: canonical URLs, same-site canonical links checked by content, and the
migration of existing databases. Imports here; crawls of the same variants in test_follow.py."""

from __future__ import annotations

import json
import random
import sqlite3

import pytest
from conftest import invoke_cli, rows
from sites_server import article_page, site_config, story

from collector.core.urls import canonical_url, same_site

# --- canonical_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://Example.COM:80/a?utm_source=x&id=3&utm_medium=y#top", "http://example.com/a?id=3"),
        ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&igshid=5&_ga=6", "https://example.com/a"),
        ("https://example.com/a?ref=rss&page=2", "https://example.com/a?page=2"),
        ("https://example.com/a?ref=v2&page=2", "https://example.com/a?ref=v2&page=2"),  # not a channel: kept
        ("https://example.com/a?source=twitter&source_id=4&cid=12", "https://example.com/a?source_id=4&cid=12"),
        ("http://127.0.0.1:8080/p?b=2&a=1&b=3", "http://127.0.0.1:8080/p?b=2&a=1&b=3"),  # order and repeats kept
        ("https://example.com", "https://example.com/"),
        ("HTTPS://EXAMPLE.com:443/P?", "https://example.com/P"),
        ("https://example.com/x?utm=keep&q=a%20b", "https://example.com/x?utm=keep&q=a%20b"),
        ("https://example.com/a b/é", "https://example.com/a%20b/%C3%A9"),  # as a Scrapy Request encodes it
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("file:///tmp/export.jsonl#line=3", "file:///tmp/export.jsonl#line=3"),  # not a web URL: as given
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


def test_same_site_by_host_editions():
    assert same_site("https://m.example.com/a", "https://www.example.com/a")
    assert same_site("https://amp.example.com/a", "https://example.com/b")
    assert not same_site("https://example.com/a", "https://example.org/a")


# --- one article at many URLs, imported ----------------------------------------------------------

CLEAN = "https://harbour-news.example/2026/03/04/ferry-pier-vote"
VARIANTS = [
    CLEAN + "?utm_source=twitter&utm_campaign=spring",
    CLEAN + "?fbclid=IwAR0abc",
    "https://m.harbour-news.example/2026/03/04/ferry-pier-vote",
    CLEAN + "/amp",
    CLEAN + "?output=print",
]
REPOST = "https://coastal-reposts.example/ferry-pier-vote-repost"


def variant_page(url: str, seed: int = 7) -> str:
    """The same article at ``url``: each variant with its own furniture, canonical to CLEAN."""
    title, paragraphs = story(seed)
    extra = {"amp": ("AMP edition",), "print": ("Printed from Harbour News",), "m.": ("Mobile edition: switch to desktop",)}
    top = next((v for k, v in extra.items() if k in url), ())
    return article_page(title, paragraphs, site_name="Harbour News", published="2026-03-04T08:00:00+00:00",
                        canonical=CLEAN, top=top)


def repost_page() -> str:
    title, paragraphs = story(7)
    return article_page(title, paragraphs, site_name="Coastal Reposts", published="2026-03-04T18:00:00+00:00",
                        bottom=(f"Originally appeared at Harbour News: {CLEAN}?utm_source=rss",))


def write_jsonl(path, pages):
    path.write_text("".join(json.dumps({"url": url, "html": html}) + "\n" for url, html in pages), encoding="utf-8")


def import_pages(tmp_path, name, pages, config):
    db = tmp_path / f"{name}.db"
    write_jsonl(tmp_path / f"{name}.jsonl", pages)
    invoke_cli("import", tmp_path / f"{name}.jsonl", "--workers", "1", db=db, config=config)
    return db


@pytest.fixture
def harbour_config(tmp_path):
    config = tmp_path / "configs"
    site_config(config, "harbour", name="Harbour News", domains=["harbour-news.example"], aliases=["Harbour News"])
    site_config(config, "coastal", name="Coastal Reposts", domains=["coastal-reposts.example"])
    return config


def orders(seed: int, n: int):
    """n orders of the clean URL, the five variants and the repost, the clean URL first and last among them."""
    pages = [CLEAN, *VARIANTS, REPOST]
    rng = random.Random(seed)
    chosen = [pages[1:-1] + [CLEAN, REPOST], [REPOST, *pages[:-1]]]
    while len(chosen) < n:
        order = pages[:]
        rng.shuffle(order)
        chosen.append(order)
    return chosen


@pytest.mark.parametrize("order", orders(2026, 5))
def test_variants_in_any_order_are_one_document_and_the_repost_points_at_the_clean_url(tmp_path, harbour_config, order):
    pages = [(url, repost_page() if url == REPOST else variant_page(url)) for url in order]
    db = import_pages(tmp_path, "variants", pages, harbour_config)
    docs = rows(db, "SELECT id, url, site FROM documents ORDER BY id")
    assert sorted(d["url"] for d in docs) == sorted([CLEAN, REPOST])
    clean_id = next(d["id"] for d in docs if d["url"] == CLEAN)
    aliases = {r["alias"] for r in rows(db, "SELECT alias FROM url_aliases WHERE doc_id = ?", (clean_id,))}
    # Tracking variants are the clean URL itself; the others are its aliases.
    assert aliases == {v for v in VARIANTS if canonical_url(v) != CLEAN}
    lineage = rows(db, "SELECT copy_url, origin_url FROM lineage")
    assert lineage == [{"copy_url": REPOST, "origin_url": CLEAN}]


def test_unconfigured_sites_fold_by_host_and_import_twice_changes_nothing(tmp_path, db_snapshot):
    config = tmp_path / "empty-configs"
    (config / "sites").mkdir(parents=True)
    pages = [(url, variant_page(url)) for url in (VARIANTS[2], VARIANTS[3], CLEAN)] + [(REPOST, repost_page())]
    db = import_pages(tmp_path, "unconfigured", pages, config)
    assert sorted(d["url"] for d in rows(db, "SELECT url FROM documents")) == sorted([CLEAN, REPOST])
    before = db_snapshot(db)
    invoke_cli("import", tmp_path / "unconfigured.jsonl", "--workers", "1", db=db, config=config)
    assert db_snapshot(db) == before


# --- canonicals that are wrong -------------------------------------------------------------------

def test_every_page_naming_the_home_page_is_its_own_document_with_one_warning(tmp_path, harbour_config):
    pages = []
    for i in range(6):
        title, paragraphs = story(500 + i)
        url = f"https://harbour-news.example/2026/03/0{i + 1}/story-{i}"
        pages.append((url, article_page(title, paragraphs, site_name="Harbour News",
                                        published=f"2026-03-0{i + 1}T08:00:00+00:00", canonical="https://harbour-news.example/")))
    write_jsonl(tmp_path / "home.jsonl", pages)
    db = tmp_path / "home.db"
    result = invoke_cli("import", tmp_path / "home.jsonl", "--workers", "1", db=db, config=harbour_config)
    assert sorted(d["url"] for d in rows(db, "SELECT url FROM documents")) == sorted(u for u, _ in pages)
    assert rows(db, "SELECT count(*) AS n FROM url_aliases")[0]["n"] == 0
    assert result.stderr.count("canonical link") == 1, result.stderr


@pytest.mark.parametrize("order", [0, 1, 2])
def test_a_template_canonical_copied_onto_every_article_folds_nothing(tmp_path, harbour_config, order):
    """Every article names article 0's URL as canonical; article 0 itself comes first, last, or between."""
    target = "https://harbour-news.example/2026/03/01/story-0"
    pages = []
    for i in range(5):
        title, paragraphs = story(600 + i)
        url = f"https://harbour-news.example/2026/03/0{i + 1}/story-{i}"
        pages.append((url, article_page(title, paragraphs, site_name="Harbour News",
                                        published=f"2026-03-0{i + 1}T08:00:00+00:00", canonical=target)))
    pages = [pages[1:3] + [pages[0]] + pages[3:], pages, pages[1:] + [pages[0]]][order]
    db = import_pages(tmp_path, "template", pages, harbour_config)
    docs = rows(db, "SELECT url, title FROM documents")
    assert sorted(d["url"] for d in docs) == sorted(u for u, _ in pages)
    by_url = {d["url"]: d["title"] for d in docs}
    for i in range(5):  # each article under its own URL: nothing was overwritten or misnamed
        assert story(600 + i)[0] in by_url[f"https://harbour-news.example/2026/03/0{i + 1}/story-{i}"]


# --- the migration -------------------------------------------------------------------------------

def test_migration_brings_an_old_database_to_the_new_identity(tmp_path, harbour_config):
    """A database whose documents were stored under tracking URLs (as imports did before):
    after the migration every URL is canonical, two documents of one page are one, and no
    claim or link is lost."""
    from collector.storage.schema import migrations
    from collector.storage import Store

    db = tmp_path / "old.db"
    pages = [(CLEAN + "?utm_source=rss", variant_page(CLEAN)), (REPOST, repost_page()),
             ("https://harbour-news.example/other?utm_medium=email&id=4", article_page(*story(9), site_name="Harbour News",
                                                                                       published="2026-03-05T08:00:00+00:00"))]
    db = import_pages(tmp_path, "old", pages, harbour_config)
    conn = sqlite3.connect(db)
    # Make it look like the old identity: tracking parameters in stored URLs, a second copy.
    conn.execute("UPDATE documents SET url = url || '?utm_source=rss' WHERE url = ?", (CLEAN,))
    conn.execute("UPDATE documents SET url = url || '&utm_medium=email' WHERE url LIKE '%/other?id=4'")
    conn.execute("UPDATE claims SET claimed_url = claimed_url || '?utm_source=rss' WHERE claimed_url = ?", (CLEAN,))
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm010a_url_identity'")
    for statement in ("ALTER TABLE url_aliases DROP COLUMN kind", "ALTER TABLE documents DROP COLUMN published_from"):
        conn.execute(statement)
    conn.commit()
    claims_before = conn.execute("SELECT count(*) FROM claims").fetchone()[0]
    links_before = conn.execute("SELECT count(*) FROM links").fetchone()[0]
    conn.close()
    assert links_before == 1 and claims_before >= 1
    Store(str(db)).close()  # opening the store migrates
    docs = rows(db, "SELECT url FROM documents")
    assert sorted(d["url"] for d in docs) == sorted([CLEAN, REPOST, "https://harbour-news.example/other?id=4"])
    assert rows(db, "SELECT count(*) AS n FROM claims")[0]["n"] == claims_before
    assert rows(db, "SELECT copy_url, origin_url FROM lineage") == [{"copy_url": REPOST, "origin_url": CLEAN}]
    assert {r["alias"] for r in rows(db, "SELECT alias FROM url_aliases")} >= {CLEAN + "?utm_source=rss"}
    assert rows(db, "SELECT claimed_url FROM claims WHERE claimed_url IS NOT NULL")[0]["claimed_url"] == CLEAN
    assert "m010a_url_identity" in {r["name"] for r in rows(db, "SELECT name FROM _sqlite_migrations")}
    assert migrations  # the module's migrations ran through the store


def test_migration_merges_two_documents_of_one_page(tmp_path, harbour_config):
    from collector.storage.url_identity import migrate_urls

    no_canonical = article_page(*story(7), site_name="Harbour News", published="2026-03-04T08:00:00+00:00")
    db = import_pages(tmp_path, "two", [(CLEAN, variant_page(CLEAN)), (REPOST, repost_page()),
                                       (CLEAN + "/print-copy", no_canonical)], harbour_config)
    conn = sqlite3.connect(db)
    # A second document of the same page under a tracking URL, with a claim and the repost's link.
    conn.execute("UPDATE documents SET url = ? WHERE url = ?", (CLEAN + "?fbclid=1", CLEAN + "/print-copy"))
    gone = conn.execute("SELECT id FROM documents WHERE url = ?", (CLEAN + "?fbclid=1",)).fetchone()[0]
    conn.execute("INSERT INTO claims (doc_id, kind, claimed_name, evidence) VALUES (?, 'attribution', 'Wire', 'Source: Wire')", (gone,))
    n_claims = conn.execute("SELECT count(*) FROM claims").fetchone()[0]
    migrate_urls(conn)
    conn.commit()
    assert [r[0] for r in conn.execute("SELECT url FROM documents ORDER BY url")] == sorted([CLEAN, REPOST])
    assert conn.execute("SELECT count(*) FROM claims").fetchone()[0] == n_claims
    assert conn.execute("SELECT doc_id FROM url_aliases WHERE alias = ?", (CLEAN + "?fbclid=1",)).fetchone() is not None
    assert conn.execute("SELECT count(*) FROM lsh_index WHERE doc_id = ?", (gone,)).fetchone()[0] == 0
    conn.close()
    assert rows(db, "SELECT copy_url, origin_url FROM lineage") == [{"copy_url": REPOST, "origin_url": CLEAN}]


def test_a_stage_set_to_none_is_off_for_an_import_as_for_a_crawl(tmp_path, harbour_config):
    """ITEM_PIPELINES adds to or turns off the stages of ITEM_PIPELINES_BASE, as Scrapy's
    component settings do: here the link stage, so the repost is stored and not linked."""
    pages = [(CLEAN, variant_page(CLEAN)), (REPOST, repost_page())]
    write_jsonl(tmp_path / "off.jsonl", pages)
    db = tmp_path / "off.db"
    invoke_cli("import", tmp_path / "off.jsonl", "--workers", "1", "-s", 'ITEM_PIPELINES={"pipelines.link.LinkPipeline": null}',
            db=db, config=harbour_config)
    assert sorted(d["url"] for d in rows(db, "SELECT url FROM documents")) == sorted([CLEAN, REPOST])
    assert rows(db, "SELECT count(*) AS n FROM links")[0]["n"] == 0
    invoke_cli("import", tmp_path / "off.jsonl", "--workers", "1", db=db, config=harbour_config)  # all stages: unchanged input
    from collector.context import Context
    from collector.driver import stage_classes

    names = [c.__name__ for c in stage_classes(Context({"ITEM_PIPELINES": {"pipelines.learn.LearnChromePipeline": None}}).settings)]
    assert names == ["ExtractPipeline", "CleanPipeline", "AttributePipeline", "FingerprintPipeline", "StorePipeline",
                     "ProvenancePipeline", "LinkPipeline"]
