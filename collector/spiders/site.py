"""The site spiders: a site config's feeds, sitemaps and start pages, to ``Document`` items.

``site`` reads all three sources of one site in one crawler (one dupefilter, one politeness
budget per domain); ``feed``, ``sitemap`` and ``follow`` read one source each. All take
``-a site=KEY`` (``configs/sites/KEY.yaml``)::

    scrapy crawl site -a site=zerohedge
    scrapy crawl feed -a site=zerohedge -s COLLECTOR_DB=zh.db

They only find and fetch pages. An article page becomes an item with ``url``, ``html``,
``site``, ``source`` and ``fetched``; the pipelines in ITEM_PIPELINES do everything else,
for a crawled page exactly as for an imported file. Article URLs already stored are not
requested again (``collector.crawl.middlewares.SkipStoredMiddleware``); feeds and sitemaps are
asked conditionally (``ConditionalRequestsMiddleware``). Every failure is reported through
the crawl's report (``collector.crawl.report``) with its URL and reason, and the crawl goes on.

Built on Scrapy's machinery: its gzip reader with a size limit and robots.txt ``Sitemap:``
lines (``scrapy.utils``), and ``CrawlSpider`` rules with ``LinkExtractor``
(``follow`` and ``articles`` regexes; depth bounded by DEPTH_LIMIT, pages by
COLLECTOR_PAGE_BUDGET). Sitemaps are read by ``collector.crawl.sitemaps`` (XML, indexes, news and
image sitemaps, text sitemaps, feeds given as sitemaps) and feeds by ``collector.crawl.feeds``;
neither ever resolves an XML entity. A listed article carries its entry's date
(``listed_published``), used when the page states none.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import sitemap_urls_from_robots

from collector.context import Context
from collector.crawl.faults import charset_problem, classify_failure, report_fault
from collector.crawl.feeds import NotAFeed, parse_feed
from collector.crawl.sitemaps import NotASitemap, parse_sitemap
from collector.importers.decoding import NotText, decode
from collector.core.document import Document
from collector.crawl.middlewares import KIND, LISTED_DATE, LISTED_IN, START, STORE
from collector.core.sites import Site, host_of
from collector.core.urls import canonical_url

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _content_type(headers) -> str:
    value = headers.get(b"Content-Type") or b""
    return value.decode("latin-1").split(";")[0].strip().lower()


def _header_charset(headers) -> str | None:
    value = (headers.get(b"Content-Type") or b"").decode("latin-1")
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", value, re.IGNORECASE)
    return match.group(1) if match else None


class SiteSpider(CrawlSpider):
    """All of a site's sources: its feeds, its sitemaps, and link-following from start_urls.

    Link-following is Scrapy's ``CrawlSpider`` (its rules); feeds and sitemaps are read by
    ``collector.crawl.feeds`` and ``collector.crawl.sitemaps``, which take what Scrapy's ``SitemapSpider``
    does not (feeds given as sitemaps, plain URL lists, broken XML, gzip bombs)."""

    name = "site"
    #: Which of the site config's sources this spider reads.
    sources = ("feeds", "sitemaps", "start_urls")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        context = Context.for_crawler(crawler)
        key = kwargs.get("site")
        known = ", ".join(sorted(context.sites.by_key)) or "none"
        if not key:
            raise ValueError(f"spider {cls.name!r} needs -a site=KEY (site configs: {known})")
        site = context.sites.get(key)
        if site is None:
            raise ValueError(f"-a site={key}: no such site config in {crawler.settings.get('COLLECTOR_CONFIG')} (known: {known})")
        kwargs["site_config"] = site
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.context = context
        spider.page_budget = crawler.settings.getint("COLLECTOR_PAGE_BUDGET")
        spider.refresh = crawler.settings.getbool("COLLECTOR_REFRESH")
        crawler.signals.connect(spider.headers_received, signal=signals.headers_received)
        return spider

    def __init__(self, *args, site: str | None = None, site_config: Site | None = None, **kwargs):
        if site_config is None:
            raise ValueError(f"spider {self.name!r} is built with -a site=KEY (from_crawler)")
        self.site_config = site_config
        self.site_key = site_config.key
        self.sitemap_urls = site_config.sitemaps if "sitemaps" in self.sources else ()
        self.rules = self.build_rules(site_config) if "start_urls" in self.sources else ()
        self._articles = [re.compile(p) for p in site_config.articles]
        # A site config without domains owns the hosts of its own feeds, sitemaps and pages.
        self._source_hosts = {host_of(u) for u in (*site_config.feeds, *site_config.sitemaps, *site_config.start_urls)}
        self._start_pages = {canonical_url(u) for u in site_config.start_urls}
        self._pages: set[str] = set()  # followed pages requested (COLLECTOR_PAGE_BUDGET)
        self._over_budget = False
        self.page_budget = 0  # set from the settings in from_crawler
        self.refresh = False
        super().__init__(*args, **kwargs)

    # --- what to fetch --------------------------------------------------------------
    @staticmethod
    def build_rules(site: Site) -> list[Rule]:
        """Links matching ``follow`` are followed for more links, and stored when they carry
        an article (decided by content, in the extract stage: ``pipelines.extract.listing``)
        and match ``articles`` (when given). Other links of the site are articles when they
        match ``articles`` (without ``articles``, every other link is tried as an article;
        extraction drops pages with no article text).
        """
        rules = []
        if site.follow:
            rules.append(
                Rule(
                    LinkExtractor(allow=site.follow),
                    callback="parse_followed",
                    follow=True,
                    process_links="own_links",
                    process_request="as_page",
                    errback="on_fault",
                )
            )
        rules.append(
            Rule(
                LinkExtractor(allow=site.articles, deny=() if site.articles else site.follow),
                callback="parse_article",
                follow=False,
                process_links="own_links",
                process_request="as_article",
                errback="on_fault",
            )
        )
        return rules

    def owns(self, url: str) -> bool:
        """Is the URL this site's? (Its config's domains; host:port allowed.)"""
        found = self.context.sites.for_url(url)
        if found is not None:
            return found.key == self.site_key
        return not self.site_config.domains and host_of(url) in self._source_hosts

    def wants_article(self, url: str) -> bool:
        return self.owns(url) and (not self._articles or any(p.search(url) for p in self._articles))

    def own_links(self, links):
        return [link for link in links if self.owns(link.url)]

    def stores(self, url: str) -> bool:
        """Is a followed page at this URL stored when it carries an article?"""
        return not self._articles or any(p.search(url) for p in self._articles)

    def as_article(self, request: Request, response) -> Request | None:
        """An article link; none for a link back to a start page or the home page (linked
        from every page, and a listing, not an article)."""
        url = canonical_url(request.url)
        if url in self._start_pages or urlsplit(url).path in ("", "/") and not urlsplit(url).query:
            return None
        request.meta[KIND] = "article"
        return request.replace(url=url) if url != request.url else request

    def as_page(self, request: Request, response) -> Request | None:
        """A page to follow. COLLECTOR_PAGE_BUDGET counts the distinct pages that will be
        fetched (not a link seen again, not a stored article, which is not fetched); past
        it, none (reported once)."""
        url = canonical_url(request.url)
        request.meta[KIND] = "page"
        request.meta[STORE] = self.stores(url)
        request = request.replace(url=url) if url != request.url else request
        if url in self._pages or (request.meta[STORE] and not self.refresh and self.context.store.crawl.knows_url(url)):
            return request  # the dupefilter or the skip-stored check drops it
        if len(self._pages) >= self.page_budget > 0:
            if not self._over_budget:
                self._over_budget = True
                self.fault("page_budget", url,
                           f"COLLECTOR_PAGE_BUDGET ({self.page_budget}) pages followed: no more followed in this crawl")
            self.crawler.stats.inc_value("collector/over_budget")
            return None
        self._pages.add(url)
        return request

    # --- requests ---------------------------------------------------------------------
    async def start(self):
        if "feeds" in self.sources:
            for url in self.site_config.feeds:
                yield self.feed_request(url)
        for url in self.sitemap_urls:
            yield self.sitemap_request(url)
        if "start_urls" in self.sources:
            for url in self.site_config.start_urls:
                yield Request(url, callback=self.parse_start_page, errback=self.on_fault, dont_filter=True,
                              meta={KIND: "page", START: True, STORE: self.stores(canonical_url(url))})

    def feed_request(self, url: str) -> Request:
        return Request(
            url,
            callback=self.parse_feed,
            errback=self.on_fault,
            meta={KIND: "feed", "handle_httpstatus_list": [304]},
            dont_filter=True,
        )

    def sitemap_request(self, url: str) -> Request:
        # The size limit bounds both the download and the decompression (gzip bombs).
        limit = self.settings.getint("COLLECTOR_SITEMAP_MAXSIZE")
        return Request(
            url,
            callback=self.parse_sitemap,
            errback=self.on_fault,
            meta={KIND: "sitemap", "handle_httpstatus_list": [304], "download_maxsize": limit},
        )

    def article_request(self, url: str, listed_in: str | None = None, published: str | None = None,
                        listed_from: str | None = None) -> Request:
        """An article listed in a feed or sitemap, with the date its entry gives (used when
        the page states none)."""
        meta = {KIND: "article", LISTED_IN: listed_in}
        if published:
            meta[LISTED_DATE] = (published, listed_from or "feed")
        return Request(canonical_url(url), callback=self.parse_article, errback=self.on_fault, meta=meta)

    # --- callbacks --------------------------------------------------------------------
    def parse_feed(self, response):
        if response.status == 304:
            return
        try:
            feed = parse_feed(response.body, base_url=response.url)
        except NotAFeed as exc:
            self.fault("invalid_feed", response.url, str(exc), response.request)
            return
        yield from self.listed(response, feed, "feed")

    def listed(self, response, source, kind: str):
        """Article requests for the entries of a feed or sitemap (with their dates); its
        declared entities and unreadable entries reported."""
        if source.entities:
            self.fault(
                "xml_entities",
                response.url,
                f"declares XML entities, never resolved; entries using them skipped: {', '.join(source.entities)}",
                response.request,
            )
        for problem in source.problems:
            self.fault("bad_entry", response.url, f"{problem}: skipped, the other entries read", response.request)
        for entry in source.entries:
            if self.wants_article(entry.link):
                yield self.article_request(entry.link, listed_in=response.url, published=entry.published, listed_from=kind)

    def parse_sitemap(self, response):
        """Sitemaps, sitemap indexes, feeds and URL lists given as sitemaps, robots.txt."""
        if response.status == 304:
            return
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                yield self.sitemap_request(url)
            return
        body = self.sitemap_body(response)
        if body is None:
            return
        try:
            sitemap = parse_sitemap(body, base_url=response.url)
        except NotASitemap as exc:
            self.fault("invalid_sitemap", response.url, str(exc), response.request)
            return
        if sitemap.kind == "sitemapindex":
            response.meta["collector_sitemap_index"] = True
            for url in sitemap.sitemaps:
                yield self.sitemap_request(url)
        else:
            yield from self.listed(response, sitemap, "sitemap")

    def sitemap_body(self, response) -> bytes | None:
        """The sitemap's XML, inflated if gzip, up to the request's size limit."""
        if gzip_magic_number(response):
            limit = response.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE"))
            try:
                return gunzip(response.body, max_size=limit)
            except ValueError:  # scrapy's _DecompressionMaxSizeExceeded
                self.fault(
                    "sitemap_too_large",
                    response.url,
                    f"more than {limit:,} bytes once decompressed ({len(response.body):,} compressed): a gzip bomb? not read",
                    response.request,
                )
            except (OSError, EOFError) as exc:
                self.fault("invalid_sitemap", response.url, f"corrupt gzip ({exc})", response.request)
            return None
        return response.body  # XML, a feed or a list of URLs: parse_sitemap tells

    def parse_start_page(self, response):
        return self.parse_with_rules(response, self.parse_followed, {}, follow=True)

    def parse_followed(self, response):
        """A followed page: its links are followed (the rules); the page itself is an item
        too when it may be stored, and the extract stage keeps it only if it is an article."""
        if response.meta.get(STORE) and isinstance(response, HtmlResponse):
            yield from self.parse_article(response, followed=True)

    def parse_article(self, response, followed: bool = False):
        ctype = _content_type(response.headers)
        if ctype and ctype not in _HTML_TYPES:
            self.fault("not_html", response.url, f"Content-Type {ctype}: not an HTML page, skipped", response.request)
            return
        if not ctype and not isinstance(response, HtmlResponse):
            self.fault("not_html", response.url, "no Content-Type and no HTML in the body, skipped", response.request)
            return
        charset = _header_charset(response.headers)
        try:
            html = decode(response.body, declared=charset, html=True)
        except NotText as exc:
            self.fault("not_html", response.url, f"{exc}, skipped", response.request)
            return
        problem = charset_problem(response.body, charset)
        if problem:
            self.fault("charset", response.url, f"{problem} (page kept)", response.request)
        url = canonical_url(response.url)
        redirected_from = sorted({canonical_url(u) for u in response.meta.get("redirect_urls", ())} - {url})
        extra = {"redirected_from": redirected_from} if redirected_from else {}
        if response.meta.get(LISTED_DATE):
            extra["listed_published"], extra["listed_from"] = response.meta[LISTED_DATE]
        if followed:
            extra["followed"] = True
        yield Document(
            url=url,
            html=html,
            source=f"spider:{self.name}",
            site=self.site_key,
            fetched=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **extra,
        )

    # --- faults -------------------------------------------------------------------------
    def headers_received(self, headers, body_length, request, spider):
        """Stop a page download once its headers say it is not HTML: no body is fetched."""
        if spider is not self or request.meta.get(KIND) not in ("article", "page"):
            return
        ctype = _content_type(headers)
        if ctype and ctype not in _HTML_TYPES:
            raise StopDownload(fail=False)

    def on_fault(self, failure):
        request = getattr(failure, "request", None)
        kind, reason = classify_failure(failure, request)
        url = request.url if request is not None else "?"
        self.fault(kind, url, reason, request)

    def fault(self, kind: str, url: str, reason: str, request=None) -> None:
        report_fault(self.crawler, kind, url, reason, request)


class FeedSpider(SiteSpider):
    """A site's RSS/Atom feeds only."""

    name = "feed"
    sources = ("feeds",)


class SitemapsSpider(SiteSpider):
    """A site's sitemaps only (indexes, news sitemaps, gzipped)."""

    name = "sitemap"
    sources = ("sitemaps",)


class FollowSpider(SiteSpider):
    """Link-following from a site's start_urls only (``follow``/``articles``, DEPTH_LIMIT)."""

    name = "follow"
    sources = ("start_urls",)
