"""Fault classification (collector.crawl.faults.classify_failure) on real Twisted failures carrying
the exceptions Scrapy and Twisted raise, several produced by Scrapy's own middlewares."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpErrorMiddleware
from scrapy.utils.test import get_crawler
from twisted.internet import defer, error
from twisted.python.failure import Failure

from collector.crawl.faults import TRANSIENT_FAULTS, classify_failure

URL = "https://harbour.example/2026/03/04/tolls"


def failure_of(raise_it) -> Failure:
    """The Failure an errback receives: caught where it was raised, with its traceback."""
    try:
        raise_it()
    except Exception:
        return Failure()
    raise AssertionError("nothing was raised")


def raises(exc):
    def go():
        raise exc
    return go


def http_failure(status: int, **meta) -> tuple[Failure, Request]:
    """Scrapy's HttpErrorMiddleware refusing a response of ``status``."""
    request = Request(URL, meta=meta)
    response = HtmlResponse(URL, status=status, body=b"<html></html>", request=request)
    middleware = HttpErrorMiddleware.from_crawler(get_crawler())
    return failure_of(lambda: middleware.process_spider_input(response)), request


@pytest.mark.parametrize("status, kind", [(500, "http_5xx"), (503, "http_5xx"), (429, "throttled"), (408, "throttled"),
                                          (404, "http_4xx"), (410, "http_4xx"), (403, "http_4xx"), (302, "http_other")])
def test_http_statuses(status, kind):
    failure, request = http_failure(status)
    assert classify_failure(failure, request) == (kind, f"HTTP {status}")


def test_retries_are_counted_in_the_reason():
    failure, request = http_failure(503, retry_times=2)
    assert classify_failure(failure, request) == ("http_5xx", "HTTP 503 (gave up after 2 retries)")
    failure, request = http_failure(503, retry_times=1)
    assert classify_failure(failure, request)[1] == "HTTP 503 (gave up after 1 retry)"


@pytest.mark.parametrize("exc", [DownloadTimeoutError("Getting https://harbour.example took longer than 3.0 seconds."),
                                 error.TimeoutError(), defer.TimeoutError()])
def test_timeouts(exc):
    kind, reason = classify_failure(failure_of(raises(exc)), Request(URL, meta={"retry_times": 2}))
    assert kind == "timeout" and reason.endswith("(gave up after 2 retries)")


@pytest.mark.parametrize("exc", [DownloadConnectionRefusedError("Connection was refused by other side"),
                                 CannotResolveHostError("DNS lookup failed: no results for hostname lookup: harbour.example."),
                                 DownloadFailedError("Connection to the other side was lost"),
                                 ResponseDataLossError("Getting https://harbour.example/ resulted in data loss."),
                                 error.ConnectionRefusedError(), error.ConnectionLost(), error.ConnectionDone(),
                                 error.DNSLookupError("harbour.example")])
def test_connection_faults_name_the_exception(exc):
    kind, reason = classify_failure(failure_of(raises(exc)), Request(URL))
    assert kind == "connection" and reason.startswith(type(exc).__name__ + ": ")


def test_a_redirect_loop_from_scrapys_redirect_middleware():
    crawler = get_crawler(settings_dict={"REDIRECT_MAX_TIMES": 2})
    middleware = RedirectMiddleware.from_crawler(crawler)
    request = Request(URL, meta={"redirect_times": 2})
    response = Response(URL, status=302, headers={"Location": URL + "?again"}, request=request)
    failure = failure_of(lambda: middleware.process_response(request, response))
    assert isinstance(failure.value, IgnoreRequest)
    kind, reason = classify_failure(failure, request)
    assert kind == "redirect_loop" and "REDIRECT_MAX_TIMES" in reason


def test_robots_and_other_ignored_requests():
    assert classify_failure(failure_of(raises(IgnoreRequest("Forbidden by robots.txt"))), Request(URL)) == (
        "robots", "disallowed by robots.txt (not requested)")
    assert classify_failure(failure_of(raises(IgnoreRequest())), Request(URL)) == ("ignored", "ignored")


def test_too_large_pages_and_sitemaps():
    page, sitemap = Request(URL, meta={"download_maxsize": 1000}), Request(URL, meta={"collector_kind": "sitemap"})
    announced = DownloadCancelledError(f"Expected to receive 5000 bytes which is larger than download max size (1000) in request {page}.")
    assert classify_failure(failure_of(raises(announced)), page) == ("too_large", str(announced))
    kind, reason = classify_failure(failure_of(raises(defer.CancelledError())), page)
    assert kind == "too_large" and "the limit of 1,000 bytes" in reason
    assert classify_failure(failure_of(raises(defer.CancelledError())), sitemap)[0] == "sitemap_too_large"
    assert classify_failure(failure_of(raises(IgnoreRequest("Sitemap over COLLECTOR_SITEMAP_MAXSIZE"))), sitemap)[0] == "sitemap_too_large"


def test_anything_else_is_other_with_its_type():
    assert classify_failure(failure_of(raises(KeyError("x"))), Request(URL)) == ("other", "KeyError: 'x'")


def test_the_request_may_come_on_the_failure():
    failure, request = http_failure(502, retry_times=3)
    failure.request = request  # as Scrapy's errbacks receive it
    assert classify_failure(failure) == ("http_5xx", "HTTP 502 (gave up after 3 retries)")


def test_transient_kinds_are_the_ones_a_later_run_may_not_meet():
    assert TRANSIENT_FAULTS == {"http_5xx", "throttled", "timeout", "connection", "pipeline"}
