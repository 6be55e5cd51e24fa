"""The crawl's middlewares and report (collector.crawl.middlewares, collector.crawl.report, collector.crawl.extensions), each called
directly with Scrapy's Request/HtmlResponse, a crawler from ``get_crawler()`` and in-memory
stores (tests/fakes.py): no crawl, no reactor, no SQLite file.

The components find the run through ``Context.for_crawler`` (the crawler's
``collector_context``), so a stand-in run holding the fakes is hung there; when they take
their store parts in their constructors, ``crawler_with`` is where that changes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from types import SimpleNamespace

import pytest
from fakes import FakeCrawlState, FakeDocumentStore, FakeUrlAliases
from scrapy import Request, Spider, signals
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from collector.crawl.extensions import PeriodicCommit, RunRecord
from collector.crawl.faults import fault_reported, report_fault
from collector.crawl.report import CrawlReport
from collector.crawl.middlewares import (
    KIND,
    LISTED_IN,
    START,
    STORE,
    BackoffRetryMiddleware,
    ConditionalRequestsMiddleware,
    SkipStoredMiddleware,
    may_be_stored,
)

FEED = "https://harbour.example/feed.xml"
ARTICLE = "https://harbour.example/2026/03/04/tolls"


class Store(FakeUrlAliases, FakeCrawlState):
    """What the middlewares ask of the store: known URLs (``UrlAliases``) and feed validators."""

    def __init__(self):
        self.docs = FakeDocumentStore()
        FakeUrlAliases.__init__(self, self.docs)
        FakeCrawlState.__init__(self)

    @property
    def crawl(self) -> "Store":
        """``store.crawl`` (URL aliases, validators, runs): all this fake is."""
        return self


def crawler_with(store, **settings):
    crawler = get_crawler(Spider, settings_dict={"COLLECTOR_DB": None, **settings})
    # What the components read of the run (collector.context.Context): its store, notices, settings.
    shared: dict = {}
    crawler.collector_context = SimpleNamespace(store=store, store_is_open=True, notices=[], settings=crawler.settings,
                                                fatal=None, open_store=lambda: store,
                                                shared=lambda name, make: shared.setdefault(name, make()))
    crawler.spider = Spider.from_crawler(crawler, name="harbour")
    crawler.spider.site_key = "harbour"
    return crawler


def article(url=ARTICLE, **meta) -> Request:
    return Request(url, meta={KIND: "article", **meta})


# --- SkipStoredMiddleware -----------------------------------------------------------------------

def test_stored_articles_are_not_requested_again():
    store = Store()
    store.docs.add(url=ARTICLE, site="harbour", text="t")
    middleware = SkipStoredMiddleware.from_crawler(crawler_with(store))
    assert middleware.get_processed_request(article(), None) is None
    assert middleware.crawler.stats.get_value("collector/skipped_stored") == 1
    fresh = article(ARTICLE + "-2")
    assert middleware.get_processed_request(fresh, None) is fresh


def test_the_url_is_checked_and_requested_in_its_canonical_form():
    store = Store()
    store.add_url_aliases(1, {"https://harbour.example/old-url": "redirect"})
    middleware = SkipStoredMiddleware.from_crawler(crawler_with(store))
    assert middleware.get_processed_request(article("HTTPS://Harbour.example/old-url?utm_source=rss#x"), None) is None
    passed = middleware.get_processed_request(article(ARTICLE + "?utm_medium=feed"), None)
    assert passed.url == ARTICLE and passed.meta[KIND] == "article"


def test_refresh_requests_stored_articles_and_listings_always_pass():
    store = Store()
    store.docs.add(url=ARTICLE, site="harbour", text="t")
    refresh = SkipStoredMiddleware.from_crawler(crawler_with(store, COLLECTOR_REFRESH=True))
    assert refresh.get_processed_request(article(), None).url == ARTICLE
    middleware = SkipStoredMiddleware.from_crawler(crawler_with(store))
    for request in (Request(ARTICLE, meta={KIND: "feed"}), Request(ARTICLE, meta={KIND: "page"}),
                    Request(ARTICLE, meta={KIND: "page", STORE: True, START: True}), Request(ARTICLE)):
        assert middleware.get_processed_request(request, None) is request
    assert middleware.get_processed_request(Request(ARTICLE, meta={KIND: "page", STORE: True}), None) is None


def test_skipping_happens_on_the_spiders_output():
    store = Store()
    store.docs.add(url=ARTICLE, site="harbour", text="t")
    middleware = SkipStoredMiddleware.from_crawler(crawler_with(store))
    response = HtmlResponse(FEED, body=b"<html></html>", request=Request(FEED))
    out = list(middleware.process_spider_output(response, [article(), article(ARTICLE + "-new"), {"item": 1}]))
    assert [getattr(x, "url", x) for x in out] == [ARTICLE + "-new", {"item": 1}]


@pytest.mark.parametrize("meta, stored", [({KIND: "article"}, True), ({KIND: "page", STORE: True}, True),
                                          ({KIND: "page"}, False), ({KIND: "page", STORE: True, START: True}, False),
                                          ({KIND: "sitemap"}, False), ({}, False)])
def test_may_be_stored(meta, stored):
    assert may_be_stored(Request(ARTICLE, meta=meta)) is stored


# --- ConditionalRequestsMiddleware ------------------------------------------------------------------

def conditional(store, **settings):
    crawler = crawler_with(store, **settings)
    return crawler, ConditionalRequestsMiddleware.from_crawler(crawler)


def test_feeds_are_asked_with_their_validators():
    store = Store()
    store.validators[FEED] = {"kind": "feed", "etag": '"v1"', "last_modified": "Wed, 04 Mar 2026 10:00:00 GMT"}
    _, middleware = conditional(store)
    request = Request(FEED, meta={KIND: "feed"})
    assert middleware.process_request(request) is None
    assert request.headers[b"If-None-Match"] == b'"v1"'
    assert request.headers[b"If-Modified-Since"] == b"Wed, 04 Mar 2026 10:00:00 GMT"
    page = article()
    middleware.process_request(page)
    assert b"If-None-Match" not in page.headers


def test_no_validators_for_a_sitemap_index_an_unknown_feed_or_a_refresh():
    store = Store()
    store.validators[FEED] = {"kind": "sitemapindex", "etag": '"v1"', "last_modified": None}
    for middleware, url in ((conditional(store)[1], FEED), (conditional(store)[1], FEED + "?other"),
                            (conditional(store, COLLECTOR_REFRESH=True)[1], FEED)):
        request = Request(url, meta={KIND: "sitemap"})
        middleware.process_request(request)
        assert b"If-None-Match" not in request.headers


def read_feed(crawler, middleware, status=200, url=FEED, headers=None, **meta):
    request = Request(url, meta={KIND: "feed", **meta})
    response = Response(url, status=status, headers=headers or {"ETag": '"v2"'}, request=request)
    assert middleware.process_response(request, response) is response
    return request


def test_validators_are_saved_when_the_crawl_finished():
    store = Store()
    crawler, middleware = conditional(store)
    read_feed(crawler, middleware)
    read_feed(crawler, middleware, status=304, url=FEED + "?b")
    read_feed(crawler, middleware, url=FEED + "?none", headers={"Content-Type": "text/xml"})  # nothing to ask with
    read_feed(crawler, middleware, url=FEED + "?index", headers={"Content-Type": "text/xml"}, collector_sitemap_index=True)
    assert crawler.stats.get_value("collector/not_modified") == 1
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")
    assert store.validators == {FEED: {"kind": "feed", "etag": '"v2"', "last_modified": None},
                                FEED + "?index": {"kind": "sitemapindex", "etag": None, "last_modified": None}}


def test_nothing_is_saved_for_an_unfinished_crawl_or_a_feed_with_an_article_worth_retrying():
    store = Store()
    crawler, middleware = conditional(store)
    read_feed(crawler, middleware)
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="shutdown")
    assert store.validators == {}
    crawler, middleware = conditional(store)
    read_feed(crawler, middleware)
    read_feed(crawler, middleware, url=FEED + "?other")
    report_fault(crawler, "http_5xx", ARTICLE, "HTTP 503", request=article(**{LISTED_IN: FEED}))
    report_fault(crawler, "http_4xx", ARTICLE, "HTTP 404", request=article(**{LISTED_IN: FEED + "?other"}))  # lasting
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")
    assert list(store.validators) == [FEED + "?other"]


# --- BackoffRetryMiddleware --------------------------------------------------------------------------

def backoff(**settings):
    return BackoffRetryMiddleware.from_crawler(crawler_with(Store(), **settings))


def test_the_wait_doubles_per_retry_up_to_the_cap():
    middleware = backoff(COLLECTOR_RETRY_BACKOFF=1.0, COLLECTOR_RETRY_BACKOFF_MAX=5.0)
    waits = [middleware.delay(Request(ARTICLE, meta={"retry_times": n})) for n in (1, 2, 3, 4, 5)]
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_503_is_retried_after_the_wait_and_given_up_after_retry_times():
    middleware = backoff(COLLECTOR_RETRY_BACKOFF=0.05, COLLECTOR_RETRY_BACKOFF_MAX=1.0, RETRY_TIMES=2)
    request = article()
    started = time.perf_counter()
    retry = asyncio.run(middleware.process_response(request, Response(ARTICLE, status=503, request=request)))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1 and retry.dont_filter
    assert time.perf_counter() - started >= 0.05
    again = asyncio.run(middleware.process_response(retry, Response(ARTICLE, status=503, request=retry)))
    assert again.meta["retry_times"] == 2
    final = Response(ARTICLE, status=503, request=again)
    assert asyncio.run(middleware.process_response(again, final)) is final  # given up: the fault is reported


def test_exceptions_are_retried_and_answers_pass_untouched():
    from twisted.internet.error import ConnectionRefusedError

    middleware = backoff(COLLECTOR_RETRY_BACKOFF=0)
    retry = asyncio.run(middleware.process_exception(article(), ConnectionRefusedError()))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert asyncio.run(middleware.process_exception(article(), ValueError("not ours"))) is None
    ok = HtmlResponse(ARTICLE, body=b"<html></html>")
    assert asyncio.run(middleware.process_response(article(), ok)) is ok


# --- CrawlReport -------------------------------------------------------------------------------------

def test_the_report_counts_pages_and_faults_from_signals():
    crawler = crawler_with(Store())
    report = CrawlReport.from_crawler(crawler)
    send = crawler.signals.send_catch_log
    for request, status, flags in ((article(), 200, []), (article(), 200, ["download_stopped"]),
                                   (Request(FEED, meta={KIND: "feed"}), 200, []), (Request(FEED), 200, [])):
        send(signals.response_received, response=Response(request.url, status=status, flags=flags, request=request),
             request=request, spider=crawler.spider)
    send(fault_reported, kind="timeout", url=ARTICLE, reason="timed out")
    assert (report.summary.pages_fetched, report.summary.articles_fetched) == (3, 1)
    assert [str(f) for f in report.summary.faults] == [f"timeout: {ARTICLE}: timed out"]
    assert report.summary.faults[0].site == "harbour"
    assert crawler.stats.get_value("collector/faults/timeout") == 1


def test_the_report_counts_documents_listings_and_pipeline_faults():
    from scrapy.exceptions import DropItem
    from twisted.python.failure import Failure

    from collector.core.document import Document
    from collector.driver import AlreadyStored
    from pipelines.extract import NotAnArticle

    crawler = crawler_with(Store())
    report = CrawlReport.from_crawler(crawler)
    send = crawler.signals.send_catch_log
    for status in ("new", "new", "updated", "unchanged", "variant"):
        send(signals.item_scraped, item=Document(url=ARTICLE, status=status), response=None, spider=crawler.spider)
    send(signals.item_dropped, item=Document(url=ARTICLE, status="unchanged"), exception=AlreadyStored("stored"),
         response=None, spider=crawler.spider)
    send(signals.item_dropped, item=Document(url=FEED), exception=NotAnArticle("a listing"), response=None, spider=crawler.spider)
    page = HtmlResponse(ARTICLE, body=b"<html></html>", request=article())
    send(signals.item_dropped, item=Document(url=ARTICLE, source="spider:harbour"),
         exception=DropItem("spider:harbour: no article text"), response=page, spider=crawler.spider)
    try:
        raise ValueError("bad byte")
    except ValueError:
        failure = Failure()
    send(signals.item_error, item=Document(url=ARTICLE), failure=failure, response=page, spider=crawler.spider)
    loop = Request("https://harbour.example/a", meta={"redirect_urls": ["https://harbour.example/a?utm_source=x",
                                                                        "https://harbour.example/b"]})
    send(signals.request_dropped, request=loop, spider=crawler.spider)
    send(signals.request_dropped, request=article(), spider=crawler.spider)  # a duplicate, no redirect: not a fault
    crawler.stats.set_value("collector/skipped_stored", 4)
    crawler.collector_context.notices += ["harbour: canonical links point home", "other: not ours"]
    send(signals.spider_closed, spider=crawler.spider, reason="finished")
    s = report.summary
    assert (s.new, s.updated, s.unchanged, s.variants, s.listings, s.skipped_stored) == (2, 1, 2, 1, 1, 4)
    assert [(f.kind, f.reason) for f in s.faults] == [
        ("no_text", "no article text"), ("pipeline", "ValueError: bad byte"),
        ("redirect_loop", "redirect loop: https://harbour.example/a?utm_source=x -> https://harbour.example/b -> https://harbour.example/a")]
    assert s.finish_reasons == {"harbour": "finished"} and s.notices == ["harbour: canonical links point home"]
    assert crawler.stats.get_value("collector/new") == 2


@pytest.mark.parametrize("reason, pages, status", [("finished", 4, "ok"), ("shutdown", 4, "interrupted"), ("closespider_timeout", 4, "failed"),
                                                   ("finished", 0, "failed")])  # nothing fetched, faults: as `collector crawl` exits 1
def test_each_crawl_is_a_run_with_what_the_report_counted(reason, pages, status):
    store = Store()
    crawler = crawler_with(store, COLLECTOR_RECORD_RUNS=True)
    report = CrawlReport.from_crawler(crawler)
    crawler.extensions = SimpleNamespace(middlewares=[report])
    record = RunRecord.from_crawler(crawler)  # signals hold their receivers weakly: keep it
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    assert store.runs == {1: {"site": "harbour", "status": "running", "worker": f"pid {os.getpid()} on {socket.gethostname()}"}}
    report.summary.new, report.summary.pages_fetched = 3, pages
    crawler.signals.send_catch_log(fault_reported, kind="http_5xx", url=ARTICLE, reason="HTTP 503")
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason=reason)
    assert record.run_id == 1
    assert store.runs[1] == {"site": "harbour", "status": status, "exit_status": None, "pages_fetched": pages, "new_documents": 3,
                             "errors": 1, "error_kinds": {"http_5xx": 1}, "worker": f"pid {os.getpid()} on {socket.gethostname()}"}
    assert crawler.collector_context.shared("run_ids", dict) == {"harbour": 1}  # the inbox stage's, on a crawl node


def test_a_crawl_sent_to_a_scrapyd_node_completes_the_row_the_scheduler_opened():
    store = Store()
    run_id = store.start_run("harbour")  # by the scheduler, which sends COLLECTOR_RUN_ID with the job
    crawler = crawler_with(store, COLLECTOR_RECORD_RUNS=True, COLLECTOR_RUN_ID=run_id)
    report = CrawlReport.from_crawler(crawler)
    crawler.extensions = SimpleNamespace(middlewares=[report])
    record = RunRecord.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    report.summary.new, report.summary.pages_fetched = 2, 5
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason="finished")
    assert record.run_id == run_id and list(store.runs) == [run_id]  # no second row
    assert store.runs[run_id]["status"] == "ok" and store.runs[run_id]["new_documents"] == 2


def test_runs_are_not_recorded_when_the_scheduler_records_them():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        RunRecord.from_crawler(crawler_with(Store(), COLLECTOR_RECORD_RUNS=False))


class Batches(Store):
    """What the commit timer watches: documents begun, and commits asked for."""

    def __init__(self):
        super().__init__()
        self.documents_started = 0
        self.asked: list[bool] = []

    def commit_if_due(self, idle: bool = False) -> None:
        self.asked.append(idle)


def test_the_open_batch_is_committed_when_the_crawl_has_nothing_to_write():
    store = Batches()
    timer = PeriodicCommit.from_crawler(crawler_with(store, COLLECTOR_COMMIT_INTERVAL=1.0))
    timer.tick()                 # nothing began since the start: idle
    store.documents_started = 2
    timer.tick()                 # documents are flowing: commit only if held too long
    timer.tick()                 # none since the last tick: idle again
    assert store.asked == [True, False, True]


def test_no_commit_timer_without_an_interval():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        PeriodicCommit.from_crawler(crawler_with(Batches(), COLLECTOR_COMMIT_INTERVAL=0))


def test_the_middlewares_take_their_collaborators_directly():
    """Built without a run: the constructor names the store part each uses."""
    store = Store()
    store.docs.add(url=ARTICLE, site="harbour", text="t")
    crawler = get_crawler(Spider, settings_dict={"COLLECTOR_DB": None})
    skip = SkipStoredMiddleware(crawler, urls=store.crawl)
    assert skip.get_processed_request(article(), None) is None
    conditional = ConditionalRequestsMiddleware(crawler, validators=store.crawl, refresh=True)
    feed = Request("https://harbour.example/feed.xml", meta={KIND: "feed"})
    assert conditional.process_request(feed) is None and b"If-None-Match" not in feed.headers
