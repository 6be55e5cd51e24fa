"""The scale benchmark's corpus in PostgreSQL: loading it, and linking into it
(``bench/postgres.py --scale N``; the SQLite side is ``python -m bench.scale``).

The SQLite corpus of ``bench.scale`` (built once, cached as ``bench/out/scale-<N>.db``) is copied
into a PostgreSQL server whose data folder is kept in ``bench/out/pg-scale/`` (started and
stopped by the benchmark; a re-run starts it as it was left), by ``load``: every table by
``COPY``, as ``collector migrate-store`` copies them, but with the secondary indexes and the
``chrome_counts`` trigger dropped during the load and made again after it, then ``VACUUM
ANALYZE`` (the planner's statistics, and the visibility map that lets the LSH probes read the
index alone). The rows are the SQLite store's rows: the same documents, band keys, links.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from bench.common.paths import OUT

#: Where the server's data folder is kept between runs.
PG_ROOT = OUT / "pg-scale"
#: Settings of the benchmark's server beside the tests' (fsync off, tests/pgserver.py): a cache
#: big enough for the LSH index's upper levels, memory for building indexes.
SETTINGS = "-c shared_buffers=1GB -c maintenance_work_mem=512MB -c max_wal_size=2GB -c checkpoint_timeout=30min"
_ROWS_PER_READ = 20_000


def tables(conn) -> list[str]:
    """The SQLite store's tables a PostgreSQL store has, in an order keeping the foreign keys."""
    from collector.storage.postgres.copy import TABLES

    return list(TABLES)


def load(source: Path, url: str, progress=print) -> dict:
    """Copy the SQLite corpus ``source`` into the new (migrated, empty) database ``url``."""
    import psycopg

    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    conn = psycopg.connect(url, autocommit=True)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                           " AND indexdef NOT LIKE 'CREATE UNIQUE INDEX%'").fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("ALTER TABLE documents DISABLE TRIGGER chrome_counts_change")
    copied = {}
    for table in tables(conn):
        t = time.perf_counter()
        copied[table] = _copy(reader, conn, table)
        seconds[f"copy {table}"] = time.perf_counter() - t
        progress(f"  {table}: {copied[table]:,} rows in {seconds[f'copy {table}']:,.0f} s")
    t = time.perf_counter()
    for name, definition in indexes:
        conn.execute(definition)
        progress(f"  index {name} made ({time.perf_counter() - t:,.0f} s so far)")
    seconds["indexes"] = time.perf_counter() - t
    conn.execute("ALTER TABLE documents ENABLE TRIGGER chrome_counts_change")
    # what the trigger would have counted, document by document
    conn.execute("INSERT INTO chrome_counts (site, line, documents) SELECT site, line, count(*) FROM documents,"
                 " collector_chrome_lines(chrome) AS line GROUP BY site, line")
    for table in ("documents", "claims", "runs"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}")
    t = time.perf_counter()
    conn.execute("VACUUM ANALYZE")
    seconds["vacuum analyze"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - started
    conn.close()
    reader.close()
    return {"rows": copied, "seconds": seconds}


def _copy(reader: sqlite3.Connection, conn, table: str) -> int:
    present = {r[1] for r in reader.execute(f"PRAGMA table_info({table})")}
    columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_generated = 'NEVER'"
        " ORDER BY ordinal_position", (table,)) if r[0] in present]
    if not columns:
        return 0
    cursor = reader.execute(f"SELECT {', '.join(columns)} FROM {table}")
    count = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while rows := cursor.fetchmany(_ROWS_PER_READ):
            for row in rows:
                copy.write_row(row)
            count += len(rows)
    return count


def cached(server, name: str, source: Path, progress=print) -> tuple[str, dict]:
    """The database ``name`` holding ``source`` (loaded now unless it holds it already:
    the file's size and time are recorded beside the server's data folder)."""
    stamp = {"source": source.name, "bytes": source.stat().st_size, "mtime": int(source.stat().st_mtime)}
    record = PG_ROOT / f"{name}.json"
    url = server.url(name)
    if record.exists():
        kept = json.loads(record.read_text())
        if kept.get("stamp") == stamp:
            return url, {**kept["load"], "cached": True}
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.admin(f"CREATE DATABASE {name} TEMPLATE collector_template")
    progress(f"loading {source.name} into PostgreSQL ({name})...")
    loaded = load(source, url, progress)
    record.write_text(json.dumps({"stamp": stamp, "load": loaded}, indent=2))
    return url, {**loaded, "cached": False}


