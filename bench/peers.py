"""The MinHash/LSH stage side by side with peers, same documents, same run.

    .venv/bin/python bench/peers.py

Documents: every real article body of ../shared/corpus (fundus and Zyte ground truth), each
with a lightly edited copy (3% of the words replaced) and an excerpt (its first 35%): three
true pairs per article, every other pair false. All methods shingle the same tokens
(``pipelines.fingerprint.words``, 5-word shingles) with 128 permutations and 64 bands of 2.

* datasketch, default: ``MinHash.update_batch`` over shingle bytes (its sha1 hash) and an
  in-memory ``MinHashLSH(params=(64, 2))``;
* collector: our fingerprint (numpy shingle hashes, datasketch ``update_batch`` with the
  identity hash) and the SQLite band index with its two-band rule, then our exact check;
* rensa (Rust): ``RMinHash`` and ``RMinHashLSH(num_bands=64)``;
* datatrove: ``MinhashDedupSignature``'s own shingle hashing (its default xxhash, 64-bit)
  and ``get_signature`` (numpy, one matrix a document), with a config of 64 buckets of 2
  hashes; its stage 2 pairs documents whose bucket signatures are equal, done here with a
  dict per bucket (its on-disk sort and its reader/writer steps are not timed).
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import corpus  # noqa: E402
from bench.common.report import Report  # noqa: E402

import numpy as np  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402
from sqlite_utils import Database  # noqa: E402

from collector.storage.lsh import LSHIndex  # noqa: E402
from collector.storage.schema import migrate  # noqa: E402
from collector.core.fingerprint import SHINGLE_SIZE, fingerprint, shingle_hashes, words  # noqa: E402
from collector.core.similarity import relate  # noqa: E402


def bodies() -> list[str]:
    return corpus.bodies(min_words=120)


def dataset():
    rng = random.Random(3)
    docs, group = [], []
    for g, body in enumerate(bodies()):
        tokens = body.split()
        edited = [("edited" if rng.random() < 0.03 else t) for t in tokens]
        excerpt = tokens[: int(len(tokens) * 0.35)]
        for text in (body, " ".join(edited), " ".join(excerpt)):
            docs.append(text)
            group.append(g)
    truth = {(a, b) for a, b in combinations(range(len(docs)), 2) if group[a] == group[b]}
    return docs, truth


def shingle_strings(text: str) -> list[str]:
    tokens = words(text)
    return list({" ".join(tokens[i : i + SHINGLE_SIZE]) for i in range(max(1, len(tokens) - SHINGLE_SIZE + 1))})


def score(found: set, truth: set) -> tuple[float, float]:
    tp = len(found & truth)
    return (tp / len(found) if found else 1.0), tp / len(truth)


def run_datasketch(docs):
    started = time.perf_counter()
    sigs = []
    for text in docs:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingle_strings(text)])
        sigs.append(m)
    sign = time.perf_counter() - started
    started = time.perf_counter()
    lsh = MinHashLSH(num_perm=128, params=(64, 2))
    for i, m in enumerate(sigs):
        lsh.insert(i, m)
    pairs = {(min(i, j), max(i, j)) for i, m in enumerate(sigs) for j in lsh.query(m) if j != i}
    return sign, time.perf_counter() - started, pairs


def run_collector(docs):
    started = time.perf_counter()
    sigs = [fingerprint(text)[0] for text in docs]
    sign = time.perf_counter() - started
    started = time.perf_counter()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(Database(conn))
    lsh = LSHIndex(conn)
    conn.execute("BEGIN")
    for i, m in enumerate(sigs):
        lsh.add(i, m)
    lsh.flush()  # the rows into SQLite, as the store does at the end of each batch
    pairs = {(min(i, j), max(i, j)) for i, m in enumerate(sigs) for j in lsh.query(m) if j != i}
    index = time.perf_counter() - started
    started = time.perf_counter()
    sets = {}
    verified = set()
    for a, b in pairs:
        sa = sets.setdefault(a, shingle_hashes(docs[a]))
        sb = sets.setdefault(b, shingle_hashes(docs[b]))
        if relate(sa, sb, False):
            verified.add((a, b))
    return sign, index, pairs, verified, time.perf_counter() - started


def run_rensa(docs):
    from rensa import RMinHash, RMinHashLSH

    started = time.perf_counter()
    sigs = []
    for text in docs:
        m = RMinHash(num_perm=128, seed=1)
        m.update(shingle_strings(text))
        sigs.append(m)
    sign = time.perf_counter() - started
    started = time.perf_counter()
    lsh = RMinHashLSH(threshold=0.3, num_perm=128, num_bands=64)
    for i, m in enumerate(sigs):
        lsh.insert(i, m)
    pairs = {(min(i, j), max(i, j)) for i, m in enumerate(sigs) for j in lsh.query(m) if j != i}
    return sign, time.perf_counter() - started, pairs


def run_datatrove(docs):
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

    from datatrove.utils.hashing import create_hash_func

    # The step's own methods, without its constructor, which loads a spaCy word tokenizer
    # (every row here shingles the same tokens) and an output folder.
    step = object.__new__(MinhashDedupSignature)
    step.config = MinhashConfig(n_grams=SHINGLE_SIZE, num_buckets=64, hashes_per_bucket=2)
    step.num_hashes = step.config.num_buckets * step.config.hashes_per_bucket
    step._parameters = None
    hash_func = create_hash_func(step.config.hash_config)
    started = time.perf_counter()
    sigs = []
    for text in docs:
        # the same 5-word shingles as every other row, hashed and signed the datatrove way
        shingles = np.fromiter((hash_func(s.encode("utf-8")) for s in shingle_strings(text)), dtype=np.uint64).reshape((-1, 1))
        sigs.append(step.get_signature(shingles))
    sign = time.perf_counter() - started
    started = time.perf_counter()
    buckets: dict = {}
    for i, sig in enumerate(sigs):
        for band, values in enumerate(sig):
            buckets.setdefault((band, tuple(values)), []).append(i)
    pairs = {(a, b) for members in buckets.values() for a, b in combinations(members, 2)}
    return sign, time.perf_counter() - started, pairs


def peer_rows(docs, truth) -> list[tuple]:
    """rensa's and datatrove's rows; a peer that is not installed is named in the report."""
    rows = []
    try:
        sign, index, pairs = run_rensa(docs)
        rows.append(("rensa 0.5 RMinHash + RMinHashLSH", sign, index, *score(pairs, truth)))
    except ImportError:
        print("rensa is not installed (pip install rensa): its row is skipped")
    try:
        sign, index, pairs = run_datatrove(docs)
        rows.append(("datatrove MinhashDedupSignature (xxhash64, numpy), buckets paired in memory", sign, index, *score(pairs, truth)))
    except ImportError:
        print("datatrove is not installed (pip install datatrove tokenizers xxhash): its row is skipped")
    return rows


def main() -> None:
    corpus.require(corpus.zyte_dir, corpus.fundus_dir)
    docs, truth = dataset()
    n = len(docs)
    rows = []
    sign, index, pairs = run_datasketch(docs)
    rows.append(("datasketch default (sha1, in-memory LSH)", sign, index, *score(pairs, truth)))
    sign, index, pairs, verified, verify = run_collector(docs)
    rows.append(("collector: datasketch, numpy hashes, SQLite bands (>= 2)", sign, index, *score(pairs, truth)))
    rows.append(("collector, after the exact containment check", sign, index + verify, *score(verified, truth)))
    with Report("peers") as report:
        rows += peer_rows(docs, truth)
        report.table(["method", "signatures / s", "sign ms / doc", "index+query ms / doc", "pair precision", "pair recall"],
                     [[name, f"{n / sign:.0f}", f"{sign / n * 1000:.3f}", f"{index / n * 1000:.3f}", f"{precision:.3f}", f"{recall:.3f}"]
                      for name, sign, index, precision, recall in rows],
                     title=f"### MinHash/LSH on {n} documents ({n // 3} real articles, each with an edited copy and a 35% excerpt)")


if __name__ == "__main__":
    main()
