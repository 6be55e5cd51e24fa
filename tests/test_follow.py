"""Link-following that stores every article it reaches, entry dates from feeds and sitemaps,
URL variants through a crawl, Scrapy's own outputs (-O, a Scrapyd egg), and `runs` rows.

Sites on 127.0.0.1, crawled by the real commands in subprocesses:

- ``section``: 200 articles reachable only by following links from a paginated section
  (10 teasers a page, 20 pages), with tag pages; ``follow`` matches listings and articles
  alike; a third of the articles state no date.
- ``dated``: undated articles listed by a feed (with ``pubDate``) and a sitemap (with
  ``lastmod`` / ``news:publication_date``).
- ``harbour`` and ``coastal``: one article at its clean URL and at variants that name it by
  their canonical link, listed by a feed; a repost on another site.
- ``sloppy``: feeds and sitemaps as they are found in the wild: a bare ``&``, an entry with a
  broken link, ``xml:base`` and relative links, Atom links as text, a text sitemap, an RSS
  feed given as a sitemap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, rows
from sites_server import SiteServer, article_page, rss, site_config, story, urlset
from test_crawl import FAST, crawl

ARTICLES = 200
PER_PAGE = 10


def undated_page(title, paragraphs, site_name, links=()) -> str:
    nav = "".join(f'<a href="{href}">{text}</a> ' for href, text in links)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav>{nav}</nav><article><h1>{title}</h1>{body}</article><footer>{site_name}</footer></body></html>")


def listing_page(title: str, teasers, next_href: str | None, tags=()) -> str:
    """A section page: teasers (headline link + a one-sentence excerpt), tags, next page."""
    items = "".join(f'<div class="teaser"><h2><a href="{href}">{headline}</a></h2><p>{excerpt}</p></div>'
                    for href, headline, excerpt in teasers)
    tag_links = "".join(f'<a href="{t}">{t.rsplit("/", 1)[-1]}</a> ' for t in tags)
    more = f'<a href="{next_href}">Older stories</a>' if next_href else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:type' content='website'></head><body><header><a href='/'>Home</a> {tag_links}</header>"
            f"<main><h1>{title}</h1>{items}</main><nav>{more}</nav></body></html>")


class Sites:
    def __init__(self, root: Path):
        self.root = root
        self.config = root / "configs"
        self.section = SiteServer("section").start()
        self.dated = SiteServer("dated").start()
        self.harbour = SiteServer("harbour").start()
        self.coastal = SiteServer("coastal").start()
        self.sloppy = SiteServer("sloppy").start()
        self.build_section()
        self.build_sloppy()
        self.build_dated()
        self.build_variants()

    def stop(self):
        for server in (self.section, self.dated, self.harbour, self.coastal, self.sloppy):
            server.stop()

    def build_section(self):
        s = self.section
        self.articles = [f"/news/2026/{i:03d}-story" for i in range(ARTICLES)]
        tags = ["/tag/harbour", "/tag/council"]
        for i, path in enumerate(self.articles):
            title, paragraphs = story(1000 + i)
            links = [("/", "Home"), ("/news/page/1", "News"), (tags[i % 2], "tag")]
            if i % 3 == 0:  # a third state no date at all
                s.add(path, undated_page(title, paragraphs, "Section Times", links))
            else:
                s.add(path, article_page(title, paragraphs, site_name="Section Times", published=f"2026-02-{1 + i % 28:02d}T09:00:00+00:00",
                                         nav=tuple(links)))
        pages = (ARTICLES + PER_PAGE - 1) // PER_PAGE
        for n in range(1, pages + 1):
            chunk = self.articles[(n - 1) * PER_PAGE: n * PER_PAGE]
            teasers = [(p, story(1000 + self.articles.index(p))[0], "The council met again on Tuesday.") for p in chunk]
            s.add(f"/news/page/{n}", listing_page(f"News, page {n}", teasers, f"/news/page/{n + 1}" if n < pages else None, tags))
        for tag in tags:
            picked = self.articles[: 3 * PER_PAGE: 3]
            s.add(tag, listing_page(f"Tag {tag}", [(p, story(1000 + self.articles.index(p))[0], "") for p in picked], None))
        s.add("/", listing_page("Section Times", [(self.articles[0], story(1000)[0], "Top story.")], "/news/page/1", tags))
        s.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        site_config(self.config, "section", name="Section Times", domains=[s.host], start_urls=[s.url("/")],
                    follow=[r"/news/page/\d+$", "/news/", "/tag/"])

    def build_dated(self):
        s = self.dated
        self.feed_listed = [f"/a/feed-{i}" for i in range(3)]
        self.sitemap_listed = [f"/a/map-{i}" for i in range(3)]
        for i, path in enumerate(self.feed_listed + self.sitemap_listed):
            s.add(path, undated_page(*story(2000 + i), "Dated Post"))
        items = "".join(f"<item><title>t{i}</title><link>{s.url(p)}</link><pubDate>Tue, 0{i + 3} Mar 2026 07:15:00 GMT</pubDate></item>"
                        for i, p in enumerate(self.feed_listed))
        s.add("/feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>D</title>{items}</channel></rss>',
              content_type="application/rss+xml")
        s.add("/sitemap.xml", urlset([s.url(p) for p in self.sitemap_listed]), content_type="application/xml")  # lastmod 2026-03-04
        s.add("/robots.txt", f"User-agent: *\nAllow: /\nSITEMAP: {s.url('/sitemap.xml')}\n", content_type="text/plain")
        site_config(self.config, "dated", name="Dated Post", domains=[s.host], feeds=[s.url("/feed.xml")],
                    sitemaps=[s.url("/robots.txt")])

    def build_sloppy(self):
        s = self.sloppy
        self.sloppy_articles = ["/story?id=2&page=1", "/base/one", "/base/two", "/atom-text", "/text-map", "/rss-map"]
        for i, path in enumerate(self.sloppy_articles):
            s.add(path.split("?")[0] if "?" in path else path, article_page(*story(4000 + i), site_name="Sloppy",
                                                                          published="2026-03-01T08:00:00+00:00"))
        s.add("/rss.xml", '<?xml version="1.0"?><rss version="2.0" xml:base="' + s.url("/base/") + '"><channel><title>S</title>'
              f"<item><link>{s.url('/story')}?id=2&page=1</link></item>"
              '<item><guid isPermaLink="true">http://sloppy.exa[mple/</guid></item>'
              "<item><title>caf&eacute; &nbsp;</title><link>one</link></item><item><link>/base/two</link></item>"
              "</channel></rss>", content_type="application/rss+xml")
        s.add("/atom.xml", '<feed xmlns="http://www.w3.org/2005/Atom"><title>S</title><entry>'
              f'<link rel="alternate" type="text/html">{s.url("/atom-text")}</link></entry></feed>', content_type="application/atom+xml")
        s.add("/sitemap.txt", f"{s.url('/text-map')}\nnot a url\n", content_type="text/plain")
        s.add("/news-rss-as-sitemap.xml", rss("S", [s.url("/rss-map")]), content_type="application/xml")
        s.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        site_config(self.config, "sloppy", name="Sloppy", domains=[s.host], feeds=[s.url("/rss.xml"), s.url("/atom.xml")],
                    sitemaps=[s.url("/sitemap.txt"), s.url("/news-rss-as-sitemap.xml")])

    def build_variants(self):
        h, c = self.harbour, self.coastal
        self.clean = h.url("/2026/03/04/ferry-vote")
        title, paragraphs = story(3000)
        variants = {"/2026/03/04/ferry-vote/amp": ("AMP edition",), "/print/ferry-vote": ("Printed from Harbour News",),
                    "/2026/03/04/ferry-vote": ()}
        for path, top in variants.items():
            h.add(path, article_page(title, paragraphs, site_name="Harbour News", published="2026-03-04T08:00:00+00:00",
                                     canonical=self.clean, top=top))
        # localhost:PORT is the site's other host (as m.example.com is: the config names both).
        self.mobile = f"http://localhost:{h.port}/2026/03/04/ferry-vote"
        self.variant_links = [h.url(p) for p in variants] + [self.clean + "?utm_source=twitter&utm_campaign=spring",
                                                               self.clean + "?fbclid=IwAR0abc", self.mobile]
        h.add("/feed.xml", rss("Harbour", self.variant_links), content_type="application/rss+xml")
        h.add("/feed-reversed.xml", rss("Harbour", self.variant_links[::-1]), content_type="application/rss+xml")
        c.add("/repost", article_page(title, paragraphs, site_name="Coastal Reposts", published="2026-03-04T18:00:00+00:00",
                                      bottom=("Originally appeared at Harbour News.",)))
        c.add("/feed.xml", rss("Coastal", [c.url("/repost")]), content_type="application/rss+xml")
        for server in (h, c):
            server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        site_config(self.config, "harbour", name="Harbour News", domains=[h.host, f"localhost:{h.port}"], aliases=["Harbour News"],
                    feeds=[h.url("/feed.xml")])
        site_config(self.config, "coastal", name="Coastal Reposts", domains=[c.host], feeds=[c.url("/feed.xml")])


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    s = Sites(tmp_path_factory.mktemp("follow"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def section_crawl(sites):
    db = sites.root / "section.db"
    _, summary = crawl(db, sites.config, "section", timeout=300)
    return db, summary, {p: sites.section.hits[p] for p in sites.articles}


# --- link-following --------------------------------------------------------------------------

def test_every_followed_article_is_stored_and_no_listing(sites, section_crawl):
    db, summary, _ = section_crawl
    urls = {r["url"] for r in rows(db, "SELECT url FROM documents")}
    assert urls == {sites.section.url(p) for p in sites.articles}
    assert summary["new"] == ARTICLES and summary["errors"] == 0, summary["faults"]
    # the home page, 20 section pages and 2 tag pages: followed, found to be listings, not stored
    assert summary["listings"] == 1 + ARTICLES // PER_PAGE + 2
    assert summary["variants"] == 0
    undated = rows(db, "SELECT count(*) AS n FROM documents WHERE published IS NULL")[0]["n"]
    assert undated == len(range(0, ARTICLES, 3))
    assert {r["published_from"] for r in rows(db, "SELECT published_from FROM documents WHERE published IS NOT NULL")} == {"page"}


def test_second_crawl_fetches_no_stored_article_but_the_listings_again(sites, section_crawl):
    db, _, hits = section_crawl
    listings_before = sites.section.hits["/news/page/1"]
    _, summary = crawl(db, sites.config, "section", timeout=300)
    assert {p: sites.section.hits[p] for p in sites.articles} == hits  # no article fetched again
    assert sites.section.hits["/news/page/1"] == listings_before + 1   # listings are, for new links
    assert summary["new"] == 0 and summary["articles_fetched"] == 0
    assert summary["skipped_stored"] >= ARTICLES
    assert rows(db, "SELECT count(*) AS n FROM documents")[0]["n"] == ARTICLES


def test_articles_regex_narrows_what_is_stored_and_the_page_budget_holds(sites, tmp_path):
    config = tmp_path / "configs"
    s = sites.section
    site_config(config, "section", name="Section Times", domains=[s.host], start_urls=[s.url("/")],
                follow=[r"/news/page/\d+$", "/news/", "/tag/"], articles=[r"/news/2026/0[0-4]\d-story$"])
    db = tmp_path / "narrow.db"
    _, summary = crawl(db, config, "section", "-s", "COLLECTOR_PAGE_BUDGET=6", timeout=300)
    urls = {r["url"] for r in rows(db, "SELECT url FROM documents")}
    assert urls and all(u.rsplit("/", 1)[-1] < "050" for u in urls)
    kinds = {f["kind"] for f in summary["faults"]}
    assert kinds == {"page_budget"}


# --- dates from feeds and sitemaps ---------------------------------------------------------------

def test_undated_articles_take_the_date_of_their_feed_entry_or_sitemap_url(sites, tmp_path):
    db = tmp_path / "dated.db"
    _, summary = crawl(db, sites.config, "dated")
    assert summary["new"] == 6, summary
    got = {r["url"]: (r["published"], r["published_from"]) for r in rows(db, "SELECT url, published, published_from FROM documents")}
    for i, path in enumerate(sites.feed_listed):
        published, source = got[sites.dated.url(path)]
        assert source == "feed" and published and f"0{i + 3}" in published and "2026" in published
    for path in sites.sitemap_listed:
        assert got[sites.dated.url(path)] == ("2026-03-04", "sitemap")


# --- URL variants through a crawl ------------------------------------------------------------------

@pytest.mark.parametrize("feed", ["/feed.xml", "/feed-reversed.xml"])
def test_url_variants_crawled_in_any_order_are_one_document(sites, tmp_path, feed):
    config = tmp_path / "configs"
    h, c = sites.harbour, sites.coastal
    site_config(config, "harbour", name="Harbour News", domains=[h.host, f"localhost:{h.port}"], aliases=["Harbour News"],
                feeds=[h.url(feed)])
    site_config(config, "coastal", name="Coastal Reposts", domains=[c.host], feeds=[c.url("/feed.xml")])
    db = tmp_path / "variants.db"
    _, summary = crawl(db, config, "-s", "CONCURRENT_REQUESTS=1")
    docs = {r["url"]: r["id"] for r in rows(db, "SELECT id, url FROM documents")}
    assert set(docs) == {sites.clean, c.url("/repost")}
    aliases = {r["alias"] for r in rows(db, "SELECT alias FROM url_aliases WHERE doc_id = ?", (docs[sites.clean],))}
    assert aliases == {h.url("/2026/03/04/ferry-vote/amp"), h.url("/print/ferry-vote"), sites.mobile}
    assert rows(db, "SELECT copy_url, origin_url FROM lineage") == [{"copy_url": c.url("/repost"), "origin_url": sites.clean}]
    # A second crawl requests none of the variants again.
    hits = {p: h.hits[p] for p in ("/2026/03/04/ferry-vote/amp", "/print/ferry-vote", "/2026/03/04/ferry-vote")}
    _, again = crawl(db, config)
    assert {p: h.hits[p] for p in hits} == hits and again["skipped_stored"] >= 5


# --- Scrapy's outputs ------------------------------------------------------------------------------

def test_scrapy_crawl_O_writes_one_json_object_per_stored_document(sites, tmp_path):
    db = tmp_path / "export.db"
    out = tmp_path / "items.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", "site=dated", "-O", str(out),
           "-s", f"COLLECTOR_DB={db}", "-s", f"COLLECTOR_CONFIG={sites.config}", *FAST]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    stored = rows(db, "SELECT id, url FROM documents")
    assert sorted(o["doc_id"] for o in objects) == sorted(r["id"] for r in stored)
    assert all("signature" not in o and o["text"] and o["origin_id"] == o["doc_id"] and o["relation"] is None for o in objects)
    assert "Stored 6 items" in result.stderr or "'item_scraped_count': 6" in result.stderr
    runs = rows(db, "SELECT site, status, pages_fetched, new_documents FROM runs")
    assert runs == [{"site": "dated", "status": "ok", "pages_fetched": runs[0]["pages_fetched"], "new_documents": 6}]
    # A second run stores nothing: nothing is exported, and no error.
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and out.read_text(encoding="utf-8") == ""


def test_collector_crawl_writes_a_runs_row_per_site(sites, tmp_path):
    db = tmp_path / "runs.db"
    crawl(db, sites.config, "dated", "harbour")
    runs = rows(db, "SELECT site, status, ended, new_documents, errors FROM runs ORDER BY site")
    assert [(r["site"], r["status"], r["errors"]) for r in runs] == [("dated", "ok", 0), ("harbour", "ok", 0)]
    assert all(r["ended"] for r in runs) and runs[0]["new_documents"] == 6


def test_an_egg_built_from_the_repo_loads_its_settings_as_scrapyd_does(tmp_path):
    """scrapyd-deploy builds an egg (setup.py bdist_egg); Scrapyd activates it and reads the
    ``scrapy`` entry point's ``settings`` to find the project's settings module."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "scrapy.cfg"):
        (src / name).write_bytes((REPO / name).read_bytes())
    for package in ("collector", "pipelines"):
        subprocess.run(["cp", "-r", str(REPO / package), str(src / package)], check=True)
    build = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "bdist_egg", "-d", str(tmp_path / "eggs")],
                           cwd=src, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    egg = next((tmp_path / "eggs").glob("*.egg"))
    assert "settings = collector.settings" in zipfile.ZipFile(egg).read("EGG-INFO/entry_points.txt").decode()
    probe = f"""
import os, sys
sys.meta_path = [f for f in sys.meta_path if "editable" not in getattr(f, "__name__", type(f).__name__).lower()]
sys.path = [p for p in sys.path if os.path.abspath(p) != {str(REPO)!r}]
import pkg_resources
dist = next(pkg_resources.find_distributions({str(egg)!r}, only=True))
dist.activate()
os.environ["SCRAPY_SETTINGS_MODULE"] = dist.get_entry_info("scrapy", "settings").module_name
from scrapy.utils.project import get_project_settings
from scrapy.spiderloader import SpiderLoader
settings = get_project_settings()
import collector.settings
print(settings["BOT_NAME"], sorted(SpiderLoader.from_settings(settings).list()), collector.settings.__file__)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("SCRAPY_SETTINGS_MODULE", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    name, spiders, where = result.stdout.strip().split(" ", 1)[0], result.stdout.split("[", 1)[1].split("]")[0], result.stdout.strip().rsplit(" ", 1)[-1]
    assert name == "collector" and "'site'" in spiders and "'feed'" in spiders
    assert str(egg) in where  # loaded from the egg, not from the repo


def test_variants_imported_and_crawled_into_one_database_are_one_document(sites, tmp_path):
    """The same article imported at tracking and print URLs, then crawled from its feed."""
    from conftest import invoke_cli

    h = sites.harbour
    config = tmp_path / "configs"
    site_config(config, "harbour", name="Harbour News", domains=[h.host], aliases=["Harbour News"], feeds=[h.url("/feed.xml")])
    title, paragraphs = story(3000)
    page = article_page(title, paragraphs, site_name="Harbour News", published="2026-03-04T08:00:00+00:00", canonical=sites.clean)
    export = tmp_path / "saved.jsonl"
    export.write_text("".join(json.dumps({"url": u, "html": page}) + "\n" for u in
                              (h.url("/print/ferry-vote"), sites.clean + "?utm_source=rss&utm_medium=feed")), encoding="utf-8")
    db = tmp_path / "mixed.db"
    invoke_cli("import", export, "--workers", "1", db=db, config=config)
    assert [r["url"] for r in rows(db, "SELECT url FROM documents")] == [sites.clean]
    _, summary = crawl(db, config)
    assert [r["url"] for r in rows(db, "SELECT url FROM documents")] == [sites.clean]
    assert summary["new"] == 0 and summary["skipped_stored"] >= 2  # the clean and print URLs were known


def test_on_a_terminal_a_live_display_then_one_summary(sites, tmp_path):
    """Run under a pseudo-terminal: the per-site display is drawn, the summary printed once,
    and Scrapy's log stays quiet."""
    import pty
    import select

    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "collector", "--db", str(tmp_path / "tty.db"), "--config", str(sites.config),
           "crawl", "dated", *FAST, "-s", "DOWNLOAD_DELAY=0.3"]
    process = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, cwd=REPO,
                               env={**os.environ, "COLUMNS": "160", "TERM": "xterm"})
    os.close(slave)
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(master)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, text
    assert "pages/s" in text and "dated" in text           # the live display was drawn
    assert text.count("crawled 1 site (dated)") == 1        # one summary
    assert "[scrapy" not in text and "INFO" not in text     # no log lines


