"""What starts, follows and stops the crawls ``collector schedule`` decides to run.

The scheduler (collector.crawl.schedule) decides *when* a site is crawled; a launcher decides
*where*: ``LocalLauncher`` runs each crawl as a process on this machine (``python -m
collector crawl SITE --json``), ``ScrapydLauncher`` sends it to the least-busy Scrapyd node
(COLLECTOR_SCRAPYD_NODES). Both give the scheduler the same four calls: is there room
(``available``), start one site's crawl for a ``runs`` row (``launch``), which have ended
(``ended``), what came of one (``outcome``), and stop them all (``stop``).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..core.errors import ScrapydError, ScrapydRefused
from .scrapyd import PROJECT, Node

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """How a crawl ended, for its ``runs`` row; ``status`` None: the crawl wrote its row itself."""

    status: str | None
    exit_status: int | None = None
    counts: dict = field(default_factory=dict)  # pages_fetched, new_documents, errors, error_kinds


class Launcher(Protocol):
    def available(self) -> bool:
        """A crawl can be started now (a node answers); else the site waits for the next tick."""

    def launch(self, site: str, run_id: int) -> object:
        """Start ``site``'s crawl for the ``runs`` row ``run_id``; a handle (raises OSError or ScrapydError)."""

    def ended(self, handles: list) -> list:
        """Those of ``handles`` whose crawl has ended."""

    def outcome(self, handle, interrupted: bool = False) -> Outcome: ...

    def stop(self, handles: list, timeout: float) -> None:
        """Ask every crawl to stop gracefully; force those still running after ``timeout`` seconds."""

    def describe(self, handle) -> str: ...

    def adopt(self) -> list:
        """Crawls an earlier scheduler started that still run (followed, never started twice)."""


# --- local processes -------------------------------------------------------------------------

def start_process(command: list[str], output) -> subprocess.Popen:
    # Its own session: a Ctrl-C at the terminal reaches the scheduler only, which then
    # stops each crawl with one SIGTERM (a second signal would make Scrapy stop uncleanly).
    return subprocess.Popen(command, stdout=output, stdin=subprocess.DEVNULL, start_new_session=True)


@dataclass
class LocalCrawl:
    process: subprocess.Popen
    output: object  # the temporary file the crawl's --json summary goes to


class LocalLauncher:
    """Each crawl a process of ``command`` + the site key, its summary read from its stdout."""

    def __init__(self, command: list[str], start: Callable[[list[str], object], subprocess.Popen] = start_process):
        self.command = command
        self.start = start

    def available(self) -> bool:
        return True

    def launch(self, site: str, run_id: int) -> LocalCrawl:
        output = tempfile.TemporaryFile(mode="w+b")
        try:
            return LocalCrawl(self.start([*self.command, site], output), output)
        except OSError:
            output.close()
            raise

    def ended(self, handles: list) -> list:
        return [h for h in handles if h.process.poll() is not None]

    def outcome(self, handle: LocalCrawl, interrupted: bool = False) -> Outcome:
        code = handle.process.returncode
        handle.output.seek(0)
        raw = handle.output.read()
        handle.output.close()
        try:
            summary = json.loads(raw.decode("utf-8").strip().splitlines()[-1]) if raw.strip() else {}
        except (ValueError, IndexError):
            summary = {}
        if interrupted or code == 130:
            status = "interrupted"
        elif code is not None and code < 0:
            status = "killed"  # by a signal the scheduler did not send (OOM killer, kill -9)
        else:
            status = "ok" if code == 0 else "failed"
        # A crawl node's new documents are the link-worker's to count (it credits the run).
        new = None if summary.get("queued") else summary.get("new")
        counts = {"pages_fetched": summary.get("pages_fetched"), "new_documents": new,
                  "errors": summary.get("errors"), "error_kinds": summary.get("errors_by_kind")}
        return Outcome(status, code, counts)

    def stop(self, handles: list, timeout: float) -> None:
        for h in handles:
            if h.process.poll() is None:
                h.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for h in handles:
            try:
                h.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("crawl (pid %d) did not stop within %.0f s; killed", h.process.pid, timeout)
                h.process.kill()
                h.process.wait()

    def describe(self, handle: LocalCrawl) -> str:
        return f"pid {handle.process.pid} on {socket.gethostname()}"

    def adopt(self) -> list:
        return []


# --- Scrapyd nodes ---------------------------------------------------------------------------

@dataclass
class NodeJob:
    node: Node
    job: str
    site: str
    run_id: int


JOB_ID = re.compile(r"^(?P<site>.+)-run(?P<run_id>\d+)$")


