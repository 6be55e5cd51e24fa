"""Crawling: the library face of ``collector crawl``, and the crawl's report of what happened.

``run_crawl`` crawls sites in one process (one Scrapy crawler per site, all sharing one
store), and returns a ``CrawlSummary``: pages fetched, documents new / updated / unchanged,
article URLs skipped because already stored, feeds and sitemaps not modified, and every
fault with its URL and reason. A fault never stops a crawl.

Fault kinds (``CrawlSummary.faults``; ``TRANSIENT_FAULTS`` may heal by themselves):

===================  =====================================================================
http_5xx             the server failed (after RETRY_TIMES retries with backoff)
throttled            408 or 429 (after retries)
http_4xx             404, 410, 403...: the page is not there for us
timeout              no answer within DOWNLOAD_TIMEOUT (after retries)
connection           refused, reset, DNS failure, truncated answer (after retries)
redirect_loop        a redirect chain that comes back to itself or exceeds REDIRECT_MAX_TIMES
robots               robots.txt disallows the URL (it was not requested)
not_html             a PDF, an image, any non-HTML answer: skipped before extraction
charset              a missing or wrong charset: decoded anyway (page kept), reported
too_large            larger than DOWNLOAD_MAXSIZE: the download is cancelled
sitemap_too_large    a sitemap over COLLECTOR_SITEMAP_MAXSIZE once decompressed (gzip bomb)
invalid_sitemap      not a sitemap, or a corrupt one
invalid_feed         not RSS or Atom
bad_entry            a feed or sitemap entry whose link cannot be read (skipped; the others are read)
page_budget          COLLECTOR_PAGE_BUDGET pages followed: no more followed in this crawl
xml_entities         a feed declaring XML entities (XXE): never resolved; entries using them dropped
no_text              extraction found no article text
pipeline             a pipeline stage failed on the document (it is rolled back)
http_other, ignored  another status; a request another middleware dropped
other                an unexpected exception (its type is in the reason)
===================  =====================================================================
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from ..context import Context, build_settings
from ..summary import Summary
from ..importers.decoding import META_CHARSET, codec_name
from ..itemproc import guarded
from ..core.sites import Site, Sites
from ..core.urls import TRACKING_PARAMS, canonical_url  # noqa: F401 (TRACKING_PARAMS: the old import path)

logger = logging.getLogger(__name__)

# --- URLs ---------------------------------------------------------------------------------

#: The one URL identity of every document, imported or crawled (``collector.core.urls``).
normalize_url = canonical_url


# --- faults -------------------------------------------------------------------------------

#: Sent by spiders and components for every fault: kind, url, reason, request (optional).
fault_reported = object()

#: Kinds a later run may not meet again: a feed or sitemap that listed such an article is
#: read in full next time (its validators are not saved), so the article is tried again.
TRANSIENT_FAULTS = frozenset({"http_5xx", "throttled", "timeout", "connection", "pipeline"})


@dataclass(frozen=True)
class Fault:
    site: str
    kind: str
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.url}: {self.reason}"


def report_fault(crawler, kind: str, url: str, reason: str, request=None) -> None:
    crawler.signals.send_catch_log(fault_reported, kind=kind, url=url, reason=reason, request=request)


def _retries(request) -> str:
    n = request.meta.get("retry_times", 0) if request is not None else 0
    return f" (gave up after {n} {'retry' if n == 1 else 'retries'})" if n else ""


def classify_failure(failure, request=None) -> tuple[str, str]:
    """(kind, reason) of a failed request, from the failure its errback received."""
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadFailedError,
        DownloadTimeoutError,
        ResponseDataLossError,
    )
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import defer, error

    exc = failure.value
    request = request if request is not None else getattr(failure, "request", None)
    sitemap = request is not None and request.meta.get("collector_kind") == "sitemap"
    if isinstance(exc, HttpError):
        response = exc.response
        status = response.status
        reason = f"HTTP {status}{_retries(request)}"
        if status >= 500:
            return "http_5xx", reason
        if status in (408, 429):
            return "throttled", reason
        if 400 <= status < 500:
            return "http_4xx", reason
        return "http_other", reason
    if isinstance(exc, (DownloadTimeoutError, error.TimeoutError, defer.TimeoutError)):
        return "timeout", f"{exc or 'timed out'}{_retries(request)}"
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "robots.txt" in message:
            return "robots", "disallowed by robots.txt (not requested)"
        if "redirections" in message:
            return "redirect_loop", f"more redirects than REDIRECT_MAX_TIMES ({message})"
        if "MAXSIZE" in message.upper():
            return ("sitemap_too_large" if sitemap else "too_large"), message
        return "ignored", message or "ignored"
    if isinstance(exc, (DownloadCancelledError, defer.CancelledError)):
        # Scrapy cancels a download over its size limit: announced (with a message) or
        # found while the body arrives (without one; the limit is in Scrapy's warning).
        limit = request.meta.get("download_maxsize") if request is not None else None
        reason = str(exc) or (
            f"larger than {'the limit of ' + format(limit, ',') + ' bytes' if limit else 'DOWNLOAD_MAXSIZE'}"
            " while it arrived (max size exceeded): download cancelled"
        )
        return ("sitemap_too_large" if sitemap else "too_large"), reason
    if isinstance(
        exc,
        (
            DownloadConnectionRefusedError,
            CannotResolveHostError,
            DownloadFailedError,
            ResponseDataLossError,
            error.ConnectError,
            error.ConnectionLost,
            error.ConnectionDone,
            error.DNSLookupError,
        ),
    ):
        return "connection", f"{type(exc).__name__}: {exc}{_retries(request)}"
    return "other", f"{type(exc).__name__}: {exc}"




def charset_problem(body: bytes, header_charset: str | None) -> str | None:
    """What is wrong with a page's charset, or None. The page is decoded anyway (the
    importers' ``decode``: UTF-8 first, then the declared charset, then detection)."""
    if body.isascii():
        return None
    found = META_CHARSET.search(body[:4096])
    declared_name = header_charset or (found.group(1).decode("ascii", "ignore") if found else None)
    declared = codec_name(declared_name)
    try:
        body.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    if declared_name and not declared:
        return f"unknown charset {declared_name!r} declared; decoded as {_detected(body, utf8)}"
    if declared is None:
        return f"no charset declared; decoded as {_detected(body, utf8)}"
    if utf8:
        return None if declared == "utf-8" else f"declared {declared_name} but the page is UTF-8; decoded as utf-8"
    try:
        body.decode(declared)
    except UnicodeDecodeError:
        return f"declared {declared_name} but the page is not {declared_name}; decoded as {_detected(body, utf8)}"
    return None


