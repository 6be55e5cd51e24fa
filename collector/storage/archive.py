"""The raw archive's files: WARC records (warcio), gzip per record, appended to one series of
files per crawl run and site (docs/archive.md). Written by the crawl's ``ArchiveMiddleware``
(``collector.crawl.archive``) and, in distributed mode, by the link-worker, which appends
the records a crawl node made (``warc_records``) and handed over with the item.

Files: ``<COLLECTOR_ARCHIVE>/<site>-<UTC start>-<pid>-<nnnnn>.warc.gz``, a new file once one
reaches ``COLLECTOR_ARCHIVE_MAX_SIZE``. The folder defaults to the database's name with
``.warc`` (``corpus.db`` -> ``corpus.warc/``).
"""

from __future__ import annotations

import http
import io
import os
import re
import zlib
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .postgres.connection import is_postgres

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


def refs_base(db: str) -> Path:
    """What relative raw refs are relative to: the database's folder (PostgreSQL: the current folder)."""
    return Path.cwd() if is_postgres(db) else Path(db).resolve().parent


def db_folder(settings) -> Path:
    """What raw refs are relative to, for these settings' database (``refs_base``)."""
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
        return self.append(warc_records(response, self.level))

    def append(self, records: bytes) -> str:
        """Append records made by ``warc_records`` (here, or on a crawl node); flushed; their raw_ref."""
        if self.fh is None or self.fh.tell() >= self.max_size:
            self._rotate()
        offset = self.fh.tell()
        self.fh.write(records)
        self.fh.flush()  # the record is the OS's before the item exists: a kill cannot lose it
        return f"{_relative(self.path, self.base)}#offset={offset}"

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def warc_records(response, level: int = 6) -> bytes:
    """The response record then the request record of ``response``, each one gzip member."""
    out = io.BytesIO()
    writer = _GzipMemberWriter(out, level)
    date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = response.request
    req_headers = StatusAndHeaders(
        f"{request.method} {_path(request.url)} HTTP/1.1", _pairs(request.headers), is_http_request=True)
    req = writer.create_warc_record(
        request.url, "request", payload=io.BytesIO(request.body or b""), http_headers=req_headers,
        warc_headers_dict={"WARC-Date": date})
    body = response.body
    resp_headers = StatusAndHeaders(_status_line(response.status), _response_pairs(response.headers, len(body)),
                                    protocol=response.protocol or "HTTP/1.1")
    warc_headers = {"WARC-Date": date}
    if response.ip_address is not None:
        warc_headers["WARC-IP-Address"] = str(response.ip_address)
    resp = writer.create_warc_record(
        response.url, "response", payload=io.BytesIO(body), length=len(body), http_headers=resp_headers,
        warc_headers_dict=warc_headers)
    req.rec_headers.add_header("WARC-Concurrent-To", resp.rec_headers.get_header("WARC-Record-ID"))
    writer.write_record(resp)
    writer.write_record(req)
    return out.getvalue()


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




def records_problem(records: bytes) -> str | None:
    """Why ``records`` (handed over by a crawl node) are not what ``warc_records`` makes, or None:
    a WARC response record first, whole, then its request record.

    Each record is one gzip member: zlib inflates it (checking its CRC) and the record's
    header says its type and length. warcio's reader would do the same in Python, at about
    twice the cost, and this runs for every page the link-worker stores."""
    kinds, rest = [], records
    while rest:
        if not rest.startswith(b"\x1f\x8b"):
            return "not WARC (not a gzip member)" if not kinds else f"after {kinds}: bytes that are not a gzip member"
        member = zlib.decompressobj(wbits=31)
        try:
            record = member.decompress(rest)
        except zlib.error as exc:
            return f"unreadable (gzip: {exc})"
        head, _, block = record.partition(b"\r\n\r\n")
        if not head.startswith(b"WARC/1."):
            return "not WARC" if member.eof or len(record) > 8 else "no whole record"
        kind, length = _WARC_TYPE.search(head), _WARC_LENGTH.search(head)
        if kind is None or length is None:
            return "no whole record" if not member.eof else "a WARC record without its type or length"
        if not member.eof or len(block) < int(length[1]):
            return "a truncated record"
        kinds.append(kind[1].decode("ascii", "replace"))
        rest = member.unused_data
    if not kinds:
        return "no whole record"
    return None if kinds == ["response", "request"] else f"records {kinds}, not a response and its request"


_WARC_TYPE = re.compile(rb"^WARC-Type:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)
_WARC_LENGTH = re.compile(rb"^Content-Length:[ \t]*(\d+)", re.MULTILINE | re.IGNORECASE)


class SiteArchives:
    """Records made elsewhere (a crawl node's, handed over with the item), appended by site:
    each site its own series of files, as a crawl writes them. The link-worker's."""

    def __init__(self, settings):
        self.folder = archive_dir(settings)
        self.base = db_folder(settings)
        self.max_size = settings.getint("COLLECTOR_ARCHIVE_MAX_SIZE")
        self.level = settings.getint("COLLECTOR_ARCHIVE_GZIP_LEVEL")
        self.writers: dict[str, ArchiveWriter] = {}

    def append(self, site: str | None, records: bytes) -> str | None:
        """The records' raw_ref; None when archiving is off here (COLLECTOR_ARCHIVE_ENABLED)."""
        if self.folder is None:
            return None
        key = site or "site"
        if key not in self.writers:
            self.writers[key] = ArchiveWriter(self.folder, key, self.max_size, self.base, self.level)
        return self.writers[key].append(records)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
