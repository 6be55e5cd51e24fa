"""``collector add-site URL``: find a site's feeds, sitemaps and name, and write its config.

Everything is fetched through Scrapy with the project's settings (robots.txt obeyed,
AutoThrottle, size limits, retries: as any crawl), by ``DiscoverSpider``:

1. the home page: its name (``og:site_name``, else ``<title>``), its host, and the feeds it
   announces (``<link rel="alternate">`` of RSS, Atom or RDF type);
2. robots.txt: its ``Sitemap:`` lines, whatever their case;
3. the common places, each checked by reading what answers (a feed must parse as a feed, a
   sitemap as a sitemap): feeds at ``/feed``, ``/rss``, ``/feed.xml``, ``/rss.xml``,
   ``/atom.xml``, ``/index.xml`` when the home page announces none; sitemaps at
   ``/sitemap.xml``, ``/sitemap_index.xml``, ``/news-sitemap.xml``, ``/sitemap-news.xml``.

A site with neither gets ``start_urls: [home]`` and ``follow: ["/"]``: every page of the site
is followed (DEPTH_LIMIT, COLLECTOR_PAGE_BUDGET), and the ones that carry an article stored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml
from scrapy import Request, Spider
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import sitemap_urls_from_robots

from .feeds import NotAFeed, parse_feed
from .sitemaps import NotASitemap, parse_sitemap
from ..core.sites import host_of
from ..core.urls import canonical_url, same_site

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
FEED_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml")
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml", "/sitemap-news.xml")


@dataclass
class Found:
    home: str
    name: str | None = None
    host: str | None = None
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    tried: list[tuple[str, str]] = field(default_factory=list)  # (url, what it was)

    def config(self) -> dict:
        out = {"name": self.name or self.host, "domains": [self.host]}
        if self.feeds:
            out["feeds"] = self.feeds
        if self.sitemaps:
            out["sitemaps"] = self.sitemaps
        if not self.feeds and not self.sitemaps:
            out["start_urls"] = [self.home]
            out["follow"] = ["/"]
        return out


def site_key(url: str) -> str:
    host = (urlsplit(url).hostname or "site").lower()
    labels = [label for label in host.split(".") if label not in ("www", "m")]
    name = labels[-2] if len(labels) >= 2 and not host.replace(".", "").isdigit() else "-".join(labels)
    port = urlsplit(url).port
    return re.sub(r"[^a-z0-9-]+", "-", f"{name}-{port}" if port else name).strip("-") or "site"


class DiscoverSpider(Spider):
    name = "discover"

    def __init__(self, *args, url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.found = Found(canonical_url(url), host=host_of(url))
        # Asked one after another: a new site is asked politely, and the report's order is
        # the order of the search.
        self.probes: list[tuple[str, str]] = []

    def request(self, url: str, callback, what: str) -> Request:
        return Request(url, callback=callback, errback=self.failed, dont_filter=True,
                       meta={"what": what, "handle_httpstatus_all": True})

    async def start(self):
        yield self.request(self.found.home, self.parse_home, "home page")

    def failed(self, failure):
        request = getattr(failure, "request", None)
        if request is not None:
            self.found.tried.append((request.url, f"{request.meta.get('what')}: {type(failure.value).__name__}: {failure.value}"))
        yield from self.next_probe()

    def parse_home(self, response):
        found = self.found
        if response.status != 200 or not hasattr(response, "xpath"):
            found.tried.append((response.url, f"home page: HTTP {response.status}"))
        else:
            found.tried.append((response.url, "home page: read"))
            found.host = host_of(response.url) or found.host
            name = response.xpath("//meta[@property='og:site_name']/@content").get()
            found.name = (name or response.xpath("//title/text()").get() or "").strip() or None
            for link in response.xpath("//link[@rel='alternate' or @rel='feed']"):
                kind = (link.attrib.get("type") or "").lower()
                href = link.attrib.get("href")
                if href and (kind in FEED_TYPES or "rss" in kind or "atom" in kind):
                    feed = urljoin(response.url, href)
                    if same_site(feed, response.url):
                        self.probes.append((feed, "feed"))
                    else:  # a site's config crawls its own hosts: another's feed is not asked
                        found.tried.append((feed, "feed announced on another host: not asked"))
        robots = urljoin(self.found.home, "/robots.txt")
        self.probes.append((robots, "robots.txt"))
        yield from self.next_probe()

    def next_probe(self):
        while self.probes:
            url, what = self.probes.pop(0)
            if any(url == tried for tried, _ in self.found.tried):
                continue
            yield self.request(url, self.parse_probe, what)
            return

    def parse_probe(self, response):
        what = response.meta["what"]
        if response.status != 200:
            self.found.tried.append((response.url, f"{what}: HTTP {response.status}"))
        elif what == "robots.txt":
            listed = list(sitemap_urls_from_robots(response.body, base_url=response.url))
            self.found.tried.append((response.url, f"robots.txt: {len(listed)} Sitemap: line(s)"))
            self.probes.extend((url, "sitemap") for url in listed)
        else:
            self.check(response, what)
        if what == "robots.txt":  # then the common places
            self.probes.extend((urljoin(self.found.home, p), "sitemap") for p in SITEMAP_PATHS)
            if not self.found.feeds and not any(kind == "feed" for _, kind in self.probes):
                self.probes.extend((urljoin(self.found.home, p), "feed?") for p in FEED_PATHS)
        yield from self.next_probe()

    def check(self, response, what: str) -> None:
        body = response.body
        if gzip_magic_number(response):
            try:
                body = gunzip(body, max_size=self.settings.getint("COLLECTOR_SITEMAP_MAXSIZE"))
            except (ValueError, OSError, EOFError) as exc:
                self.found.tried.append((response.url, f"{what}: unreadable gzip ({exc})"))
                return
        url = response.url
        try:
            feed = parse_feed(body, base_url=url)
            if what.startswith("feed") or not self.found.feeds:
                if url not in self.found.feeds and url not in self.found.sitemaps:
                    (self.found.feeds if what.startswith("feed") else self.found.sitemaps).append(url)
            self.found.tried.append((url, f"{what}: a {feed.kind} feed of {len(feed.entries)} entries"))
            return
        except NotAFeed:
            pass
        if what.startswith("feed"):
            self.found.tried.append((url, f"{what}: not a feed"))
            return
        try:
            sitemap = parse_sitemap(body, base_url=url)
        except NotASitemap as exc:
            self.found.tried.append((url, f"{what}: {exc}"))
            return
        if sitemap.kind in ("urlset", "sitemapindex") and (sitemap.entries or sitemap.sitemaps):
            if url not in self.found.sitemaps:
                self.found.sitemaps.append(url)
            n = len(sitemap.entries) + len(sitemap.sitemaps)
            self.found.tried.append((url, f"{what}: a {sitemap.kind} of {n} URLs"))
        else:
            self.found.tried.append((url, f"{what}: no sitemap ({sitemap.kind}, empty)"))


def discover(url: str, settings) -> Found:
    """Run the discovery of ``url`` in this process (a Twisted reactor: once per process)."""
    from scrapy.crawler import CrawlerProcess

    if not host_of(url):
        raise ValueError(f"{url}: not an http(s) URL")
    process = CrawlerProcess(settings)  # configures logging
    if settings.get("LOG_LEVEL") in ("ERROR", "CRITICAL"):  # what failed is in the report
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    crawler = process.create_crawler(DiscoverSpider)
    process.crawl(crawler, url=url)
    process.start()
    return crawler.spider.found


def write_config(found: Found, config_dir: str | Path, key: str, force: bool = False, dry_run: bool = False) -> tuple[Path, str]:
    """(path, YAML text) of the site's config; written unless dry_run. An existing file is
    kept unless force."""
    path = Path(config_dir) / "sites" / f"{key}.yaml"
    text = yaml.safe_dump(found.config(), sort_keys=False, allow_unicode=True, default_flow_style=False)
    if dry_run:
        return path, text
    if path.exists() and not force:
        raise FileExistsError(f"{path}: exists; --force replaces it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path, text
