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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "corpus"
TABLES = ("documents", "links", "claims", "lsh_index", "chrome_lines", "line_sightings")


def contents(db: Path) -> dict:
    conn = sqlite3.connect(db)
    out = {}
    for table in TABLES:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in ("fetched", "learned", "source")]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1, help="times each page is given (same page, same document)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of one run each (the order alternates)")
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is absent")
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        pages.mkdir()
        sources = sorted((CORPUS / "extraction" / "scrapinghub-aeb" / "html").glob("*.html.gz"))
        sources += sorted((CORPUS / "publishers" / "fundus").glob("*/*.html.gz"))
        for i, src in enumerate(sources):
            shutil.copy(src, pages / f"{i:04d}-{src.name}")
        rounds = []
        for r in range(args.rounds):
            seconds = {}
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                db = Path(tmp) / f"w{workers}.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                started = time.perf_counter()
                subprocess.run([str(REPO / ".venv" / "bin" / "collector"), "--db", str(db), "--config", str(REPO / "configs"),
                                "import", str(pages), "--workers", str(workers), "--json"], check=True, capture_output=True)
                seconds[workers] = time.perf_counter() - started
            rounds.append(seconds)
        same = contents(Path(tmp) / "w1.db") == contents(Path(tmp) / "w2.db")
        n = len(sources)
        print(f"\n### Import of {n} real HTML pages: one process against two ({args.rounds} rounds, order alternating)\n")
        print("| round | --workers 1 | --workers 2 | speed-up |")
        print("|---|---|---|---|")
        for i, seconds in enumerate(rounds):
            print(f"| {i + 1} | {seconds[1]:.1f} s ({n / seconds[1]:.1f} pages/s) | {seconds[2]:.1f} s ({n / seconds[2]:.1f} pages/s) "
                  f"| {seconds[1] / seconds[2]:.2f}x |")
        print(f"| **median** | | | **{statistics.median(s[1] / s[2] for s in rounds):.2f}x** |")
        print(f"\nidentical database contents: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