def _detected(body: bytes, utf8: bool) -> str:
    if utf8:
        return "utf-8"
    from ..importers.decoding import detect

    return detect(body) or "unknown"


# --- the report -------------------------------------------------------------------------

@dataclass
class CrawlSummary(Summary):
    """What a crawl did (its documents counted as an import's are: ``Summary``). Also one
    site's share of it (``CrawlReport.summary``)."""

    sites: list[str] = field(default_factory=list)
    pages_fetched: int = 0     # HTTP answers to feed, sitemap, followed-page and article requests
    articles_fetched: int = 0  # of which article pages answered 200 (not stopped as non-HTML)
    listings: int = 0          # followed pages found to be listings: links followed, not stored
    skipped_stored: int = 0    # article and page URLs not requested: already stored
    not_modified: int = 0      # feeds and sitemaps that answered 304
    faults: list[Fault] = field(default_factory=list)
    finish_reasons: dict[str, str] = field(default_factory=dict)

    @property
    def errors_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(f.kind for f in self.faults).items()))

    @property
    def pages_per_second(self) -> float:
        return self.pages_fetched / self.seconds if self.seconds else 0.0

    def add(self, other: "CrawlSummary") -> None:
        self.sites.extend(other.sites)
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.faults.extend(other.faults)
        self.notices.extend(n for n in other.notices if n not in self.notices)
        self.finish_reasons.update(other.finish_reasons)

    def as_dict(self) -> dict:
        return {
            "sites": self.sites,
            "pages_fetched": self.pages_fetched,
            "articles_fetched": self.articles_fetched,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "variants": self.variants,
            "listings": self.listings,
            "skipped_stored": self.skipped_stored,
            "not_modified": self.not_modified,
            "errors": len(self.faults),
            "errors_by_kind": self.errors_by_kind,
            "faults": [{"site": f.site, "kind": f.kind, "url": f.url, "reason": f.reason} for f in self.faults],
            "finish_reasons": self.finish_reasons,
            "notices": self.notices,
            "seconds": round(self.seconds, 3),
            "pages_per_second": round(self.pages_per_second, 1),
        }

    def text(self) -> str:
        """The summary a person reads at the end of a crawl."""
        lines = [
            f"crawled {len(self.sites)} site{'s' if len(self.sites) != 1 else ''} ({', '.join(self.sites)}) "
            f"in {self.seconds:.1f} s: {self.pages_fetched} pages fetched ({self.articles_fetched} requested as articles), "
            f"{self.new} new documents, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.variants} other URLs of stored documents, {self.listings} listing pages (not stored), "
            f"{self.skipped_stored} not fetched (already stored), {self.not_modified} feeds/sitemaps not modified",
        ]
        lines.extend(f"note: {notice}" for notice in self.notices)
        if self.faults:
            kinds = ", ".join(f"{kind} {n}" for kind, n in self.errors_by_kind.items())
            lines.append(f"errors: {len(self.faults)} ({kinds})")
            lines.extend(f"  {fault}" for fault in self.faults)
        else:
            lines.append("errors: 0")
        unfinished = {site: r for site, r in self.finish_reasons.items() if r != "finished"}
        if unfinished:
            lines.append("not finished: " + ", ".join(f"{site} ({r})" for site, r in unfinished.items()))
        return "\n".join(lines)


