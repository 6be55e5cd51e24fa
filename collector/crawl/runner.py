"""Running a crawl in this process: the library face of ``collector crawl``.

``run_crawl`` crawls sites in one process (one Scrapy crawler per site, all sharing one
store), and returns a ``CrawlSummary``: pages fetched, documents new / updated / unchanged,
article URLs skipped because already stored, feeds and sitemaps not modified, and every
fault with its URL and reason (``collector.crawl.faults``). A fault never stops a crawl.
"""

from __future__ import annotations

import logging
import time

from ..context import Context, build_settings
from ..core.sites import Site, Sites
from .report import CrawlReport, CrawlSummary


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
    to draw the live display on (``collector.crawl.progress``), or None.
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
        report = CrawlReport.of(crawler)
        if report is not None:
            summary.add(report.summary)
    summary.seconds = time.perf_counter() - started
    summary.notices = list(dict.fromkeys(context.notices))
    return summary
