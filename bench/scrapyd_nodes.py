"""Scrapyd benchmark: pages/s of two Scrapyd nodes against one ``collector crawl`` process.

    .venv/bin/python bench/scrapyd_nodes.py [--sites 8] [--articles 60] [--out bench/out/scrapyd_nodes]

1. Serves ``--sites`` local news sites (``tests/newsroom.py``: invented stories, each site
   reposting two of the site before it, one RSS feed each) on 127.0.0.1.
2. Builds the project's egg and starts two Scrapyd nodes on 127.0.0.1 (``max_proc = 1``,
   basic auth, generated ``scrapyd.conf``), and uploads the egg to both.
3. In one run, on the same pages: ``collector schedule --once`` with COLLECTOR_SCRAPYD_NODES
   naming both nodes, into one SQLite file; then ``collector crawl`` of all the sites in one
   process into another. AutoThrottle off and no download delay: the figures are the
   machine's, not politeness'. Each wall time includes starting Python and Scrapy (for the
   nodes: once per site, as Scrapyd starts a process per job).
4. Checks that both databases hold the same documents, links and claims, prints a markdown
   table and writes it to ``OUT/report.md``.

Each node's crawl extracts, links and stores into the one SQLite file itself, so the two
nodes share one writer lock: this measures dispatch, not the issue's target layout (nodes
extracting only, one linker writing: issue 15 part B).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from newsroom import Newsroom, contents  # noqa: E402
from scrapyd_nodes import PASSWORD, USERNAME, ScrapydNode, build_egg  # noqa: E402

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


def timed(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:6])}... exited {result.returncode}:\n{result.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "scrapyd_nodes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-scrapyd-") as tmp:
        root = Path(tmp)
        room = Newsroom(root, sites=args.sites, articles=args.articles)
        nodes = []
        try:
            egg = build_egg(REPO, root / "build")
            nodes = [ScrapydNode(root / name).start() for name in ("node-a", "node-b")]
            for node in nodes:
                node.node.upload_egg(str(egg), "1")
            secret = root / "password"
            secret.write_text(PASSWORD, encoding="utf-8")
            base = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
            env = {**base, "COLLECTOR_SCRAPYD_NODES": ",".join(n.url for n in nodes), "COLLECTOR_SCRAPYD_USERNAME": USERNAME,
                   "COLLECTOR_SCRAPYD_PASSWORD_FILE": str(secret)}
            collector = [sys.executable, "-m", "collector", "--config", str(room.config)]
            nodes_db, one_db = root / "nodes.db", root / "one.db"
            nodes_s = timed([*collector, "--db", str(nodes_db), "schedule", "--once", *FAST], env)
            one_s = timed([*collector, "--db", str(one_db), "crawl", *FAST], base)
            same = contents(nodes_db) == contents(one_db)
            stored = len(contents(one_db)["documents"])
        finally:
            for node in nodes:
                node.stop()
            room.stop()

    pages = room.pages
    rows = [("one `collector crawl` process", one_s), ("`collector schedule --once`, 2 Scrapyd nodes (max_proc 1)", nodes_s)]
    lines = [
        f"# Scrapyd nodes: {args.sites} local sites, {pages} article pages ({stored} stored), one run",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        "every crawl writes into one SQLite file on this host.",
        "",
        "| how | seconds | pages/s | vs one process |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, seconds in rows:
        lines.append(f"| {name} | {seconds:.1f} | {pages / seconds:.1f} | {one_s / seconds:.2f}x |")
    lines += ["", f"Same documents, links and claims in both databases: {'yes' if same else 'NO'}.", ""]
    report = "\n".join(lines)
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(report, encoding="utf-8")
    if not same:
        raise SystemExit("the two databases differ")


if __name__ == "__main__":
    main()
