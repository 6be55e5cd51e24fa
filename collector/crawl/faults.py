"""The crawl's faults: how each failure is classified (``classify_failure``) and reported
(``report_fault``, a signal the crawl's report and middlewares receive). A fault never
stops a crawl; every one is in the crawl's summary with its URL and reason.

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

from dataclasses import dataclass

from scrapy.exceptions import IgnoreRequest

from ..core.urls import canonical_url
from ..importers.decoding import META_CHARSET, codec_name


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
