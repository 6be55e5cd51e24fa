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
from collections import Counter
from pathlib import Path

from trafilatura.utils import load_html

from collector.importers.decoding import decode
from pipelines.extract import EXTRACTION_MODES, extract_document, listing

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SETS = {"zyte (scrapinghub-aeb)": CORPUS / "extraction" / "scrapinghub-aeb" / "html",
        "fundus publishers": CORPUS / "publishers" / "fundus"}


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
    lines = ["| set | pages | stored as articles | taken for listings | no text |", "| --- | --- | --- | --- | --- |"]
    for name, folder in SETS.items():
        if not folder.is_dir():
            lines.append(f"| {name} | absent | | | |")
            continue
        v = verdicts(folder, args.limit)
        n = v["article"] + v["listing"] + v["no text"]
        lines.append(f"| {name} | {n} | {v['article']} ({100 * v['article'] / n:.1f}%) | {v['listing']} | {v['no text']} |")
    print("\n".join(lines))
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "listing.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
