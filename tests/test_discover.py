"""`collector add-site`: discovery of feeds, sitemaps and the site's name, through Scrapy,
on local sites with feeds only, sitemaps only, and neither."""

from __future__ import annotations

import pytest
import yaml
from conftest import run_cli
from sites_server import SiteServer, article_page, rss, sitemap_index, story, urlset
from test_crawl import FAST


def home(name: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name} - front page</title>"
            f"<meta property='og:site_name' content='{name}'>{head}</head><body><h1>{name}</h1>"
            "<a href='/news/one'>One</a></body></html>")


@pytest.fixture(scope="module")
def servers():
    feeds, maps, bare = SiteServer("feeds").start(), SiteServer("maps").start(), SiteServer("bare").start()
    for s in (feeds, maps, bare):
        s.add("/news/one", article_page(*story(77), site_name="X", published="2026-03-04T08:00:00+00:00"))
    feeds.add("/", home("Feed Only Times", '<link rel="alternate" type="application/rss+xml" href="/news.rss" title="RSS">'
                                          '<link rel="alternate" type="application/atom+xml" href="https://elsewhere.example/atom">'))
    feeds.add("/news.rss", rss("F", [feeds.url("/news/one")]), content_type="application/rss+xml")
    feeds.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    maps.add("/", "<html><head><title>Map Only Gazette</title></head><body><p>hi</p></body></html>")
    maps.add("/robots.txt", f"User-agent: *\nDisallow: /private/\nsitemap: {maps.url('/maps/index.xml')}\n", content_type="text/plain")
    maps.add("/maps/index.xml", sitemap_index([maps.url("/maps/news.xml")]), content_type="application/xml")
    maps.add("/sitemap-news.xml", urlset([maps.url("/news/one")], news=True), content_type="application/xml")
    maps.add("/feed", "<html><body>not a feed</body></html>")
    bare.add("/", home("Nothing Here Weekly"))
    yield feeds, maps, bare
    for s in (feeds, maps, bare):
        s.stop()


def add_site(tmp_path, url, *args, check=True):
    config = tmp_path / "configs"
    (config / "sites").mkdir(parents=True, exist_ok=True)
    result = run_cli("add-site", url, *args, *FAST, db=tmp_path / "d.db", config=config, check=check, timeout=120)
    return result, config


def test_a_site_with_feeds_only(servers, tmp_path):
    feeds, _, _ = servers
    result, config = add_site(tmp_path, feeds.url("/"), "--key", "feedonly")
    written = yaml.safe_load((config / "sites" / "feedonly.yaml").read_text())
    assert written == {"name": "Feed Only Times", "domains": [feeds.host], "feeds": [feeds.url("/news.rss")]}
    assert "tried" in result.stderr and "/sitemap.xml: sitemap: HTTP 404" in result.stderr, result.stderr
    assert feeds.hits["/robots.txt"] >= 1


def test_a_site_with_sitemaps_only_and_the_default_key(servers, tmp_path):
    _, maps, _ = servers
    result, config = add_site(tmp_path, maps.url("/"))
    files = list((config / "sites").glob("*.yaml"))
    assert [f.name for f in files] == [f"127-0-0-1-{maps.port}.yaml"]
    written = yaml.safe_load(files[0].read_text())
    assert written["name"] == "Map Only Gazette" and "feeds" not in written
    assert written["sitemaps"] == [maps.url("/maps/index.xml"), maps.url("/sitemap-news.xml")]
    assert "/feed: feed?: not a feed" in result.stderr
    # the config crawls: the sitemap's article is stored
    crawled = run_cli("crawl", "--json", *FAST, db=tmp_path / "d.db", config=config)
    assert '"new": 1' in crawled.stdout


def test_a_site_with_neither_dry_run_and_no_overwrite(servers, tmp_path):
    _, _, bare = servers
    result, config = add_site(tmp_path, bare.url("/"), "--key", "bare", "--dry-run")
    assert not (config / "sites" / "bare.yaml").exists()
    shown = yaml.safe_load(result.stdout)
    assert shown == {"name": "Nothing Here Weekly", "domains": [bare.host], "start_urls": [bare.url("/")], "follow": ["/"]}
    assert "neither" in result.stderr
    add_site(tmp_path, bare.url("/"), "--key", "bare")
    again, _ = add_site(tmp_path, bare.url("/"), "--key", "bare", check=False)
    assert again.returncode == 2 and "exists; --force replaces it" in again.stderr
    forced, _ = add_site(tmp_path, bare.url("/"), "--key", "bare", "--force")
    assert "wrote" in forced.stderr
