"""Distributed-mode benchmark: pages/s of two Scrapyd crawl nodes and one link-worker against
one ``collector crawl`` process, on the same pages, and whether both store the same thing.

    .venv/bin/python bench/scrapyd_nodes.py [--pages 0] [--sites 2,4] [--newsroom 4x200] [--repeat 3]

1. Serves the workloads on 127.0.0.1: the real pages of the shared corpora (trafilatura's
   evaluation set and Zyte's, 990 + 181, ``--pages`` of them, 0 = all) dealt over ``--sites``
   local sites (a row per count) with a sitemap each (``tests/newsroom.py``'s ``ServedPages``); then, for each
   ``--newsroom`` size SITESxARTICLES, invented stories that repost each other (``Newsroom``).
2. Builds the project's egg, starts two Scrapyd nodes (``max_proc = 1``, queue polled every
   0.2 s, basic auth, generated ``scrapyd.conf``), uploads the egg to both, and starts a
   scratch PostgreSQL (``tests/pgserver.py``).
3. For each workload, one run after the other: the distributed layout (``collector link-worker``
   running on a new PostgreSQL database, then ``collector schedule --once`` with
   COLLECTOR_SCRAPYD_NODES naming both nodes and COLLECTOR_INBOX the database: the nodes
   download and extract, the link-worker stores and links), timed from the schedule's start
   until the inbox is empty; then ``collector crawl`` of the same sites in one process into
   SQLite. AutoThrottle off and no download delay: the figures are the machine's, not
   politeness'. ``--repeat`` pairs a workload, the order alternating (distributed first, then
   the one process first...), each on new databases: the ratio is each pair's (its two runs
   back to back, under the same load), then their median, as one pair on two shared cores
   moves by several percent either way; pages/s and CPU are the runs' medians. Both wall times include starting Python and Scrapy (the nodes: once per site,
   as Scrapyd starts a process per job).
4. Checks that both databases hold the same documents, links and claims, prints a markdown
   table (a row per workload) and writes it, stamped, to ``bench/out/scrapyd_nodes.md``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.cli import Collector  # noqa: E402
from bench.common.corpus import eval_pages, require, eval_dir, zyte_dir, zyte_pages  # noqa: E402
from bench.common.paths import REPO  # noqa: E402  (puts tests/ on the path too)
from bench.common.report import Report  # noqa: E402
from conftest import rows  # noqa: E402
from newsroom import Newsroom, ServedPages, contents  # noqa: E402
from pgserver import Server  # noqa: E402
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


def node_env(root: Path, nodes: list[ScrapydNode]) -> dict:
    secret = root / "password"
    secret.write_text(PASSWORD, encoding="utf-8")
    return {"COLLECTOR_SCRAPYD_NODES": ",".join(n.url for n in nodes), "COLLECTOR_SCRAPYD_USERNAME": USERNAME,
            "COLLECTOR_SCRAPYD_PASSWORD_FILE": str(secret)}


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and every process under it, the finished ones too (a reaped
    child's time is in its parent's cutime/cstime): for the nodes' crawls and the server's backends."""
    parents, times = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
        times[int(stat.parent.name)] = sum(int(n) for n in fields[11:15])  # utime stime cutime cstime
    tree, grown = {pid}, True
    while grown:
        below = {child for child, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | below, bool(below)
    return sum(times.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def wait_for_empty_inbox(url: str, worker) -> None:
    """Until the link-worker has committed the last batch (a row leaves the inbox with its documents)."""
    while rows(url, "SELECT count(*) AS n FROM inbox")[0]["n"]:
        if worker.proc.poll() is not None:
            raise SystemExit(f"the link-worker stopped ({worker.proc.returncode}): see {worker.err}")
        time.sleep(0.1)


def wait_until_idle(worker, timeout: float = 60.0) -> None:
    """Until the link-worker (a service: it runs before the crawls and after them) has started
    and idles, polling the empty inbox, so its start-up is not counted as the crawls' time."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            raise SystemExit(f"the link-worker stopped ({worker.proc.returncode}): see {worker.err}")
        cpu = tree_cpu(worker.command_pid())
        if last is not None and cpu - last < 0.05:  # under 10% of a core over the last half second
            return
        last = cpu
        time.sleep(0.5)
    raise SystemExit(f"the link-worker did not settle within {timeout:.0f} s")


def distributed(root: Path, config: Path, nodes: list[ScrapydNode], url: str, server_pid: int, tag: str = "") -> dict:
    """Seconds from the schedule's start until the link-worker has stored everything the nodes
    handed over, and the CPU seconds of each part meanwhile: the nodes' crawls (and Scrapyd),
    the scheduler, the link-worker (started and idle before the clock: a service) and the
    database server."""
    linker = Collector(url, config=config, env={"COLLECTOR_LINK_POLL": "0.2", "COLLECTOR_ARCHIVE": str(root / f"linker{tag}.warc")})
    linker.run("link-worker", "--once")  # migrates the database, writes the sites: before the clock
    worker = linker.start("link-worker")
    try:
        wait_until_idle(worker)
        before = [sum(tree_cpu(n.process.pid) for n in nodes), tree_cpu(server_pid), tree_cpu(worker.command_pid())]
        started, epoch = time.perf_counter(), time.time()
        schedule = Collector(url, config=config, env=node_env(root, nodes)).run(
            "schedule", "--once", *FAST, "-s", f"COLLECTOR_INBOX={url}")
        scheduled = time.perf_counter() - started
        wait_for_empty_inbox(url, worker)
        seconds = time.perf_counter() - started
        linking = tree_cpu(worker.command_pid()) - before[2]
    finally:
        worker.signal(signal.SIGTERM)  # stops between batches
    linker.finish(worker)
    statuses = {r["status"] for r in rows(url, "SELECT status FROM runs")}
    if statuses != {"ok"}:
        raise SystemExit(f"the nodes' runs ended {sorted(statuses)}, not all ok")
    return {"seconds": seconds, "nodes": sum(tree_cpu(n.process.pid) for n in nodes) - before[0],
            "scheduler": schedule.cpu, "link-worker": linking, "server": tree_cpu(server_pid) - before[1],
            "timeline": timeline(url, nodes, epoch, scheduled, seconds)}


def timeline(url: str, nodes: list[ScrapydNode], epoch: float, scheduled: float, seconds: float) -> str:
    """Where the wall time went: each node run's start and end (its runs row, to the second),
    when its Scrapyd job's process ended, the schedule's return, the inbox emptied; seconds
    from the schedule's start."""
    def at(iso: str) -> str:
        return f"{datetime.fromisoformat(iso).timestamp() - epoch:.1f}"

    exited: dict[str, str] = {}  # job id -> its last end (an earlier workload's database had the same run ids)
    for job in (job for node in nodes for job in node.jobs().get("finished", []) if job.get("end_time")):
        exited[job["id"]] = max(exited.get(job["id"], ""), job["end_time"])
    runs = rows(url, "SELECT id, site, started, ended FROM runs ORDER BY id")
    crawls = ", ".join(f"{r['site']} {at(r['started'])}-{at(r['ended'])} s (process ended {at(exited[job])} s)"
                       if exited.get(job := f"{r['site']}-run{r['id']}") else f"{r['site']} {at(r['started'])}-{at(r['ended'])} s"
                       for r in runs)
    return f"crawls {crawls}; schedule returned at {scheduled:.1f} s; inbox empty at {seconds:.1f} s"


def measure(root: Path, config: Path, nodes: list[ScrapydNode], url: str, server_pid: int, run: int = 0) -> dict:
    """The distributed layout's figures, one crawl process's, and whether the databases match;
    an odd ``run`` measures the one process first."""
    one_db = root / f"one-{run}.db"

    def one_process() -> dict:
        one = Collector(one_db, config=config, env={"COLLECTOR_SCRAPYD_NODES": ""}).run("crawl", *FAST, check=False)
        return {"one": one.seconds, "one_cpu": one.cpu}

    got = one_process() if run % 2 else {}
    got.update(distributed(root, config, nodes, url, server_pid, tag=f"-{run}"))
    got.update({} if run % 2 else one_process())
    got["same"] = same_contents(contents(url), contents(one_db))
    return got


def same_contents(nodes: dict, one: dict) -> bool:
    """Whether they match; if not, what differs, on stderr (a few rows of each side, per table)."""
    for table in nodes:
        only_nodes, only_one = set(nodes[table]) - set(one[table]), set(one[table]) - set(nodes[table])
        if only_nodes or only_one:
            print(f"{table}: {len(only_nodes)} rows only in the nodes' database, {len(only_one)} only in one crawl's", file=sys.stderr)
            for side, extra in (("nodes", only_nodes), ("one", only_one)):
                for row in sorted(extra)[:3]:
                    print(f"  {side}: {str(row)[:300]}", file=sys.stderr)
    return nodes == one


def workloads(args, tmp: Path):
    """(label, started room) for each workload, one at a time (each stopped after its run)."""
    if args.pages >= 0:
        require(eval_dir, zyte_dir)
        pages = [page.data for page in eval_pages() + zyte_pages()]
        pages = pages[: args.pages or None]
        for n, count in enumerate(args.sites):
            yield f"real pages, {count} sites", ServedPages(tmp / f"real-{n}", pages, sites=count)
    for n, (site_count, articles) in enumerate(args.newsroom):
        yield f"newsroom, {site_count} sites x {articles}", Newsroom(tmp / f"newsroom-{n}", sites=site_count, articles=articles, seed=n)


def sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(n) for n in size.split("x")) for size in text.split(",") if size]


