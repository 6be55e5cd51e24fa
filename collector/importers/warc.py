"""WARC archives: each HTML response with status 200 is an article; a truncated or corrupt
record is reported with its number, the records before it imported."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from collector.core.document import Document
from collector.core.text import defuse

from .decoding import NotText, decode, sniff
from .reading import CHUNK, Broken, Problem, now, read_document


class _Archive(ArchiveIterator):
    """warcio's iterator, minus its warnings written straight to stderr: a record whose
    Content-Length is wrong is counted in ``err_count`` and reported by the importer."""

    def _consume_blanklines(self):
        empty_size = 0
        first_line = True
        while True:
            line = self.reader.readline()
            if not line:
                return None, empty_size
            if not line.rstrip() or first_line:
                empty_size += len(line)
                if line.rstrip():
                    self.err_count += 1
                first_line = False
                continue
            return line, empty_size


def read_warc(path: Path, stream, site: str | None) -> Iterator[Document | Problem]:
    _check_start(stream)
    number = pages = reported = 0  # records read, pages yielded, records reported
    archive = _Archive(stream)
    try:
        for record in archive:
            number += 1
            where = f"{path} record {number}"
            found, last = _read_record(archive, record, stream, where)
            if isinstance(found, Problem):
                reported += 1
                yield found
            elif found is not None:
                pages += 1
                url, html, fetched = found
                yield Document(url=url or f"{path.resolve().as_uri()}#record={number}", source=where, site=site,
                               html=defuse(html), fetched=fetched or now())
            if last:
                return
        leftover = stream.raw.total - archive.offset  # bytes after the last whole record
        if leftover > 0:
            why = f"; {stream.raw.error}" if stream.raw.error else ""
            yield Problem(f"{path} record {number + 1}", f"truncated: the file ends {leftover} bytes into this record{why}")
            return
        stream.raw.check()
        if not pages and not reported:
            yield Problem(str(path), f"no HTML page with HTTP status 200 among its {number} records")
    except Broken as exc:
        yield Problem(str(path), f"{exc} after record {number} (the records before it were read)" if number else str(exc))
    except Exception as exc:  # warcio's parser fails on damaged headers in assorted ways
        yield Problem(f"{path} record {number + 1}", f"truncated or corrupt ({_damage(stream, exc)})")


def _check_start(stream) -> None:
    head = stream.peek(64)[:64]
    if not head.strip():
        stream.raw.check()
        raise NotText("empty")
    if b"WARC/".startswith(head.lstrip()):
        raise NotText("truncated inside the first record header")
    if not head.lstrip().startswith(b"WARC/"):
        sniff(head)
        raise NotText("not a WARC file (it does not start with a WARC/1.x record header)")


def _read_record(archive: _Archive, record, stream, where: str) -> tuple[tuple | Problem | None, bool]:
    """(the page as (url, html, fetched), a ``Problem``, or None for a record that is no
    page; and whether the archive ends here because the record is cut short)."""
    errors = archive.err_count
    headers = record.rec_headers
    length = (headers.get_header("Content-Length") or "").strip()
    if headers.get_header("WARC-Type") is None or not length.isdigit() or int(length) != record.length:
        return Problem(where, "truncated or corrupt record header"), True
    body, ctype = None, ""
    if record.rec_type == "response" and record.http_headers is not None:
        ctype = (record.http_headers.get_header("Content-Type") or "").lower()
        # Redirects, errors, images and scripts are what a crawl records besides pages.
        if "html" in ctype and record.http_headers.get_statuscode() == "200":
            try:
                body = read_document(record.content_stream(), "the record")
            except NotText as exc:  # binary, empty, or over the limit
                body = exc
    truncated = _read_to_end(archive, record, stream, where)
    if truncated is not None:
        return truncated, True
    if archive.err_count > errors:
        return Problem(where, "corrupt: its Content-Length does not match the data"), False
    if body is None:
        return None, False
    if isinstance(body, NotText):
        return Problem(where, str(body)), False
    charset = ctype.split("charset=")[1].split(";")[0].strip().strip("\"'") if "charset=" in ctype else None
    try:
        html = decode(body, declared=charset, html=True)
    except NotText as exc:
        return Problem(where, str(exc)), False
    url = (headers.get_header("WARC-Target-URI") or "").strip("<> ")
    return (url, html, headers.get_header("WARC-Date")), False


def _read_to_end(archive: _Archive, record, stream, where: str) -> Problem | None:
    """Read the record to its end; a ``Problem`` if the data stops inside it."""
    while record.raw_stream.read(CHUNK):
        pass
    if record.raw_stream.limit > 0:
        why = f"; {stream.raw.error}" if stream.raw.error else ""
        return Problem(where, f"truncated: {record.raw_stream.limit} of its {record.length} bytes are missing{why}")
    archive.read_to_end()
    return None


def _damage(stream, exc: Exception) -> str:
    if stream.raw.error:
        return stream.raw.error
    if isinstance(exc, ArchiveLoadFailed) and str(exc).strip():
        return str(exc).strip().splitlines()[0][:120]
    return f"unreadable record header: {type(exc).__name__}"
