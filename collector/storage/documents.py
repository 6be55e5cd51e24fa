"""The documents table (``store.documents``): rows, their full-text index and their LSH rows.

New documents enter the full-text index once per batch, just before COMMIT, in one
``INSERT ... SELECT`` (``index_new``): a row-by-row trigger inside each document's savepoint
costs FTS5 half again as much (bench/scale.py). Updates and deletes keep their triggers; the
batch's new rows are indexed first, so those triggers always find what they remove.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import nullcontext
from typing import Callable, Iterable

import numpy as np

from collector.core.fingerprint import signature_bytes, signature_from_bytes

from .lsh import LSHIndex
from .writer import Writer, utcnow

_CHUNK = 500  # ids per statement, below SQLite's parameter limit


def rows_by_id(conn: sqlite3.Connection, sql: str, ids: Iterable[int]) -> list[tuple]:
    """``sql`` (with one ``{marks}``) over ``ids`` in chunks, below SQLite's parameter limit."""
    ids = list(ids)
    rows = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows += conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
    return rows


class DocumentStore:
    def __init__(self, writer: Writer, lsh: LSHIndex):
        self._writer = writer
        self.conn = writer.conn
        self.lsh = lsh
        self.unindexed: list[int] = []  # new documents of the open batch, not yet in the FTS index
        self._site_counts: dict[str, int] = {}  # per batch: other writers commit between batches
        self._sites_written: set[str] = set()  # per batch, as the counts: ``ensure_site`` once

    def forget(self) -> None:
        """What was counted may be stale: another writer committed, or writes were undone."""
        self._site_counts.clear()
        self._sites_written.clear()

    # --- reads ----------------------------------------------------------------------------
    def find_url(self, url: str) -> tuple[int, str] | None:
        return self.conn.execute("SELECT id, content_hash FROM documents WHERE url = ?", (url,)).fetchone()

    def has_url(self, url: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE url = ?", (url,)).fetchone() is not None

    def has_content(self, content_hash: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE content_hash = ?", (content_hash,)).fetchone() is not None

    def url_with_content(self, content_hash: str) -> str | None:
        row = self.conn.execute("SELECT url FROM documents WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def signature(self, doc_id: int):
        return signature_from_bytes(self.conn.execute("SELECT signature FROM documents WHERE id = ?", (doc_id,)).fetchone()[0])

    def rows(self, ids: Iterable[int]) -> dict[int, dict]:
        # In chunks (``rows_by_id``): a line learned as chrome on a big site can name more
        # documents than one statement may take parameters.
        cols = ("id", "url", "site", "title", "published", "fetched", "canonical_url", "sitename", "text", "chrome")
        sql = f"SELECT {', '.join(cols)} FROM documents WHERE id IN ({{marks}})"
        return {r[0]: dict(zip(cols, r)) for r in rows_by_id(self.conn, sql, ids)}

    def metadata(self, ids: Iterable[int]) -> dict[int, dict]:
        """What deciding an origin needs of documents: no text."""
        cols = ("id", "url", "site", "published", "fetched", "canonical_url", "sitename")
        sql = f"SELECT {', '.join(cols)} FROM documents WHERE id IN ({{marks}})"
        return {row[0]: dict(zip(cols, row)) for row in rows_by_id(self.conn, sql, ids)}

    def signatures(self, ids: Iterable[int]) -> dict[int, bytes]:
        return dict(rows_by_id(self.conn, "SELECT id, signature FROM documents WHERE id IN ({marks})", ids))

    def texts(self, ids: Iterable[int]) -> list[tuple[int, str]]:
        return rows_by_id(self.conn, "SELECT id, text FROM documents WHERE id IN ({marks})", ids)

    def sketches(self, ids: Iterable[int]) -> dict[int, tuple]:
        """(signature values, shingle count) of stored documents: enough to estimate
        Jaccard and containment without reading their text."""
        rows = rows_by_id(self.conn, "SELECT id, signature, shingles FROM documents WHERE id IN ({marks})", ids)
        return {doc_id: (np.frombuffer(blob, dtype=np.uint32), count) for doc_id, blob, count in rows}

    def count_on_site(self, site: str) -> int:
        # Counted once per batch and site, then kept up to date: a count(*) per document
        # would grow with the corpus.
        if site not in self._site_counts:
            self._site_counts[site] = self.conn.execute("SELECT count(*) FROM documents WHERE site = ?", (site,)).fetchone()[0]
        return self._site_counts[site]

    def spaceless(self, limit: int | None = None) -> list[int]:
        """Documents whose text holds a character of a script written without spaces."""
        from collector.core.fingerprint import has_spaceless

        found = []
        for doc_id, text in self.conn.execute("SELECT id, text FROM documents"):
            if not text.isascii() and has_spaceless(text):
                found.append(doc_id)
                if limit and len(found) >= limit:
                    break
        return found

    # --- writes ---------------------------------------------------------------------------
    def _document(self):
        """The driver's document scope, or one of the write's own when there is none."""
        return nullcontext() if self._writer.in_document() else self._writer.document()

    def save(self, item, place: Callable | None = None) -> tuple[int, str]:
        """Insert or update the item's document; returns (id, 'new'|'updated'|'unchanged'),
        or what ``place`` returns: called first, in the document's savepoint, it decides the
        URL the item is stored under (``collector.core.identity``), and (id, 'variant') stores
        nothing more."""
        with self._document():
            self._writer.write()
            placed = place(item) if place is not None else None
            return placed if placed is not None else self.put(item)

    def put(self, item) -> tuple[int, str]:
        """``save`` once the URL is decided (inside the document's savepoint)."""
        found, same = self._stored_as(item["url"], item["content_hash"])
        if found and found[1] == item["content_hash"]:
            return found[0], "unchanged"
        if not found and same is not None:
            return same, "unchanged"
        self.ensure_site(item["site"], item.get("sitename"))
        row = _row(item)
        if found:
            doc_id = found[0]
            self.lsh.discard(doc_id, self.signature(doc_id))
            self.conn.execute("DELETE FROM claims WHERE doc_id = ?", (doc_id,))
            self.conn.execute("DELETE FROM line_sightings WHERE doc_id = ?", (doc_id,))
            self._update_row(doc_id, row)
            status = "updated"
        else:
            doc_id = self._insert_row(row)
            status = "new"
            if row["site"] in self._site_counts:
                self._site_counts[row["site"]] += 1
        self.lsh.add(doc_id, item["signature"])
        self.conn.executemany(
            "INSERT INTO claims (doc_id, kind, claimed_site, claimed_name, claimed_url, evidence)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(doc_id, c["kind"], c.get("claimed_site"), c.get("claimed_name"), c.get("claimed_url"), c["evidence"])
             for c in item.get("claims") or []],
        )
        return doc_id, status

    def _stored_as(self, url: str, content_hash: str) -> tuple[tuple[int, str] | None, int | None]:
        """(id, content hash) of the document at ``url``, and when there is none, the id of
        one holding ``content_hash``: the extract stage's has-this-content check, again under
        the lock (another writer may have stored the same input, a page saved twice, since)."""
        found = self.find_url(url)
        if found:
            return found, None
        same = self.conn.execute("SELECT id FROM documents WHERE content_hash = ?", (content_hash,)).fetchone()
        return None, same[0] if same else None

    def _update_row(self, doc_id: int, row: dict) -> None:
        self.index_new()  # the update trigger removes the old text from the full-text index
        self._writer.db["documents"].update(doc_id, row)

    def _insert_row(self, row: dict) -> int:
        cols, marks = ", ".join(row), ", ".join(f":{c}" for c in row)
        doc_id = self.conn.execute(f"INSERT INTO documents ({cols}) VALUES ({marks})", row).lastrowid
        self.unindexed.append(doc_id)  # indexed for full-text search at commit, in one statement
        return doc_id

    def ensure_site(self, key: str, name: str | None = None) -> None:
        if key not in self._sites_written:  # forgotten with the writes that made it (``forget``)
            self.conn.execute("INSERT OR IGNORE INTO sites (key, name) VALUES (?, ?)", (key, name or key))
            self._sites_written.add(key)

    def replace_text(self, doc_id: int, text: str, chrome: list[str], minhash, shingle_count: int,
                     title: str | None) -> None:
        """Re-cleaned text (and title) for a stored document, re-indexed under its new signature."""
        self._writer.write()
        self.index_new()
        self.lsh.discard(doc_id, self.signature(doc_id))
        self.conn.execute(
            "UPDATE documents SET title = ?, text = ?, chrome = ?, words = ?, shingles = ?, signature = ? WHERE id = ?",
            (title, text, json.dumps(chrome, ensure_ascii=False), len(text.split()), shingle_count,
             signature_bytes(minhash), doc_id),
        )
        self.lsh.add(doc_id, minhash)

    # --- which URL a document is (``collector.core.identity.UrlDirectory``) ---------------
    def url_row(self, url: str) -> tuple[int, int] | None:
        """(id, shingle count) of the document stored at ``url``."""
        return self.conn.execute("SELECT id, shingles FROM documents WHERE url = ?", (url,)).fetchone()

    def named_by_canonical(self, target: str, own: str) -> list[tuple[int, int]]:
        """(id, shingle count) of a few other documents whose canonical link is ``target``."""
        return self.conn.execute(
            "SELECT id, shingles FROM documents WHERE canonical_url = ? AND url != ? LIMIT 20", (target, own)).fetchall()

    def placed_by_canonical(self, doc_id: int) -> bool:
        """Whether the document was stored under a URL its canonical link gave it."""
        return self.conn.execute(
            "SELECT 1 FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' LIMIT 1", (doc_id,)).fetchone() is not None

    def move_back(self, doc_id: int) -> None:
        """Store the document under the URL it was fetched at again (its 'canonical' alias)."""
        row = self.conn.execute(
            "SELECT alias FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' ORDER BY rowid LIMIT 1",
            (doc_id,)).fetchone()
        if row is None or self.has_url(row[0]):
            return  # its own URL is a document already (cannot happen through identity)
        self._writer.write()
        self.conn.execute("DELETE FROM url_aliases WHERE alias = ?", (row[0],))
        self.index_new()  # the update trigger finds the document in the full-text index
        self.conn.execute("UPDATE documents SET url = ? WHERE id = ?", (row[0], doc_id))
        self._writer.generation += 1  # the linker's groups hold the old URL

    def index_new(self) -> None:
        """Add the batch's new documents to the full-text index (see the module docstring)."""
        ids = self.unindexed
        if not ids:
            return
        step = min(10_000, self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # bound parameters
        with self._writer.db.atomic():  # all chunks or none, so a retried commit never indexes a row twice
            for start in range(0, len(ids), step):
                chunk = ids[start : start + step]
                self.conn.execute(
                    "INSERT INTO documents_fts (rowid, title, text) SELECT id, title, text FROM documents"
                    f" WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        self.unindexed = []


def _row(item) -> dict:
    return {
        "url": item["url"],
        "site": item["site"],
        "title": item.get("title"),
        "author": item.get("author"),
        "published": item.get("published"),
        "published_raw": item.get("published_raw"),
        "published_from": item.get("published_from") if item.get("published") else None,
        "fetched": item.get("fetched") or utcnow(),
        "source": item.get("source"),
        "text": item["text"],
        "chrome": json.dumps(item.get("chrome") or [], ensure_ascii=False),
        "canonical_url": item.get("canonical_url"),
        "sitename": item.get("sitename"),
        "language": item.get("language"),
        "content_hash": item["content_hash"],
        "words": len(item["text"].split()),
        "shingles": item["shingle_count"],
        "signature": signature_bytes(item["signature"]),
    }
