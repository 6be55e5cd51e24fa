"""The crawl's extensions that keep the store in step: a ``runs`` row per site crawled
(``RunRecord``), and short holds on SQLite's write lock (``PeriodicCommit``)."""

from __future__ import annotations

import os
import socket

from scrapy import signals
from scrapy.exceptions import NotConfigured

from ..context import Context
from ..itemproc import guarded
from .report import CrawlReport, CrawlSummary


class RunRecord:
    """Extension: a ``runs`` row per site crawled (``collector crawl``, ``scrapy crawl``,
    Scrapyd), written when the crawl opens and completed when it closes with what
    ``CrawlReport`` counted. ``collector schedule`` records the local crawls it starts itself
    (it also sees the ones killed) and sets COLLECTOR_RECORD_RUNS=False for them; a crawl it
    sends to a Scrapyd node completes the row the scheduler opened (COLLECTOR_RUN_ID)."""

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
        given = self.crawler.settings.getint("COLLECTOR_RUN_ID", 0)

        def start():
            state = Context.for_crawler(self.crawler).store.crawl
            self.run_id = state.start_run(site)
            state.note_worker(self.run_id, f"pid {os.getpid()} on {socket.gethostname()}")

        if given:
            self.run_id = given
        else:
            guarded(self.crawler, start)
        if self.run_id is not None:  # the inbox stage hands each item over with its site's run
            Context.for_crawler(self.crawler).shared("run_ids", dict)[site] = self.run_id

    def spider_closed(self, spider, reason):
        if self.run_id is None:
            return
        report = CrawlReport.of(self.crawler)
        s = report.summary if report is not None else CrawlSummary()
        # A crawl node's documents are counted new by the link-worker, which credits its run.
        new = None if s.queued else s.new
        guarded(self.crawler, lambda: Context.for_crawler(self.crawler).store.crawl.finish_run(
            self.run_id, self.status(reason, s), None, pages_fetched=s.pages_fetched,
            new_documents=new, errors=len(s.faults), error_kinds=s.errors_by_kind))

    def status(self, reason: str, summary: CrawlSummary) -> str:
        # As `collector crawl` exits: a crawl that fetched nothing and met faults failed.
        if reason == "finished" and summary.pages_fetched == 0 and summary.faults:
            return "failed"
        return self.STATUS.get(reason, "failed")


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
