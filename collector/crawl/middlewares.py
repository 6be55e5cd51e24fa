"""The crawl's middlewares: incremental crawling, conditional requests, retries with backoff.

Each is a small Scrapy component whose constructor names what it uses (the crawl's URL
memory, ``store.crawl``; its settings); ``from_crawler`` reads them off the crawler and the
run's store (``Context.for_crawler``), opened by the first component that needs it. Requests say what they are
in ``meta["collector_kind"]``: ``feed``, ``sitemap``, ``page`` (a page followed for its
links) or ``article`` (a page to extract); see ``collector.spiders.site``.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.asyncio import sleep

from ..context import Context
from ..core.contracts import CrawlState, UrlAliases
from .faults import TRANSIENT_FAULTS, fault_reported
from ..core.urls import canonical_url

logger = logging.getLogger(__name__)

KIND = "collector_kind"
#: On an article request: the feed or sitemap it was listed in.
LISTED_IN = "collector_listed_in"
#: On an article request: (date as the entry gives it, "feed" or "sitemap").
LISTED_DATE = "collector_listed_date"
#: On a page request: stored when it carries an article (it matches ``articles``, if any).
STORE = "collector_store"
#: On a start page's request: always fetched (the crawl starts there).
START = "collector_start"


def is_article(request: Request) -> bool:
    return request.meta.get(KIND) == "article"


def may_be_stored(request: Request) -> bool:
    """An article, or a followed page that is stored when it carries one."""
    kind = request.meta.get(KIND)
    return kind == "article" or (kind == "page" and bool(request.meta.get(STORE)) and not request.meta.get(START))


class SkipStoredMiddleware(BaseSpiderMiddleware):
    """An article URL already in the store is not requested again (unless COLLECTOR_REFRESH).

    The store is the source of truth for "seen": a crawl killed midway and started again
    skips exactly the documents that were committed, and fetches the rest. The URL is
    canonical (``collector.core.urls``) as the stored document's is; a URL that redirected to a
    stored document, or names it by its canonical link, is known too (``url_aliases``).
    A followed page that is stored is an article, not followed again; listing pages are
    never stored, so they are fetched again to find new links.
    """

    def __init__(self, crawler, urls: UrlAliases, refresh: bool = False):
        super().__init__(crawler)
        self.urls, self.refresh = urls, refresh

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, Context.for_crawler(crawler).open_store().crawl, crawler.settings.getbool("COLLECTOR_REFRESH"))

    def get_processed_request(self, request: Request, response) -> Request | None:
        if not may_be_stored(request):
            return request
        url = canonical_url(request.url)
        if url != request.url:
            request = request.replace(url=url)
        if self.refresh:
            return request
        if self.urls.knows_url(url):  # stored under it, or under where it redirected
            self.crawler.stats.inc_value("collector/skipped_stored")
            return None
        return request


class ConditionalRequestsMiddleware:
    """Feeds and sitemaps are asked with If-None-Match / If-Modified-Since; 304 = nothing new.

    Validators are saved only at the end of a crawl that finished, and only for a feed or
    sitemap none of whose articles failed in a way a later run could cure (5xx, timeouts,
    a pipeline error): otherwise a 304 next time would hide those articles for good. A
    crawl killed midway saves none, so the next run reads every feed and sitemap in full.
    A sitemap index is never asked conditionally: its sitemaps may change while it does not.
    """

    def __init__(self, crawler, validators: CrawlState, refresh: bool = False):
        self.crawler = crawler
        self.validators, self.refresh = validators, refresh
        self.read: dict[str, dict] = {}   # url -> validators of a feed/sitemap read in full
        self.meta: dict[str, dict] = {}   # url -> its request's meta (the spider marks indexes)
        self.dirty: set[str] = set()      # feeds/sitemaps with an article worth retrying

    @classmethod
    def from_crawler(cls, crawler):
        mw = cls(crawler, Context.for_crawler(crawler).open_store().crawl, crawler.settings.getbool("COLLECTOR_REFRESH"))
        crawler.signals.connect(mw.fault_reported, signal=fault_reported)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_request(self, request: Request):
        if request.meta.get(KIND) not in ("feed", "sitemap") or self.refresh:
            return None
        known = self.validators.source_validators(request.url)
        if not known or known["kind"] == "sitemapindex":
            return None
        if known["etag"] and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = known["etag"]
        if known["last_modified"] and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = known["last_modified"]
        return None

    def process_response(self, request: Request, response):
        kind = request.meta.get(KIND)
        if kind in ("feed", "sitemap"):
            if response.status == 304:
                self.crawler.stats.inc_value("collector/not_modified")
            elif response.status == 200:
                etag = response.headers.get(b"ETag")
                modified = response.headers.get(b"Last-Modified")
                self.read[request.url] = {
                    "kind": kind,
                    "etag": etag.decode("latin-1") if etag else None,
                    "last_modified": modified.decode("latin-1") if modified else None,
                }
                self.meta[request.url] = request.meta
        return response

    def fault_reported(self, kind, url, reason, request=None, **kwargs):
        if request is not None and kind in TRANSIENT_FAULTS:
            self.dirty.add(request.meta.get(LISTED_IN) or request.url)

    def spider_closed(self, spider, reason):
        if reason != "finished":
            return
        site = getattr(spider, "site_key", None) or spider.name
        rows = []
        for url, found in self.read.items():
            if url in self.dirty:
                continue
            kind = "sitemapindex" if self.meta[url].get("collector_sitemap_index") else found["kind"]
            if kind != "sitemapindex" and not (found["etag"] or found["last_modified"]):
                continue
            rows.append({"url": url, "site": site, **found, "kind": kind})
        self.validators.save_source_validators(rows)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's ``RetryMiddleware`` (RETRY_TIMES, RETRY_HTTP_CODES, RETRY_EXCEPTIONS), with a
    wait of COLLECTOR_RETRY_BACKOFF * 2**(n-1) seconds (at most COLLECTOR_RETRY_BACKOFF_MAX)
    before the n-th retry. The wait holds one of CONCURRENT_REQUESTS, not the domain's slot.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff = settings.getfloat("COLLECTOR_RETRY_BACKOFF")
        self.backoff_max = settings.getfloat("COLLECTOR_RETRY_BACKOFF_MAX")

    def delay(self, retry: Request) -> float:
        attempt = max(1, retry.meta.get("retry_times", 1))
        return min(self.backoff_max, self.backoff * 2 ** (attempt - 1))

    async def _wait(self, result):
        if isinstance(result, Request):
            seconds = self.delay(result)
            if seconds > 0:
                await sleep(seconds)
        return result

    async def process_response(self, request, response):
        return await self._wait(super().process_response(request, response))

    async def process_exception(self, request, exception):
        return await self._wait(super().process_exception(request, exception))
