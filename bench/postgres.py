"""The PostgreSQL store beside the SQLite one, in one run on one machine: importing (documents/s
through every stage, the same items into each), and the LSH candidate query (p50/p99) at a
given index size. Starts a scratch PostgreSQL (tests/pgserver.py) and stops it. Prints tables;
writes bench/out/postgres.md.

    .venv/bin/python bench/postgres.py [--docs 2000] [--index 100000] [--queries 500]
    .venv/bin/python bench/postgres.py --scale 1000000 [--new 1000] [--repeat 2]

``--scale N`` measures the PostgreSQL store at N documents beside SQLite instead: the scale
benchmark's corpus (``python -m bench.scale``, built once and cached in bench/out/), loaded
into a PostgreSQL server kept in bench/out/pg-scale/ (``bench/scale/postgres.py``; loaded once,
then reused), the LSH candidate query p50/p99 on both, and the real ``collector import`` of the
scale benchmark's 1,000 new documents into (a) a database of only what they need and (b) a
scratch copy of the N-document one, on both backends, one after the other (alternating), and
the (b) / (a) ratio of each. Writes bench/out/postgres-scale-N.md.

It also times ``collector migrate-store`` copying the SQLite database it imported into PostgreSQL.

The PostgreSQL server runs with fsync off (a scratch server): its commits cost less than a
production server's; SQLite runs as the store runs it (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import paths  # noqa: E402,F401  (tests/ on sys.path)
from bench.common.report import Report  # noqa: E402

import numpy as np  # noqa: E402
from datasketch import MinHash  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.core.document import Document  # noqa: E402
from collector.core.fingerprint import NUM_PERM  # noqa: E402
from collector.ingest import import_paths, run_items  # noqa: E402
from collector.storage import open_store  # noqa: E402
from collector.storage.postgres.copy import copy_sqlite_to_postgres  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def items(n: int, seed: int = 3) -> list[Document]:
    """Stories with copies and excerpts across five sites (a quarter are copies)."""
    from textgen import article

    rng = random.Random(seed)
    out = []
    for i in range(n):
        story = i if rng.random() > 0.25 else rng.randrange(max(1, i))
        title, paras = article(story)
        if story != i:
            paras = paras[: rng.randint(2, len(paras))] + [f"Originally appeared at site{story % 5}.example"]
        url = f"https://site{i % 5}.example/{i}"
        out.append(Document(url=url, source=url, title=title, text="\n".join(paras),
                            published=f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00", fetched="2026-03-30T00:00:00+00:00"))
    return out


def timed_import(db: str, docs: int) -> tuple[float, float]:
    """Seconds to import the example corpus, and the generated items, into ``db`` (new)."""
    context = Context({"COLLECTOR_DB": db, "COLLECTOR_CONFIG": str(REPO / "examples" / "configs")})
    started = time.perf_counter()
    import_paths([REPO / "examples" / "corpus"], context, workers=1)
    examples = time.perf_counter() - started
    generated = items(docs)
    started = time.perf_counter()
    run_items(generated, context)
    context.close()
    return examples, time.perf_counter() - started


def signature(rng: np.random.Generator) -> MinHash:
    m = MinHash(num_perm=NUM_PERM)
    m.hashvalues = rng.integers(0, 2**32 - 1, NUM_PERM, dtype=np.uint64)
    return m


def lsh_query(db: str, index: int, queries: int) -> tuple[float, list[float]]:
    """Seconds to fill the index with ``index`` documents' rows, and each query's seconds
    (half fresh signatures, half near copies of stored ones)."""
    rng = np.random.default_rng(5)
    store = open_store(db)
    stored = []
    started = time.perf_counter()
    for start in range(0, index, 1000):
        store.begin()
        for doc_id in range(start + 1, min(index, start + 1000) + 1):
            m = signature(rng)
            store.lsh.add(doc_id, m)
            if doc_id % max(1, index // queries) == 0:
                stored.append(m)
        store.commit()
    store.merge_index(force=True)
    fill = time.perf_counter() - started
    asks = []
    for i in range(queries):
        if i % 2 and stored:
            m = MinHash(num_perm=NUM_PERM)
            m.hashvalues = stored[i % len(stored)].hashvalues.copy()
            m.hashvalues[::3] = rng.integers(0, 2**32 - 1, len(m.hashvalues[::3]), dtype=np.uint64)  # J ~ 0.5
        else:
            m = signature(rng)
        asks.append(m)
    times = []
    for m in asks:
        started = time.perf_counter()
        store.lsh.candidates(m)
        times.append(time.perf_counter() - started)
    store.close()
    return fill, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="generated documents imported after the examples")
    parser.add_argument("--index", type=int, default=100_000, help="documents in the LSH index queried")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--scale", type=int, default=0, help="measure at this many documents instead (see above)")
    parser.add_argument("--new", type=int, default=1000, help="--scale: new documents linked")
    parser.add_argument("--repeat", type=int, default=2, help="--scale: imports into (a) and (b) per backend (0: none)")
    parser.add_argument("--shared-buffers", default="", help="--scale: the server's shared_buffers (e.g. 4GB), the LSH"
                        " index read into it first (pg_prewarm)")
    args = parser.parse_args()
    if args.scale:
        from bench.scale.postgres import run_scale

        return run_scale(args)
    from pgserver import Server

    server = Server().start()
    try:
        with tempfile.TemporaryDirectory() as tmp, Report("postgres") as report:
            backends = {"SQLite": lambda name: str(Path(tmp) / f"{name}.db"), "PostgreSQL": lambda name: server.new_database()}
            rows, query_rows = [], []
            for name, new in backends.items():
                db = new("import")
                examples, generated = timed_import(db, args.docs)
                rows.append([name, f"{examples:.2f} s", f"{args.docs / generated:,.0f}"])
                if name == "SQLite":
                    imported = db
            files = sum(1 for f in (REPO / "examples" / "corpus").rglob("*") if f.is_file())
            report.table(["backend", f"example corpus ({files} files)", f"documents/s, {args.docs:,} generated"], rows,
                         title="Importing through every stage (one process, --workers 1)")
            started = time.perf_counter()
            copied = copy_sqlite_to_postgres(imported, server.new_database())
            seconds = time.perf_counter() - started
            report.table(["documents", "rows, all tables", "seconds", "documents/s"],
                         [[f"{copied['documents']:,}", f"{sum(copied.values()):,}", f"{seconds:.2f}",
                           f"{copied['documents'] / seconds:,.0f}"]],
                         title="migrate-store: the SQLite database above copied into a new PostgreSQL database")
            for name, new in backends.items():
                fill, times = lsh_query(new("lsh"), args.index, args.queries)
                p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
                query_rows.append([name, f"{args.index * 64 / fill:,.0f}", f"{p50 * 1000:.2f}", f"{p99 * 1000:.2f}"])
            ratio = [float(r[2]) for r in query_rows]
            report.table(["backend", "LSH rows written/s", "query p50 ms", "query p99 ms"], query_rows,
                         title=f"LSH candidates ('two bands collide') at {args.index:,} documents, {args.queries} queries")
            print(f"\nPostgreSQL / SQLite, query p50: {ratio[1] / ratio[0]:.1f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
