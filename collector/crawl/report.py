"""The crawl's report of what happened: ``CrawlSummary`` (what a crawl, or one site of it,
did) and the ``CrawlReport`` extension that counts it from Scrapy's signals."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from scrapy import signals

from ..context import Context
from ..summary import Summary
from .faults import Fault, fault_reported, normalize_url, report_fault

logger = logging.getLogger(__name__)


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
            **({"queued": self.queued} if self.queued else {}),
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
        if self.queued:
            lines.append(f"{self.queued} documents handed to the inbox (collector link-worker stores them)")
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
           "skipped_stored", "not_modified", "queued")


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

    @classmethod
    def of(cls, crawler) -> "CrawlReport | None":
        """The crawler's report (None before its extensions are built, or if it is off)."""
        extensions = getattr(crawler, "extensions", None)
        return next((m for m in getattr(extensions, "middlewares", ()) if isinstance(m, cls)), None)

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
