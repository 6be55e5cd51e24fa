"""Crawling: spiders against real HTTP servers on 127.0.0.1, run as the real commands.

Three fictional sites on three ports:

- ``ledger`` (The Daily Ledger) publishes originals: an RSS feed and an Atom feed (with
  ETag / Last-Modified), robots.txt disallowing /private/.
- ``courier`` (Courier Weekly) reposts the Ledger's articles under its own banners, with
  "Originally appeared at The Daily Ledger" (a copy) or "Read the full article at The Daily
  Ledger" (an excerpt): a gzipped sitemap index of a news sitemap and a gzipped sitemap.
- ``faults`` serves every fault the crawl must survive and report: 500s, a timeout, a
  redirect loop, a PDF and an image, wrong and missing charsets, a huge page, gzip-bomb
  sitemaps, a feed with XML external entities, robots.txt disallowing a page, a 404.

Crawls run in subprocesses (a Twisted reactor cannot restart), fast: no AutoThrottle, no
delay, short timeouts and backoff.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from backends import READ_ERRORS, postgres
from conftest import REPO, assert_fts_matches_documents, invoke_cli, rows, run_cli
from sites_server import (
    SiteServer,
    article_page,
    atom,
    gz,
    gzip_bomb,
    link_page,
    prose,
    rss,
    site_config,
    sitemap_index,
    slow_site,
    story,
    urlset,
)

from collector.crawl.faults import charset_problem, normalize_url
from collector.crawl.feeds import NotAFeed, parse_feed

FAST = [
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "RETRY_TIMES=1",
    "-s", "COLLECTOR_RETRY_BACKOFF=0.1",
    "-s", "DOWNLOAD_TIMEOUT=1.5",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]

LEDGER_BANNER = "Support independent local news: become a Daily Ledger member today"
COURIER_BANNER = "Courier Weekly: reader-funded news from the coast since 2009"
COURIER_FOOTER = "Get the Courier Weekly morning briefing in your inbox every day"


def crawl(db, config, *args, check=True, timeout=120):
    result = run_cli("crawl", "--json", *FAST, *args, db=db, config=config, check=check, timeout=timeout)
    summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None
    return result, summary


# --- the three sites -------------------------------------------------------------------------

class Web:
    """The servers, their site configs, and which paths are articles."""

    def __init__(self, root: Path):
        self.root = root
        self.config = root / "configs"
        self.secret = root / "secret.txt"
        self.secret.write_text("XXE-SECRET-7f3a9c", encoding="utf-8")
        self.ledger = SiteServer("ledger").start()
        self.courier = SiteServer("courier").start()
        self.faults = SiteServer("faults").start()
        self.build_ledger()
        self.build_courier()
        self.build_faults()

    def stop(self):
        for server in (self.ledger, self.courier, self.faults):
            server.stop()

    # The Daily Ledger: six originals, published in the morning.
    def build_ledger(self):
        s = self.ledger
        self.ledger_articles = [f"/news/2026/03/0{i}/story-{i}" for i in range(1, 7)]
        for i, path in enumerate(self.ledger_articles, start=1):
            title, paragraphs = story(100 + i)
            s.add(path, article_page(title, paragraphs, site_name="The Daily Ledger", published=f"2026-03-0{i}T08:30:00+00:00",
                                     top=(LEDGER_BANNER,), nav=(("/", "Home"), ("/news/", "News"))))
        s.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        s.add("/private/draft", article_page("Draft", story(199)[1], site_name="The Daily Ledger", published="2026-03-01T00:00:00+00:00"))
        # Tracking parameters on feed links: the stored URL and the incremental check drop them.
        rss_links = [s.url(p) + "?utm_source=rss&utm_medium=feed" for p in self.ledger_articles[:4]] + [s.url("/private/draft")]
        s.add("/feed.xml", rss("The Daily Ledger", rss_links), content_type="application/rss+xml", validators=True)
        s.add("/atom.xml", atom("The Daily Ledger", [s.url(p) + "?fbclid=abc123" for p in self.ledger_articles[3:]]),
              content_type="application/atom+xml", validators=True)
        site_config(self.config, "ledger", name="The Daily Ledger", domains=[s.host], aliases=["Daily Ledger", "The Daily Ledger"],
                    feeds=[s.url("/feed.xml"), s.url("/atom.xml")], schedule="0 * * * *",
                    chrome={"lines": [LEDGER_BANNER]})

    # Courier Weekly: reposts (two copies, one excerpt) plus two articles of its own.
    def build_courier(self):
        s = self.courier
        self.courier_copies = {"/reposts/story-1": 1, "/reposts/story-2": 2}
        self.courier_excerpts = {"/reposts/story-3-excerpt": 3}
        self.courier_own = [f"/local/own-{i}" for i in (1, 2)]
        for path, i in self.courier_copies.items():
            title, paragraphs = story(100 + i)
            s.add(path, article_page(title, paragraphs, site_name="Courier Weekly", published=f"2026-03-0{i}T15:00:00+00:00",
                                     top=(COURIER_BANNER,), bottom=("Originally appeared at The Daily Ledger.", COURIER_FOOTER)))
        for path, i in self.courier_excerpts.items():
            title, paragraphs = story(100 + i)
            s.add(path, article_page(title, paragraphs[:2], site_name="Courier Weekly", published=f"2026-03-0{i}T16:00:00+00:00",
                                     top=(COURIER_BANNER,), bottom=("Read the full article at The Daily Ledger", COURIER_FOOTER)))
        for n, path in enumerate(self.courier_own, start=1):
            title, paragraphs = story(300 + n)
            s.add(path, article_page(title, paragraphs, site_name="Courier Weekly", published=f"2026-03-0{n}T11:00:00+00:00",
                                     top=(COURIER_BANNER,), bottom=(COURIER_FOOTER,)))
        s.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        s.add("/sitemap-news.xml", urlset([s.url(p) for p in self.courier_copies] + [s.url(p) + "?gclid=xyz" for p in self.courier_excerpts], news=True),
              content_type="application/xml", validators=True)
        s.add("/sitemap-local.xml.gz", gz(urlset([s.url(p) for p in self.courier_own])), content_type="application/gzip", validators=True)
        s.add("/sitemap_index.xml.gz", gz(sitemap_index([s.url("/sitemap-news.xml"), s.url("/sitemap-local.xml.gz")])),
              content_type="application/x-gzip", validators=True)
        site_config(self.config, "courier", name="Courier Weekly", domains=[s.host], aliases=["Courier Weekly"],
                    sitemaps=[s.url("/sitemap_index.xml.gz")], schedule="30 * * * *")

    # Everything that goes wrong, on one site crawled by following links from its home page.
    def build_faults(self):
        s = self.faults
        self.faults_articles = [f"/c/story-{i}" for i in range(1, 5)]
        for i, path in enumerate(self.faults_articles, start=1):
            title, paragraphs = story(400 + i)
            s.add(path, article_page(title, paragraphs, site_name="Fault Lines", published=f"2026-03-0{i}T10:00:00+00:00"))
        russian = ["Городской совет обсудил новый бюджет на ремонт набережной и освещение улиц.",
                   "Жители старого района попросили продлить работу библиотеки до позднего вечера.",
                   "Депутаты решили вернуться к вопросу о паромной переправе после летних каникул.",
                   "Директор музея сообщил, что выставка старых карт откроется в конце месяца.",
                   "Волонтёры собрали подписи за строительство велосипедного моста через реку.",
                   "Представитель водоканала пообещал закончить ремонт труб до начала осени."]
        paragraphs = [" ".join(russian[i:] + russian[:i]) for i in range(len(russian))]
        s.add("/cp1251-story", article_page("Совет обсудил бюджет набережной", paragraphs, site_name="Fault Lines",
                                            published="2026-03-05T10:00:00+00:00", charset=None).encode("cp1251"),
              content_type="text/html")
        title, paragraphs = story(451)
        s.add("/wrong-charset-story", article_page(title, ["Café owners in Zürich said the façade would stay."] + paragraphs,
                                                   site_name="Fault Lines", published="2026-03-06T10:00:00+00:00", charset=None).encode("latin-1"),
              content_type="text/html; charset=utf-8")
        s.add("/err500", "<html><body>Internal error</body></html>", status=500)
        s.add("/slow", article_page(*story(452), site_name="Fault Lines", published="2026-03-07T10:00:00+00:00"), delay=4)
        s.add("/loop/a", "", status=302, headers={"Location": "/loop/b"})
        s.add("/loop/b", "", status=302, headers={"Location": "/loop/a"})
        s.add("/files/annual-report", b"%PDF-1.4\n" + b"0" * 5000, content_type="application/pdf")
        s.add("/photo", b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, content_type="image/png")
        huge = b"<html><body><p>" + b"big " * (3 * 1024 * 1024) + b"</p></body></html>"  # 12 MB
        s.add("/huge", huge)
        s.add("/huge-unannounced", huge, length=False)  # no Content-Length: cut off while it arrives
        s.add("/private/hidden", article_page(*story(453), site_name="Fault Lines", published="2026-03-08T10:00:00+00:00"))
        s.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        title, paragraphs = story(454)
        s.add("/c/story-moved", article_page(title, paragraphs, site_name="Fault Lines", published="2026-03-09T10:00:00+00:00"))
        s.add("/moved", "", status=301, headers={"Location": "/c/story-moved"})
        links = ["/section/world", "/c/story-1", "/moved", "/err500", "/slow", "/loop/a", "/files/annual-report", "/photo",
                 "/cp1251-story", "/wrong-charset-story", "/huge", "/huge-unannounced", "/private/hidden", "/gone"]
        s.add("/", link_page("Fault Lines", links))
        s.add("/section/world", link_page("World", ["/c/story-2", "/c/story-3"]))
        doctype = (f'<!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{self.secret}">'
                   f'<!ENTITY probe SYSTEM "{s.url("/xxe-probe")}">]>')
        feed = rss("Fault Lines", [s.url("/c/story-4") + "?utm_campaign=x"], doctype=doctype)
        feed = feed.replace("<title>item 0</title>", "<title>&secret;</title>")
        feed = feed.replace("</channel>", f"<item><title>&probe;</title><link>{s.url('/c/')}&secret;</link></item></channel>")
        s.add("/feed.xml", feed, content_type="application/rss+xml")
        s.add("/xxe-probe", "probe")
        s.add("/sitemap-bomb.xml.gz", gzip_bomb(80), content_type="application/gzip")
        s.add("/sitemap-encoded.xml", gzip_bomb(80), content_type="application/xml", headers={"Content-Encoding": "gzip"})
        site_config(self.config, "faults", name="Fault Lines", domains=[s.host], start_urls=[s.url("/")], follow=["/section/"],
                    feeds=[s.url("/feed.xml")], sitemaps=[s.url("/sitemap-bomb.xml.gz"), s.url("/sitemap-encoded.xml")])

    def article_hits(self) -> dict[str, int]:
        out = {}
        for server, paths in ((self.ledger, self.ledger_articles), (self.courier, [*self.courier_copies, *self.courier_excerpts, *self.courier_own]),
                              (self.faults, self.faults_articles + ["/cp1251-story", "/wrong-charset-story", "/moved", "/c/story-moved"])):
            for path in paths:
                out[server.url(path)] = server.hits[path]
        return out


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    w = Web(tmp_path_factory.mktemp("web"))
    yield w
    w.stop()


@pytest.fixture(scope="module")
def first(web):
    """The first crawl of all three sites: (db, summary, stderr, article hits after it)."""
    db = web.root / "crawl.db"
    started = time.monotonic()
    result, summary = crawl(db, web.config)
    summary["_seconds"] = time.monotonic() - started
    return db, summary, result.stderr, web.article_hits()


# --- pure functions ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://Example.COM:80/a?utm_source=x&id=3&utm_medium=y#top", "http://example.com/a?id=3"),
        ("https://example.com/a?fbclid=1&gclid=2&mc_cid=3&_ga=4", "https://example.com/a"),
        ("http://127.0.0.1:8080/p?b=2&a=1", "http://127.0.0.1:8080/p?b=2&a=1"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/x?utm=keep&q=a%20b", "https://example.com/x?utm=keep&q=a%20b"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected
    assert normalize_url(expected) == expected


def test_feed_parser_never_resolves_entities(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}"><!ENTITY lol "lol">]>'
        "<rss><channel><item><title>&x;</title><link>http://a.example/1</link></item>"
        "<item><link>http://a.example/&x;</link></item><item><link>/relative</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, base_url="http://a.example/feed")
    assert feed.links == ["http://a.example/1", "http://a.example/relative"]
    assert [e.split(" ")[0] for e in feed.entities] == ["x", "lol"]
    assert "TOP-SECRET" not in repr(feed)


def test_feed_parser_atom_and_garbage():
    feed = parse_feed(atom("t", ["http://a.example/1", "http://a.example/2"]).encode())
    assert feed.kind == "atom" and feed.links == ["http://a.example/1", "http://a.example/2"]
    with pytest.raises(NotAFeed):
        parse_feed(b"<html><body>not a feed</body></html>")
    with pytest.raises(NotAFeed):
        parse_feed(b"")


def test_charset_problem():
    assert charset_problem(b"plain ascii", None) is None
    assert charset_problem("Привет".encode("utf-8"), "utf-8") is None
    assert "no charset declared" in charset_problem("Привет, мир. Городской совет обсудил бюджет.".encode("cp1251"), None)
    assert "not utf-8" in charset_problem("Café façade".encode("latin-1"), "utf-8")
    assert "is UTF-8" in charset_problem("Café".encode("utf-8"), "iso-8859-1")


# --- the commands --------------------------------------------------------------------------------

def test_scrapy_list():
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["feed", "follow", "site", "sitemap"]


def test_crawl_stores_articles_with_normalised_urls(web, first):
    db, summary, _, _ = first
    docs = {r["url"]: r for r in rows(db, "SELECT url, site, source, title, published, fetched, text FROM documents")}
    expected = (
        [web.ledger.url(p) for p in web.ledger_articles]
        + [web.courier.url(p) for p in [*web.courier_copies, *web.courier_excerpts, *web.courier_own]]
        + [web.faults.url(p) for p in web.faults_articles]
        + [web.faults.url("/cp1251-story"), web.faults.url("/wrong-charset-story"), web.faults.url("/c/story-moved")]
    )
    assert sorted(docs) == sorted(expected)
    for url, doc in docs.items():
        assert "utm_" not in url and "fbclid" not in url and "gclid" not in url
        assert doc["source"] == "spider:site"
        assert doc["fetched"].endswith("+00:00")
    assert {docs[web.ledger.url(p)]["site"] for p in web.ledger_articles} == {"ledger"}
    assert docs[web.courier.url("/local/own-1")]["site"] == "courier"
    # Times of day are kept.
    assert docs[web.ledger.url(web.ledger_articles[0])]["published"].startswith("2026-03-01T08:30")
    assert summary["new"] == len(expected)
    assert summary["articles_fetched"] >= len(expected)
    # A link that redirected: stored under where it led, and remembered as an alias of it.
    assert rows(db, "SELECT a.alias, d.url FROM url_aliases a JOIN documents d ON d.id = a.doc_id") == [
        {"alias": web.faults.url("/moved"), "url": web.faults.url("/c/story-moved")}
    ]


def test_crawl_lineage_repost_links_to_original(web, first):
    db = first[0]
    lineage = {r["copy_url"]: r for r in rows(db, "SELECT * FROM lineage")}
    for path, i in web.courier_copies.items():
        link = lineage[web.courier.url(path)]
        assert link["origin_url"] == web.ledger.url(web.ledger_articles[i - 1])
        assert link["relation"] == "copy"
        assert "attribution" in link["evidence"]
    for path, i in web.courier_excerpts.items():
        link = lineage[web.courier.url(path)]
        assert link["origin_url"] == web.ledger.url(web.ledger_articles[i - 1])
        assert link["relation"] == "excerpt"
    assert len(lineage) == len(web.courier_copies) + len(web.courier_excerpts)
    claims = rows(db, "SELECT claimed_site FROM claims c JOIN documents d ON d.id = c.doc_id WHERE d.site = 'courier'")
    assert {c["claimed_site"] for c in claims} == {"ledger"}


def test_crawl_strips_configured_and_learned_chrome(web, first):
    db = first[0]
    for doc in rows(db, "SELECT site, text, chrome FROM documents WHERE site IN ('ledger', 'courier')"):
        assert LEDGER_BANNER not in doc["text"]
        assert COURIER_BANNER not in doc["text"]


def faults_of(summary, kind):
    return [f for f in summary["faults"] if f["kind"] == kind]


@pytest.mark.parametrize(
    "kind, path, reason",
    [
        ("http_5xx", "/err500", "HTTP 500 (gave up after 1 retry)"),
        ("timeout", "/slow", "gave up after 1 retry"),
        ("redirect_loop", "/loop/a", "/loop/b"),
        ("not_html", "/files/annual-report", "application/pdf"),
        ("not_html", "/photo", "image/png"),
        ("charset", "/cp1251-story", "no charset declared"),
        ("charset", "/wrong-charset-story", "declared utf-8 but the page is not utf-8"),
        ("too_large", "/huge", "max size"),
        ("too_large", "/huge-unannounced", "max size"),
        ("sitemap_too_large", "/sitemap-bomb.xml.gz", "gzip bomb"),
        ("sitemap_too_large", "/sitemap-encoded.xml", "DOWNLOAD_MAXSIZE"),
        ("xml_entities", "/feed.xml", "never resolved"),
        ("robots", "/private/hidden", "robots.txt"),
        ("http_4xx", "/gone", "HTTP 404"),
    ],
)
def test_crawl_reports_each_fault(web, first, kind, path, reason):
    summary = first[1]
    found = [f for f in faults_of(summary, kind) if f["url"] == web.faults.url(path)]
    assert found, f"no {kind} fault for {path}: {summary['faults']}"
    assert reason.lower() in found[0]["reason"].lower()
    assert summary["errors_by_kind"][kind] >= 1
    assert found[0]["site"] == "faults"


def test_crawl_faults_are_handled_as_they_should(web, first):
    db, summary, stderr, _ = first
    # The feed's external entities were never resolved: no file read, no request made.
    assert web.faults.hits["/xxe-probe"] == 0
    assert not rows(db, "SELECT id FROM documents WHERE text LIKE '%XXE-SECRET%' OR title LIKE '%XXE-SECRET%'")
    # robots.txt: the disallowed pages were never requested, on either site.
    assert web.faults.hits["/private/hidden"] == 0 and web.ledger.hits["/private/draft"] == 0
    assert any(f["url"] == web.ledger.url("/private/draft") for f in faults_of(summary, "robots"))
    # 500s were retried (RETRY_TIMES=1): two requests, then reported.
    assert web.faults.hits["/err500"] == 2
    # Wrong or missing charsets: decoded right all the same.
    texts = {r["url"]: r["text"] for r in rows(db, "SELECT url, text FROM documents")}
    assert "Городской совет обсудил новый бюджет" in texts[web.faults.url("/cp1251-story")]
    assert "Café owners in Zürich said the façade would stay." in texts[web.faults.url("/wrong-charset-story")]
    # The summary names every fault; the crawl finished.
    assert set(summary["finish_reasons"].values()) == {"finished"}
    assert any(f["url"] == web.faults.url("/err500") for f in faults_of(summary, "http_5xx"))
    # ...and only the summary: Scrapy's log stays quiet unless -v or --log-level asks for it.
    assert web.faults.url("/err500") not in stderr, stderr


def test_second_crawl_downloads_no_article_again(web, first):
    db, _, _, hits_before = first
    result, summary = crawl(db, web.config)
    assert web.article_hits() == hits_before, "an article was downloaded again"
    assert summary["new"] == 0 and summary["articles_fetched"] == 0
    # Feeds and sitemaps answered 304, so only the pages linked from the faults site's pages
    # (read again every run) were checked against the store and skipped.
    assert summary["skipped_stored"] == len(web.faults_articles) + 3  # + the redirecting link
    # Feeds and leaf sitemaps were asked conditionally and answered 304; the index is read in full.
    assert web.ledger.statuses("/feed.xml")[-1] == 304
    assert web.ledger.statuses("/atom.xml")[-1] == 304
    assert web.courier.statuses("/sitemap-news.xml")[-1] == 304
    assert web.courier.statuses("/sitemap-local.xml.gz")[-1] == 304
    assert web.courier.statuses("/sitemap_index.xml.gz")[-1] == 200
    assert summary["not_modified"] == 4
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] == len(hits_before) - 1  # /moved is an alias


def test_refresh_downloads_again_and_changes_nothing(web, first):
    db, _, _, _ = first
    before = web.article_hits()
    count = rows(db, "SELECT count(*) AS n FROM documents")[0]["n"]
    result, summary = crawl(db, web.config, "--refresh", "ledger", "courier")
    after = web.article_hits()
    refreshed = [url for url in after if after[url] > before[url]]
    assert len(refreshed) == len(web.ledger_articles) + len(web.courier_copies) + len(web.courier_excerpts) + len(web.courier_own)
    assert summary["new"] == 0 and summary["unchanged"] == len(refreshed)
    assert web.ledger.statuses("/feed.xml")[-1] == 200  # asked unconditionally
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] == count


def test_scrapy_crawl_command_from_repo_root(web, tmp_path):
    db = tmp_path / "scrapy.db"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "feed", "-a", "site=ledger", "-s", f"COLLECTOR_DB={db}",
           "-s", f"COLLECTOR_CONFIG={web.config}", *FAST]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    docs = rows(db, "SELECT url, source, site FROM documents")
    assert sorted(d["url"] for d in docs) == sorted(web.ledger.url(p) for p in web.ledger_articles)
    assert {d["source"] for d in docs} == {"spider:feed"} and {d["site"] for d in docs} == {"ledger"}
    assert "summary of ledger" in result.stderr


def test_crawl_usage_errors(web, tmp_path):
    result, _ = crawl(tmp_path / "x.db", web.config, "nosuchsite", check=False)
    assert result.returncode == 2 and "nosuchsite: no such site config" in result.stderr
    result = run_cli("crawl", "-s", "oops", db=tmp_path / "x.db", config=web.config, check=False)
    assert result.returncode == 2 and "NAME=VALUE" in result.stderr


def test_pipeline_error_rolls_the_document_back_and_is_retried(tmp_path):
    server = SiteServer("flaky").start()
    try:
        paths = ["/ok-1", "/fail-me", "/ok-2"]
        for i, path in enumerate(paths):
            server.add(path, article_page(*prose(5000 + i), site_name="Flaky", published="2026-03-04T09:00:00+00:00"))
        server.add("/feed.xml", rss("Flaky", [server.url(p) for p in paths]), content_type="application/rss+xml", validators=True)
        config = tmp_path / "configs"
        site_config(config, "flaky", name="Flaky", domains=[server.host], feeds=[server.url("/feed.xml")])
        pipelines = {"failing_stage.FailingStage": 550}  # after the store stage, before link
        env = {"PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
        db = tmp_path / "flaky.db"
        result = run_cli("crawl", "--json", *FAST, "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}", db=db, config=config, env=env)
        summary = json.loads(result.stdout)
        assert [(f["kind"], f["url"]) for f in summary["faults"]] == [("pipeline", server.url("/fail-me"))]
        assert "this stage fails on purpose" in summary["faults"][0]["reason"]
        assert sorted(r["url"] for r in rows(db, "SELECT url FROM documents")) == [server.url("/ok-1"), server.url("/ok-2")]
        assert not rows(db, "SELECT * FROM lsh_index b LEFT JOIN documents d ON d.id = b.doc_id WHERE d.id IS NULL")
        assert_fts_matches_documents(db)  # the failed document's rows left the index with it
        # The feed's validators were not saved: the next run reads it in full and retries the article.
        result = run_cli("crawl", "--json", *FAST, db=db, config=config)
        assert server.statuses("/feed.xml") == [200, 200]
        assert json.loads(result.stdout)["new"] == 1 and server.hits["/fail-me"] == 2 and server.hits["/ok-1"] == 1
    finally:
        server.stop()


# --- kill -9 midway, then resume -------------------------------------------------------------------

def test_kill_midway_then_resume_loses_and_duplicates_nothing(tmp_path, db_url):
    """On SQLite and on PostgreSQL (``db_url``)."""
    config = tmp_path / "configs"
    server, paths = slow_site(config, 120, 1000, delay=0.1, validators=True)
    try:
        db = db_url
        cmd = [sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "crawl", "--json", *FAST,
               "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'kill.warc'}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "COLLECTOR_BATCH_SIZE=10", "-s", "COLLECTOR_COMMIT_INTERVAL=0.3"]
        process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while sum(server.hits[p] for p in paths) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        hits_at_kill = {p: server.hits[p] for p in paths}
        assert 0 < sum(hits_at_kill.values()) < len(paths), "the kill did not land midway"
        stored = {r["url"] for r in rows(db, "SELECT url FROM documents")}
        assert 0 < len(stored) < len(paths)

        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        docs = rows(db, "SELECT url, count(*) AS n FROM documents GROUP BY url")
        assert sorted(d["url"] for d in docs) == sorted(server.url(p) for p in paths), "a document was lost"
        assert all(d["n"] == 1 for d in docs)
        assert summary["new"] == len(paths) - len(stored)
        for path in paths:  # what was committed before the kill was not downloaded again
            if server.url(path) in stored:
                assert server.hits[path] == hits_at_kill[path]
            assert server.hits[path] <= 2
        # The killed run saved no validators: the sitemap was read in full again (200).
        assert server.statuses("/sitemap.xml") == [200, 200]
    finally:
        server.stop()


# --- the scheduler -----------------------------------------------------------------------------------

def test_schedule_runs_each_site_on_its_cron_never_twice_at_once(tmp_path, db_url):
    """On SQLite and on PostgreSQL (``db_url``)."""
    server = SiteServer("tick").start()
    try:
        paths = [f"/t/{i}" for i in range(6)]
        for i, path in enumerate(paths):
            title, paragraphs = prose(2000 + i)
            # A crawl takes 3 s or more (slow pages, two at a time, after starting Python and
            # Scrapy) against a 2 s schedule: every other due time finds the last crawl still
            # running, however fast the machine.
            server.add(path, article_page(title, paragraphs, site_name="Tick", published="2026-03-04T09:00:00+00:00"), delay=0.7)
        server.add("/sitemap.xml", urlset([server.url(p) for p in paths]), content_type="application/xml")
        config = tmp_path / "configs"
        site_config(config, "tick", name="Tick", domains=[server.host], sitemaps=[server.url("/sitemap.xml")], schedule="* * * * * */2")
        site_config(config, "idle", name="Idle", domains=["idle.example"], schedule="0 0 1 1 *")  # nothing to crawl: not scheduled
        db = db_url
        cmd = [sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "schedule", *FAST,
               "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'schedule.warc'}",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "COLLECTOR_REFRESH=True"]
        process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if postgres(db) or os.path.exists(db):
                try:
                    done = rows(db, "SELECT count(*) AS n FROM runs WHERE status = 'ok'")[0]["n"]
                except READ_ERRORS:  # not created yet
                    continue
                if done >= 2:
                    break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        runs = rows(db, "SELECT * FROM runs ORDER BY id")
        assert len(runs) >= 2 and {r["site"] for r in runs} == {"tick"}, err
        assert all(r["ended"] for r in runs)
        ok = [r for r in runs if r["status"] == "ok"]
        assert len(ok) >= 2
        assert ok[0]["pages_fetched"] >= len(paths) + 1 and ok[0]["new_documents"] == len(paths)
        assert ok[0]["errors"] == 0 and ok[0]["exit_status"] == 0
        assert all(r["status"] in ("ok", "interrupted") for r in runs)
        for before, after in zip(runs, runs[1:]):  # never two crawls of one site at once
            assert before["ended"] <= after["started"]
        assert "still crawling" in err
        stats = json.loads(invoke_cli("stats", "--json", db=db).stdout)
        assert stats["runs"] and stats["runs"][0]["site"] == "tick"
    finally:
        server.stop()


# --- a crawled page and an imported file end up the same ---------------------------------------------

FUNDUS = REPO.parent / "shared" / "corpus" / "publishers" / "fundus"


def _pages(kind: str, limit: int = 8) -> list[tuple[str, bytes]]:
    if kind == "fiction":
        out = []
        for i in range(limit):
            title, paragraphs = story(3000 + i)
            out.append((f"page-{i}", article_page(title, paragraphs, site_name="Parity Post", published=f"2026-03-0{1 + i % 9}T07:45:00+01:00").encode()))
        for i in range(3):  # reposts, re-titled, one an excerpt: the lineage must match too
            title, paragraphs = story(3000 + i)
            paragraphs = paragraphs[:2] if i == 2 else [*paragraphs, "Originally appeared at Parity Post"]
            out.append((f"repost-{i}", article_page(f"Reposted: {title}", paragraphs, site_name="Parity Post",
                                                     published=f"2026-03-0{2 + i}T09:00:00+00:00").encode()))
        return out
    import gzip

    if not FUNDUS.exists():
        pytest.skip(f"{FUNDUS} is absent: the shared corpus is not beside the repo")
    files = sorted(FUNDUS.glob("us/*.html.gz"))[:limit]
    return [(f.name.split(".")[0], gzip.decompress(f.read_bytes())) for f in files]


@pytest.mark.parametrize("kind, workers", [("fiction", 0), ("fiction", 1), ("fundus", 0)])
def test_crawled_and_imported_pages_are_stored_alike(kind, workers, tmp_path):
    """Same stages, same documents: also with extraction in a worker process."""
    pages = _pages(kind)
    server = SiteServer("parity").start()
    try:
        folder = tmp_path / "pages"
        folder.mkdir()
        for name, body in pages:
            server.add(f"/{name}", body, content_type="text/html; charset=utf-8")
            (folder / f"{name}.html").write_bytes(body)
        server.add("/sitemap.xml", urlset([server.url(f"/{name}") for name, _ in pages]), content_type="application/xml")
        config = tmp_path / "configs"
        site_config(config, "parity", name="Parity Post", domains=[server.host], sitemaps=[server.url("/sitemap.xml")])
        crawled, imported = tmp_path / "crawled.db", tmp_path / "imported.db"
        # One request at a time: a deterministic order (Scrapy's, not the import's).
        crawl(crawled, config, "-s", "CONCURRENT_REQUESTS=1", "-s", f"COLLECTOR_EXTRACT_PROCESSES={workers}")
        invoke_cli("import", folder, "--site", "parity", db=imported, config=config)
        columns = "title, author, published, text, chrome, language, sitename"

        def documents(db):
            # Chrome lines in a stable order: which were stripped as they came and which when
            # learned later depends on the order documents arrived in, not on their source.
            return {r["title"]: {**r, "chrome": sorted(json.loads(r["chrome"]))} for r in rows(db, f"SELECT {columns} FROM documents")}

        a, b = documents(crawled), documents(imported)
        lineage = "SELECT copy_title, origin_title, relation FROM lineage"
        assert sorted(map(dict, rows(crawled, lineage)), key=repr) == sorted(map(dict, rows(imported, lineage)), key=repr)
        if kind == "fiction":
            assert len(rows(crawled, lineage)) == 3
        assert len(a) == len(pages) if kind == "fiction" else len(a) >= len(pages) - 1
        assert a.keys() == b.keys()
        for title in a:
            differ = {k: (a[title][k], b[title][k]) for k in a[title] if a[title][k] != b[title][k]}
            assert not differ, f"{title}: crawl and import differ: {differ}"
    finally:
        server.stop()


def _crawled(db) -> dict:
    """What a crawl stored, by URL: documents (chrome lines sorted: the order pages arrive in
    decides which were stripped as they came), links, claims and aliases."""
    docs = {r["url"]: {**r, "chrome": sorted(json.loads(r["chrome"]))} for r in rows(
        db, "SELECT url, site, source, title, author, published, text, chrome, canonical_url, sitename, language,"
            " content_hash FROM documents")}
    return {
        "documents": docs,
        "links": sorted(tuple(r.values()) for r in rows(db, "SELECT copy_url, origin_url, relation FROM lineage")),
        "claims": sorted(tuple(r.values()) for r in rows(
            db, "SELECT d.url, c.kind, c.claimed_site, c.claimed_url FROM claims c JOIN documents d ON d.id = c.doc_id")),
        "aliases": sorted(tuple(r.values()) for r in rows(
            db, "SELECT a.alias, d.url, a.kind FROM url_aliases a JOIN documents d ON d.id = a.doc_id")),
    }


def test_a_crawl_into_postgresql_stores_what_a_crawl_into_sqlite_stores(web, first, pg_server, tmp_path):
    """The main crawl again (last in this module: it fetches every page once more), into a
    PostgreSQL database: the same documents, links, claims and aliases as ``first``'s SQLite."""
    url = pg_server.new_database()
    result, summary = crawl(url, web.config, "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'pg.warc'}")
    assert summary["new"] == first[1]["new"]
    assert _crawled(url) == _crawled(first[0])
    assert list((tmp_path / "pg.warc").glob("*.warc.gz"))  # the raw pages, where it was told
    again, summary = crawl(url, web.config, "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'pg.warc'}")
    assert summary["new"] == 0  # the store tells the crawl what it holds: nothing new the second time
    pg_server.drop(url)
