"""datasketch's MinHashLSH with its band tables kept in SQLite.

The index must cover the whole stored corpus, survive between runs and cost nothing to
open (a million-document corpus must not be re-read to start an import). datasketch's
``MinHashLSH`` does the banding; its per-band hash tables here are rows of the
``lsh_buckets`` table, so opening the index is opening the database.

Banding: ``BANDS`` bands of ``ROWS`` signature values. Two documents of Jaccard
similarity J become candidates with probability 1 - (1 - J**ROWS) ** BANDS:

    J      0.10   0.20   0.25   0.33   0.50   0.80
    P      0.48   0.93   0.98   0.999  1.00   1.00

The threshold is this low on purpose: an excerpt (a third of an article plus "read more")
has J of about 0.3 with its original, and must be found. The price is more candidates,
each verified on exact shingle sets (``pipelines.link``); unrelated news articles share
almost no 5-word shingles (J < 0.02), so they rarely collide at all.
"""

from __future__ import annotations

import sqlite3

from datasketch import MinHashLSH
from datasketch.storage import OrderedStorage, UnorderedStorage

from pipelines.fingerprint import NUM_PERM

BANDS = 64
ROWS = 2


def _bucket(key: bytes) -> int:
    # A band of two uint32 values is 8 bytes: exactly one SQLite INTEGER.
    return int.from_bytes(key, "big", signed=True)


class BandTable(UnorderedStorage):
    """One band's hash table: bucket -> document ids, as rows of ``lsh_buckets``."""

    def __init__(self, conn: sqlite3.Connection, band: int):
        self.conn = conn
        self.band = band

    def get(self, key):
        rows = self.conn.execute(
            "SELECT doc_id FROM lsh_buckets WHERE band = ? AND bucket = ?", (self.band, _bucket(key))
        )
        return {r[0] for r in rows}

    def insert(self, key, *vals, **kwargs):
        self.conn.executemany(
            "INSERT OR IGNORE INTO lsh_buckets (band, bucket, doc_id) VALUES (?, ?, ?)",
            [(self.band, _bucket(key), v) for v in vals],
        )

    def remove_val(self, key, val, **kwargs):
        self.conn.execute(
            "DELETE FROM lsh_buckets WHERE band = ? AND bucket = ? AND doc_id = ?", (self.band, _bucket(key), val)
        )

    def remove(self, *keys, **kwargs):
        for key in keys:
            self.conn.execute("DELETE FROM lsh_buckets WHERE band = ? AND bucket = ?", (self.band, _bucket(key)))

    def has_key(self, key):
        return bool(self.get(key))

    def keys(self):
        rows = self.conn.execute("SELECT DISTINCT bucket FROM lsh_buckets WHERE band = ?", (self.band,))
        return [r[0].to_bytes(8, "big", signed=True) for r in rows]

    def size(self):
        return self.conn.execute("SELECT count(DISTINCT bucket) FROM lsh_buckets WHERE band = ?", (self.band,)).fetchone()[0]

    def itemcounts(self, **kwargs):
        rows = self.conn.execute("SELECT bucket, count(*) FROM lsh_buckets WHERE band = ? GROUP BY bucket", (self.band,))
        return {r[0].to_bytes(8, "big", signed=True): r[1] for r in rows}


class _NoKeys(OrderedStorage):
    """MinHashLSH keeps key -> band hashes for ``remove``; the bucket rows already hold
    that, and ``SQLiteLSH.remove`` recomputes the bands from the stored signature."""

    def keys(self):
        return []

    def get(self, key):
        return []

    def insert(self, key, *vals, **kwargs):
        pass

    def remove(self, *keys, **kwargs):
        pass

    def remove_val(self, key, val):
        pass

    def size(self):
        return 0

    def itemcounts(self, **kwargs):
        return {}

    def has_key(self, key):
        return False


class SQLiteLSH(MinHashLSH):
    """A ``MinHashLSH`` whose hash tables are the ``lsh_buckets`` table of ``conn``."""

    def __init__(self, conn: sqlite3.Connection):
        super().__init__(num_perm=NUM_PERM, params=(BANDS, ROWS))
        self.hashtables = [BandTable(conn, i) for i in range(self.b)]
        self.keys = _NoKeys()
        self.conn = conn

    def add(self, doc_id: int, minhash) -> None:
        self.insert(doc_id, minhash, check_duplication=False)

    def discard(self, doc_id: int, minhash) -> None:
        """Forget a document, given the signature it was indexed with."""
        for (start, end), table in zip(self.hashranges, self.hashtables):
            table.remove_val(self._H(minhash.hashvalues[start:end]), doc_id)
