"""The store: the one module that writes to the SQLite database.

WAL mode, one transaction per batch of documents. Everything a document brings (its row,
its LSH buckets, its claims, its links, chrome learned from it) is written in the batch's
transaction, so a kill loses at most the open batch and never leaves half a document; the
same import run again redoes exactly what was lost.

New documents enter the full-text index once per batch, just before COMMIT, in one
``INSERT ... SELECT``: a row-by-row trigger inside each document's savepoint costs FTS5
half again as much (bench/scale.py). Updates and deletes keep their triggers; the batch's
new rows are indexed first, so those triggers always find what they remove. The batch's LSH
rows are likewise held back and written in key order before COMMIT (``SQLiteLSH.flush``).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from collector.core.fingerprint import FINGERPRINT, signature_bytes, signature_from_bytes

from .dbfile import QUICK_CHECK_SECONDS, StoreBusy, StoreError, check_writable, explain, is_busy, quick_check
from .lsh import RECENT_DOCUMENTS, SQLiteLSH
from .schema import migrate, migrations

__all__ = ["Store", "StoreBusy", "StoreError", "utcnow"]


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


#: Seconds a batch may hold the write lock (COLLECTOR_COMMIT_INTERVAL): other writers wait
#: at most about this long, and a kill loses at most this long's work.
HOLD_SECONDS = 1.0
#: Seconds a writer waits for the lock before giving up with ``StoreBusy`` (COLLECTOR_LOCK_TIMEOUT).
LOCK_TIMEOUT = 600.0
#: Waiting for the lock, ``BEGIN IMMEDIATE`` is tried again after at most this long...
_POLL_MAX = 0.01
#: ...and a writer that just held the lock lets a tenth of that time (``_GAP`` at most) pass
#: before taking it again, so a waiter polling every ``_POLL_MAX`` gets its turn: SQLite's
#: lock is not fair, and an import would otherwise retake it at once, batch after batch.
_GAP = 0.02
#: Busy timeout (ms) of every other statement: reads wait only for a WAL recovery.
_BUSY_MS = 30_000


class Store:
    def __init__(self, path: str | Path, batch_size: int = 1000, recent_documents: int = RECENT_DOCUMENTS,
                 old_tokens: bool = False, hold_seconds: float = HOLD_SECONDS, lock_timeout: float = LOCK_TIMEOUT,
                 quick_check_seconds: float = QUICK_CHECK_SECONDS, lock_log: str | None = None):
        self.path = str(path)
        self.batch_size = max(1, batch_size)
        self.hold_seconds = hold_seconds
        self.lock_timeout = lock_timeout
        self.lock_log = lock_log
        self.lock_waits: list[float] = []  # seconds each BEGIN IMMEDIATE waited
        self._begun = self._released = 0.0  # monotonic times of the last BEGIN and COMMIT
        self._held = 0.0
        self.recent_documents = max(0, recent_documents)
        self._pending = 0
        self.documents_started = 0  # documents begun in this process (a crawl's commit timer watches it)
        self._in_document = False
        self._unindexed: list[int] = []  # new documents of the open batch, not yet in the FTS index
        self._unindexed_at_savepoint: list[int] = []
        self._learned: dict[str, set[str]] = {}  # per batch: other writers commit between batches
        self._site_counts: dict[str, int] = {}
        #: Changes whenever this connection undoes writes (a rollback) or changes documents
        #: behind the linker's back: what a reader holds from before (the linker's groups) may
        #: be stale then. Other connections' commits show in ``data_version``.
        self.generation = 0
        check_writable(self.path)
        existed = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_MS / 1000)
            if existed:
                quick_check(self.conn, self.path, quick_check_seconds)
            self._when_free(lambda: self.conn.execute("PRAGMA journal_mode=WAL").fetchone())
            self.conn.execute("PRAGMA synchronous=NORMAL")
            # Reads of the first GB come straight from the memory map; the page cache holds the
            # batch's dirty pages and the pages read beyond the map (the upper levels of the LSH
            # index at a million documents). Larger costs more than it saves: every page of it is
            # a page fault the first time, 65,000 of them for 256 MB (bench/scale.py).
            self.conn.execute("PRAGMA cache_size=-65536")  # KiB: 64 MB at most, used as needed
            self.conn.execute("PRAGMA mmap_size=1073741824")
            self.conn.execute("PRAGMA temp_store=MEMORY")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.db = Database(self.conn)
            self._set_up(old_tokens)
        except sqlite3.Error as exc:
            raise explain(self.path, exc) or StoreError(f"{self.path}: not a usable SQLite database: {exc}") from exc
        self.lsh = SQLiteLSH(self.conn)

    # --- transactions -------------------------------------------------------------
    # A writer holds SQLite's one write lock from BEGIN IMMEDIATE to COMMIT: never a read
    # transaction upgraded to a write (that fails at once when another writer committed
    # meanwhile), and never for long (``hold_seconds``), so other writers wait little.
    def begin(self) -> None:
        if self.conn.in_transaction:
            return
        pause = self._released + min(_GAP, self._held / 10) - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._when_free(lambda: self.conn.execute("BEGIN IMMEDIATE"), record=True)
        self._begun = time.monotonic()
        # what other writers committed since the last batch is seen from now on
        self._learned.clear()
        self._site_counts.clear()

    def _when_free(self, statement, record: bool = False):
        """Run ``statement`` (one that takes the write lock), retrying while another writer
        holds it, polling with a growing pause, until ``lock_timeout``: then ``StoreBusy``."""
        started = time.monotonic()
        pause = 0.001
        self.conn.execute("PRAGMA busy_timeout = 0")  # polled here: SQLite's own waits grow to 100 ms
        try:
            while True:
                try:
                    result = statement()
                    break
                except sqlite3.OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    if time.monotonic() - started > self.lock_timeout:
                        raise StoreBusy(
                            f"{self.path}: another writer held the database's lock for over {self.lock_timeout:g} s"
                            " (COLLECTOR_LOCK_TIMEOUT); nothing was lost: run the same command again") from exc
                time.sleep(random.uniform(0.5, 1.0) * pause)
                pause = min(pause * 1.5, _POLL_MAX)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        if record:
            self._record_wait(time.monotonic() - started)
        return result

    def _record_wait(self, seconds: float) -> None:
        self.lock_waits.append(seconds)
        if self.lock_log:  # bench/soak.py: every writer's waits, for percentiles
            with open(self.lock_log, "a", encoding="utf-8") as log:
                log.write(f"{seconds:.6f}\n")

    def held_too_long(self) -> bool:
        return self.conn.in_transaction and time.monotonic() - self._begun >= self.hold_seconds

    def commit_if_due(self, idle: bool = False) -> None:
        """Commit the open batch if it held the lock ``hold_seconds``, or at once when the
        caller has nothing to write for now (a crawl waiting for responses)."""
        if self.conn.in_transaction and (idle or self.held_too_long()):
            self.commit()

    # Each document's writes sit in a savepoint inside the batch's transaction: a stage that
    # fails on one document rolls back that document alone (``abort_document``).
    def _next_document(self) -> None:
        """A new document starts, so the one before it is complete: commit a full batch."""
        self._release_document()
        if self._pending >= self.batch_size or self.held_too_long():
            self.commit()
        self.begin()
        self.conn.execute("SAVEPOINT document")
        self.lsh.savepoint()
        self._unindexed_at_savepoint = list(self._unindexed)
        self._in_document = True
        self._pending += 1
        self.documents_started += 1

    def _release_document(self) -> None:
        if self._in_document:
            self.conn.execute("RELEASE SAVEPOINT document")
            self.lsh.release()
            self._in_document = False

    def abort_document(self) -> None:
        """Undo every write of the document in progress (a stage failed on it)."""
        if self._in_document:
            self.conn.execute("ROLLBACK TO SAVEPOINT document")
            self.conn.execute("RELEASE SAVEPOINT document")
            self.lsh.rollback_savepoint()
            self._in_document = False
            self._pending -= 1
            self.generation += 1
            # whatever was indexed inside the savepoint is undone with it
            self._unindexed = self._unindexed_at_savepoint
            self._learned.clear()
            self._site_counts.clear()

    def commit(self) -> None:
        self._release_document()
        if self.conn.in_transaction:
            self.lsh.flush()
            self._index_new()
            self.conn.execute("COMMIT")
            self._released = time.monotonic()
            self._held = self._released - self._begun
        self._pending = 0

    def data_version(self) -> int:
        """SQLite's count of other connections' commits as this one saw them."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def _index_new(self) -> None:
        """Add the batch's new documents to the full-text index (see the module docstring)."""
        ids = self._unindexed
        if not ids:
            return
        step = min(10_000, self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # bound parameters
        with self.db.atomic():  # all chunks or none, so a retried commit never indexes a row twice
            for start in range(0, len(ids), step):
                chunk = ids[start : start + step]
                self.conn.execute(
                    "INSERT INTO documents_fts (rowid, title, text) SELECT id, title, text FROM documents"
                    f" WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        self._unindexed = []

    def rollback(self) -> None:
        """Drop the open batch (an interrupted run): the next run redoes it."""
        self._in_document = False
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # a damaged or vanished file: SQLite rolled back already, or never wrote
        self.generation += 1
        self.lsh.rollback()
        self._pending = 0
        self._unindexed = []
        self._learned.clear()
        self._site_counts.clear()

    def close(self) -> None:
        self.commit()
        self.conn.close()

    def merge_index(self, force: bool = False) -> int:
        """Merge the recent LSH rows into the big index once there are enough of them (or
        now, ``force``); one transaction per band, so an interrupted merge keeps the bands it
        moved and loses nothing. Returns the rows moved."""
        self.commit()
        if not force and self.lsh.recent_documents() < self.recent_documents:
            return 0
        moved = 0
        for band in range(self.lsh.b):
            self.begin()
            moved += self.lsh.merge(band)
            self.commit()
        # The merge's pages, back in the file; skipped, not waited for, while others write.
        self.conn.execute("PRAGMA busy_timeout = 100")
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        return moved

    # --- set-up ---------------------------------------------------------------------
    def _set_up(self, old_tokens: bool) -> None:
        """Create or migrate the schema and record the fingerprint parameters, under the
        write lock: processes opening one new file at once each see the others' work."""
        if not migrations.pending(self.db) and self._fingerprint_params():
            self._check_fingerprint(old_tokens)
            return
        self.begin()
        try:
            migrate(self.db)  # sqlite-utils nests each migration in a savepoint of this transaction
            if not self._fingerprint_params():
                self.save_fingerprint_params()
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self._check_fingerprint(old_tokens)

    def _fingerprint_params(self) -> dict:
        if not self.db["fingerprint_params"].exists():
            return {}
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM fingerprint_params")}

    def _check_fingerprint(self, old_tokens: bool = False) -> None:
        stored = self._fingerprint_params()
        wanted = {k: str(v) for k, v in FINGERPRINT.items()}
        if not stored:
            self.save_fingerprint_params()
        elif stored.get("tokens") != wanted["tokens"] and {**stored, "tokens": wanted["tokens"]} == wanted:
            # Only the tokenizer changed: words are cut as before, so only documents in a
            # script written without spaces have other shingles now.
            if not self.spaceless_documents(limit=1):
                self.save_fingerprint_params()
            elif not old_tokens:
                raise StoreError(
                    f"{self.path}: documents in scripts written without spaces (Chinese, Japanese, Thai...) were "
                    "fingerprinted by words; run `collector refingerprint` once to fingerprint them by characters"
                )
        elif stored != wanted:
            raise StoreError(
                f"{self.path}: signatures were made with {stored}, this version makes {wanted}; "
                "use a new database or re-import"
            )

    def save_fingerprint_params(self) -> None:
        """Under the write lock, in the open transaction or in one of its own."""
        own = not self.conn.in_transaction
        if own:
            self._when_free(lambda: self.conn.execute("BEGIN IMMEDIATE"))
        try:
            with self.db.atomic():
                self.conn.execute("DELETE FROM fingerprint_params")
                self.conn.executemany("INSERT INTO fingerprint_params VALUES (?, ?)",
                                      [(k, str(v)) for k, v in FINGERPRINT.items()])
        except BaseException:
            if own and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        if own:
            self.conn.execute("COMMIT")

    def spaceless_documents(self, limit: int | None = None) -> list[int]:
        """Documents whose text holds a character of a script written without spaces."""
        from .core.fingerprint import has_spaceless

        found = []
        for doc_id, text in self.conn.execute("SELECT id, text FROM documents"):
            if not text.isascii() and has_spaceless(text):
                found.append(doc_id)
                if limit and len(found) >= limit:
                    break
        return found

    def sync_sites(self, sites) -> None:
        """The configured sites in the ``sites`` table; the lock is taken only if they changed."""
        rows = [
            {
                "key": s.key,
                "name": s.name,
                "domains": json.dumps(list(s.domains)),
                "aliases": json.dumps(list(s.aliases)),
                "config": s.path,
            }
            for s in sites
        ]
        cols = ("key", "name", "domains", "aliases", "config")
        stored = {r[0]: dict(zip(cols, r)) for r in self.conn.execute(f"SELECT {', '.join(cols)} FROM sites")}
        changed = [r for r in rows if stored.get(r["key"]) != r]
        if changed:
            self.begin()
            self.db["sites"].upsert_all(changed, pk="key")
            self.commit()

    def ensure_site(self, key: str, name: str | None = None) -> None:
        self.conn.execute("INSERT OR IGNORE INTO sites (key, name) VALUES (?, ?)", (key, name or key))

    # --- documents --------------------------------------------------------------------
    def find_url(self, url: str):
        return self.conn.execute("SELECT id, content_hash FROM documents WHERE url = ?", (url,)).fetchone()

    def has_content(self, content_hash: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE content_hash = ?", (content_hash,)).fetchone() is not None

    def url_with_content(self, content_hash: str) -> str | None:
        row = self.conn.execute("SELECT url FROM documents WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def has_url(self, url: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE url = ?", (url,)).fetchone() is not None

    def save_document(self, item, place=None) -> tuple[int, str]:
        """Insert or update the item's document; returns (id, 'new'|'updated'|'unchanged'),
        or what ``place`` returns: called first, in the document's savepoint, it decides the
        URL the item is stored under (``collector.core.identity``), and (id, 'variant') stores
        nothing more."""
        self._next_document()
        try:
            placed = place(item) if place is not None else None
            return placed if placed is not None else self._save(item)
        except BaseException:
            self.abort_document()
            raise

    def _save(self, item) -> tuple[int, str]:
        found = self.find_url(item["url"])
        if found and found[1] == item["content_hash"]:
            return found[0], "unchanged"
        if not found:
            # The extract stage's has-this-content check, again under the lock: another writer
            # may have stored the same input (a page saved twice) since.
            same = self.conn.execute("SELECT id FROM documents WHERE content_hash = ?", (item["content_hash"],)).fetchone()
            if same:
                return same[0], "unchanged"
        self.ensure_site(item["site"], item.get("sitename"))
        row = {
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
        if found:
            doc_id = found[0]
            self._index_new()  # the update trigger removes the old text from the index
            self.lsh.discard(doc_id, self.signature(doc_id))
            self.conn.execute("DELETE FROM claims WHERE doc_id = ?", (doc_id,))
            self.conn.execute("DELETE FROM line_sightings WHERE doc_id = ?", (doc_id,))
            self.db["documents"].update(doc_id, row)
            status = "updated"
        else:
            cols = ", ".join(row)
            marks = ", ".join(f":{c}" for c in row)
            doc_id = self.conn.execute(f"INSERT INTO documents ({cols}) VALUES ({marks})", row).lastrowid
            self._unindexed.append(doc_id)
            status = "new"
            if row["site"] in self._site_counts:
                self._site_counts[row["site"]] += 1
        self.lsh.add(doc_id, item["signature"])
        self.conn.executemany(
            "INSERT INTO claims (doc_id, kind, claimed_site, claimed_name, claimed_url, evidence)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (doc_id, c["kind"], c.get("claimed_site"), c.get("claimed_name"), c.get("claimed_url"), c["evidence"])
                for c in item.get("claims") or []
            ],
        )
        return doc_id, status

    def replace_text(self, doc_id: int, text: str, chrome: list[str], minhash, shingle_count: int, title: str | None) -> None:
        """Re-cleaned text (and title) for a stored document, re-indexed under its new signature."""
        self.begin()
        self._index_new()
        self.lsh.discard(doc_id, self.signature(doc_id))
        self.conn.execute(
            "UPDATE documents SET title = ?, text = ?, chrome = ?, words = ?, shingles = ?, signature = ? WHERE id = ?",
            (
                title,
                text,
                json.dumps(chrome, ensure_ascii=False),
                len(text.split()),
                shingle_count,
                signature_bytes(minhash),
                doc_id,
            ),
        )
        self.lsh.add(doc_id, minhash)

    def signature(self, doc_id: int):
        return signature_from_bytes(self.conn.execute("SELECT signature FROM documents WHERE id = ?", (doc_id,)).fetchone()[0])

    def documents(self, ids) -> dict[int, dict]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cur = self.conn.execute(
            f"SELECT id, url, site, title, published, fetched, canonical_url, sitename, text, chrome FROM documents WHERE id IN ({marks})",
            ids,
        )
        cols = [c[0] for c in cur.description]
        return {r[0]: dict(zip(cols, r)) for r in cur}

    def _rows_by_id(self, sql: str, ids) -> list[tuple]:
        """``sql`` (with one ``{marks}``) over ``ids`` in chunks, below SQLite's parameter limit."""
        ids = list(ids)
        rows = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows += self.conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
        return rows

    def metadata(self, ids) -> dict[int, dict]:
        """What deciding an origin needs of documents: no text."""
        cols = ("id", "url", "site", "published", "fetched", "canonical_url", "sitename")
        sql = f"SELECT {', '.join(cols)} FROM documents WHERE id IN ({{marks}})"
        return {row[0]: dict(zip(cols, row)) for row in self._rows_by_id(sql, ids)}

    def signatures(self, ids) -> dict[int, bytes]:
        return dict(self._rows_by_id("SELECT id, signature FROM documents WHERE id IN ({marks})", ids))

    def texts(self, ids) -> list[tuple[int, str]]:
        return self._rows_by_id("SELECT id, text FROM documents WHERE id IN ({marks})", ids)

    def candidates(self, minhash, min_hits: int | None = None) -> dict[int, int]:
        """Documents that share LSH bands with ``minhash``: id -> bands shared."""
        return self.lsh.query_hits(minhash) if min_hits is None else self.lsh.query_hits(minhash, min_hits)

    def claim_partners(self, doc_id: int) -> set[int]:
        """Documents tied to this one by a claim naming a URL: the ones it claims to come
        from, and the ones claiming to come from it (a late-arriving original)."""
        row = self.conn.execute("SELECT url, canonical_url FROM documents WHERE id = ?", (doc_id,)).fetchone()
        own = [u for u in row if u]
        claimed = [r[0] for r in self.conn.execute(
            "SELECT claimed_url FROM claims WHERE doc_id = ? AND claimed_url IS NOT NULL", (doc_id,))]
        found: set[int] = set()
        if claimed:
            marks = ",".join("?" * len(claimed))
            found.update(r[0] for r in self.conn.execute(
                f"SELECT id FROM documents WHERE url IN ({marks}) OR canonical_url IN ({marks})", claimed + claimed))
        marks = ",".join("?" * len(own))
        found.update(r[0] for r in self.conn.execute(
            f"SELECT doc_id FROM claims WHERE claimed_url IN ({marks})", own))
        found.discard(doc_id)
        return found

    def sketches(self, ids) -> dict[int, tuple]:
        """(signature values, shingle count) of stored documents: enough to estimate
        Jaccard and containment without reading their text."""
        ids = list(ids)
        out = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for doc_id, blob, count in self.conn.execute(
                f"SELECT id, signature, shingles FROM documents WHERE id IN ({marks})", chunk
            ):
                out[doc_id] = (np.frombuffer(blob, dtype=np.uint32), count)
        return out

    # --- claims and links -----------------------------------------------------------
    def claims_of(self, ids) -> dict[int, list[dict]]:
        ids = list(ids)
        out: dict[int, list[dict]] = {i: [] for i in ids}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        cur = self.conn.execute(
            f"SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims WHERE doc_id IN ({marks}) ORDER BY id",
            ids,
        )
        cols = [c[0] for c in cur.description]
        for r in cur:
            out[r[0]].append(dict(zip(cols, r)))
        return out

    def group_of(self, doc_id: int) -> set[int]:
        """The document's lineage group: its origin and everything linked to it.

        Links are at most two deep: a copy points at the origin, and a duplicate (the same
        article at another URL of one site) at that site's first copy.

        Read under the write lock (``begin``): another writer may be linking into the same
        group, and a merge must see its committed links, not an older snapshot of them.
        """
        self.begin()
        root = doc_id
        for _ in range(3):
            row = self.conn.execute("SELECT origin_id FROM links WHERE copy_id = ?", (root,)).fetchone()
            if row is None:
                break
            root = row[0]
        members, frontier = {root, doc_id}, [root]
        while frontier:
            marks = ",".join("?" * len(frontier))
            found = [r[0] for r in self.conn.execute(f"SELECT copy_id FROM links WHERE origin_id IN ({marks})", frontier)]
            frontier = [d for d in found if d not in members]
            members.update(frontier)
        return members

    def links_of(self, ids) -> dict[int, dict]:
        cols = ("copy_id", "origin_id", "relation", "similarity", "containment", "evidence")
        sql = f"SELECT {', '.join(cols)} FROM links WHERE copy_id IN ({{marks}})"
        return {row[0]: dict(zip(cols, row)) for row in self._rows_by_id(sql, ids)}

    def write_links(self, rows: list[dict], drop=()) -> None:
        """Write these links (one per copy, replacing its old one) and remove the links of
        ``drop`` (documents that became an origin)."""
        if not rows and not drop:
            return
        self.begin()
        self.conn.executemany("DELETE FROM links WHERE copy_id = ?", [(d,) for d in drop])
        self.conn.executemany(
            "INSERT OR REPLACE INTO links (copy_id, origin_id, relation, similarity, containment, evidence)"
            " VALUES (:copy_id, :origin_id, :relation, :similarity, :containment, :evidence)",
            rows,
        )

    # --- chrome learned from repetition -----------------------------------------------
    def learned_chrome(self, site: str) -> set[str]:
        if site not in self._learned:
            self._learned[site] = {r[0] for r in self.conn.execute("SELECT line FROM chrome_lines WHERE site = ?", (site,))}
        return self._learned[site]

    def record_sightings(self, site: str, doc_id: int, article_key: int, line_hashes) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO line_sightings (site, line_hash, doc_id, title_key) VALUES (?, ?, ?, ?)",
            [(site, h, doc_id, article_key) for h in line_hashes],
        )

    def sighting_counts(self, site: str, line_hashes) -> dict[int, int]:
        """For each line hash: in how many different articles of the site it was seen."""
        hashes = list(line_hashes)
        if not hashes:
            return {}
        marks = ",".join("?" * len(hashes))
        cur = self.conn.execute(
            f"SELECT line_hash, count(DISTINCT title_key) FROM line_sightings WHERE site = ? AND line_hash IN ({marks}) GROUP BY line_hash",
            [site, *hashes],
        )
        return dict(cur.fetchall())

    def site_document_count(self, site: str) -> int:
        # Counted once per run and site, then kept up to date: a count(*) per document
        # would grow with the corpus.
        if site not in self._site_counts:
            self._site_counts[site] = self.conn.execute("SELECT count(*) FROM documents WHERE site = ?", (site,)).fetchone()[0]
        return self._site_counts[site]

    def documents_with_line(self, site: str, line_hash: int) -> list[int]:
        cur = self.conn.execute("SELECT doc_id FROM line_sightings WHERE site = ? AND line_hash = ?", (site, line_hash))
        return [r[0] for r in cur]

    def learn_chrome(self, site: str, line: str, documents: int) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO chrome_lines (site, line, rule, documents, learned) VALUES (?, ?, 'learned', ?, ?)",
            (site, line, documents, utcnow()),
        )
        self.learned_chrome(site).add(line)

    # --- crawling: feed/sitemap validators and scheduled runs (collector.crawl.report, collector.crawl.schedule)
    # Each writes in its own short transaction; during a crawl that also commits the open batch
    # of documents, which is always safe (a batch is a run of complete documents).
    def source_validators(self, url: str) -> dict | None:
        """What a feed or sitemap answered when last read in full: kind, etag, last_modified."""
        cur = self.conn.execute("SELECT kind, etag, last_modified FROM source_validators WHERE url = ?", (url,))
        row = cur.fetchone()
        return dict(zip(("kind", "etag", "last_modified"), row)) if row else None

    def save_source_validators(self, rows: list[dict]) -> None:
        """Upsert rows of url, site, kind, etag, last_modified (a crawl that read them in full)."""
        if not rows:
            return
        self.begin()
        self._release_document()
        self.conn.executemany(
            "INSERT INTO source_validators (url, site, kind, etag, last_modified, checked)"
            " VALUES (:url, :site, :kind, :etag, :last_modified, :checked)"
            " ON CONFLICT(url) DO UPDATE SET site = excluded.site, kind = excluded.kind, etag = excluded.etag,"
            " last_modified = excluded.last_modified, checked = excluded.checked",
            [{"checked": utcnow(), **row} for row in rows],
        )
        self.commit()

    def start_run(self, site: str, started: str | None = None) -> int:
        """A scheduled crawl of ``site`` begins: its ``runs`` row, status 'running'."""
        self.begin()
        self._release_document()
        cur = self.conn.execute(
            "INSERT INTO runs (site, started, status) VALUES (?, ?, 'running')", (site, started or utcnow())
        )
        self.commit()
        return cur.lastrowid

    def finish_run(self, run_id: int, status: str, exit_status: int | None, pages_fetched: int | None = None,
                   new_documents: int | None = None, errors: int | None = None,
                   error_kinds: dict | None = None, ended: str | None = None) -> None:
        self.begin()
        self._release_document()
        self.conn.execute(
            "UPDATE runs SET ended = ?, status = ?, exit_status = ?, pages_fetched = ?, new_documents = ?,"
            " errors = ?, error_kinds = ? WHERE id = ?",
            (ended or utcnow(), status, exit_status, pages_fetched, new_documents, errors,
             json.dumps(error_kinds, sort_keys=True) if error_kinds is not None else None, run_id),
        )
        self.commit()

    def abandon_runs(self) -> int:
        """Mark runs left 'running' by a scheduler that died (SIGKILL, power loss) as 'abandoned'."""
        self.begin()
        self._release_document()
        cur = self.conn.execute("UPDATE runs SET status = 'abandoned' WHERE ended IS NULL AND status = 'running'")
        self.commit()
        return cur.rowcount

    def knows_url(self, url: str) -> bool:
        """A document is stored under this URL, or under the URL it redirected to."""
        if self.has_url(url):
            return True
        return self.conn.execute("SELECT 1 FROM url_aliases WHERE alias = ?", (url,)).fetchone() is not None

    def add_url_aliases(self, doc_id: int, aliases) -> None:
        """URLs that name the document (written with it, in its transaction): a list of URLs
        that redirected to it, or a dict URL -> kind ('redirect', 'canonical', 'variant')."""
        kinds = aliases if isinstance(aliases, dict) else dict.fromkeys(aliases, "redirect")
        self.conn.executemany(
            "INSERT OR REPLACE INTO url_aliases (alias, doc_id, kind) VALUES (?, ?, ?)",
            [(a, doc_id, kind) for a, kind in kinds.items()],
        )

    def alias_of(self, url: str) -> int | None:
        row = self.conn.execute("SELECT doc_id FROM url_aliases WHERE alias = ?", (url,)).fetchone()
        return row[0] if row else None
