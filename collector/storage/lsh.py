"""The LSH index (``store.lsh``): datasketch's MinHash banding, its band tables kept in SQLite.

The index must cover the whole stored corpus, survive between runs and cost nothing to
open (a million-document corpus must not be re-read to start an import). The bands are
datasketch ``MinHashLSH``'s; its per-band hash tables here are rows of the ``lsh_buckets``
table, so opening the index is opening the database.

Banding: ``BANDS`` bands of ``ROWS`` signature values; a band collides with probability
p = J**ROWS for two documents of Jaccard similarity J, and a pair is a candidate when at
least ``MIN_BAND_HITS`` of the bands collide (a binomial tail, instead of datasketch's
"any band"):

    J                      0.003    0.07    0.20    0.25    0.33    0.50    0.80
    P, any band (>= 1)     0.0006   0.27    0.93    0.98    0.999   1.00    1.00
    P, >= 2 bands          2e-7     0.047   0.75    0.92    0.995   1.00    1.00

The threshold is this low on purpose: an excerpt (a third of an article plus "read more")
has J of about 0.3 with its original, and must be found. Requiring two bands costs little
recall there but removes almost every chance pair: real unrelated news articles have J of
about 0.003 on 5-word shingles (measured on the fundus and Zyte pages), so at a million
stored documents a query meets well under one false candidate instead of ~600; same-beat
articles that share stock phrases (J ~ 0.07) drop six-fold. A document that claims an
origin ("Read more at X") is likely an excerpt, possibly a short one: it is queried with one
band (``min_hits=1``). Candidates are then verified by estimated and exact containment
(``pipelines.link``).

Two tables, as a log-structured merge: bucket keys are random, so each new document's 64
rows land on 64 random leaf pages of the index, and at a million documents (64 million
rows, 1.3 GB) every commit rewrote ~1.6 MB of pages per document. New rows go to the small
``lsh_recent`` table instead, whose pages stay in the cache; queries read both; when it
holds ``RECENT_DOCUMENTS`` documents' rows, ``merge`` moves them into ``lsh_buckets`` band
by band in key order, writing each page of the big table once for all of them.
"""

from __future__ import annotations

import functools
import sqlite3
from collections import Counter
from itertools import chain

import numpy as np
from sqlite_utils import Database

from collector.core.fingerprint import NUM_PERM

BANDS = 64
ROWS = 2  # band_keys packs a band into one int64: ROWS must stay 2
#: Band collisions a candidate needs (see the module docstring).
MIN_BAND_HITS = 2
#: Documents read from one bucket at most, the earliest stored first. A bucket holds more
#: only when that many documents share two exact signature values: the copies of one story
#: (a wire story has a thousand). Its first few are enough to find the story's group, and
#: reading all of them would make linking a story's 1,000th copy cost 100 times its 10th.
#: A true copy collides in many bands (a copy with J=0.8 in 41 of 64 on average, an excerpt
#: with J=0.3 in 6), so hiding it would take a cap in all of them but one.
BUCKET_READ_MAX = 16
#: Documents whose rows ``lsh_recent`` holds before they are merged into ``lsh_buckets``:
#: a merge rewrites most of the big table, so its cost per document falls as this grows,
#: while every commit's cost grows with the recent table (see bench/scale.py).
RECENT_DOCUMENTS = 20_000
TABLES = ("lsh_buckets", "lsh_recent")
_FLUSH_ROWS = 10_000  # rows per INSERT statement at most (three parameters each)


