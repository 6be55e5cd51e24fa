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
4. Both commands run with ``bench/stage_timing.py`` installed, which times every pipeline
   stage, so the report says where the time goes: the stages (the same code in both), the
   rest (the crawl's downloading, scheduling and Scrapy's own work; the import's file reading),
   and Python and Scrapy start-up.
5. Prints a markdown table, and writes it to ``OUT/report.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from sites_server import SiteServer, article_page, prose, site_config, sitemap_index, urlset  # noqa: E402

BENCH = Path(__file__).resolve().parent
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


def timed(args: list[str], timings: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``collector ARGS`` with stage timing; (wall seconds, the process)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), str(REPO)]), "BENCH_TIMINGS": str(timings)}
    code = "import stage_timing; stage_timing.install(); from collector.cli import main; main(prog_name='collector')"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=REPO)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"collector {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return wall, result


def crawl_args(db: Path, config: Path, concurrency: int, workers: int) -> list[str]:
    return ["--db", str(db), "--config", str(config), "crawl", "--json", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "DOWNLOAD_DELAY=0", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
            "-s", f"CONCURRENT_REQUESTS={max(16, concurrency)}", "-s", "LOG_LEVEL=WARNING",
            "-s", f"COLLECTOR_EXTRACT_PROCESSES={workers}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "crawl")
    parser.add_argument("--delay", type=float, default=0.0, help="server latency per page, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="CONCURRENT_REQUESTS_PER_DOMAIN")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="extraction processes of the second crawl (COLLECTOR_EXTRACT_PROCESSES) and import (--workers);"
                        " default: the number of cores, as `collector import`")
    opts = parser.parse_args()
    if opts.out.exists():
        shutil.rmtree(opts.out)
    opts.out.mkdir(parents=True)
    print(f"generating {opts.pages} pages ...", file=sys.stderr)
    server, folder, config = build(opts.out, opts.pages, opts.delay)
    w = opts.workers
    runs = {}  # column -> (wall, documents, timings, summary)
    try:
        for n, (name, workers) in enumerate([("`crawl`", 0), (f"`crawl -s COLLECTOR_EXTRACT_PROCESSES={w}`", w)]):
            print(f"{name} ...", file=sys.stderr)
            timings = opts.out / f"crawl-{n}-timings.json"
            served = time.process_time()  # this process is the web server
            wall, result = timed(crawl_args(opts.out / f"crawl-{n}.db", config, opts.concurrency, workers), timings)
            summary = json.loads(result.stdout)
            summary["server_cpu"] = time.process_time() - served
            runs[name] = (wall, summary["new"] + summary["updated"] + summary["unchanged"], json.loads(timings.read_text()), summary)
        for n, workers in enumerate([1, w]):
            name = f"`import --workers {workers}`"
            print(f"{name} ...", file=sys.stderr)
            timings = opts.out / f"import-{n}-timings.json"
            wall, result = timed(["--db", str(opts.out / f"import-{n}.db"), "--config", str(config), "import", "--json",
                                  "--workers", str(workers), str(folder)], timings)
            summary = json.loads(result.stdout)
            summary["server_cpu"] = 0.0
            runs[name] = (wall, summary["imported"] + summary["unchanged"], json.loads(timings.read_text()), summary)
    finally:
        server.stop()
    pages = opts.pages
    names = list(runs)

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
        lines.append(row(f"  stage {stage.replace('Pipeline', '').lower()} (s)", lambda w, d, t, s, stage=stage: share(t["stages"].get(stage, 0.0), t)))
    total = lambda t: sum(t["stages"].get(s, 0.0) for s in STAGES)  # noqa: E731
    lines.append(row("  all stages, in the command's process (s)", lambda w, d, t, s: share(total(t), t)))
    lines.append(row("  the rest: downloading, Scrapy / reading files, waiting for workers (s)", lambda w, d, t, s: share(t["run_seconds"] - total(t), t)))
    lines.append(row("CPU time of the command's process (s)", lambda w, d, t, s: f"{t['cpu_seconds']:.1f}"))
    lines.append(row("  of which the run itself (s)", lambda w, d, t, s: f"{t['run_cpu_seconds']:.1f}"))
    lines.append(row("**CPU ms per page in the command's process** (not counting workers)",
                     lambda w, d, t, s: f"**{1000 * t['run_cpu_seconds'] / pages:.1f}**"))
    lines.append(row("CPU time of the local web server (s)", lambda w, d, t, s: f"{s['server_cpu']:.1f}"))
    speed = {n: (pages / runs[n][0], pages / runs[n][2]["run_seconds"]) for n in names}
    lines += [
        "",
        f"Crawl speed / import speed, whole commands (runs themselves): one process {speed[names[0]][0] / speed[names[2]][0]:.2f} "
        f"({speed[names[0]][1] / speed[names[2]][1]:.2f}); with {w} extraction processes "
        f"{speed[names[1]][0] / speed[names[3]][0]:.2f} ({speed[names[1]][1] / speed[names[3]][1]:.2f}).",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with the machine's other load; CPU ms per page do not).",
    ]
    report = "\n".join(lines)
    (opts.out / "report.md").write_text(report + "\n", encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
