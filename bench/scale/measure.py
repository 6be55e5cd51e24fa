"""What the report measures besides the imports: statement-level costs of storing a document,
LSH query latency and plans, opening the store, and bytes per document."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.common.paths import REPO
from bench.scale.generate import DOC_COLUMNS, fresh_records, generator
from bench.scale.loader import prepare
from collector.core.fingerprint import fingerprint
from collector.storage.lsh import BANDS
from collector.storage import Store

VARIANTS = [
    # label, FTS5: "batch" (one INSERT ... SELECT per batch before COMMIT, as the store does)
    # | "trigger" (a row trigger inside each document's savepoint, as before m006) | None,
    # table for the LSH rows, documents per commit
    ("as the store does: row, 64 rows into lsh_recent, FTS5 rows per batch", "batch", "lsh_recent", 200),
    ("before: FTS5 trigger per row, the 64 rows straight into lsh_buckets", "trigger", "lsh_buckets", 200),
    ("FTS5 trigger per row, lsh_recent", "trigger", "lsh_recent", 200),
    ("no FTS5 at all", None, "lsh_recent", 200),
    ("no LSH rows", "batch", None, 200),
    ("as the store does, again (last: the cache as warm as it gets)", "batch", "lsh_recent", 200),
]
#: The insert trigger sqlite-utils made for the FTS index (dropped by migration m006).
FTS_TRIGGER = ('CREATE TRIGGER "documents_ai" AFTER INSERT ON "documents" BEGIN INSERT INTO "documents_fts" '
               '(rowid, "title", "text") VALUES (new.rowid, new."title", new."text"); END')


def written_bytes() -> int:
    """Bytes this process has written to disk so far (/proc/self/io)."""
    with open("/proc/self/io") as fh:
        for line in fh:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def fill_recent(db: Path, documents: int, seed: int) -> float:
    """Give ``lsh_recent`` the rows of ``documents`` documents: random bucket keys (band keys
    of real signatures are uniform) for ids no document has, so no query ever meets them."""
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    rng = np.random.default_rng([seed, 15])
    first = 10**12
    conn.execute("BEGIN")
    for lo in range(0, documents, 5000):
        n = min(5000, documents - lo)
        buckets = rng.integers(-2**63, 2**63 - 1, size=(n, BANDS), dtype=np.int64)
        conn.executemany("INSERT INTO lsh_recent (band, bucket, doc_id) VALUES (?, ?, ?)",
                         ((band, int(b), first + lo + i) for i in range(n) for band, b in enumerate(buckets[i])))
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def diagnose(db: Path, variants: list, seed: int, per_variant: int) -> list[dict]:
    """What storing a document costs in ``db``, statement by statement, as ``DocumentStore.put`` and
    ``LSHIndex.add`` issue them (a savepoint per document, the row with its FTS5 trigger, 64
    bucket rows), and what the batch's COMMIT costs (WAL write and checkpoint): per variant,
    ``per_variant`` new generated documents. Bytes written: /proc/self/io."""
    store = Store(db)  # the store's own connection settings
    conn = store.conn
    gen = generator()
    first = conn.execute("SELECT max(id) FROM documents").fetchone()[0] + 1_000_000
    cols = [c for c in DOC_COLUMNS if c != "id"]
    insert = f"INSERT INTO documents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    out = []
    for v, (label, fts, table, batch) in enumerate(variants):
        records = fresh_records(gen, [seed, 14, v], first + v * per_variant, per_variant)
        prepared = prepare(records)
        rows = [r[1:] for r in prepared["rows"]]  # the store lets SQLite pick the id
        if fts == "trigger":
            conn.execute(FTS_TRIGGER)
        t = {"label": label, "documents": 0.0, "lsh": 0.0, "commit": 0.0, "n": len(rows)}
        written = written_bytes()
        for lo in range(0, len(rows), batch):
            conn.execute("BEGIN IMMEDIATE")
            ids = []
            for row, bands in zip(rows[lo:lo + batch], prepared["bands"][lo:lo + batch]):
                conn.execute("SAVEPOINT document")
                started = time.perf_counter()
                doc_id = conn.execute(insert, row).lastrowid
                ids.append(doc_id)
                t["documents"] += time.perf_counter() - started
                if table:
                    started = time.perf_counter()
                    conn.execute(f"INSERT OR IGNORE INTO {table} (band, bucket, doc_id) VALUES "  # as LSHIndex.add
                                 + ", ".join(["(?, ?, ?)"] * BANDS),
                                 [v for band, bucket in enumerate(bands.tolist()) for v in (band, bucket, doc_id)])
                    t["lsh"] += time.perf_counter() - started
                conn.execute("RELEASE SAVEPOINT document")
            if fts == "batch":  # what the documents_ai trigger does, for the whole batch at once
                started = time.perf_counter()
                conn.execute('INSERT INTO "documents_fts" (rowid, "title", "text") '
                             f"SELECT rowid, title, text FROM documents WHERE rowid IN ({','.join('?' * len(ids))})", ids)
                t["documents"] += time.perf_counter() - started
            started = time.perf_counter()
            conn.execute("COMMIT")
            t["commit"] += time.perf_counter() - started
        t["written"] = written_bytes() - written
        if fts == "trigger":
            conn.execute('DROP TRIGGER "documents_ai"')
        out.append(t)
    store.close()
    return out


def query_latency(db: Path, seed: int, queries: int) -> dict:
    store = Store(db)
    n_docs, base = store.conn.execute("SELECT count(*), max(id) FROM documents").fetchone()
    rng = np.random.default_rng([seed, 11])
    stored_ids = [int(i) for i in rng.choice(np.arange(1, base + 1), size=queries // 2, replace=False)]
    stored = [(i, store.documents.signature(i)) for i in stored_ids]
    gen = generator()
    gen.rng = np.random.default_rng([seed, 12])
    fresh = [(None, fingerprint("\n".join(gen.article()[1]))[0]) for _ in range(queries - len(stored))]
    out = {"docs": n_docs, "rows": []}
    passes = [("≥ 2 bands", {}, "first"), ("≥ 2 bands", {}, "again"),
              ("≥ 1 band (documents that claim an origin)", {"min_hits": 1}, "first")]
    for label, sigs in (("stored", stored), ("fresh", fresh)):
        for rule, kwargs, attempt in passes:
            times, cands, others, missed = [], [], 0, 0
            for own, mh in sigs:
                started = time.perf_counter()
                found = store.lsh.query(mh, **kwargs)
                times.append(time.perf_counter() - started)
                extra = [d for d in found if d != own]
                cands.append(len(extra))
                others += bool(extra)
                if own is not None and own not in found:
                    # A bucket is read up to 16 rows, earliest stored first: a later member of a
                    # big group of near-identical reposts finds the group's first members instead.
                    assert extra, f"a stored document finds neither itself nor a copy ({own})"
                    missed += 1
            out["rows"].append({"label": f"{label} signatures, {rule}, {attempt} pass", "n": len(sigs),
                                "p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99)),
                                "max": max(times), "mean_candidates": float(np.mean(cands)), "max_candidates": max(cands),
                                "with_candidates": others, "not_itself": missed})
    out["plan"] = query_plans(store, [sig for _, sig in stored + fresh])
    store.close()
    return out


def statement_name(shape: str) -> str:
    """What a statement of ``LSHIndex.candidates`` does, from its text."""
    if "LIMIT" in shape:
        return "the row-limited read of big buckets"
    if "HAVING" in shape:
        return "the search for big buckets"
    if "JOIN lsh_buckets" in shape:
        return "the join over all keys"
    return shape[:80]


def query_plans(store: Store, signatures: list) -> dict[str, list[str]]:
    """How SQLite runs the statements ``LSHIndex.query`` issues for these signatures: each
    statement is caught as it runs (``set_trace_callback`` gives it with its values bound),
    the first of each kind explained (subqueries numbered alike)."""
    issued: list[str] = []
    store.conn.set_trace_callback(issued.append)
    try:
        for signature in signatures:
            store.lsh.query(signature)
    finally:
        store.conn.set_trace_callback(None)
    plans = {}
    for sql in issued:
        name = statement_name(" ".join(sql.split()))
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and name not in plans:
            plans[name] = [re.sub(r"subquery-\d+", "subquery-N", r[3]) for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return plans


def store_open(db: Path) -> dict:
    code = ("import time, json, sys; t0 = time.perf_counter(); from collector.storage import Store; t1 = time.perf_counter(); "
            "s = Store(sys.argv[1]); t2 = time.perf_counter(); s.close(); "
            "print(json.dumps({'import': t1 - t0, 'open': t2 - t1}))")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, check=True, cwd=REPO)
    data = json.loads(result.stdout)
    data["wall"] = time.perf_counter() - started
    return data


def db_bytes(db: Path) -> dict:
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    try:
        # One row per page, summed in SQL: dbstat's own aggregate mode keeps pgsize in 32 bits
        # and wraps above 2 GB (SQLite 3.40).
        objects = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        method = "dbstat"
    except sqlite3.OperationalError:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        objects = {"(all)": page * conn.execute("PRAGMA page_count").fetchone()[0]}
        method = "page_count"
    owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    n_docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    sig = conn.execute("SELECT sum(length(signature)) FROM documents").fetchone()[0] or 0
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    freelist = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
    conn.close()
    groups = {"text (documents table and its indexes, less signatures)": 0, "signatures (documents.signature)": sig,
              "LSH index (lsh_buckets, lsh_recent)": 0, "full-text index (documents_fts*)": 0,
              "line_sightings (learn stage)": 0, "other": freelist}
    for name, size in objects.items():
        table = owner.get(name, name)
        if table == "documents":
            groups["text (documents table and its indexes, less signatures)"] += size
        elif table in ("lsh_buckets", "lsh_recent"):
            groups["LSH index (lsh_buckets, lsh_recent)"] += size
        elif table.startswith("documents_fts"):
            groups["full-text index (documents_fts*)"] += size
        elif table == "line_sightings":
            groups["line_sightings (learn stage)"] += size
        else:
            groups["other"] += size
    groups["text (documents table and its indexes, less signatures)"] -= sig
    return {"docs": n_docs, "groups": groups, "objects": objects, "method": method, "file": db.stat().st_size,
            "seconds": time.perf_counter() - started}
