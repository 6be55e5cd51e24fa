"""`collector migrate-store` both ways on a big corpus: SQLite -> PostgreSQL -> SQLite.

    .venv/bin/python bench/migrate_store.py [--docs 100000] [--workers 2]

1. **The corpus**: the scale benchmark's (``bench/scale``: generated articles through the
   genuine stages, Zipf-sized lineage groups imported with the real CLI, so its links, claims
   and LSH rows are the pipeline's own), built once and cached as ``bench/out/scale-<docs>.db``
   (shared with ``python -m bench.scale --docs N``).
2. **SQLite -> PostgreSQL**: the real ``collector migrate-store FILE URL`` into a new database
   of a scratch server (tests/pgserver.py; fsync off, as every scratch server here: a
   production server's commits cost more).
3. **PostgreSQL -> SQLite**: ``collector migrate-store URL FILE`` into a new file.
4. **Check**: per table, the row count and a checksum (SHA-256 of the rows in primary-key
   order) in all three databases; the round-tripped file passes FTS5's 'integrity-check'.

Reports the wall time, documents/s and peak RSS of each copy (GNU time), and the databases'
sizes. Tables go to stdout and ``bench/out/migrate_store.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import paths  # noqa: E402,F401  (tests/ on sys.path)
from bench.common.cli import Collector  # noqa: E402
from bench.common.paths import OUT  # noqa: E402
from bench.common.report import Report, mb  # noqa: E402
from bench.scale.groups import GROUP_SHARE, LARGEST  # noqa: E402

from collector.storage.postgres.copy import TABLES  # noqa: E402
from collector.storage.postgres.to_sqlite import ORDER  # noqa: E402

#: Compared in all three: every copied table, and chrome_counts (filled by triggers on both sides).
CHECKED = [*TABLES, "chrome_counts"]
ORDER_ALL = {**ORDER, "chrome_counts": "site, line"}


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/migrate_store.py", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes building the corpus (once)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def corpus(args) -> tuple[Path, dict]:
    """The scale benchmark's cached corpus of ``--docs`` documents (built, checked, reused)."""
    from bench.scale.__main__ import corpus as scale_corpus

    OUT.mkdir(parents=True, exist_ok=True)
    big = OUT / f"scale-{args.docs}.db"
    scale_args = SimpleNamespace(docs=args.docs, seed=args.seed, workers=args.workers, group_share=GROUP_SHARE,
                                 largest=LARGEST, fts_check_max=0)
    meta, built = scale_corpus(scale_args, big)
    return big, {"built_now": built, "build_seconds": meta.get("seconds")}


def _value(v):
    if isinstance(v, memoryview):
        v = bytes(v)
    return v.hex() if isinstance(v, bytes) else repr(v)


def _digest(rows_in_batches) -> tuple[int, str]:
    """(rows, SHA-256 of their values) for rows in batches."""
    digest, count = hashlib.sha256(), 0
    for rows in rows_in_batches:
        for row in rows:
            digest.update("\x1f".join(_value(v) for v in row).encode("utf-8") + b"\x1e")
        count += len(rows)
    return count, digest.hexdigest()[:16]


def sqlite_checksums(db: Path) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for table in CHECKED:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        cur = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {ORDER_ALL[table]}")
        out[table] = _digest(iter(lambda: cur.fetchmany(5000), []))
    conn.close()
    return out


def postgres_checksums(url: str, like: Path) -> dict[str, tuple[int, str]]:
    """The same checksums over PostgreSQL (the SQLite file ``like`` names the columns: the
    generated full-text column is PostgreSQL's own). Text is ordered byte-wise (COLLATE "C"), as SQLite orders it."""
    from collector.storage.postgres.reading import Reader

    names = sqlite3.connect(f"file:{like}?mode=ro", uri=True)
    reader, out = Reader(url), {}
    with reader.snapshot():
        for table in CHECKED:
            columns = [r[1] for r in names.execute(f"PRAGMA table_info({table})")]
            order = ", ".join(f'{c} COLLATE "C"' if c in ("site", "line", "alias", "hash", "key", "url") else c
                              for c in ORDER_ALL[table].split(", "))
            with reader.stream(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}") as cur:
                out[table] = _digest(iter(lambda: cur.fetchmany(5000), []))
    reader.close()
    names.close()
    return out


