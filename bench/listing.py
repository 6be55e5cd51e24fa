"""How often the listing test (pipelines/extract.py: ``listing``) takes a real article for a
listing page: every page of the shared corpus's article sets (Zyte's article-extraction
benchmark, fundus's publisher pages) run as if reached by link-following. Every one of them
is an article, so every "listing" verdict is a mistake (a followed article not stored).
Prints a table; writes bench/out/listing.md.

    .venv/bin/python bench/listing.py [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import corpus  # noqa: E402
from bench.common.report import Report  # noqa: E402

from trafilatura.utils import load_html  # noqa: E402

from collector.importers.decoding import decode  # noqa: E402
from pipelines.extract import EXTRACTION_MODES, extract_document, listing  # noqa: E402

SETS = {"zyte (scrapinghub-aeb)": lambda: corpus.zyte_dir() / "html", "fundus publishers": corpus.fundus_dir}


def verdicts(folder: Path, limit: int) -> Counter:
    out = Counter()
    for path in sorted(folder.rglob("*.html.gz"))[:limit]:
        html = decode(gzip.decompress(path.read_bytes()), html=True)
        tree = load_html(html)
        doc = extract_document(tree, None, EXTRACTION_MODES[0]) if tree is not None else None
        if doc is None or not (doc.text or "").strip():
            out["no text"] += 1
            continue
        why = listing(doc.text, tree)
        out["listing: " + why.split("(")[0].split(" of ")[0].split(" words")[0].strip() if why else "article"] += 1
        if why:
            out["listing"] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=10_000)
    args = parser.parse_args()
    rows = []
    for name, folder in SETS.items():
        try:
            v = verdicts(folder(), args.limit)
        except corpus.CorpusMissing as exc:
            print(exc, file=sys.stderr)
            rows.append([name, "absent", "", "", ""])
            continue
        n = v["article"] + v["listing"] + v["no text"]
        rows.append([name, n, f"{v['article']} ({100 * v['article'] / n:.1f}%)", v["listing"], v["no text"]])
    with Report("listing") as report:
        report.table(["set", "pages", "stored as articles", "taken for listings", "no text"], rows)


if __name__ == "__main__":
    main()