class ScrapydLauncher:
    """Each crawl a Scrapyd job (spider ``site``, ``-a site=KEY``) on the least-busy node.

    A node's API reports no exit status, so the outcome is the run's own ``runs`` row: the
    crawl on the node completes the row the scheduler opened (COLLECTOR_RUN_ID); a job that
    ended without completing it failed (it could not start, or was killed), unless the
    scheduler cancelled it (interrupted). ``settings`` are sent with every job: the node's
    COLLECTOR_DB and COLLECTOR_CONFIG and the user's ``-s`` overrides."""

    POLL = 0.5  # seconds between looks at the nodes while stopping

    def __init__(self, nodes: list[Node], runs, settings: dict, project: str = PROJECT, version: str | None = None):
        if not nodes:
            raise ScrapydError("COLLECTOR_SCRAPYD_NODES names no node")
        self.nodes = nodes
        self.runs = runs  # the run log: the store's ``crawl`` part
        self.settings = settings
        self.project = project
        self.version = version
        self.load: dict[Node, int] = {}  # pending + running jobs per node that answered
        self.unreachable: dict[Node, str] = {}

    def check(self) -> None:
        """Before the first crawl: a node that refuses the credentials, or lacks the project's
        egg, is a mistake to fix now (ScrapydError); one that does not answer is waited for."""
        for node in self.nodes:
            try:
                projects = node.get("listprojects.json").get("projects", [])
            except ScrapydRefused:
                raise
            except ScrapydError as exc:
                logger.warning("node %s: %s (its crawls go elsewhere until it answers)", node, exc)
                continue
            if self.project not in projects:
                raise ScrapydError(f"{node}: no project {self.project!r} (upload the egg first: scrapyd-deploy, docs/scrapyd.md)")

    def available(self) -> bool:
        """Ask every node how busy it is (``daemonstatus.json``); True if one answers."""
        self.load = {}
        for node in self.nodes:
            try:
                status = node.get("daemonstatus.json")
            except ScrapydError as exc:
                if self.unreachable.get(node) != str(exc):
                    logger.warning("node %s: %s (its crawls go elsewhere until it answers)", node, exc)
                self.unreachable[node] = str(exc)
                continue
            if self.unreachable.pop(node, None) is not None:
                logger.info("node %s answers again", node)
            self.load[node] = int(status.get("pending", 0)) + int(status.get("running", 0))
        return bool(self.load)

    def launch(self, site: str, run_id: int) -> NodeJob:
        if not self.load and not self.available():
            raise ScrapydError("no Scrapyd node answers")
        node = min(self.load, key=lambda n: (self.load[n], self.nodes.index(n)))  # least busy; ties: in order given
        job = f"{site}-run{run_id}"
        fields = [("project", self.project), ("spider", "site"), ("jobid", job), ("site", site)]
        if self.version:
            fields.append(("_version", self.version))
        fields += [("setting", f"{name}={value}") for name, value in {**self.settings, "COLLECTOR_RUN_ID": run_id}.items()]
        node.post("schedule.json", fields)
        self.load[node] += 1
        return NodeJob(node, job, site, run_id)

    def ended(self, handles: list) -> list:
        done = []
        for node in {h.node for h in handles}:
            try:
                jobs = node.get("listjobs.json", project=self.project)
            except ScrapydError as exc:
                if self.unreachable.get(node) != str(exc):  # once, not every second
                    logger.warning("node %s: %s (its crawls are followed when it answers)", node, exc)
                self.unreachable[node] = str(exc)
                continue
            live = {j["id"] for kind in ("pending", "running") for j in jobs.get(kind, [])}
            # Finished, or unknown to the node (restarted: Scrapyd forgets its jobs).
            done += [h for h in handles if h.node == node and h.job not in live]
        return done

    def outcome(self, handle: NodeJob, interrupted: bool = False) -> Outcome:
        row = self.runs.run(handle.run_id)
        if row is not None and row.get("ended"):
            return Outcome(None)
        status = "interrupted" if interrupted else "failed"
        why = "cancelled" if interrupted else "no_run_record"
        return Outcome(status, None, {"errors": 1, "error_kinds": {why: 1}})

    def stop(self, handles: list, timeout: float) -> None:
        """``cancel.json`` (SIGINT: Scrapy stops gracefully), then SIGKILL after ``timeout``."""
        self._cancel(handles, "INT")
        left = self._wait(handles, timeout)
        if left:
            logger.warning("%d crawl(s) did not stop within %.0f s; killed", len(left), timeout)
            self._cancel(left, "KILL")
            self._wait(left, 10.0)

    def _cancel(self, handles: list, sig: str) -> None:
        for h in handles:
            try:
                h.node.post("cancel.json", [("project", self.project), ("job", h.job), ("signal", sig)])
            except ScrapydError as exc:
                logger.warning("%s: cannot cancel job %s: %s", h.site, h.job, exc)

    def _wait(self, handles: list, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        left = list(handles)
        while left and time.monotonic() < deadline:
            ended = self.ended(left)
            left = [h for h in left if h not in ended]
            if left:
                time.sleep(self.POLL)
        return left

    def describe(self, handle: NodeJob) -> str:
        return f"job {handle.job} on {handle.node}"

    def adopt(self) -> list:
        """The nodes' pending and running jobs of an earlier scheduler of this database (a job
        id ``SITE-runN`` whose ``runs`` row N is this site's and still open)."""
        found = []
        for node in self.nodes:
            try:
                jobs = node.get("listjobs.json", project=self.project)
            except ScrapydError as exc:
                logger.warning("node %s: %s (cannot tell which crawls still run there)", node, exc)
                continue
            for job in (j for kind in ("pending", "running") for j in jobs.get(kind, [])):
                match = JOB_ID.match(job["id"])
                row = self.runs.run(int(match["run_id"])) if match else None
                if row is not None and row["site"] == match["site"] and not row.get("ended"):
                    found.append(NodeJob(node, job["id"], match["site"], int(match["run_id"])))
        return found
