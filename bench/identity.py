"""What folding by canonical link costs an import: the same pages imported (a) without a
canonical link, (b) each an AMP variant whose canonical names its clean URL (stored under
the clean URL, its own as an alias), (c) every page naming one template canonical (checked
against the text, each stays its own document). Alternating rounds, one process; prints a
table, writes bench/out/identity.md.

    .venv/bin/python bench/identity.py [--pages 300] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.report import Report  # noqa: E402

from sites_server import article_page, site_config, story  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.ingest import run_items  # noqa: E402
from collector.core.document import Document  # noqa: E402

HOST = "https://harbour-news.example"


def pages(n: int, mode: str) -> list[Document]:
    out = []
    for i in range(n):
        title, paragraphs = story(9000 + i)
        clean = f"{HOST}/2026/story-{i}"
        canonical = {"none": None, "variant": clean, "template": f"{HOST}/2026/story-0"}[mode]
        url = clean + "/amp" if mode == "variant" else clean
        html = article_page(title, paragraphs, site_name="Harbour News", published="2026-03-04T08:00:00+00:00", canonical=canonical)
        out.append(Document(url=url, html=html, source=f"bench {i}", site="harbour"))
    return out


def run(mode: str, n: int, root: Path) -> float:
    db = root / f"{mode}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    context = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(root / "configs")})
    try:
        summary = run_items(pages(n, mode), context)
    finally:
        context.close()
    return summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site_config(root / "configs", "harbour", name="Harbour News", domains=["harbour-news.example"])
        times = {m: [] for m in ("none", "variant", "template")}
        for _ in range(args.rounds):
            for mode in times:
                times[mode].append(run(mode, args.pages, root))
    best = {m: min(t) for m, t in times.items()}
    labels = (("none", "no canonical link"), ("variant", "AMP variants naming their clean URL (folded)"),
              ("template", "one template canonical on every page (checked, not folded)"))
    with Report("identity") as report:
        print(f"{args.pages} pages imported in one process, best of {args.rounds} alternating rounds\n")
        report.table(["pages", "documents/s", "against no canonical"],
                     [[label, f"{args.pages / best[mode]:.1f}", f"{best[mode] / best['none']:.2f}x the time"] for mode, label in labels])


if __name__ == "__main__":
    main()
