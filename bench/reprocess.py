"""Re-processing and the raw archive, on the real pages of ../shared/corpus.

    .venv/bin/python bench/reprocess.py [--pages N] [--crawl-pages N] [--rounds 2] [--workers 2] [--only reprocess|archive]

1. Reprocess against a fresh import: the 990 trafilatura-evaluation pages and the 181 Zyte
   pages (``--pages`` caps them) are imported with rules R1; the rules change (R2: an XPath,
   a chrome line in ``chrome.yaml``, and the standard extraction mode, which changes most
   documents' text); then, alternating,
   ``collector reprocess --all`` of that database with R2 (on a fresh copy each round), and
   a fresh ``collector import`` of the same pages with R2. Both are the real commands, with
   the same ``--workers``. The target: reprocess within 1.2x of the fresh import. The
   reprocessed database is checked against the fresh one (documents that differ).
2. The archive's cost: the Zyte pages (``--crawl-pages``) served by a local HTTP server and
   crawled with the archive on and off, in pairs (``--rounds``), alternating which goes first;
   wall and CPU time of the crawls, the archive's own CPU time (the middleware's
   ``collector/archive_seconds``, its thread's CPU time), and the archive's size
   against the pages' size raw and gzip-compressed (each page alone). Targets: under 10% of
   the crawl time, about the compressed size of the pages.

Prints markdown tables and writes them to ``bench/out/reprocess.md`` (stamped); the pages and
databases stay in ``--out``. Machines are noisy: the
ratios are measured within one run, the runs of each pair one after the other.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sqlite3
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import corpus  # noqa: E402
from bench.common.cli import Collector, Result  # noqa: E402
from bench.common.paths import CONFIGS, OUT  # noqa: E402
from bench.common.report import Report  # noqa: E402

from sites_server import SiteServer, site_config, urlset  # noqa: E402

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "ROBOTSTXT_OBEY=False", "-s", "LOG_LEVEL=INFO"]


#: R2 also extracts in trafilatura's standard mode, which changes most documents' text: the
#: reprocess then updates most of the corpus (texts, full-text index, LSH rows, lineage).
R2_ENV = {"COLLECTOR_EXTRACTION": "standard"}


def cli(*args, db: Path, config: Path, env: dict | None = None) -> tuple[float, Result]:
    """Run the real command; its wall time, and the result (``result.cpu``: its CPU time)."""
    result = Collector(db, config=config, env=env).run(*args)
    return result.seconds, result


def pages(limit: int) -> list[Path]:
    found = sorted((corpus.eval_dir() / "html").glob("*.html.gz")) + sorted((corpus.zyte_dir() / "html").glob("*.html.gz"))
    return found[:limit]


def configs(out: Path) -> tuple[Path, Path]:
    r1, r2 = out / "configs-r1", out / "configs-r2"
    shutil.copytree(CONFIGS, r1)
    shutil.copytree(CONFIGS, r2)
    generic = r2 / "chrome.yaml"
    text = generic.read_text(encoding="utf-8")
    # A line for every site (R2 changes every document's rules hash).
    text, n = re.subn(r"^lines: \[\]$", 'lines: ["Skip to main content"]', text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise SystemExit(f"{generic}: no empty `lines: []` to add a line to")
    generic.write_text(text, encoding="utf-8")
    site_config(r2, "wsj", name="The Wall Street Journal", domains=["www.wsj.com"], chrome={"xpaths": ["//figure"]})
    return r1, r2


def differing(a: Path, b: Path) -> int:
    cols = "url, site, title, author, published, text, chrome, canonical_url, sitename, language, content_hash, signature"
    q = f"SELECT {cols} FROM documents ORDER BY url"
    with sqlite3.connect(a) as ca, sqlite3.connect(b) as cb:
        left, right = ca.execute(q).fetchall(), cb.execute(q).fetchall()
    return len(set(left) ^ set(right)) + abs(len(left) - len(right))


def bench_reprocess(out: Path, limit: int, rounds: int, workers: int) -> list[str]:
    inputs = out / "pages"
    inputs.mkdir()
    chosen = pages(limit)
    for page in chosen:
        shutil.copy(page, inputs / page.name)
    r1, r2 = configs(out)
    base = out / "r1.db"
    seconds, _ = cli("import", inputs, "--workers", workers, db=base, config=r1)
    print(f"imported {len(chosen)} pages with R1 in {seconds:.1f} s", file=sys.stderr)
    pairs = []
    for n in range(rounds):
        copy = out / f"reprocess-{n}.db"
        with sqlite3.connect(base) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        t_re, result = cli("reprocess", "--all", "--json", "--workers", workers, db=copy, config=r2, env=R2_ENV)
        summary = json.loads(result.stdout)
        fresh = out / f"fresh-{n}.db"
        t_fresh, _ = cli("import", inputs, "--workers", workers, db=fresh, config=r2, env=R2_ENV)
        pairs.append((t_re, t_fresh, summary, differing(copy, fresh)))
        print(f"round {n + 1}: reprocess {t_re:.1f} s, fresh import {t_fresh:.1f} s", file=sys.stderr)
    docs = summary["changed"] + summary["unchanged"]
    rows = ["| round | documents | changed | reprocess s | fresh import s | ratio | documents differing |", "|---|---|---|---|---|---|---|"]
    for n, (t_re, t_fresh, s, diff) in enumerate(pairs, start=1):
        rows.append(f"| {n} | {docs} | {s['changed']} | {t_re:.1f} | {t_fresh:.1f} | {t_re / t_fresh:.2f} | {diff} |")
    rows.append(f"| median | | | | | **{statistics.median(p[0] / p[1] for p in pairs):.2f}** | |")
    return [f"### Reprocess --all vs a fresh import ({len(chosen)} real pages, --workers {workers}; target <= 1.2)", "", *rows]


def bench_archive(out: Path, limit: int, rounds: int) -> list[str]:
    server = SiteServer("bench-archive").start()
    try:
        chosen = sorted((corpus.zyte_dir() / "html").glob("*.html.gz"))[:limit]
        raw = packed = 0
        paths = []
        for i, page in enumerate(chosen):
            body = gzip.decompress(page.read_bytes())
            raw += len(body)
            packed += len(gzip.compress(body))
            server.add(f"/a/{i}", body, content_type="text/html")
            paths.append(f"/a/{i}")
        server.add("/sitemap.xml", urlset([server.url(p) for p in paths]), content_type="application/xml")
        config = out / "configs-crawl"
        shutil.copytree(CONFIGS, config)
        site_config(config, "bench", name="Bench", domains=[server.host], sitemaps=[server.url("/sitemap.xml")])
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}  # (wall, cpu)
        archive_seconds, size = [], 0
        for n in range(rounds):
            # Alternating which goes first: a run's neighbour on a shared machine is noise.
            for on in ((True, False) if n % 2 == 0 else (False, True)):
                db = out / f"crawl-{n}-{'on' if on else 'off'}.db"
                seconds, result = cli("crawl", "--json", *FAST, "-s", f"COLLECTOR_ARCHIVE_ENABLED={on}", db=db, config=config)
                runs[on].append((seconds, result.cpu))
                if on:
                    found = re.search(r"'collector/archive_seconds': ([\d.]+)", result.stderr)
                    archive_seconds.append(float(found.group(1)) if found else float("nan"))
                    size = sum(f.stat().st_size for f in db.with_name(db.stem + ".warc").glob("*.warc.gz"))
                print(f"crawl round {n + 1}, archive {'on' if on else 'off'}: {seconds:.1f} s, CPU {result.cpu:.1f} s", file=sys.stderr)
    finally:
        server.stop()
    wall = [on[0] / off[0] for on, off in zip(runs[True], runs[False])]
    cpu = [on[1] / off[1] for on, off in zip(runs[True], runs[False])]
    on_cpu = statistics.median(r[1] for r in runs[True])
    spent = statistics.median(archive_seconds)
    return [
        f"### The archive's cost ({len(chosen)} real pages crawled from a local server, {rounds} rounds of on/off pairs, medians)", "",
        "| crawl wall s, off / on | wall ratio | crawl CPU s, off / on | CPU ratio | archive's own CPU s | its share of the crawl's CPU |",
        "|---|---|---|---|---|---|",
        f"| {statistics.median(r[0] for r in runs[False]):.1f} / {statistics.median(r[0] for r in runs[True]):.1f}"
        f" | {statistics.median(wall):.2f} | {statistics.median(r[1] for r in runs[False]):.1f} / {on_cpu:.1f}"
        f" | {statistics.median(cpu):.2f} | {spent:.2f} | {spent / on_cpu:.1%} |", "",
        "| pages raw MB | pages gzip MB (each alone) | archive MB (request + response records) | archive / gzip pages |", "|---|---|---|---|",
        f"| {raw / 1e6:.1f} | {packed / 1e6:.1f} | {size / 1e6:.1f} | {size / packed:.2f} |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=990 + 181)
    parser.add_argument("--crawl-pages", type=int, default=181)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT / "reprocess", help="work folder (pages, databases)")
    parser.add_argument("--only", choices=("reprocess", "archive"), help="Run one of the two parts.")
    args = parser.parse_args()
    corpus.require(corpus.eval_dir, corpus.zyte_dir)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    report = []
    if args.only != "archive":
        report += bench_reprocess(args.out, args.pages, args.rounds, args.workers) + [""]
    if args.only != "reprocess":
        report += bench_archive(args.out, args.crawl_pages, args.rounds)
    with Report("reprocess"):
        print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
