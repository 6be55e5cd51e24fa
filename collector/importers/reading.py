"""Opening an input file (gzip or not) and reading one document from it, safely.

Every input is read through ``Guard``, which turns the ways a file can be broken into one
``NotText`` reason: a gzip stream that ends early, a gzip bomb (an input that inflates far
beyond any news dump), binary data sniffed from the first bytes. Reading is streamed, so a
refused input costs little memory and time.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from collector.core.document import Document

from .decoding import SNIFF_BYTES, NotText, sniff

#: One document (a .txt or .html file, a WARC record, a JSONL line) larger than this is
#: refused: a news article is well under a megabyte, even with inline images.
MAX_INPUT_BYTES = 64 * 1024 * 1024
#: A gzip input that inflated to more than ``BOMB_MIN_BYTES`` at more than ``BOMB_RATIO``
#: times its compressed size is a gzip bomb. Text and HTML compress 3-10x, WARCs of
#: similar pages 10-20x; only padding (zeros, one repeated byte) reaches 100x.
BOMB_MIN_BYTES = 16 * 1024 * 1024
BOMB_RATIO = 100
FORMATS = ("txt", "html", "htm", "warc", "jsonl")
CHUNK = 1024 * 1024
#: JSON Lines are split a chunk at a time; smaller, so a chunk of blank lines is a small list.
LINES_CHUNK = 256 * 1024


@dataclass
class Problem:
    where: str   # the file, plus "line N" or "record N"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Broken(Exception):
    """Raised inside warcio's loops, which swallow ``EOFError``; carries the reason."""


class Guard(io.RawIOBase):
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
            raise Broken(
                f"inflates more than {BOMB_RATIO} times its size (over {self.total // 2**20} MB so far): a gzip bomb?"
            )
        return n

    def check(self) -> None:
        if self.error:
            raise Broken(self.error)

    def close(self) -> None:
        if not self.closed:
            try:
                if self.inner is not self.fh:
                    self.inner.close()
            finally:
                self.fh.close()
        super().close()


def open_input(path: Path, gz: bool) -> io.BufferedReader:
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
    return io.BufferedReader(Guard(fh, gzipped), buffer_size=CHUNK)


def read_document(stream, what: str = "the document", guard: Guard | None = None) -> bytes:
    """All of a stream that holds one document: sniffed first, then read up to the limit."""
    head = stream.read(SNIFF_BYTES)
    if not head:
        if guard:
            guard.check()
        raise NotText("empty")
    sniff(head)
    data = bytearray(head)
    while len(data) <= MAX_INPUT_BYTES:  # in chunks: a refused input never gets a big buffer
        chunk = stream.read(min(CHUNK, MAX_INPUT_BYTES + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if guard:
        guard.check()
    if len(data) > MAX_INPUT_BYTES:
        raise NotText(f"{what} is larger than {mb(MAX_INPUT_BYTES)} (decompressed)")
    return bytes(data)


def mb(n: int) -> str:
    return f"{n / 2**20:g} MB"


def article(path: Path, site: str | None, **fields) -> Document:
    return Document(url=path.resolve().as_uri(), source=str(path), site=site, fetched=now(), **fields)
