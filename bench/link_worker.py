"""The link-worker's own throughput: documents/s stored and linked from the inbox into
PostgreSQL (``collector link-worker``: batches of COLLECTOR_LINK_BATCH, one transaction each),
against the same inbox items through the same stages into SQLite (``run_items``: the import's
driver, the SQLite store's own batches). One run, one machine; starts a scratch PostgreSQL
(tests/pgserver.py) and stops it. Prints a table; writes bench/out/link_worker.md.

    .venv/bin/python bench/link_worker.py [--docs 2000]

The items are generated stories (a quarter copies or excerpts, bench/postgres.py), handed to
the inbox by a feeding import (COLLECTOR_INBOX), so they arrive extracted as a node's do. The
scratch server runs with fsync off: its commits cost less than a production server's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import paths  # noqa: E402,F401  (tests/ on sys.path)
from bench.common.report import Report  # noqa: E402
from bench.postgres import items  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.core.document import Document  # noqa: E402
from collector.ingest import run_items  # noqa: E402
from collector.linkworker import LinkWorker  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIG = str(REPO / "examples" / "configs")


def fill_inbox(url: str, docs: int) -> float:
    """The generated items handed to ``url``'s inbox as a node hands them; seconds taken."""
    context = Context({"COLLECTOR_DB": url, "COLLECTOR_INBOX": url, "COLLECTOR_CONFIG": CONFIG})
    try:
        summary = run_items(items(docs), context)
    finally:
        context.close()
    assert summary.queued == docs, summary.as_dict()
    return summary.seconds


def inbox_items(url: str) -> list[dict]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT item FROM inbox ORDER BY id")]


def link_postgres(url: str) -> tuple[float, int]:
    context = Context({"COLLECTOR_DB": url, "COLLECTOR_CONFIG": CONFIG})
    try:
        worker = LinkWorker(context)
        started = time.perf_counter()
        summary = worker.run(once=True)
        return time.perf_counter() - started, summary.new
    finally:
        context.close()


def link_sqlite(db: str, fields: list[dict]) -> tuple[float, int]:
    context = Context({"COLLECTOR_DB": db, "COLLECTOR_CONFIG": CONFIG})
    try:
        context.open_store()
        started = time.perf_counter()
        summary = run_items((Document(**f) for f in fields), context)
        return time.perf_counter() - started, summary.new
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="generated documents in the inbox")
    args = parser.parse_args()
    from pgserver import Server

    server = Server().start()
    try:
        with tempfile.TemporaryDirectory() as tmp, Report("link_worker") as report:
            url = server.new_database()
            filled = fill_inbox(url, args.docs)
            fields = inbox_items(url)
            pg_seconds, pg_new = link_postgres(url)
            lite_seconds, lite_new = link_sqlite(str(Path(tmp) / "linked.db"), fields)
            assert pg_new == lite_new == args.docs, (pg_new, lite_new)
            rows = [["PostgreSQL (link-worker)", f"{pg_seconds:.2f}", f"{args.docs / pg_seconds:,.0f}"],
                    ["SQLite (same stages, run_items)", f"{lite_seconds:.2f}", f"{args.docs / lite_seconds:,.0f}"]]
            report.table(["store", "seconds", "documents/s"], rows,
                         title=f"Storing and linking {args.docs:,} inbox items (filled at {args.docs / filled:,.0f} documents/s)")
            print(f"\nPostgreSQL / SQLite, documents/s: {lite_seconds / pg_seconds:.2f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