def test_sloppy_feeds_and_sitemaps_give_every_link_and_report_the_bad_entry(sites, tmp_path):
    db = tmp_path / "sloppy.db"
    _, summary = crawl(db, sites.config, "sloppy")
    stored = {r["url"] for r in rows(db, "SELECT url FROM documents")}
    assert stored == {sites.sloppy.url(p) for p in sites.sloppy_articles}
    assert sites.sloppy.hits["/story"] == 1  # requested once, with both parameters
    assert [(f["kind"], f["url"]) for f in summary["faults"]] == [("bad_entry", sites.sloppy.url("/rss.xml"))]


def test_a_crawled_site_whose_every_page_names_its_home_page_folds_nothing_with_one_note(tmp_path):
    server = SiteServer("homecanon").start()
    try:
        paths = [f"/2026/story-{i}" for i in range(4)]
        for i, path in enumerate(paths):
            server.add(path, article_page(*story(5000 + i), site_name="Home Canon", published="2026-03-04T08:00:00+00:00",
                                          canonical=server.url("/")))
        server.add("/feed.xml", rss("H", [server.url(p) for p in paths]), content_type="application/rss+xml")
        config = tmp_path / "configs"
        site_config(config, "homecanon", name="Home Canon", domains=[server.host], feeds=[server.url("/feed.xml")])
        db = tmp_path / "home.db"
        result, summary = crawl(db, config)
        assert sorted(r["url"] for r in rows(db, "SELECT url FROM documents")) == sorted(server.url(p) for p in paths)
        assert len(summary["notices"]) == 1 and "names the home page" in summary["notices"][0]
        assert summary["errors"] == 0
    finally:
        server.stop()


