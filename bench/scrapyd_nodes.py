"""Scrapyd benchmark: pages/s of two Scrapyd nodes against one ``collector crawl`` process.

    .venv/bin/python bench/scrapyd_nodes.py [--sizes 8x25,4x200,2x1000]

1. For each size SITESxARTICLES, serves that many local news sites (``tests/newsroom.py``:
   invented stories, each site reposting two of the site before it, one RSS feed each) on
   127.0.0.1: many small sites, then fewer and larger ones.
2. Builds the project's egg and starts two Scrapyd nodes on 127.0.0.1 (``max_proc = 1``, queue polled every 0.2 s,
   basic auth, generated ``scrapyd.conf``), and uploads the egg to both.
3. In one run, for each size, on the same pages: ``collector schedule --once`` with COLLECTOR_SCRAPYD_NODES
   naming both nodes, into one SQLite file; then ``collector crawl`` of all the sites in one
   process into another. AutoThrottle off and no download delay: the figures are the
   machine's, not politeness'. Each wall time includes starting Python and Scrapy (for the
   nodes: once per site, as Scrapyd starts a process per job).
4. Checks that both databases hold the same documents, links and claims, prints a markdown
   table (a row per size) and writes it, stamped, to ``bench/out/scrapyd_nodes.md``.

Each node's crawl extracts, links and stores into the one SQLite file itself, so the two
nodes share one writer lock: this measures dispatch, not the issue's target layout (nodes
extracting only, one linker writing: issue 15 part B).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.cli import Collector  # noqa: E402
from bench.common.paths import REPO  # noqa: E402  (puts tests/ on the path too)
from bench.common.report import Report  # noqa: E402
from newsroom import Newsroom, contents  # noqa: E402
from scrapyd_nodes import PASSWORD, USERNAME, ScrapydNode, build_egg  # noqa: E402

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


def start_nodes(root: Path) -> list[ScrapydNode]:
    """Two nodes on 127.0.0.1 with the repository's egg uploaded."""
    egg = build_egg(REPO, root / "build")
    nodes = []
    for name in ("node-a", "node-b"):
        nodes.append(ScrapydNode(root / name).start())
        nodes[-1].node.upload_egg(str(egg), "1")
    return nodes


def measure(root: Path, room: Newsroom, nodes: list[ScrapydNode]) -> tuple[float, float, bool]:
    """Seconds of the two-node schedule and of one crawl process, and whether the databases match."""
    secret = root / "password"
    secret.write_text(PASSWORD, encoding="utf-8")
    env = {"COLLECTOR_SCRAPYD_NODES": ",".join(n.url for n in nodes), "COLLECTOR_SCRAPYD_USERNAME": USERNAME,
           "COLLECTOR_SCRAPYD_PASSWORD_FILE": str(secret)}
    dispatched = Collector(root / "nodes.db", config=room.config, env=env).run("schedule", "--once", *FAST)
    one = Collector(root / "one.db", config=room.config, env={"COLLECTOR_SCRAPYD_NODES": ""}).run("crawl", *FAST, check=False)
    return dispatched.seconds, one.seconds, contents(root / "nodes.db") == contents(root / "one.db")


def sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(n) for n in size.split("x")) for size in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=sizes, default=sizes("8x25,4x200,2x1000"), help="SITESxARTICLES,...")
    args = parser.parse_args()
    rows, differ = [], []
    with tempfile.TemporaryDirectory(prefix="bench-scrapyd-") as tmp:
        nodes = []
        try:
            nodes = start_nodes(Path(tmp))
            for n, (site_count, articles) in enumerate(args.sizes):
                root = Path(tmp) / f"size-{n}"
                room = Newsroom(root, sites=site_count, articles=articles, seed=n)
                try:
                    nodes_s, one_s, same = measure(root, room, nodes)
                finally:
                    room.stop()
                rows.append([f"{site_count} sites x {articles}", room.pages, f"{one_s:.1f}", f"{room.pages / one_s:.1f}",
                             f"{nodes_s:.1f}", f"{room.pages / nodes_s:.1f}", f"{one_s / nodes_s:.2f}x", "yes" if same else "NO"])
                differ += [] if same else [rows[-1][0]]
        finally:
            for node in nodes:
                node.stop()
    with Report("scrapyd_nodes") as report:
        print("# Two Scrapyd nodes (max_proc 1, `collector schedule --once`) against one `collector crawl` process\n")
        report.table(["sites", "pages", "one process s", "pages/s", "2 nodes s", "pages/s", "2 nodes vs one", "same database"], rows)
    if differ:
        raise SystemExit(f"the two databases differ at {', '.join(differ)}")


if __name__ == "__main__":
    main()