def migrate(source, target, work: Path) -> tuple[object, dict]:
    import json

    result = Collector(work / "unused.db").run("migrate-store", source, target, "--json")  # --db: not read by migrate-store
    return result, json.loads(result.stdout.strip().splitlines()[-1])


def postgres_bytes(server, url: str) -> int:
    import psycopg

    with psycopg.connect(server.url()) as conn:
        return conn.execute("SELECT pg_database_size(%s)", (url.rsplit("/", 1)[1],)).fetchone()[0]


def runs(args, big: Path, server) -> dict:
    work = OUT / "migrate-store-work"
    work.mkdir(exist_ok=True)
    back = work / f"back-{args.docs}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{back}{suffix}").unlink(missing_ok=True)
    url = server.new_database()
    to_pg, copied = migrate(big, url, work)
    to_sqlite, copied_back = migrate(url, back, work)
    started = time.perf_counter()
    sums = {"sqlite": sqlite_checksums(big), "postgresql": postgres_checksums(url, big), "round trip": sqlite_checksums(back)}
    check_seconds = time.perf_counter() - started
    conn = sqlite3.connect(back)
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")  # raises if not the documents'
    conn.close()
    sizes = {"sqlite": big.stat().st_size, "postgresql": postgres_bytes(server, url), "round trip": back.stat().st_size}
    server.drop(url)
    back.unlink()
    return {"to_pg": to_pg, "to_sqlite": to_sqlite, "copied": copied, "copied_back": copied_back, "sums": sums,
            "sizes": sizes, "check_seconds": check_seconds}


def report(out: Report, built: dict, found: dict) -> bool:
    docs = found["copied"]["documents"]
    rows = []
    for name, result, copied in (("SQLite -> PostgreSQL", found["to_pg"], found["copied"]),
                                 ("PostgreSQL -> SQLite", found["to_sqlite"], found["copied_back"])):
        rows.append([name, f"{docs:,}", f"{sum(copied.values()):,}", f"{result.seconds:,.1f}",
                     f"{docs / result.seconds:,.0f}", f"{result.cpu:,.1f}", mb(result.max_rss)])
    print(f"\nCorpus: {docs:,} documents ({'built now' if built['built_now'] else 'cached'}; bench/scale's generator), "
          f"{found['copied']['links']:,} links, {found['copied']['claims']:,} claims, "
          f"{found['copied']['lsh_buckets'] + found['copied']['lsh_recent']:,} LSH rows.")
    out.table(["copy", "documents", "rows", "wall s", "documents/s", "CPU s", "peak RSS"], rows,
                 title="migrate-store, each way (one run)")
    sums, same = found["sums"], True
    table_rows = []
    for table in CHECKED:
        values = [sums[k][table] for k in ("sqlite", "postgresql", "round trip")]
        equal = len(set(values)) == 1
        same &= equal
        table_rows.append([table, f"{values[0][0]:,}", values[0][1], "yes" if equal else f"NO: {values[1:]}"])
    out.table(["table", "rows", "checksum (SQLite)", "equal in PostgreSQL and the round trip"], table_rows,
                 title="The three databases, table by table (rows in primary-key order)")
    print(f"\nSizes: SQLite {mb(found['sizes']['sqlite'])}, PostgreSQL {mb(found['sizes']['postgresql'])}, round trip "
          f"{mb(found['sizes']['round trip'])}. The round-tripped file passes FTS5's 'integrity-check'. "
          f"Checksums took {found['check_seconds']:,.0f} s. All tables equal: {'yes' if same else 'NO'}.")
    return same


def main(argv=None) -> int:
    from pgserver import Server

    args = options(argv)
    big, built = corpus(args)
    server = Server().start()
    try:
        found = runs(args, big, server)
    finally:
        server.stop()
    with Report("migrate_store", command=["bench/migrate_store.py", *(argv if argv is not None else sys.argv[1:])]) as out:
        same = report(out, built, found)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