PARTS = ("nodes", "scheduler", "link-worker", "server")


def run(args, tmp: Path, server: Server, nodes: list[ScrapydNode]) -> tuple[list[list], list[list], list[str], list[str]]:
    table, cpu, timelines, differ = [], [], [], []
    server_pid = int((server.data / "postmaster.pid").read_text().split()[0])
    for label, room in workloads(args, tmp):
        runs = []
        try:
            for n in range(args.repeat):
                url = server.new_database(empty=True)
                try:
                    runs.append(measure(room.config.parent, room.config, nodes, url, server_pid, run=n))
                finally:
                    server.drop(url)
                print(f"{label}, run {n + 1}: {runs[-1]['timeline']}", file=sys.stderr)
                timelines.append(f"- {label}, run {n + 1}: {runs[-1]['timeline']}")
        finally:
            room.stop()
        # Each pair's ratio (its two layouts ran back to back, under the same load), then their median.
        pages, ratios = room.pages, [r["one"] / r["seconds"] for r in runs]
        each = " / ".join(f"{ratio:.2f}" for ratio in ratios)
        table.append([label, pages, _each(runs, "one"), f"{pages / median(r['one'] for r in runs):.1f}",
                      _each(runs, "seconds"), f"{pages / median(r['seconds'] for r in runs):.1f}",
                      f"**{median(ratios):.2f}x** ({each})", "yes" if all(r["same"] for r in runs) else "NO"])
        parts = {part: median(r[part] for r in runs) for part in PARTS}
        cpu.append([label, f"{1000 * median(r['one_cpu'] for r in runs) / pages:.1f}",
                    f"{1000 * median(sum(r[part] for part in PARTS) for r in runs) / pages:.1f}",
                    *(f"{1000 * parts[part] / pages:.1f}" for part in PARTS)])
        differ += [] if all(r["same"] for r in runs) else [label]
    return table, cpu, timelines, differ


