"""Crawl benchmark: pages per second, crawl end to end against ``collector import``.

    .venv/bin/python bench/crawl.py [--pages 2000] [--out bench/out/crawl] [--delay 0]

1. Generates ``--pages`` article pages of invented prose (``tests/sites_server.prose``: no
   text copied from anywhere; 5-word runs repeat across pages only by chance, as in real
   news) and serves them from a local HTTP server (robots.txt, a sitemap index of sitemaps
   of 500 URLs); ``--delay`` adds server latency per page.
2. Writes the very same pages as ``.html`` files (each names its URL in a canonical link).
3. Crawls the site with the real ``collector crawl`` (download, extract, clean, attribute,
   fingerprint, store, link, learn; AutoThrottle off and no download delay, so the figure is
   the machine's, not politeness'), then imports the files with ``collector import`` into
   another database: one run, same machine, same pages.
4. Both commands run with the stage timer (``bench/common/timing.py``), which times every pipeline
   stage, so the report says where the time goes: the stages (the same code in both), the
   rest (the crawl's downloading, scheduling and Scrapy's own work; the import's file reading),
   and Python and Scrapy start-up.
5. Prints a markdown table, and writes it to ``bench/out/crawl.md`` (machine and date stamped);
   the pages, databases and timings stay in ``--out``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.cli import RUN_LOOPS, Collector  # noqa: E402
from bench.common.paths import OUT  # noqa: E402
from bench.common.report import Report  # noqa: E402

from sites_server import SiteServer, article_page, prose, site_config, sitemap_index, urlset  # noqa: E402

STAGES = ["ExtractPipeline", "CleanPipeline", "AttributePipeline", "FingerprintPipeline", "StorePipeline", "LinkPipeline", "LearnChromePipeline"]


def build(out: Path, pages: int, delay: float) -> tuple[SiteServer, Path, Path]:
    server = SiteServer("bench").start()
    folder = out / "pages"
    folder.mkdir(parents=True)
    urls = []
    for i in range(pages):
        title, paragraphs = prose(50_000 + i)
        path = f"/{2026}/{3 + i // 1000:02d}/{1 + i % 28:02d}/story-{i}"
        url = server.url(path)
        page = article_page(title, paragraphs, site_name="Bench Gazette", published=f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:15:00+00:00",
                            author=f"Reporter {i % 17}", top=("Bench Gazette: all the news that fits the benchmark",),
                            canonical=url)
        server.add(path, page, delay=delay)
        (folder / f"story-{i:05d}.html").write_text(page, encoding="utf-8")
        urls.append(url)
    maps = []
    for n in range(0, pages, 500):
        server.add(f"/sitemap-{n // 500}.xml", urlset(urls[n : n + 500]), content_type="application/xml")
        maps.append(server.url(f"/sitemap-{n // 500}.xml"))
    server.add("/sitemap_index.xml", sitemap_index(maps), content_type="application/xml")
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    config = out / "configs"
    site_config(config, "bench", name="Bench Gazette", domains=[server.host], sitemaps=[server.url("/sitemap_index.xml")],
                chrome={"lines": ["Bench Gazette: all the news that fits the benchmark"]})
    return server, folder, config


def timed(db: Path, config: Path, args: list[str], timings: Path) -> tuple[float, dict, dict]:
    """Run ``collector --db DB --config CONFIG ARGS`` with the stage timer: (wall seconds, its
    JSON summary, the timings)."""
    result = Collector(db, config=config, timings=timings, time_run=RUN_LOOPS).run(*args)
    return result.seconds, result.summary, result.timings


def crawl_args(concurrency: int, workers: int) -> list[str]:
    return ["crawl", "--json", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "DOWNLOAD_DELAY=0", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
            "-s", f"CONCURRENT_REQUESTS={max(16, concurrency)}", "-s", "LOG_LEVEL=WARNING",
            "-s", f"COLLECTOR_EXTRACT_PROCESSES={workers}"]


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=OUT / "crawl")
    parser.add_argument("--delay", type=float, default=0.0, help="server latency per page, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="CONCURRENT_REQUESTS_PER_DOMAIN")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="extraction processes of the second crawl (COLLECTOR_EXTRACT_PROCESSES) and import (--workers);"
                        " default: the number of cores, as `collector import`")
    return parser.parse_args()


def run_all(opts, folder: Path, config: Path) -> dict:
    """The two crawls and the two imports: column -> (wall, documents, timings, summary)."""
    w, runs = opts.workers, {}
    for n, (name, workers) in enumerate([("`crawl`", 0), (f"`crawl -s COLLECTOR_EXTRACT_PROCESSES={w}`", w)]):
        print(f"{name} ...", file=sys.stderr)
        served = time.process_time()  # this process is the web server
        wall, summary, timings = timed(opts.out / f"crawl-{n}.db", config, crawl_args(opts.concurrency, workers),
                                       opts.out / f"crawl-{n}-timings.json")
        summary["server_cpu"] = time.process_time() - served
        runs[name] = (wall, summary["new"] + summary["updated"] + summary["unchanged"], timings, summary)
    for n, workers in enumerate([1, w]):
        name = f"`import --workers {workers}`"
        print(f"{name} ...", file=sys.stderr)
        wall, summary, timings = timed(opts.out / f"import-{n}.db", config,
                                       ["import", "--json", "--workers", str(workers), str(folder)],
                                       opts.out / f"import-{n}-timings.json")
        summary["server_cpu"] = 0.0
        runs[name] = (wall, summary["imported"] + summary["unchanged"], timings, summary)
    return runs


def stage_seconds(t: dict, stage: str) -> float:
    return t["wall"].get("stage:" + stage, 0.0)


def render(runs: dict, opts) -> list[str]:
    pages, names = opts.pages, list(runs)

    def row(label, fn):
        return f"| {label} | " + " | ".join(fn(*runs[n]) for n in names) + " |"

    def share(seconds, timings):
        return f"{seconds:.1f} ({100 * seconds / timings['run_seconds']:.0f}%)"

    lines = [
        f"## Crawl vs import: {pages} generated article pages, one local site "
        f"({os.cpu_count()} cores, server latency {opts.delay * 1000:.0f} ms/page, {opts.concurrency} requests at once)",
        "",
        "| `collector ...` | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        row("documents stored", lambda w, d, t, s: str(d)),
        row("wall time, whole command (s)", lambda w, d, t, s: f"{w:.1f}"),
        row("  start-up: Python, Scrapy, trafilatura (s)", lambda w, d, t, s: f"{w - t['run_seconds']:.1f}"),
        row("  the run itself (s)", lambda w, d, t, s: f"{t['run_seconds']:.1f}"),
        row("**pages/s, whole command**", lambda w, d, t, s: f"**{pages / w:.1f}**"),
        row("**pages/s, the run itself**", lambda w, d, t, s: f"**{pages / t['run_seconds']:.1f}**"),
    ]
    for stage in STAGES:
        lines.append(row(f"  stage {stage.replace('Pipeline', '').lower()} (s)", lambda w, d, t, s, stage=stage: share(stage_seconds(t, stage), t)))
    total = lambda t: sum(stage_seconds(t, s) for s in STAGES)  # noqa: E731
    lines.append(row("  all stages, in the command's process (s)", lambda w, d, t, s: share(total(t), t)))
    lines.append(row("  the rest: downloading, Scrapy / reading files, waiting for workers (s)", lambda w, d, t, s: share(t["run_seconds"] - total(t), t)))
    lines.append(row("CPU time of the command's process (s)", lambda w, d, t, s: f"{t['cpu_seconds']:.1f}"))
    lines.append(row("  of which the run itself (s)", lambda w, d, t, s: f"{t['run_cpu_seconds']:.1f}"))
    lines.append(row("**CPU ms per page in the command's process** (not counting workers)",
                     lambda w, d, t, s: f"**{1000 * t['run_cpu_seconds'] / pages:.1f}**"))
    lines.append(row("CPU time of the local web server (s)", lambda w, d, t, s: f"{s['server_cpu']:.1f}"))
    return lines + ratios(runs, opts)


def ratios(runs: dict, opts) -> list[str]:
    pages, names, w = opts.pages, list(runs), opts.workers
    speed = {n: (pages / runs[n][0], pages / runs[n][2]["run_seconds"]) for n in names}
    return [
        "",
        f"Crawl speed / import speed, whole commands (runs themselves): one process {speed[names[0]][0] / speed[names[2]][0]:.2f} "
        f"({speed[names[0]][1] / speed[names[2]][1]:.2f}); with {w} extraction processes "
        f"{speed[names[1]][0] / speed[names[3]][0]:.2f} ({speed[names[1]][1] / speed[names[3]][1]:.2f}).",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with the machine's other load; CPU ms per page do not).",
    ]


def main() -> None:
    opts = options()
    if opts.out.exists():
        shutil.rmtree(opts.out)
    opts.out.mkdir(parents=True)
    print(f"generating {opts.pages} pages ...", file=sys.stderr)
    server, folder, config = build(opts.out, opts.pages, opts.delay)
    try:
        runs = run_all(opts, folder, config)
    finally:
        server.stop()
    with Report("crawl"):
        print("\n".join(render(runs, opts)))


if __name__ == "__main__":
    main()