def scratch(server, template: str, name: str) -> tuple[str, float]:
    """A scratch copy of the database ``template`` (its files copied: fast for a big one)."""
    started = time.perf_counter()
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.admin(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    return server.url(name), time.perf_counter() - started


def query_latency(db: str, ids: list[int], fresh: list, queries: int) -> dict:
    """``LSHIndex.candidates`` (two bands collide), each query timed: signatures of the stored
    documents ``ids`` (read from the store), and ``fresh`` ones; p50/p99 in ms."""
    import numpy as np

    from collector.storage import open_store

    store = open_store(db)
    try:
        signatures = [store.documents.signature(i) for i in ids] + list(fresh)
        times, found = [], []
        for mh in signatures[:queries]:
            started = time.perf_counter()
            found.append(len(store.lsh.candidates(mh)))
            times.append(time.perf_counter() - started)
    finally:
        store.close()
    return {"n": len(times), "p50": float(np.percentile(times, 50)) * 1000, "p99": float(np.percentile(times, 99)) * 1000,
            "mean_candidates": float(np.mean(found))}


def explain(url: str, minhash) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate query for one signature."""
    import psycopg

    from collector.storage.lsh import LSHIndex
    from collector.storage.postgres.connection import translate
    from collector.storage.postgres.parts import _JOIN, _arrays

    keys = LSHIndex(None).band_keys(minhash)
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + translate(_JOIN), _arrays(keys))]


def _import(db, jsonl: Path) -> dict:
    """The real ``collector --db DB --config configs import JSONL --json``, a new process."""
    from bench.common.cli import Collector, command
    from bench.common.paths import CONFIGS

    class AtUrl(Collector):  # a database URL, not a file
        def argv(self, *args):
            return [*command(), "--db", str(db), "--config", str(CONFIGS), *[str(a) for a in args]]

    result = AtUrl(OUT / "pg-scale-run.db").run("import", jsonl, "--json")
    return {"wall": result.seconds, "cpu": result.cpu, "summary": result.summary, "load": result.extra["load"]}


def corpus_files(docs: int, new: int, seed: int = 1) -> dict:
    """The scale benchmark's cached corpus (built when missing), its new documents' JSONL and
    the (a) database of what they need (``bench.scale``'s own, made as its run makes them)."""
    from bench.scale.__main__ import corpus, options
    from bench.scale.groups import build_small, make_new
    from bench.scale.loader import groups_path

    args = options(["--docs", str(docs), "--new", str(new), "--seed", str(seed)])
    big = OUT / f"scale-{docs}.db"
    meta, _ = corpus(args, big)
    jsonl = OUT / f"scale-{docs}-new.jsonl"
    groups = json.loads(groups_path(docs, ".json").read_text())
    made = make_new(big, new, seed, jsonl, groups, meta["corpus"])
    small = OUT / f"scale-{docs}-pg-small-base.db"
    if not small.exists() or small.stat().st_mtime < big.stat().st_mtime:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{small}{suffix}").unlink(missing_ok=True)
        build_small(small, made, groups_path(docs, ".jsonl"))
    return {"big": big, "small": small, "jsonl": jsonl, "new": made, "meta": meta}


def run_scale(args) -> None:
    """``bench/postgres.py --scale N`` (see its docstring)."""
    import sys

    import psycopg

    from bench.common.report import Report
    from pgserver import Server

    docs = args.scale
    files = corpus_files(docs, args.new)
    cache = f" -c shared_buffers={args.shared_buffers}" if args.shared_buffers else ""
    server = Server(root=PG_ROOT, settings=SETTINGS + cache).start()
    loads: list[float] = []
    try:
        big_url, big_load = cached(server, f"scale_{docs}_big", files["big"])
        small_url, small_load = cached(server, f"scale_{docs}_small", files["small"])
        name = f"postgres-scale-{docs}" + (f"-buffers-{args.shared_buffers}" if args.shared_buffers else "")
        with Report(name, command=["bench/postgres.py", *sys.argv[1:]]) as report:
            if args.shared_buffers:  # the LSH index read into PostgreSQL's cache first
                blocks = prewarm(big_url)
                print(f"shared_buffers={args.shared_buffers}; the LSH index read into it before the queries and before"
                      f" each run ({blocks:,} blocks of lsh_buckets_pkey, pg_prewarm), as on a server in use\n")
            _query_section(report, files["big"], big_url, args.queries, loads)
            if args.repeat == 0:
                return
            runs, copies = _link_runs(server, files, docs, args.repeat, loads, bool(args.shared_buffers))
            _link_section(report, runs, files, args)
            _load_lines({"big": big_load, "small": small_load}, copies, loads)
    finally:
        server.stop()


def prewarm(url: str) -> int:
    """The LSH index's primary key read into shared_buffers (pg_prewarm); blocks read."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        return conn.execute("SELECT pg_prewarm('lsh_buckets_pkey') + pg_prewarm('lsh_recent_pkey')").fetchone()[0]


def _query_section(report, big: Path, big_url: str, queries: int, loads: list) -> None:
    """1. The LSH candidate query on both, the same signatures, after a few to warm up."""
    import os
    import random

    import numpy as np

    from bench.scale.generate import generator
    from collector.core.fingerprint import fingerprint

    conn = sqlite3.connect(big)
    top = conn.execute("SELECT max(id) FROM documents").fetchone()[0]
    conn.close()
    ids = random.Random(11).sample(range(1, top + 1), queries // 2)
    gen = generator()
    gen.rng = np.random.default_rng([1, 12])
    fresh = [fingerprint("\n".join(gen.article()[1]))[0] for _ in range(queries - len(ids))]
    measured = {}
    for name, db in (("SQLite", str(big)), ("PostgreSQL", big_url)):
        query_latency(db, ids[:20], fresh[:20], 40)  # the first reads of a cold cache aside
        loads.append(os.getloadavg()[0])
        measured[name] = query_latency(db, ids, fresh, queries)
    report.table(["backend", "queries", "p50 ms", "p99 ms", "candidates a query (mean)"],
                 [[n, q["n"], f"{q['p50']:.2f}", f"{q['p99']:.2f}", f"{q['mean_candidates']:.1f}"] for n, q in measured.items()],
                 title=f"LSH candidates ('two bands collide') at {top:,} documents: half stored documents'"
                       " signatures, half fresh articles'")
    print("\nThe candidate query on PostgreSQL, one fresh signature (EXPLAIN ANALYZE, BUFFERS):\n")
    print("\n".join("    " + line for line in explain(big_url, fresh[0])))


def _link_runs(server, files: dict, docs: int, repeat: int, loads: list, warm: bool = False) -> tuple[dict, list]:
    """2. The new documents into (a) and (b) on both backends, one run after the other
    (alternating the order), each into a scratch copy."""
    import os

    from bench.scale.runs import copy_db

    runs = {(b, w): [] for b in ("SQLite", "PostgreSQL") for w in ("a", "b")}
    copies = []
    for r in range(repeat):
        for which in [("a", "b"), ("b", "a")][r % 2]:
            url, seconds = scratch(server, f"scale_{docs}_{'small' if which == 'a' else 'big'}", f"run_{which}")
            copies.append(seconds)
            if warm:
                prewarm(url)
            loads.append(os.getloadavg()[0])
            runs[("PostgreSQL", which)].append(_import(url, files["jsonl"]))
            server.admin(f"DROP DATABASE run_{which} WITH (FORCE)")
            target = OUT / f"scale-{docs}-pg-bench-{which}.db"
            copy_db(files["small"] if which == "a" else files["big"], target)
            loads.append(os.getloadavg()[0])
            runs[("SQLite", which)].append(_import(target, files["jsonl"]))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
    return runs, copies


def _link_section(report, runs: dict, files: dict, args) -> None:
    import statistics

    rows, ratios = [], {}
    for backend in ("SQLite", "PostgreSQL"):
        loop = {w: [x["summary"]["seconds"] for x in runs[(backend, w)]] for w in ("a", "b")}
        ratios[backend] = statistics.median(b / a for a, b in zip(loop["a"], loop["b"]))
        for which, label in (("a", "(a) what the new documents need"), ("b", f"(b) {files['new']['docs_in_db']:,} documents")):
            rows.append([f"{backend} {label}", " / ".join(f"{x:.1f}" for x in loop[which]),
                         f"{args.new / statistics.median(loop[which]):,.0f}",
                         " / ".join(str(x["summary"]["new_links"]) for x in runs[(backend, which)])])
    report.table(["backend, database", "import loop s (each run)", "documents/s (median)", "links made"], rows,
                 title=f"Linking {args.new:,} new documents (`collector import --json`, a new process each run,"
                       f" {args.repeat} runs each, alternating)")
    print()
    for backend, ratio in ratios.items():
        print(f"- {backend}: (b) / (a) import loop, median of the runs: **{ratio:.2f}x** (target 1.5x)")


def _load_lines(loaded: dict, copies: list, loads: list) -> None:
    print("\nPostgreSQL loads (bench/scale/postgres.py `load`, COPY; cached between runs): "
          + "; ".join(f"{n}: {x['rows']['documents']:,} documents, {sum(x['rows'].values()):,} rows in "
                      f"{x['seconds']['total']:,.0f} s (indexes {x['seconds']['indexes']:,.0f} s, VACUUM ANALYZE "
                      f"{x['seconds']['vacuum analyze']:,.0f} s){' (cached)' if x['cached'] else ''}"
                      for n, x in loaded.items())
          + f". Scratch copies (CREATE DATABASE ... TEMPLATE) {min(copies):,.0f}-{max(copies):,.0f} s.")
    print(f"Load average during the measured runs: {min(loads):.1f}-{max(loads):.1f}.")
