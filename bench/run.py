"""`make bench`: every benchmark, one after the other, each printing markdown tables and
writing its stamped report to bench/out/ (see bench/README.md).

    .venv/bin/python bench/run.py [--quick] [NAME...]

Names: the default set (stages devset extraction parallel peers crawl feed_cases urls identity
listing scale migrate_store) and, by name only, lineage_families reprocess serve soak scrapyd_nodes postgres
link_worker postgres_scale. ``--quick`` runs each
at a small size (a few minutes in all on two cores; reports in bench/out/quick/): to see that
they work, not to measure.
Full size they read ../shared/corpus and take from minutes (stages, devset, parallel) to most
of an hour (scale: a million generated documents, built once and cached in bench/out/).
SCALE_DOCS sets the scale benchmark's corpus size (default 1,000,000). Machines are noisy:
read the ratios, which each benchmark measures within one run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def script(name: str, *args: str) -> list[str]:
    return [PY, str(HERE / f"{name}.py"), *args]


def package(name: str, *args: str) -> list[str]:
    return [PY, "-m", f"bench.{name}", *args]


#: name -> (full run, quick run)
BENCHES = {
    "stages": (script("stages"), script("stages", "--pages", "20", "--texts", "100", "--rounds", "1")),
    "devset": (package("devset", "--seed", "7", "--samples", "3"),
               package("devset", "--seed", "7", "--samples", "2", "--n", "12", "--out", str(HERE / "out" / "devset-quick"))),
    "extraction": (package("extraction", "--bootstrap", "200", "--no-suggest"),
                   package("extraction", "--limit", "4", "--bootstrap", "20", "--suggest", "NFC", "--out", str(HERE / "out" / "extraction-quick"))),
    "parallel": (script("parallel"), script("parallel", "--limit", "12", "--rounds", "2")),
    "peers": (script("peers"), script("peers")),
    "crawl": (script("crawl"), script("crawl", "--pages", "40", "--out", str(HERE / "out" / "crawl-quick"))),
    "feed_cases": (script("feed_cases"), script("feed_cases")),
    "urls": (script("urls"), script("urls", "--urls", "2000")),
    "identity": (script("identity"), script("identity", "--pages", "20", "--rounds", "1")),
    "listing": (script("listing"), script("listing", "--limit", "10")),
    "scale": (package("scale", "--docs", os.environ.get("SCALE_DOCS", "1000000")),
              package("scale", "--docs", "4000", "--new", "100", "--queries", "100", "--repeat", "1", "--diagnose", "100")),
    "migrate_store": (script("migrate_store"), script("migrate_store", "--docs", "4000")),
}
#: Run only when named (long, or not part of the figures `make bench` reports).
BY_NAME = {
    "lineage_families": (script("lineage_families"),
                         script("lineage_families", "--seed", "3", "--copies", "30", "--zipf-docs", "300", "--merge-copies", "30",
                                "--families", "big,zipf,scripts,dates,traps,merge")),
    "reprocess": (script("reprocess"), script("reprocess", "--pages", "15", "--crawl-pages", "10", "--rounds", "1",
                                              "--out", str(HERE / "out" / "reprocess-quick"))),
    "serve": (script("serve"), script("serve", "--docs", "6000", "--repeat", "1")),
    "soak": (script("soak"), script("soak", "--seconds", "15", "--crawl-every", "5", "--import-every", "5", "--kill-every", "8",
                                    "--out", str(HERE / "out" / "soak-quick"))),
    "scrapyd_nodes": (script("scrapyd_nodes"), script("scrapyd_nodes", "--pages", "40", "--sites", "2", "--newsroom", "2x10")),
    "postgres": (script("postgres"), script("postgres", "--docs", "300", "--index", "5000", "--queries", "100")),
    "link_worker": (script("link_worker"), script("link_worker", "--docs", "200")),
    # the scale corpus in PostgreSQL (cached in bench/out/pg-scale/ once loaded)
    "postgres_scale": (script("postgres", "--scale", os.environ.get("SCALE_DOCS", "1000000")),
                       script("postgres", "--scale", "4000", "--new", "100", "--repeat", "1", "--queries", "100")),
}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [a for a in argv if a != "--quick"] or list(BENCHES)
    known = {**BENCHES, **BY_NAME}
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n## bench: {name}{' (quick)' if quick else ''}\n", flush=True)
        started = time.perf_counter()
        env = {**os.environ, "BENCH_REPORTS": str(HERE / "out" / "quick")} if quick else None
        code = subprocess.call(known[name][1 if quick else 0], cwd=HERE.parent, env=env)
        print(f"\n({name}: {time.perf_counter() - started:.0f} s, exit {code})", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