def _each(runs: list[dict], key: str) -> str:
    return " / ".join(f"{r[key]:.1f}" for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=0, help="real pages served (0: all 1,171; -1: none)")
    parser.add_argument("--sites", type=lambda text: [int(n) for n in text.split(",")], default=[2, 4],
                        help="local sites the real pages are dealt over, a row for each: 2,4")
    parser.add_argument("--newsroom", type=sizes, default=[], help="SITESxARTICLES,... of invented reposting sites")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs a workload, alternating which goes first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scrapyd-") as tmp:
        server, nodes = Server().start(), []
        try:
            nodes = start_nodes(Path(tmp))
            table, cpu, timelines, differ = run(args, Path(tmp), server, nodes)
        finally:
            for node in nodes:
                node.stop()
            server.stop()
    with Report("scrapyd_nodes") as report:
        print("# Two Scrapyd nodes extracting and one link-worker storing (PostgreSQL) against one `collector crawl` (SQLite)\n")
        report.table(["workload", "pages", "one process s, each run", "pages/s (median)", "2 nodes + linker s, each run",
                      "pages/s (median)", "nodes vs one, pages/s: median (each pair)", "same database"], table)
        print()
        report.table(["workload", "one process", "distributed, all", *PARTS], cpu,
                     title="CPU ms per page, medians of the runs: the layout's own processes, not the load beside them")
        print("\nWhere the distributed layout's wall time went (seconds from the schedule's start):\n")
        print("\n".join(timelines))
        print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    if differ:
        raise SystemExit(f"the two databases differ at {', '.join(differ)}")


if __name__ == "__main__":
    main()
