"""The LSH index in SQLite: datasketch's banding, stored, and the trade its parameters make."""

from __future__ import annotations

import sqlite3

import numpy as np
from textgen import article

from collector.lsh import BANDS, MIN_BAND_HITS, ROWS, SQLiteLSH, _bucket
from collector.schema import migrate
from pipelines.fingerprint import NUM_PERM, fingerprint, minhash, shingle_hashes
from pipelines.link import relate


def _lsh(path=":memory:"):
    conn = sqlite3.connect(path, isolation_level=None)
    from sqlite_utils import Database

    migrate(Database(conn))
    return SQLiteLSH(conn)


def test_band_keys_are_datasketchs_own():
    lsh = _lsh()
    m, _ = fingerprint("\n".join(article(1)[1]))
    theirs = [(band, _bucket(lsh._H(m.hashvalues[start:end]))) for band, (start, end) in enumerate(lsh.hashranges)]
    assert lsh.band_keys(m) == theirs
    assert (lsh.b, lsh.r) == (BANDS, ROWS) and BANDS * ROWS <= NUM_PERM


def test_index_persists_and_forgets(tmp_path):
    path = tmp_path / "lsh.db"
    lsh = _lsh(str(path))
    m, _ = fingerprint("\n".join(article(2)[1]))
    lsh.add(7, m)
    lsh.conn.close()
    again = _lsh(str(path))  # a new process would see the same rows
    assert again.query(m) == [7]
    again.discard(7, m)
    assert again.query(m) == []


def _subset(hashes: np.ndarray, share: float, rng) -> np.ndarray:
    return np.sort(rng.choice(hashes, int(len(hashes) * share), replace=False))


def test_excerpts_are_found_and_chance_pairs_are_not():
    """The trade of 64 bands of 2 with two collisions required: sets at J ~ 0.33 (an excerpt
    of a third) are found nearly always; sets at J ~ 0.05 (same-beat stock phrases) rarely."""
    rng = np.random.default_rng(0)
    lsh = _lsh()
    found_excerpts = found_chance = 0
    trials = 60
    for i in range(trials):
        full = rng.integers(0, 2**63, 900, dtype=np.uint64)
        full = np.unique(full)
        excerpt = _subset(full, 1 / 3, rng)                    # J = 1/3, containment 1
        chance = np.unique(np.concatenate([_subset(full, 0.1, rng), rng.integers(0, 2**63, 900, dtype=np.uint64)]))
        lsh.add(3 * i, minhash(full))
        found_excerpts += 3 * i in lsh.query(minhash(excerpt))
        found_chance += 3 * i in lsh.query(minhash(chance))
    assert found_excerpts >= trials * 0.95
    assert found_chance <= trials * 0.15
    assert MIN_BAND_HITS == 2


def test_relate_thresholds():
    base = shingle_hashes("\n".join(article(3)[1]))
    rng = np.random.default_rng(1)
    assert relate(base, base, True)[0] == "duplicate"
    assert relate(base, base, False)[0] == "copy"
    assert relate(_subset(base, 0.3, rng), base, False)[0] == "excerpt"
    assert relate(_subset(base, 0.85, rng), base, False)[0] == "copy"
    unrelated = shingle_hashes("\n".join(article(4)[1]))
    assert relate(unrelated, base, False) is None
    assert relate(base[:5], base, False) is None  # too short to mean anything
