"""The raw archive: every page a crawl fetches, kept as it came, in WARC files (warcio).

``ArchiveMiddleware`` is a spider middleware: each response of the kinds
``COLLECTOR_ARCHIVE_KINDS`` names (article pages by default; ``page``, ``feed``, ``sitemap``
too if asked) is written as a WARC request record and a response record, gzip per record,
and flushed *before* the spider's callback sees the response. So the item made from it, and
the document the store makes from the item, can never exist without its raw record, even
after a kill -9. The item carries where the record is (``raw_ref``), the document keeps it.

Files: ``<COLLECTOR_ARCHIVE>/<site>-<UTC start>-<pid>-<nnnnn>.warc.gz``, one series per crawl
run and site, a new file once one reaches ``COLLECTOR_ARCHIVE_MAX_SIZE``. The folder defaults
to the database's name with ``.warc`` (``corpus.db`` -> ``corpus.warc/``).

What Scrapy hands a spider is the decoded body: its ``Content-Encoding`` (gzip, br) is
undone and the header removed by ``HttpCompressionMiddleware``, chunked transfer is undone
by the download handler. So the record holds the page as the spider read it:
``Transfer-Encoding`` (and a ``Content-Length`` that no longer matches) is kept renamed
``X-Archive-Orig-*``, and ``Content-Length`` is the stored body's, so warcio and other WARC
tools read the body as it is stored. ``collector.raw`` reads records back by ``raw_ref``.
"""

from __future__ import annotations

import http
import io
import logging
import os
import re
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ..core.document import Document
from ..storage import is_postgres

logger = logging.getLogger(__name__)

#: request.meta key: the raw_ref of the response's archived record.
RAW_REF = "collector_raw_ref"
#: Headers that describe a transfer Scrapy has undone: renamed, so readers take the body as is.
_UNDONE = {b"content-encoding", b"transfer-encoding"}


def archive_dir(settings) -> Path | None:
    """The archive folder of these settings, or None when archiving is off."""
    if not settings.getbool("COLLECTOR_ARCHIVE_ENABLED"):
        return None
    given = settings.get("COLLECTOR_ARCHIVE")
    if given:
        return Path(given)
    url = settings.get("COLLECTOR_DB")
    if is_postgres(url):  # no file beside the database: here, named after it (docs/postgresql.md)
        return Path.cwd() / ((urlsplit(url).path.strip("/") or "collector") + ".warc")
    db = Path(url)
    return db.with_name(db.stem + ".warc")


def db_folder(settings) -> Path:
    """What raw refs are relative to: the database's folder (PostgreSQL: the current folder)."""
    from ..raw import refs_base

    return refs_base(settings.get("COLLECTOR_DB"))


# --- writing ------------------------------------------------------------------------------

