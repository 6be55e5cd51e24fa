"""Finding input files, opening them (gzip or not) and dispatching on their format.

Every input is read through ``_Guard``, which turns the ways a file can be broken into one
``NotText`` reason: a gzip stream that ends early, a gzip bomb (an input that inflates far
beyond any news dump), binary data sniffed from the first bytes. Reading is streamed, so a
refused input costs little memory and time.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from collector.core.document import Document

from .decoding import SNIFF_BYTES, NotText, decode, detect, has_bom, no_nul, sniff

#: One document (a .txt or .html file, a WARC record, a JSONL line) larger than this is
#: refused: a news article is well under a megabyte, even with inline images.
MAX_INPUT_BYTES = 64 * 1024 * 1024
#: A gzip input that inflated to more than ``BOMB_MIN_BYTES`` at more than ``BOMB_RATIO``
#: times its compressed size is a gzip bomb. Text and HTML compress 3-10x, WARCs of
#: similar pages 10-20x; only padding (zeros, one repeated byte) reaches 100x.
BOMB_MIN_BYTES = 16 * 1024 * 1024
BOMB_RATIO = 100
FORMATS = ("txt", "html", "htm", "warc", "jsonl")
#: A .jsonl file whose first lines are all not JSON is not JSON Lines at all: one error.
MAX_LEADING_BAD_LINES = 5
_CHUNK = 1024 * 1024
#: JSON Lines are split a chunk at a time; smaller, so a chunk of blank lines is a small list.
_LINES_CHUNK = 256 * 1024


@dataclass
class Problem:
    where: str   # the file, plus "line N" or "record N"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def format_of(path: Path) -> tuple[str | None, bool]:
    """(format, gzipped) from the file name: ``a.html.gz`` -> ("html", True)."""
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    fmt = suffixes[-1] if suffixes else None
    return (fmt if fmt in FORMATS else None), gz


def _hidden(name: str) -> bool:
    return name.startswith(".")


def discover(paths) -> Iterator[Path | Problem]:
    """Files to import: each path given, folders walked recursively in name order.

    Inside folders, hidden files and folders (``.git``, editor swap files) and files of
    other types are passed over silently; a path named explicitly is reported if it cannot
    be imported, and so is a folder that cannot be listed (the rest is read all the same).
    Each file is read once, even if named twice or inside a named folder.
    """
    seen: set[str] = set()

    def once(path: Path) -> bool:
        key = os.path.realpath(path)
        if key in seen:
            return False
        seen.add(key)
        return True

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = 0
            unreadable: list[OSError] = []
            for root, dirs, files in os.walk(path, onerror=unreadable.append):  # symlinked folders are not followed
                while unreadable:
                    exc = unreadable.pop(0)
                    found += 1
                    yield Problem(exc.filename or str(path), f"cannot read this folder: {exc.strerror or exc}")
                dirs[:] = sorted(d for d in dirs if not _hidden(d))
                for name in sorted(files):
                    child = Path(root, name)
                    if _hidden(name) or not format_of(child)[0] or not child.is_file():
                        continue
                    found += 1
                    if once(child):
                        yield child
            for exc in unreadable:  # the last folder listed
                found += 1
                yield Problem(exc.filename or str(path), f"cannot read this folder: {exc.strerror or exc}")
            if not found:
                yield Problem(str(path), f"no files to import in this folder (looked for: {_expected()})")
        elif path.is_file():
            if not format_of(path)[0]:
                yield Problem(str(path), f"unsupported file type (expected {_expected()})")
            elif once(path):
                yield path
        elif path.exists():
            yield Problem(str(path), "not a file or folder")
        else:
            yield Problem(str(path), "no such file or folder")


def _expected() -> str:
    return ", ".join("." + f for f in FORMATS) + ", optionally .gz"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- reading ----------------------------------------------------------------------------

class _Broken(Exception):
    """Raised inside warcio's loops, which swallow ``EOFError``; carries the reason."""


