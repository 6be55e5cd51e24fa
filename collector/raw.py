"""Raw inputs read back: the archive's records and the imported files, by ``raw_ref``.

A raw reference (``raw_ref``) is a string:

- ``corpus.warc/site-...-00000.warc.gz#offset=N``: a record of the archive, at byte N of
  its file (a path relative to the database's folder, or absolute);
- ``/path/pages.warc.gz#record=N``, ``/path/dump.jsonl#line=N``, ``/path/page.html``: an
  imported file, where it is (the N-th record of a WARC, the N-th line of a JSON Lines file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from .core.document import Document, source_ref  # noqa: F401  (source_ref: used by reprocess)
from .core.errors import RawMissing  # noqa: F401  (raised here; defined with every error)
from .storage.archive import refs_base  # noqa: F401  (used by the CLI's raw)



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


def read_record(path: Path, offset: int):
    """(WARC headers, HTTP headers, body bytes) of the archive record at ``offset``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                if not record.format.startswith("warc"):  # warcio also reads ARC: any text line is one
                    raise RawMissing(f"{path}#offset={offset}: not a WARC record")
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


def archived_article(ref: RawRef, **fields) -> Document:
    """The item a spider made from the archived response: the URL it fetched, the page
    decoded as it decoded it."""
    from .importers.decoding import NotText, decode
    from .spiders.site import _header_charset

    rec_headers, http_headers, body = read_record(ref.path, ref.offset)
    fields.setdefault("url", (rec_headers.get_header("WARC-Target-URI") or "").strip("<> "))
    charset = _header_charset({b"Content-Type": (http_headers.get_header("Content-Type") or "").encode("latin-1")})
    try:
        html = decode(body, declared=charset, html=True)
    except NotText as exc:
        raise RawMissing(f"{ref.path}#offset={ref.offset}: {exc}") from None
    return Document(html=html, **fields)


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


def imported_article(ref: RawRef) -> Document:
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
    return Document(**dict(item))


def forget_files() -> None:
    global _cursor
    _cursor = None


def raw_document(conn, id_or_url: str, base: Path) -> tuple[dict, bytes, str, bytes | None]:
    """(document id and url, raw bytes, content type, archived HTTP headers or None).
    ``conn``: a read-only ``sqlite3`` connection or a PostgreSQL ``Reader``; ``base``: what
    relative raw refs are relative to (``refs_base``)."""
    key = "d.id = ?" if id_or_url.isdigit() else "d.url = ? OR d.canonical_url = ?"
    params = [int(id_or_url)] if id_or_url.isdigit() else [id_or_url, id_or_url]
    row = conn.execute(f"SELECT d.id, d.url, d.source, r.raw_ref FROM documents d LEFT JOIN raw_inputs r"
                       f" ON r.doc_id = d.id WHERE {key} ORDER BY d.id LIMIT 1", params).fetchone()
    if row is None:
        raise LookupError(f"{id_or_url}: no such document")
    doc_id, url, source, ref_text = row
    ref_text = ref_text or source_ref(source)
    if not ref_text:
        raise RawMissing("no raw input recorded (crawled with the archive off, or before it was kept)")
    ref = RawRef.parse(ref_text, base)
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


def write_browsable(doc: dict, body: bytes, content_type: str) -> Path:
    """The raw input written to a temporary file a browser opens (``raw --open``): an HTML
    page with its ``<base href>``, anything else as text. Returns the file's path."""
    import tempfile

    suffix = ".html" if "html" in content_type else ".txt"
    path = Path(tempfile.gettempdir()) / f"collector-raw-{doc['id']}{suffix}"
    path.write_bytes(browsable(body, doc["url"]) if suffix == ".html" else body)
    return path