class ArchiveWriter:
    """One crawl run's WARC files for one site: gzip per record, rotated at ``max_size``."""

    def __init__(self, folder: Path, site: str, max_size: int, base: Path, level: int = 6):
        self.folder = folder
        self.level = level
        self.prefix = f"{_safe(site)}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{os.getpid()}"
        self.max_size = max(1, max_size)
        self.base = base  # raw refs are relative to the database's folder when they can be
        self.number = -1
        self.fh = None
        self.writer: WARCWriter | None = None
        self.path: Path | None = None

    def _rotate(self) -> None:
        self.close()
        self.number += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{self.prefix}-{self.number:05d}.warc.gz"
        self.fh = open(self.path, "ab")
        self.writer = _GzipMemberWriter(self.fh, self.level)
        info = self.writer.create_warcinfo_record(self.path.name, {"software": "collector (Scrapy, warcio)", "format": "WARC File Format 1.1"})
        self.writer.write_record(info)
        self.fh.flush()

    def write(self, response) -> str:
        """Write the request and response records of ``response``; flushed; its raw_ref."""
        if self.fh is None or self.fh.tell() >= self.max_size:
            self._rotate()
        date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        request = response.request
        req_headers = StatusAndHeaders(
            f"{request.method} {_path(request.url)} HTTP/1.1", _pairs(request.headers), is_http_request=True)
        req = self.writer.create_warc_record(
            request.url, "request", payload=io.BytesIO(request.body or b""), http_headers=req_headers,
            warc_headers_dict={"WARC-Date": date})
        body = response.body
        resp_headers = StatusAndHeaders(_status_line(response.status), _response_pairs(response.headers, len(body)),
                                        protocol=response.protocol or "HTTP/1.1")
        warc_headers = {"WARC-Date": date}
        if response.ip_address is not None:
            warc_headers["WARC-IP-Address"] = str(response.ip_address)
        resp = self.writer.create_warc_record(
            response.url, "response", payload=io.BytesIO(body), length=len(body), http_headers=resp_headers,
            warc_headers_dict=warc_headers)
        req.rec_headers.add_header("WARC-Concurrent-To", resp.rec_headers.get_header("WARC-Record-ID"))
        offset = self.fh.tell()
        self.writer.write_record(resp)
        self.writer.write_record(req)
        self.fh.flush()  # the record is the OS's before the item exists: a kill cannot lose it
        return f"{_relative(self.path, self.base)}#offset={offset}"

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class _GzipMemberWriter(WARCWriter):
    """warcio's writer, each record one gzip member at ``level``: warcio's own is level 9,
    which costs 2-3x the time of 6 for a file about 2% smaller (HTML, measured)."""

    def __init__(self, fh, level: int):
        super().__init__(fh, gzip=False)
        self.level = level

    def _write_warc_record(self, out, record):
        member = io.BytesIO()
        super()._write_warc_record(member, record)
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        out.write(compressor.compress(member.getbuffer()) + compressor.flush())


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name) or "site"


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _pairs(headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, values in headers.items() for v in values]


def _response_pairs(headers, length: int) -> list[tuple[str, str]]:
    out = []
    for key, values in headers.items():
        lower = key.lower()
        for value in values:
            name = key.decode("latin-1")
            if lower in _UNDONE:
                name = "X-Archive-Orig-" + name
            elif lower == b"content-length":
                if value.strip() == str(length).encode():
                    continue  # written again below
                name = "X-Archive-Orig-" + name
            out.append((name, value.decode("latin-1")))
    out.append(("Content-Length", str(length)))
    return out


def _relative(path: Path, base: Path) -> str:
    path = path.resolve()
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


class ArchiveMiddleware(BaseSpiderMiddleware):
    """Spider middleware: archive each response before the spider sees it; give the items
    made from it the record's ``raw_ref``. Off with ``COLLECTOR_ARCHIVE_ENABLED = False``."""

    def __init__(self, crawler, folder: Path):
        super().__init__(crawler)
        settings = crawler.settings
        self.folder = folder
        self.kinds = set(settings.getlist("COLLECTOR_ARCHIVE_KINDS"))
        self.max_size = settings.getint("COLLECTOR_ARCHIVE_MAX_SIZE")
        self.level = settings.getint("COLLECTOR_ARCHIVE_GZIP_LEVEL")
        self.base = db_folder(settings)
        self.writer: ArchiveWriter | None = None
        self.seconds = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        folder = archive_dir(crawler.settings)
        if folder is None:
            raise NotConfigured
        mw = cls(crawler, folder)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_spider_input(self, response):
        kind = response.meta.get("collector_kind")
        if kind not in self.kinds or RAW_REF in response.meta or response.status == 304:
            return None
        started = time.thread_time()  # CPU time: the reactor thread's, spent archiving
        if self.writer is None:
            spider = self.crawler.spider
            site = getattr(spider, "site_key", None) or spider.name
            self.writer = ArchiveWriter(self.folder, site, self.max_size, self.base, self.level)
        response.meta[RAW_REF] = self.writer.write(response)
        self.seconds += time.thread_time() - started
        self.crawler.stats.inc_value("collector/archived")
        return None

    def get_processed_item(self, item, response):
        if isinstance(item, Document) and response is not None and not item.get("raw_ref"):
            ref = response.meta.get(RAW_REF)
            if ref:
                item["raw_ref"] = ref
        return item

    def spider_closed(self, spider, reason):
        self.crawler.stats.set_value("collector/archive_seconds", round(self.seconds, 3))
        if self.writer is not None:
            self.writer.close()
