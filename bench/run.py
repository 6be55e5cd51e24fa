"""`make bench`: every benchmark, one after the other, each printing markdown tables.

    .venv/bin/python bench/run.py [NAME...]      names: stages devset extraction parallel peers crawl feed_cases urls identity listing scale

Not part of `make test`: they read ../shared/corpus and take from minutes (stages, devset,
parallel) to most of an hour (scale: a million generated documents, built once and cached in
bench/out/). SCALE_DOCS sets the scale benchmark's corpus size (default 1,000,000).
Machines are noisy: read the ratios, which each benchmark measures within one run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

BENCHES = {
    "stages": [PY, str(HERE / "stages.py")],
    "devset": [PY, str(HERE / "devset.py"), "--seed", "7", "--samples", "3"],
    "extraction": [PY, str(HERE / "extraction.py"), "--bootstrap", "200", "--no-suggest"],
    "parallel": [PY, str(HERE / "parallel.py")],
    "peers": [PY, str(HERE / "peers.py")],
    "crawl": [PY, str(HERE / "crawl.py")],
    "feed_cases": [PY, str(HERE / "feed_cases.py")],
    "urls": [PY, str(HERE / "urls.py")],
    "identity": [PY, str(HERE / "identity.py")],
    "listing": [PY, str(HERE / "listing.py")],
    "scale": [PY, str(HERE / "scale.py"), "--docs", os.environ.get("SCALE_DOCS", "1000000")],
}


def main() -> int:
    names = sys.argv[1:] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n## bench: {name}\n", flush=True)
        started = time.perf_counter()
        code = subprocess.call(BENCHES[name], cwd=HERE.parent)
        print(f"\n({name}: {time.perf_counter() - started:.0f} s, exit {code})", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
