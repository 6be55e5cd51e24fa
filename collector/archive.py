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
tools read the body as it is stored.

A raw reference (``raw_ref``) is a string:

- ``corpus.warc/site-...-00000.warc.gz#offset=N``: a record of the archive, at byte N of
  its file (a path relative to the database's folder, or absolute);
- ``/path/pages.warc.gz#record=N``, ``/path/dump.jsonl#line=N``, ``/path/page.html``: an
  imported file, where it is (the N-th record of a WARC, the N-th line of a JSON Lines file).
"""

from __future__ import annotations

import http
import io
import logging
import os
import re
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .context import Context
from .items import Article

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
    db = Path(settings.get("COLLECTOR_DB"))
    return db.with_name(db.stem + ".warc")


def db_folder(settings) -> Path:
    return Path(settings.get("COLLECTOR_DB")).resolve().parent


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
        started = time.perf_counter()
        if self.writer is None:
            spider = self.crawler.spider
            site = getattr(spider, "site_key", None) or spider.name
            self.writer = ArchiveWriter(self.folder, site, self.max_size, self.base, self.level)
        response.meta[RAW_REF] = self.writer.write(response)
        self.seconds += time.perf_counter() - started
        self.crawler.stats.inc_value("collector/archived")
        return None

    def get_processed_item(self, item, response):
        if isinstance(item, Article) and response is not None and not item.get("raw_ref"):
            ref = response.meta.get(RAW_REF)
            if ref:
                item["raw_ref"] = ref
        return item

    def spider_closed(self, spider, reason):
        self.crawler.stats.set_value("collector/archive_seconds", round(self.seconds, 3))
        if self.writer is not None:
            self.writer.close()


# --- reading ------------------------------------------------------------------------------

class RawMissing(Exception):
    """A document's raw input cannot be read: the message says which and why."""


@dataclass
class RawRef:
    path: Path
    offset: int | None = None   # a record of the archive (byte offset)
    record: int | None = None   # an imported WARC's N-th record
    line: int | None = None     # an imported JSON Lines file's N-th line

    @classmethod
    def parse(cls, ref: str, base: Path) -> "RawRef":
        path, _, anchor = ref.partition("#")
        full = Path(path)
        if not full.is_absolute():
            full = base / full
        name, _, value = anchor.partition("=")
        if anchor and (name not in ("offset", "record", "line") or not value.isdigit()):
            raise RawMissing(f"{ref}: not a raw reference")
        return cls(full, **({name: int(value)} if anchor else {}))


def source_ref(source: str | None) -> str | None:
    """The raw_ref of an imported item, from its ``source`` ("path", "path record N",
    "path line N"); None for a spider's item (its ref comes from the archive)."""
    if not source or source.startswith("spider:"):
        return None
    match = re.match(r"^(.*) (record|line) (\d+)$", source)
    path, anchor = (match.group(1), f"#{match.group(2)}={match.group(3)}") if match else (source, "")
    return os.path.abspath(path) + anchor


def read_record(path: Path, offset: int):
    """(WARC headers, HTTP headers, body bytes) of the archive record at ``offset``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    raise RawMissing(f"{path}#offset={offset}: a {record.rec_type} record, not a response")
                body = record.content_stream().read()
                while record.raw_stream.read(65536):
                    pass
                if record.raw_stream.limit > 0:  # the file ends inside the record (a kill)
                    raise RawMissing(f"{path}#offset={offset}: truncated record")
                return record.rec_headers, record.http_headers, body
    except FileNotFoundError:
        raise RawMissing(f"{path}: archive file missing") from None
    except RawMissing:
        raise
    except Exception as exc:  # warcio fails on damaged data in assorted ways
        raise RawMissing(f"{path}#offset={offset}: unreadable record ({type(exc).__name__}: {exc})") from None
    raise RawMissing(f"{path}#offset={offset}: no record there (the file ends)")


def archived_article(ref: RawRef, **fields) -> Article:
    """The item a spider made from the archived response: the page decoded as it did."""
    from .importers.decoding import NotText, decode
    from .spiders.site import _header_charset

    _, http_headers, body = read_record(ref.path, ref.offset)
    charset = _header_charset({b"Content-Type": (http_headers.get_header("Content-Type") or "").encode("latin-1")})
    try:
        html = decode(body, declared=charset, html=True)
    except NotText as exc:
        raise RawMissing(f"{ref.path}#offset={ref.offset}: {exc}") from None
    return Article(html=html, **fields)


def raw_bytes(ref: RawRef) -> tuple[bytes, str]:
    """The raw input itself (page body, or the file's record or line) and a content type."""
    if ref.offset is not None:
        _, http_headers, body = read_record(ref.path, ref.offset)
        return body, (http_headers.get_header("Content-Type") if http_headers else None) or "text/html"
    if ref.record is None and ref.line is None:  # a whole file: its bytes, inflated if gzip
        import gzip

        if not ref.path.is_file():
            raise RawMissing(f"{ref.path}: imported file missing")
        try:
            data = ref.path.read_bytes()
            data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        except (OSError, EOFError) as exc:
            raise RawMissing(f"{ref.path}: cannot read: {exc}") from None
        html = ".htm" in ref.path.name.lower() or imported_article(ref).get("html")
        return data, "text/html" if html else "text/plain"
    item = imported_article(ref)
    if item.get("html"):
        return item["html"].encode("utf-8"), "text/html; charset=utf-8"
    return item["text"].encode("utf-8"), "text/plain; charset=utf-8"


class _Cursor:
    """The importer reading one file, kept open between documents: a file's documents are
    reprocessed in the order they were imported, so each file is read once, as a stream."""

    def __init__(self, path: Path):
        from .importers import read_file

        self.path = path
        self.items = iter(read_file(path))
        self.ahead = None  # the next (anchor, item): read, not yet asked for
        self.last = 0      # the last record or line number asked for

    def find(self, wanted: tuple[str, int] | None):
        """The item (or ``Problem``) at ``wanted`` ("record" or "line", N), the file's one
        item if None; None if the file has nothing there."""
        from .importers import Problem

        while True:
            if self.ahead is None:
                item = next(self.items, None)
                if item is None:
                    return None
                where = item.where if isinstance(item, Problem) else item["source"]
                match = re.search(r" (record|line) (\d+)$", where)
                self.ahead = ((match.group(1), int(match.group(2))) if match else None, item)
            anchor, item = self.ahead
            if anchor is None or wanted is None or anchor == wanted:
                self.ahead = None  # the one item of a file, the one asked for, or the whole file's Problem
                return item if (anchor == wanted or isinstance(item, Problem)) else None
            if anchor[1] > wanted[1]:
                return None  # kept: a later document may ask for it
            self.ahead = None


_cursor: _Cursor | None = None


def imported_article(ref: RawRef) -> Article:
    """The item the importer makes of the referenced file, WARC record or JSONL line."""
    global _cursor
    from .importers import Problem

    wanted = ("record", ref.record) if ref.record is not None else ("line", ref.line) if ref.line is not None else None
    if not ref.path.is_file():
        raise RawMissing(f"{ref.path}: imported file missing")
    if _cursor is None or _cursor.path != ref.path or wanted is None or wanted[1] <= _cursor.last:
        _cursor = _Cursor(ref.path)
    item = _cursor.find(wanted)
    _cursor.last = wanted[1] if wanted else 0
    if item is None:
        raise RawMissing(f"{ref.path}{'' if wanted is None else f' {wanted[0]} {wanted[1]}'}: not found in the file")
    if isinstance(item, Problem):
        raise RawMissing(str(item))
    return Article(**dict(item))


def forget_files() -> None:
    global _cursor
    _cursor = None


def raw_document(db: str, id_or_url: str) -> tuple[dict, bytes, str, bytes | None]:
    """(document id and url, raw bytes, content type, archived HTTP headers or None)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        key = "d.id = ?" if id_or_url.isdigit() else "d.url = ? OR d.canonical_url = ?"
        params = [int(id_or_url)] if id_or_url.isdigit() else [id_or_url, id_or_url]
        row = conn.execute(f"SELECT d.id, d.url, d.source, r.raw_ref FROM documents d LEFT JOIN raw_inputs r"
                           f" ON r.doc_id = d.id WHERE {key} ORDER BY d.id LIMIT 1", params).fetchone()
    finally:
        conn.close()
    if row is None:
        raise LookupError(f"{id_or_url}: no such document")
    doc_id, url, source, ref_text = row
    ref_text = ref_text or source_ref(source)
    if not ref_text:
        raise RawMissing("no raw input recorded (crawled with the archive off, or before it was kept)")
    ref = RawRef.parse(ref_text, Path(db).resolve().parent)
    head = None
    if ref.offset is not None:
        _, http_headers, body = read_record(ref.path, ref.offset)
        head = http_headers.to_bytes() if http_headers else None
        content_type = (http_headers.get_header("Content-Type") if http_headers else None) or "text/html"
    else:
        body, content_type = raw_bytes(ref)
    return {"id": doc_id, "url": url}, body, content_type, head


def browsable(body: bytes, url: str) -> bytes:
    """The page with a ``<base href>`` to its URL, so its images, styles and links resolve
    when the file is opened in a browser."""
    from html import escape

    if not url.startswith(("http://", "https://")):
        return body
    tag = f'<base href="{escape(url, quote=True)}">'.encode("utf-8")
    match = re.search(rb"<head[^>]*>", body[:65536], re.IGNORECASE)
    at = match.end() if match else 0
    return body[:at] + tag + body[at:]
