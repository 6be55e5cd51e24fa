"""Run the scale benchmark: ``python -m bench.scale [options]`` (see the package's docstring)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from bench.common.paths import OUT
from bench.common.report import Report
from bench.scale.build import build_big, verify
from bench.scale.groups import GROUP_SHARE, LARGEST
from bench.scale.loader import groups_path
from bench.scale.sections import (link_runs, say, section_build, section_bytes, section_costs, section_diagnose,
                                  section_first, section_link, section_merge, section_query, section_targets)


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description="Scale benchmark: linking into a large generated corpus.")
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--keep", action="store_true",
                        help="import into the cached database itself (it keeps the new documents) instead of a scratch copy")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of imports, (a) and (b) at the same time (the median ratio is reported)")
    parser.add_argument("--diagnose", type=int, default=1000,
                        help="new documents per variant in the statement-level measurements (0: skip them)")
    parser.add_argument("--group-share", type=float, default=GROUP_SHARE,
                        help="share of --docs in lineage groups (Zipf-sized; reposts imported with the real CLI)")
    parser.add_argument("--largest", type=int, default=LARGEST, help="members of the largest lineage group")
    parser.add_argument("--fts-check-max", type=int, default=200_000,
                        help="run FTS5 'integrity-check' on the built corpus up to this many documents")
    return parser.parse_args(argv)


def corpus(args, big: Path) -> tuple[dict, bool]:
    """The cached corpus, checked against the code as it is now; rebuilt when the code no
    longer stores what the cache holds (or the groups' parameters changed)."""
    meta_path = OUT / f"scale-{args.docs}.json"
    check = None
    if big.exists() and meta_path.exists() and groups_path(args.docs, ".json").exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("groups", {}).get("params") == [args.group_share, args.largest]:
            check = verify(big, meta["corpus"], args.seed, OUT, integrity=False)
        if check is not None and check["mismatches"]:
            print(f"{big}: the pipeline now stores something else ({check['mismatches'][:3]}): rebuilding",
                  file=sys.stderr, flush=True)
    if check is not None and not check["mismatches"]:
        return meta, False
    for suffix in ("", "-wal", "-shm"):
        Path(f"{big}{suffix}").unlink(missing_ok=True)
    print(f"building {big} ({args.docs:,} documents, {args.workers} workers)...", file=sys.stderr, flush=True)
    meta = build_big(big, args.docs, args.seed, args.workers, args.group_share, args.largest)
    check = verify(big, meta["corpus"], args.seed, OUT, integrity=args.docs <= args.fts_check_max)
    if check["mismatches"]:
        raise SystemExit(f"the loader stores what the pipeline does not: {check['mismatches'][:5]}")
    meta["verified"] = check
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta, True


def main(argv=None) -> None:
    args = options(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    big = OUT / f"scale-{args.docs}.db"
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    started_all = time.perf_counter()
    meta, built_now = corpus(args, big)
    s = SimpleNamespace(args=args, big=big, meta=meta, built_now=built_now, machine=machine)
    with Report(f"scale-{args.docs}", command=["bench/scale", *(argv or sys.argv[1:])]):
        section_build(s)
        link_runs(s)
        for section in (section_link, section_costs, section_merge, section_first, section_query, section_diagnose,
                        section_bytes, section_targets):
            section(s)
        say(f"\nWhole bench: {time.perf_counter() - started_all:,.0f} s; load average at end {os.getloadavg()[0]:.1f}.")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{s.target}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