class _Guard(io.RawIOBase):
    """A readable stream over a file, inflating gzip, that refuses gzip bombs.

    A gzip stream that ends early or is corrupt reads as a clean end of data, with the
    reason kept in ``error`` (see ``check``): the readers above it get everything before
    the damage (the WARC records, the JSON lines), then say where the data stopped.
    warcio in particular takes an ``EOFError`` for the normal end of an archive.
    """

    def __init__(self, fh, gzipped: bool):
        self.fh = fh
        self.gzipped = gzipped
        self.inner = gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh
        self.total = 0
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.error:
            return 0
        try:
            if self.inner is self.fh:
                n = self.fh.readinto(buffer)
            else:
                # One chunk at a time, so the data before a truncation is delivered first.
                data = self.inner.read1(len(buffer))
                n = len(data)
                buffer[:n] = data
        except EOFError:
            self.error = "truncated gzip data (the compressed stream ends early)"
            return 0
        except (gzip.BadGzipFile, zlib.error) as exc:
            self.error = f"corrupt gzip data ({exc})"
            return 0
        self.total += n
        if self.gzipped and self.total > BOMB_MIN_BYTES and self.total > BOMB_RATIO * max(1, self.fh.tell()):
            raise _Broken(
                f"inflates more than {BOMB_RATIO} times its size (over {self.total // 2**20} MB so far): a gzip bomb?"
            )
        return n

    def check(self) -> None:
        if self.error:
            raise _Broken(self.error)

    def close(self) -> None:
        if not self.closed:
            try:
                if self.inner is not self.fh:
                    self.inner.close()
            finally:
                self.fh.close()
        super().close()


def _open(path: Path, gz: bool) -> io.BufferedReader:
    """The file's content (inflated if gzip, whatever its name says) as a buffered stream."""
    fh = open(path, "rb")
    try:
        head = fh.read(2)
        gzipped = head == b"\x1f\x8b"
        fh.seek(0)
        if gz and not gzipped:
            if not head:
                raise NotText("empty")
            if b"\x1f\x8b".startswith(head):
                raise NotText("truncated gzip data (the file ends inside the gzip header)")
            raise NotText("named .gz but not gzip-compressed")
    except BaseException:
        fh.close()
        raise
    return io.BufferedReader(_Guard(fh, gzipped), buffer_size=_CHUNK)