class LSHIndex:
    """The LSH index of ``conn``: datasketch's banding, its hash tables rows of SQLite tables.

    Band keys are datasketch's: ``MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))``
    cuts a signature into the same bands and hashes each to the same bytes (its ``_H``), read
    here as one int64 (tests/test_lsh.py checks it). Nothing else of ``MinHashLSH`` is used: its
    storage layer would cost a statement per band, where ``candidates`` reads all of a
    document's bands in one, and ``add`` holds a document's rows until ``flush`` writes a
    whole batch's (the store flushes before every commit; any other user calls it, inside a
    transaction, before the rows must be in the tables).
    """

    b, r, h = BANDS, ROWS, NUM_PERM  # bands, rows per band, signature length

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.db = Database(conn) if isinstance(conn, sqlite3.Connection) else None  # (PostgreSQL: its own flush)
        self._bands = np.arange(self.b, dtype=np.int64)
        # Rows of the open batch, held back and written at its end in key order (``flush``).
        self._pending: dict[int, np.ndarray] = {}  # doc_id -> its (band, bucket, doc_id) rows
        # per band, bucket -> doc_id (or a list of them: buckets rarely collide within a batch)
        self._pending_buckets: list[dict[int, int | list[int]]] = [{} for _ in range(self.b)]
        # What the open savepoints would have to take back (``rollback_savepoint``): the log,
        # and where each savepoint's entries begin in it.
        self._undo: list[tuple] | None = None
        self._marks: list[int] = []
        # Buckets known to hold more than BUCKET_READ_MAX documents: read row-limited (see
        # ``candidates``); every other bucket is read whole, by a faster join.
        self._big: set[tuple[int, int]] = set()

    def _buckets(self, minhash) -> np.ndarray:
        """Each band's bucket: the same key as datasketch's ``_H`` of the band, read as one
        big-endian int64, computed for all bands in one numpy step."""
        if len(minhash) != self.h:
            raise ValueError("Expecting minhash with length %d, got %d" % (self.h, len(minhash)))
        return np.asarray(minhash.hashvalues[: self.b * self.r], dtype=">u4").view(">i8").astype(np.int64)

    def band_keys(self, minhash) -> list[tuple[int, int]]:
        """(band, bucket) pairs (see ``_buckets``)."""
        return list(enumerate(self._buckets(minhash).tolist()))

    def _rows(self, minhash, *columns: int) -> np.ndarray:
        """(band, bucket, *columns) for every band, as one int64 array."""
        rows = np.empty((self.b, 2 + len(columns)), dtype=np.int64)
        rows[:, 0] = self._bands
        rows[:, 1] = self._buckets(minhash)
        rows[:, 2:] = columns
        return rows

    # --- rows held back until the batch ends ------------------------------------------
    # A document's 64 rows land on 64 random pages of the index; written one document at a
    # time, each insert walks the B-tree from cold CPU caches (the other stages ran in
    # between) and journals its pages for the document's savepoint. Held back, a batch's
    # rows are written at its end sorted by key, one page after the next: the store stage
    # costs a quarter less (bench/stages.py, plain text, run side by side).
    # Queries see them meanwhile; the store's savepoints and rollbacks cover them too.

    def add(self, doc_id: int, minhash) -> None:
        replaced = self._pending.get(doc_id)
        self._hold(doc_id, self._rows(minhash, doc_id))
        if replaced is not None:
            self._log("discard", doc_id, replaced)
        self._log("add", doc_id)

    def _log(self, *entry) -> None:
        # what the open savepoint would have to take back (see rollback_savepoint)
        if self._undo is not None:
            self._undo.append(entry)

    def _hold(self, doc_id: int, rows: np.ndarray) -> None:
        self._drop(doc_id)  # never held twice
        self._pending[doc_id] = rows
        for table, bucket in zip(self._pending_buckets, rows[:, 1].tolist()):
            held = table.setdefault(bucket, doc_id)
            if held != doc_id:
                if type(held) is list:
                    held.append(doc_id)
                else:
                    table[bucket] = [held, doc_id]

    def _drop(self, doc_id: int) -> np.ndarray | None:
        rows = self._pending.pop(doc_id, None)
        if rows is not None:
            for table, bucket in zip(self._pending_buckets, rows[:, 1].tolist()):
                held = table[bucket]
                if type(held) is list:
                    held.remove(doc_id)
                    if len(held) == 1:
                        table[bucket] = held[0]
                else:
                    del table[bucket]
        return rows

    def discard(self, doc_id: int, minhash) -> None:
        """Forget a document, given the signature it was indexed with."""
        rows = self._drop(doc_id)
        if rows is not None:
            self._log("discard", doc_id, rows)
            return
        rows = [(band, bucket, doc_id) for band, bucket in self.band_keys(minhash)]
        for table in TABLES:
            self.conn.executemany(f"DELETE FROM {table} WHERE band = ? AND bucket = ? AND doc_id = ?", rows)

    def flush(self) -> None:
        """Write the held-back rows, in key order (inside the caller's transaction)."""
        if not self._pending:
            return
        rows = np.concatenate(list(self._pending.values()))
        rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
        step = max(1, min(_FLUSH_ROWS, self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 3))
        # all or nothing: a statement that fails leaves the rows held and the tables as they were
        with self.db.atomic():
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                self.conn.execute(
                    "INSERT OR IGNORE INTO lsh_recent (band, bucket, doc_id) VALUES " + ", ".join(["(?, ?, ?)"] * len(chunk)),
                    chunk.ravel().tolist())
        self._log("flush", dict(self._pending))
        self._clear()

    def _clear(self) -> None:
        self._pending.clear()
        for table in self._pending_buckets:
            table.clear()

    # The store's document savepoints, nested as its ``document()`` blocks are.
    def savepoint(self) -> None:
        """A savepoint opened: what changes from here is logged, to be taken back."""
        if self._undo is None:
            self._undo = []
        self._marks.append(len(self._undo))

    def release(self, all_of_them: bool = False) -> None:
        """The innermost savepoint (or, ``all_of_them``, every one) was released: its
        changes stay, and once no savepoint is open they are no longer logged."""
        if all_of_them:
            self._marks.clear()
        elif self._marks:
            self._marks.pop()
        if not self._marks:
            self._undo = None

    def rollback_savepoint(self) -> None:
        """The innermost savepoint was rolled back: so are its changes to the held rows (the
        database undid its own, rows written by a flush included)."""
        mark = self._marks.pop() if self._marks else 0
        undo = self._undo or []
        for entry in reversed(undo[mark:]):
            if entry[0] == "add":
                self._drop(entry[1])
            elif entry[0] == "discard":
                self._hold(entry[1], entry[2])
            else:  # flush: the rows are held again
                for doc_id, rows in entry[1].items():
                    self._hold(doc_id, rows)
        del undo[mark:]
        if not self._marks:
            self._undo = None

    def rollback(self) -> None:
        """The transaction was rolled back: nothing held is kept."""
        self._clear()
        self._undo = None
        self._marks.clear()

    def recent_documents(self) -> int:
        """Documents whose rows wait in ``lsh_recent``: the rows of the last band, one per
        document, which a merge moves last (a merge cut short is still due)."""
        self.flush()
        return self.conn.execute("SELECT count(*) FROM lsh_recent WHERE band = ?", (self.b - 1,)).fetchone()[0]

    def merge(self, band: int) -> int:
        """Move one band's recent rows into ``lsh_buckets``, in key order; returns the rows.
        The caller holds the transaction: a band moves whole or not at all."""
        self.flush()
        moved = self.conn.execute(
            "INSERT OR IGNORE INTO lsh_buckets (band, bucket, doc_id)"
            " SELECT band, bucket, doc_id FROM lsh_recent WHERE band = ? ORDER BY bucket, doc_id", (band,)
        ).rowcount
        self.conn.execute("DELETE FROM lsh_recent WHERE band = ?", (band,))
        return moved

    def query(self, minhash, min_hits: int = MIN_BAND_HITS) -> list[int]:
        return list(self.candidates(minhash, min_hits))

    def candidates(self, minhash, min_hits: int | None = None) -> dict[int, int]:
        """Documents sharing at least ``min_hits`` bands with ``minhash``: id -> bands shared.

        Most buckets hold a document or two and are read by one join over the 64 keys. A bucket
        found to hold more than ``BUCKET_READ_MAX`` (the copies of a big story) is remembered
        and from then on read up to that many rows, by a sub-select of its own."""
        if min_hits is None:
            min_hits = MIN_BAND_HITS
        keys = [tuple(pair) for pair in self._rows(minhash).tolist()]
        small = [key for key in keys if key not in self._big]
        big = [key for key in keys if key in self._big]
        hits: Counter = Counter()
        if small:
            found = self._read_buckets(small)
            hits.update(dict(found))
            if len(found) > 4 * BUCKET_READ_MAX:
                self._big.update(self._read_big(small))
        if big:
            hits.update(dict(self._read_capped(big)))
        if self._pending:  # a held document is in neither table: its hits are all here
            held = [table.get(bucket) for table, (_, bucket) in zip(self._pending_buckets, keys)]
            hits.update(chain.from_iterable(
                h[:BUCKET_READ_MAX] if type(h) is list else (h,) for h in held if h is not None))
        return {doc_id: n for doc_id, n in hits.items() if n >= min_hits}

    # The three reads of ``candidates``, each (band, bucket) keys -> rows; the PostgreSQL
    # index (collector.storage.postgres) reads the same tables by its own SQL.
    def _read_buckets(self, keys: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """(doc_id, bands in common) over both tables."""
        return self.conn.execute(_join_sql(len(keys)), list(chain.from_iterable(keys))).fetchall()

    def _read_big(self, keys: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The keys whose buckets hold more than ``BUCKET_READ_MAX`` documents."""
        return [tuple(row) for row in self.conn.execute(_big_sql(len(keys)), list(chain.from_iterable(keys)))]

    def _read_capped(self, keys: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """(doc_id, bands in common), each bucket read up to ``BUCKET_READ_MAX`` rows per table."""
        return self.conn.execute(_capped_sql(len(keys)), list(chain.from_iterable(keys))).fetchall()


def _values(n: int) -> str:
    return f"WITH k(band, bucket) AS (VALUES {', '.join(['(?, ?)'] * n)})"


@functools.lru_cache(maxsize=None)
def _join_sql(n: int) -> str:
    # A document's rows are in one table or the other, never both (``add`` writes the recent
    # table after ``discard`` has emptied both; ``merge`` moves rows).
    return (f"{_values(n)} SELECT doc_id, count(*) FROM (SELECT doc_id FROM k JOIN lsh_buckets USING (band, bucket)"
            " UNION ALL SELECT doc_id FROM k JOIN lsh_recent USING (band, bucket)) GROUP BY doc_id")


@functools.lru_cache(maxsize=None)
def _big_sql(n: int) -> str:
    # The two tables joined one by one: through the lsh_index view SQLite would materialise
    # the whole index on every call.
    return (f"{_values(n)} SELECT band, bucket FROM (SELECT band, bucket FROM k JOIN lsh_buckets USING (band, bucket)"
            " UNION ALL SELECT band, bucket FROM k JOIN lsh_recent USING (band, bucket))"
            f" GROUP BY band, bucket HAVING count(*) > {BUCKET_READ_MAX}")


@functools.lru_cache(maxsize=None)
def _capped_sql(n: int) -> str:
    reads = [f"SELECT doc_id FROM (SELECT doc_id FROM {table} WHERE band = ?{2 * i + 1} AND bucket = ?{2 * i + 2}"
             f" LIMIT {BUCKET_READ_MAX})" for i in range(n) for table in TABLES]
    return f"SELECT doc_id, count(*) FROM ({' UNION ALL '.join(reads)}) GROUP BY doc_id"
