"""Where an import's time goes: each pipeline stage against bare trafilatura, in one run.

    .venv/bin/python bench/stages.py [--pages N] [--texts N]

1. Real HTML (../shared/corpus: the Zyte pages and the fundus pages), one process: bare
   trafilatura extraction of every page with the pipeline's own settings, then the whole
   pipeline on the same pages with each stage timed. The target: the pipeline costs at most
   1.15x bare extraction.
2. Generated plain text (bench/corpusgen.py), one process: documents per second through
   every stage, each stage timed. The target: 1,000 documents per second.
Prints markdown tables. Machines are noisy: compare the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import trafilatura  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.importers.decoding import decode  # noqa: E402
from collector.ingest import build_stages  # noqa: E402
from collector.items import Article  # noqa: E402
from pipelines.extract import date_params  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"


def html_pages(limit: int) -> list[tuple[str, str]]:
    pages = []
    zyte = CORPUS / "extraction" / "scrapinghub-aeb"
    truth = json.loads(gzip.decompress((zyte / "ground-truth.json.gz").read_bytes()))
    for key, entry in sorted(truth.items()):
        pages.append((entry["url"], decode(gzip.decompress((zyte / "html" / f"{key}.html.gz").read_bytes()), html=True)))
    fundus = CORPUS / "publishers" / "fundus"
    for line in (fundus / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        pages.append((entry["url"], decode(gzip.decompress((fundus / entry["html"]).read_bytes()), html=True)))
    return pages[:limit]


def timed_pipeline(items, context) -> tuple[dict[str, float], float, int]:
    stages = build_stages(context)
    spent: dict[str, float] = defaultdict(float)
    stored = 0
    started = time.perf_counter()
    for item in items:
        try:
            for stage in stages:
                t = time.perf_counter()
                item = stage.process_item(item)
                spent[type(stage).__name__] += time.perf_counter() - t
            stored += 1
        except Exception:  # a page without an article: counted as not stored
            context.store.abort_document()
    t = time.perf_counter()
    context.store.commit()
    spent["StorePipeline"] += time.perf_counter() - t
    return spent, time.perf_counter() - started, stored


def table(title: str, rows: list[tuple], header: tuple) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def bench_html(limit: int) -> None:
    pages = html_pages(limit)
    params = date_params()
    started = time.perf_counter()
    for url, html in pages:
        trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False, include_tables=True,
                                    date_extraction_params=params)
    bare = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        context = Context({"COLLECTOR_DB": f"{tmp}/html.db", "COLLECTOR_CONFIG": str(REPO / "configs")})
        spent, total, stored = timed_pipeline((Article(url=u, source=u, html=h) for u, h in pages), context)
        context.close()
    n = len(pages)
    rows = [("bare trafilatura (same settings)", f"{bare / n * 1000:.2f}", "1.000")]
    for stage, seconds in spent.items():
        rows.append((stage, f"{seconds / n * 1000:.2f}", f"{seconds / bare:.3f}"))
    rows.append(("**whole pipeline**", f"**{total / n * 1000:.2f}**", f"**{total / bare:.3f}**"))
    rows.append(("everything but extraction", f"{(total - spent['ExtractPipeline']) / n * 1000:.2f}",
                 f"{(total - spent['ExtractPipeline']) / bare:.3f}"))
    table(f"HTML: {n} real pages, {stored} stored, one process", rows, ("stage", "ms / page", "x bare extraction"))


def bench_text(count: int) -> None:
    from corpusgen import Generator

    gen = Generator(seed=7)
    docs = []
    for i in range(count):
        title, paras = gen.article()
        docs.append(Article(url=f"https://site{i % 20}.example/{i}", source="bench", title=title, text="\n".join(paras)))
    words = sum(len(d["text"].split()) for d in docs) / count
    with tempfile.TemporaryDirectory() as tmp:
        context = Context({"COLLECTOR_DB": f"{tmp}/text.db", "COLLECTOR_CONFIG": str(REPO / "configs")})
        spent, total, stored = timed_pipeline(docs, context)
        context.close()
    rows = [(stage, f"{seconds / count * 1000:.3f}", f"{seconds / total:.1%}") for stage, seconds in spent.items()]
    rows.append(("**whole pipeline**", f"**{total / count * 1000:.3f}**", f"**{count / total:.0f} documents/s**"))
    table(f"Plain text: {count} generated documents ({words:.0f} words on average), one process", rows,
          ("stage", "ms / document", "share"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10_000, help="at most this many real HTML pages")
    parser.add_argument("--texts", type=int, default=3000, help="generated plain-text documents")
    args = parser.parse_args()
    if CORPUS.exists() and args.pages > 0:
        bench_html(args.pages)
    else:
        print(f"{CORPUS} is absent: the HTML part is skipped")
    bench_text(args.texts)


if __name__ == "__main__":
    main()