def _read_document(stream, what: str = "the document", guard: _Guard | None = None) -> bytes:
    """All of a stream that holds one document: sniffed first, then read up to the limit."""
    head = stream.read(SNIFF_BYTES)
    if not head:
        if guard:
            guard.check()
        raise NotText("empty")
    sniff(head)
    data = bytearray(head)
    while len(data) <= MAX_INPUT_BYTES:  # in chunks: a refused input never gets a big buffer
        chunk = stream.read(min(_CHUNK, MAX_INPUT_BYTES + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if guard:
        guard.check()
    if len(data) > MAX_INPUT_BYTES:
        raise NotText(f"{what} is larger than {_mb(MAX_INPUT_BYTES)} (decompressed)")
    return bytes(data)


def _mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


def read_paths(paths, site: str | None = None) -> Iterator[Document | Problem]:
    for found in discover(paths):
        if isinstance(found, Problem):
            yield found
        else:
            yield from read_file(found, site)


# The HTML is defused by the driver (``collector.driver.prepare``), for crawls alike; the
# name stays for the benchmarks that read pages the importers' way.
from ..driver import defuse as _defused  # noqa: E402


_LOOKS_HTML = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def read_file(path: Path, site: str | None = None) -> Iterator[Document | Problem]:
    """The articles of one file, or a ``Problem`` for each part that cannot be read."""
    path = Path(path)
    fmt, gz = format_of(path)
    try:
        with _open(path, gz) as stream:
            if fmt == "warc":
                yield from _read_warc(path, stream, site)
            elif fmt == "jsonl":
                yield from _read_jsonl(path, stream, site)
            else:
                data = _read_document(stream, guard=stream.raw)
                if fmt in ("html", "htm"):
                    html = decode(data, html=True)
                    if "<" not in html[:4096]:
                        raise NotText("no HTML markup: not an HTML page")
                    yield _article(path, site, html=_defused(html))
                else:
                    text = decode(data)
                    if _LOOKS_HTML.match(text[:4096]):
                        yield _article(path, site, html=_defused(text))  # a saved page named .txt
                    else:
                        yield _article(path, site, text=text, first_line_is_title=True)
    except NotText as exc:
        yield Problem(str(path), str(exc))
    except _Broken as exc:
        yield Problem(str(path), str(exc))
    except OSError as exc:
        yield Problem(str(path), f"cannot read: {exc.strerror or exc}")


def _article(path: Path, site: str | None, **fields) -> Document:
    return Document(url=path.resolve().as_uri(), source=str(path), site=site, fetched=_now(), **fields)


# --- JSON Lines -------------------------------------------------------------------------

def _jsonl_lines(path: Path, stream) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text or None, reason if the line cannot be read)."""
    head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    if not head:
        stream.raw.check()
        raise NotText("empty")
    if has_bom(head) and not head.startswith(b"\xef\xbb\xbf"):
        # UTF-16/32: lines cannot be split on bytes; such files are small in practice.
        text = decode(_read_document(stream, "the file", stream.raw))
        for number, line in enumerate(text.splitlines(), start=1):
            yield number, line, None
        return
    sniff(head)
    if _LOOKS_HTML.match(head.decode("utf-8", "replace")):
        raise NotText("HTML, not JSON Lines")
    encoding = "utf-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            encoding = detect(head) or "utf-8"

    def text(number: int, raw: bytes) -> tuple[int, str | None, str | None]:
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            return number, raw.decode(encoding), None
        except UnicodeDecodeError:
            try:
                return number, decode(raw), None
            except NotText as exc:
                return number, None, str(exc)

    too_long = f"longer than {_mb(MAX_INPUT_BYTES)}"
    number = 0
    pending = bytearray()  # the start of a line whose end is not read yet
    skipping = False  # inside a line over the limit
    # Split whole chunks rather than calling readline: a file of millions of blank lines
    # (a few KB of gzip) is then passed over in seconds.
    while chunk := stream.read1(_LINES_CHUNK):
        if not pending and not skipping and chunk.isspace():
            number += chunk.count(b"\n")  # a run of blank lines, passed over at C speed
            continue
        *complete, rest = chunk.split(b"\n")
        for part in complete:
            number += 1
            if skipping:
                skipping = False
                yield number, None, too_long
                continue
            if pending:
                part = bytes(pending) + part
                pending.clear()
            if len(part) > MAX_INPUT_BYTES:
                yield number, None, too_long
            elif part and not part.isspace():
                yield text(number, part)
        if not skipping:
            pending += rest
            if len(pending) > MAX_INPUT_BYTES:
                pending.clear()
                skipping = True
    if pending or skipping:
        number += 1
        if stream.raw.error:
            raise _Broken(f"{stream.raw.error}: line {number} is cut off (the lines before it were read)")
        if skipping:
            yield number, None, too_long
        elif not pending.isspace():
            yield text(number, bytes(pending))
    stream.raw.check()


def _read_jsonl(path: Path, stream, site: str | None) -> Iterator[Document | Problem]:
    good = 0
    held: list[Problem] = []  # bad lines before the first good one: is it JSON Lines at all?

    def bad(number: int, reason: str) -> Iterator[Problem]:
        problem = Problem(f"{path} line {number}", reason)
        if good:
            yield problem
            return
        held.append(problem)
        if len(held) >= MAX_LEADING_BAD_LINES:
            raise NotText(f"not JSON Lines: none of the first {len(held)} lines is an article ({_first(held)})")

    for number, line, reason in _jsonl_lines(path, stream):
        if reason:
            yield from bad(number, reason)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield from bad(number, f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            yield from bad(number, f"not a JSON object (a JSON {_json_type(obj)})")
            continue
        content = {k: obj[k] for k in ("html", "text") if isinstance(obj.get(k), str) and obj[k].strip()}
        if not content:
            yield from bad(number, "no 'html' or 'text' field with content")
            continue
        try:
            for value in content.values():
                no_nul(value)  # a \u0000 escape, or a NUL byte the line decoding let through
        except NotText as exc:
            yield from bad(number, f"{exc}")
            continue
        good += 1
        yield from held
        held.clear()
        url = _str(obj, "url")
        yield Document(
            url=url or f"{path.resolve().as_uri()}#line={number}",
            source=f"{path} line {number}",
            site=_str(obj, "site") or site,
            title=_str(obj, "title"),
            published=_str(obj, "published"),
            author=_str(obj, "author"),
            fetched=_str(obj, "fetched") or _now(),
            first_line_is_title="html" not in content and not _str(obj, "title"),
            **({"html": _defused(content["html"])} if "html" in content else {"text": content["text"]}),
        )
    if not good:
        if len(held) == 1:
            yield held[0]
        elif held:  # nothing in the file was usable: one line for the file
            raise NotText(f"no usable line: {len(held)} bad lines ({_first(held)})")
        else:
            raise NotText("empty")


def _first(held: list[Problem]) -> str:
    return f"line {held[0].where.rsplit(' ', 1)[-1]}: {held[0].reason}"


def _json_type(value) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


def _str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


# --- WARC -------------------------------------------------------------------------------

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


def _read_warc(path: Path, stream, site: str | None) -> Iterator[Document | Problem]:
    head = stream.peek(64)[:64]
    if not head.strip():
        stream.raw.check()
        raise NotText("empty")
    if b"WARC/".startswith(head.lstrip()):
        raise NotText("truncated inside the first record header")
    if not head.lstrip().startswith(b"WARC/"):
        sniff(head)
        raise NotText("not a WARC file (it does not start with a WARC/1.x record header)")
    number = pages = reported = 0  # records read, pages yielded, records reported
    archive = _Archive(stream)
    try:
        for record in archive:
            number += 1
            errors = archive.err_count
            where = f"{path} record {number}"
            headers = record.rec_headers
            length = (headers.get_header("Content-Length") or "").strip()
            if headers.get_header("WARC-Type") is None or not length.isdigit() or int(length) != record.length:
                yield Problem(where, "truncated or corrupt record header")
                return
            body = None
            if record.rec_type == "response" and record.http_headers is not None:
                ctype = (record.http_headers.get_header("Content-Type") or "").lower()
                # Redirects, errors, images and scripts are what a crawl records besides pages.
                if "html" in ctype and record.http_headers.get_statuscode() == "200":
                    try:
                        body = _read_document(record.content_stream(), "the record")
                    except NotText as exc:  # binary, empty, or over the limit
                        body = exc
            while record.raw_stream.read(_CHUNK):
                pass
            if record.raw_stream.limit > 0:
                why = f"; {stream.raw.error}" if stream.raw.error else ""
                yield Problem(where, f"truncated: {record.raw_stream.limit} of its {record.length} bytes are missing{why}")
                return
            archive.read_to_end()
            if archive.err_count > errors:
                reported += 1
                yield Problem(where, "corrupt: its Content-Length does not match the data")
                continue
            if body is None:
                continue
            if isinstance(body, NotText):
                reported += 1
                yield Problem(where, str(body))
                continue
            charset = ctype.split("charset=")[1].split(";")[0].strip().strip("\"'") if "charset=" in ctype else None
            try:
                html = decode(body, declared=charset, html=True)
            except NotText as exc:
                reported += 1
                yield Problem(where, str(exc))
                continue
            url = (headers.get_header("WARC-Target-URI") or "").strip("<> ")
            pages += 1
            yield Document(
                url=url or f"{path.resolve().as_uri()}#record={number}",
                source=where,
                site=site,
                html=_defused(html),
                fetched=headers.get_header("WARC-Date") or _now(),
            )
        leftover = stream.raw.total - archive.offset  # bytes after the last whole record
        if leftover > 0:
            why = f"; {stream.raw.error}" if stream.raw.error else ""
            yield Problem(f"{path} record {number + 1}", f"truncated: the file ends {leftover} bytes into this record{why}")
            return
        stream.raw.check()
        if not pages and not reported:
            yield Problem(str(path), f"no HTML page with HTTP status 200 among its {number} records")
    except _Broken as exc:
        yield Problem(str(path), f"{exc} after record {number} (the records before it were read)" if number else str(exc))
    except Exception as exc:  # warcio's parser fails on damaged headers in assorted ways
        if stream.raw.error:
            detail = stream.raw.error
        elif isinstance(exc, ArchiveLoadFailed) and str(exc).strip():
            detail = str(exc).strip().splitlines()[0][:120]
        else:
            detail = f"unreadable record header: {type(exc).__name__}"
        yield Problem(f"{path} record {number + 1}", f"truncated or corrupt ({detail})")
