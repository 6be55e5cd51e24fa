"""The real ``collector import --json`` in a new process (``bench.common.cli``), timed by the
stage timer when asked: every stage, the store's and the LSH index's calls, and each
document's linking. Results as the report reads them."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bench.common.cli import Collector, Result
from bench.common.paths import CONFIGS

#: The store's and the index's calls the timer wraps in a timed run (labels "store:NAME", "lsh:NAME"),
#: by the part of the store (``collector.storage``) that has them.
STORE_CALLS = {
    "store:Store": ("__init__", "commit", "close", "sync_sites", "merge_index"),
    "documents:DocumentStore": ("save", "sketches", "rows", "metadata", "has_content", "find_url", "signature"),
    "lineage:LineageStore": ("claim_partners", "group_of", "write_links", "links_of", "claims_of"),
    "chrome:ChromeMemory": ("record_sightings", "sighting_counts", "site_document_count", "learned"),
    "lsh:LSHIndex": ("candidates",),
}
TIME_CALLS = ",".join([f"store@collector.storage.{part}.{name}" for part, names in STORE_CALLS.items() for name in names]
                      + ["lsh@collector.storage.lsh:LSHIndex.add", "lsh@collector.storage.lsh:LSHIndex.query"])


def importer(db: Path, timings: Path | None = None, extra_env: dict | None = None) -> Collector:
    return Collector(db, config=CONFIGS, env=extra_env, timings=timings, time_calls=TIME_CALLS, per_item="LinkPipeline")


def as_run(result: Result) -> dict:
    """What the report reads of a run: wall, CPU, peak RSS, block I/O, its JSON summary, the timings."""
    run = {"wall": result.seconds, "cpu": result.cpu, "maxrss_bytes": result.max_rss, "summary": result.summary,
           "spawned": result.started, "stderr": result.stderr, **result.extra}
    if result.timings is not None:
        run["timings"] = result.timings
    return run


def run_cli(db: Path, jsonl: Path, timings: Path | None = None, extra_env: dict | None = None) -> dict:
    """``collector --db DB --config configs import JSONL --json``, alone."""
    return as_run(importer(db, timings, extra_env).run("import", jsonl, "--json"))


def run_pair(first: tuple, second: tuple, swap: bool) -> tuple[dict, dict]:
    """Two imports at the same time, one on each core (``swap`` exchanges the cores): the
    machine's load and clock, which drift by a factor of two within minutes here, are then
    the same for both, and their ratio is the database's doing. Each is (db, jsonl, timings)."""
    cpus = (1, 0) if swap else (0, 1)
    collectors = [importer(db, timings) for db, _, timings in (first, second)]
    running = [c.start("import", args[1], "--json", cpu=cpu) for c, args, cpu in zip(collectors, (first, second), cpus)]
    return as_run(collectors[0].finish(running[0])), as_run(collectors[1].finish(running[1]))


def copy_db(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    subprocess.run(["cp", "--reflink=auto", str(src), str(dst)], check=True)
    # Without reflinks (ext4) the copy leaves gigabytes of dirty pages whose writeback would
    # stall the measured run's fsyncs: wait for it, as for a database that sits on disk.
    os.sync()
    return time.perf_counter() - started


IMPORTS = ["collector.cli", "collector.ingest", "scrapy", "datasketch", "scipy.integrate", "sqlite_utils",
           "trafilatura", "numpy", "rich.console", "click"]


def import_times(stderr: str) -> dict[str, float]:
    """Cumulative seconds of some imports in a ``-X importtime`` report (nested: datasketch
    includes scipy.integrate, which it imports; collector.cli includes most of the rest)."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split(":", 1)[1].split("|")
        name = name.strip()
        if name in IMPORTS:
            found[name] = max(found.get(name, 0.0), int(cumulative) / 1e6)
    return found


