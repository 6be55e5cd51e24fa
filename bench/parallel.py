"""Both cores: `collector import --workers 1` against `--workers 2` on the same real pages.

    .venv/bin/python bench/parallel.py [--copies N]

The pages are the Zyte and fundus HTML of ../shared/corpus, each saved under N different
names (so the set is large enough for the pool to pay), imported into fresh databases, one
run after the other, in rounds whose order alternates (1 2, 2 1, ...): each round's two
runs are minutes apart at most, and the median of the rounds' speed-ups is reported (the
machine's speed drifts more than that between rounds). The two databases must hold the
same contents (fetch times aside). Target: >= 1.7x.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import corpus  # noqa: E402
from bench.common.cli import Collector  # noqa: E402
from bench.common.paths import CONFIGS  # noqa: E402
from bench.common.report import Report  # noqa: E402

TABLES = ("documents", "links", "claims", "lsh_index", "chrome_lines", "line_sightings")


def contents(db: Path) -> dict:
    conn = sqlite3.connect(db)
    out = {}
    for table in TABLES:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in ("fetched", "learned", "source")]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
    conn.close()
    return out


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1, help="times each page is given (same page, same document)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of one run each (the order alternates)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many pages (a quick run)")
    return parser.parse_args()


def import_rounds(tmp: Path, pages: Path, rounds: int) -> list[dict[int, float]]:
    """Each round imports the pages with one and two workers into fresh databases, the order alternating."""
    found = []
    for r in range(rounds):
        seconds = {}
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            db = tmp / f"w{workers}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            seconds[workers] = Collector(db, config=CONFIGS).run("import", pages, "--workers", workers, "--json").seconds
        found.append(seconds)
    return found


def main() -> None:
    args = options()
    corpus.require(corpus.zyte_dir, corpus.fundus_dir)
    sources = corpus.html_files()[:args.limit]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        pages = tmp / "pages"
        pages.mkdir()
        for copy in range(args.copies):
            for i, src in enumerate(sources):
                shutil.copy(src, pages / (f"{copy}-" * bool(copy) + f"{i:04d}-{src.name}"))
        rounds = import_rounds(tmp, pages, args.rounds)
        same = contents(tmp / "w1.db") == contents(tmp / "w2.db")
    n = len(sources) * args.copies
    with Report("parallel") as report:
        report.table(["round", "--workers 1", "--workers 2", "speed-up"], [
            [i + 1, f"{s[1]:.1f} s ({n / s[1]:.1f} pages/s)", f"{s[2]:.1f} s ({n / s[2]:.1f} pages/s)", f"{s[1] / s[2]:.2f}x"]
            for i, s in enumerate(rounds)] + [["**median**", "", "", f"**{statistics.median(s[1] / s[2] for s in rounds):.2f}x**"]],
            title=f"### Import of {n} real HTML pages: one process against two ({args.rounds} rounds, order alternating)")
        print(f"\nidentical database contents: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