_COUNTS = ("pages_fetched", "articles_fetched", "new", "updated", "unchanged", "variants", "new_links", "listings",
           "skipped_stored", "not_modified")


class CrawlReport:
    """Extension: counts what a crawler did and reports every fault with its URL and reason.

    Faults arrive as ``fault_reported`` signals (from the spider's errbacks and parsers) and
    from Scrapy's own signals: items dropped or failed in the pipelines, and redirects that
    come back to a URL already requested (the dupefilter drops them: a redirect loop).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.summary = CrawlSummary()
        self.started = time.perf_counter()

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        connect = crawler.signals.connect
        connect(ext.fault, signal=fault_reported)
        connect(ext.response_received, signal=signals.response_received)
        connect(ext.item_scraped, signal=signals.item_scraped)
        connect(ext.item_dropped, signal=signals.item_dropped)
        connect(ext.item_error, signal=signals.item_error)
        connect(ext.request_dropped, signal=signals.request_dropped)
        connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def site(self) -> str:
        spider = self.crawler.spider
        return getattr(spider, "site_key", None) or getattr(spider, "name", "?")

    def fault(self, kind, url, reason, request=None, **kwargs):
        fault = Fault(self.site, kind, url, reason)
        self.summary.faults.append(fault)
        self.crawler.stats.inc_value(f"collector/faults/{kind}")
        logger.warning("fault %s", fault)

    def response_received(self, response, request, **kwargs):
        kind = request.meta.get("collector_kind")
        if kind is None:
            return
        self.summary.pages_fetched += 1
        if kind == "article" and response.status == 200 and "download_stopped" not in response.flags:
            self.summary.articles_fetched += 1

    def item_scraped(self, item, **kwargs):
        if item.get("status"):
            self.summary.count(item)

    def item_dropped(self, item, exception, response=None, **kwargs):
        from pipelines.extract import NotAnArticle

        from ..driver import AlreadyStored

        if isinstance(exception, NotAnArticle):
            self.summary.listings += 1
            return
        if isinstance(exception, AlreadyStored):  # unchanged or a variant: not exported
            self.item_scraped(item)
            return
        reason = str(exception)
        prefix = f"{item.get('source')}: "
        if reason.startswith(prefix):
            reason = reason[len(prefix):]
        request = response.request if response is not None else None
        report_fault(self.crawler, "no_text", item.get("url") or "?", reason, request)

    def item_error(self, item, failure, response=None, **kwargs):
        # The document's partial writes were rolled back by DocumentPipelines.
        request = response.request if response is not None else None
        exc = failure.value
        report_fault(self.crawler, "pipeline", item.get("url") or "?", f"{type(exc).__name__}: {exc}", request)

    def request_dropped(self, request, **kwargs):
        chain = request.meta.get("redirect_urls") or []
        if not chain:
            return
        seen = {normalize_url(u) for u in chain}
        if normalize_url(request.url) in seen:
            path = " -> ".join([*chain, request.url])
            report_fault(self.crawler, "redirect_loop", chain[0], f"redirect loop: {path}", request)

    def spider_closed(self, spider, reason):
        s = self.summary
        s.sites = [self.site]
        s.seconds = time.perf_counter() - self.started
        s.skipped_stored = self.crawler.stats.get_value("collector/skipped_stored", 0)
        s.not_modified = self.crawler.stats.get_value("collector/not_modified", 0)
        s.finish_reasons = {self.site: reason}
        s.notices = [n for n in Context.for_crawler(self.crawler).notices if n.startswith(f"{self.site}:")]
        for name, value in s.as_dict().items():
            if isinstance(value, int):
                self.crawler.stats.set_value(f"collector/{name}", value)
        logger.info("summary of %s\n%s", self.site, s.text())


class RunRecord:
    """Extension: a ``runs`` row per site crawled (``collector crawl``, ``scrapy crawl``,
    Scrapyd), written when the crawl opens and completed when it closes with what
    ``CrawlReport`` counted. ``collector schedule`` records the crawls it starts itself (it
    also sees the ones killed) and sets COLLECTOR_RECORD_RUNS=False for them."""

    STATUS = {"finished": "ok", "shutdown": "interrupted"}

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("COLLECTOR_RECORD_RUNS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        site = getattr(spider, "site_key", None) or spider.name

        def start():
            self.run_id = Context.for_crawler(self.crawler).store.start_run(site)

        guarded(self.crawler, start)

    def spider_closed(self, spider, reason):
        if self.run_id is None:
            return
        report = next((m for m in self.crawler.extensions.middlewares if isinstance(m, CrawlReport)), None)
        s = report.summary if report is not None else CrawlSummary()
        guarded(self.crawler, lambda: Context.for_crawler(self.crawler).store.finish_run(
            self.run_id, self.STATUS.get(reason, "failed"), None, pages_fetched=s.pages_fetched,
            new_documents=s.new, errors=len(s.faults), error_kinds=s.errors_by_kind))


class PeriodicCommit:
    """Extension: keep a crawl's hold on SQLite's write lock short.

    Every ``TICK`` seconds the open batch is committed if no document entered the store since
    the last tick (the crawl is waiting for responses: it has nothing to write, so it must
    not keep other writers waiting), or if it has held the lock COLLECTOR_COMMIT_INTERVAL
    seconds. Items pass through the stages in one synchronous call, so a commit between
    reactor events never splits a document.
    """

    TICK = 0.1

    def __init__(self, crawler, interval: float):
        self.context = Context.for_crawler(crawler)
        self.interval = interval
        self.loop = None
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("COLLECTOR_COMMIT_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def tick(self):
        if self.context.store_is_open:  # never open the store just to commit nothing
            store = self.context.store
            idle = store.documents_started == self.seen
            self.seen = store.documents_started
            store.commit_if_due(idle=idle)

    def spider_opened(self, spider):
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self.tick)
        self.loop.start(min(self.TICK, self.interval), now=False)

    def spider_closed(self, spider, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.context.store_is_open:
            self.context.store.commit()


# --- running a crawl --------------------------------------------------------------------------

def crawlable(site: Site) -> bool:
    return bool(site.feeds or site.sitemaps or site.start_urls)


def sites_to_crawl(sites: Sites, keys) -> list[Site]:
    """The named sites (each must have feeds, sitemaps or start_urls), or all that have some."""
    keys = list(keys or [])
    if not keys:
        chosen = [s for s in sites if crawlable(s)]
        if not chosen:
            raise ValueError("nothing to crawl: no site config has feeds, sitemaps or start_urls")
        return chosen
    chosen = []
    for key in keys:
        site = sites.get(key)
        if site is None:
            known = ", ".join(sorted(sites.by_key)) or "none"
            raise ValueError(f"{key}: no such site config (known: {known})")
        if not crawlable(site):
            raise ValueError(f"{key}: {site.path} has no feeds, sitemaps or start_urls to crawl")
        if site not in chosen:
            chosen.append(site)
    return chosen


def run_crawl(keys=None, db: str | None = None, config: str | None = None, refresh: bool = False,
              overrides=None, spider: str = "site", progress=None) -> CrawlSummary:
    """Crawl the sites ``keys`` (all crawlable sites if none) in this process; the summary.

    One crawler per site, so each site's politeness (robots.txt, AutoThrottle, the
    per-domain concurrency) holds, and each site's feeds, sitemaps and start pages share
    one dupefilter. All crawlers share one store: SQLite has one writer. The Twisted
    reactor cannot be restarted: call this once per process. ``progress``: a rich Console
    to draw the live display on (``collector.progress``), or None.
    """
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    settings = build_settings(db, config, overrides, COLLECTOR_REFRESH=refresh)
    context = Context(settings)
    chosen = sites_to_crawl(context.sites, keys)
    context.open_store()  # fail early on an unusable database
    spider_class = SpiderLoader.from_settings(settings).load(spider)
    started = time.perf_counter()
    process = CrawlerProcess(settings)  # configures logging
    if settings.get("LOG_LEVEL") in ("ERROR", "CRITICAL"):
        # A retry given up is a fault of the summary: Scrapy would log it at ERROR too.
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    crawlers = []
    for site in chosen:
        crawler = process.create_crawler(spider_class)
        crawler.collector_context = context
        process.crawl(crawler, site=site.key)
        crawlers.append(crawler)
    context.crawlers = crawlers  # stopped together if the database fails
    display = None
    if progress is not None:
        from .progress import CrawlProgress

        display = CrawlProgress(crawlers, progress)
        display.attach()
    try:
        process.start()
        if context.fatal is not None:
            raise context.fatal
    finally:
        if display is not None:
            display.stop()
        context.close()
    summary = CrawlSummary()
    for crawler in crawlers:
        report = next((m for m in crawler.extensions.middlewares if isinstance(m, CrawlReport)), None)
        if report is not None:
            summary.add(report.summary)
    summary.seconds = time.perf_counter() - started
    summary.notices = list(dict.fromkeys(context.notices))
    return summary