@pytest.mark.parametrize("shape", ["links", "teasers", "long-teasers", "intro-and-links", "article", "article-with-related", "cjk-article"])
def test_listing_or_article_by_content(shape):
    from trafilatura.utils import load_html

    from pipelines.extract import extract_document, listing

    title, paragraphs = story(6000)
    heads = [story(6001 + i)[0] for i in range(10)]
    excerpts = {"teasers": ["Short excerpt."] * 10, "links": [""] * 10,
                "long-teasers": [" ".join(story(6100 + i)[1][0].split()[:40]) for i in range(10)]}
    if shape in excerpts:
        html = listing_page("News", [(f"/n/{i}", h, excerpts[shape][i]) for i, h in enumerate(heads)], "/page/2")
    elif shape == "intro-and-links":
        html = listing_page("News", [(f"/n/{i}", h, "") for i, h in enumerate(heads)], "/page/2").replace(
            "<main><h1>News</h1>", "<main><h1>News</h1><p>The latest from the harbour, the council and the courts.</p>")
    elif shape == "cjk-article":
        text = [f"市議会は火曜日の長い会議の後、第{i}フェリー桟橋の計画を承認したと担当者{i}が述べた。" * 3 for i in range(1, 5)]
        html = article_page("市議会がフェリー桟橋を承認", text, site_name="J", published="2026-03-04T08:00:00+00:00")
    else:
        related = (f'<ul class="related">{"".join(f"<li><a href=/r/{i}>{h}</a></li>" for i, h in enumerate(heads[:4]))}</ul>'
                   if shape == "article-with-related" else "")
        html = article_page(title, paragraphs, site_name="S", published="2026-03-04T08:00:00+00:00").replace("</article>", related + "</article>")
    tree = load_html(html)
    doc = extract_document(tree, None)
    verdict = listing(doc.text if doc else "", tree) if doc else "no text"
    assert (verdict is None) == shape.endswith("article") or shape == "article-with-related" and verdict is None, (shape, verdict)
