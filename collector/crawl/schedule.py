"""``collector schedule``: each site crawled on its config's ``schedule`` cron expression.

Cron expressions are read by croniter (five fields, or six with seconds last), in local
time. Each crawl runs in its own process (``python -m collector ... crawl SITE --json``: a
Twisted reactor cannot be restarted, and a crashed crawl must not take the scheduler with
it). One site is never crawled twice at once: a crawl still running when its next time
comes makes that time be skipped (it is logged). At most COLLECTOR_SCHEDULE_MAX_CRAWLS
crawls run at once; due crawls beyond that wait for a free place.

Every run is a row of the ``runs`` table (site, started, ended, status, exit status, pages
fetched, new documents, errors by kind), written by the scheduler through the store, so a
crawl killed by a signal is recorded too. SIGTERM or Ctrl-C stops the scheduler cleanly:
no new crawl starts, running crawls get SIGTERM (Scrapy finishes them gracefully: their
committed documents are kept) and COLLECTOR_SCHEDULE_STOP_TIMEOUT seconds, then SIGKILL.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from croniter import croniter

from ..core.sites import Site
from ..storage import is_postgres
from ..core.errors import ScheduleError  # noqa: F401  (raised here; defined with every error)

logger = logging.getLogger(__name__)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")



@dataclass
class Crawl:
    """One running crawl: its process and its ``runs`` row."""

    site: str
    run_id: int
    process: subprocess.Popen
    output: object  # the temporary file the crawl's --json summary goes to


@dataclass
class Job:
    """A site's schedule: its cron expression and the next time it is due."""

    site: Site
    cron: croniter
    due: datetime = field(init=False)

    def __post_init__(self):
        self.due = self.cron.get_next(datetime)

    def advance(self, now: datetime) -> None:
        while self.due <= now:
            self.due = self.cron.get_next(datetime)


def jobs_for(sites, keys=None, now: datetime | None = None) -> list[Job]:
    """A job for every crawlable site with a ``schedule`` (or the named ones, which must have one)."""
    from .runner import crawlable

    now = now or datetime.now().astimezone()
    chosen = []
    if keys:
        for key in keys:
            site = sites.get(key)
            if site is None:
                raise ScheduleError(f"{key}: no such site config (known: {', '.join(sorted(sites.by_key)) or 'none'})")
            if not site.schedule:
                raise ScheduleError(f"{key}: {site.path} has no schedule")
            if not crawlable(site):
                raise ScheduleError(f"{key}: {site.path} has no feeds, sitemaps or start_urls to crawl")
            chosen.append(site)
    else:
        chosen = [s for s in sites if s.schedule and crawlable(s)]
    jobs = []
    for site in chosen:
        if not croniter.is_valid(site.schedule):
            raise ScheduleError(f"{site.path}: schedule {site.schedule!r} is not a cron expression")
        jobs.append(Job(site, croniter(site.schedule, now)))
    if not jobs:
        raise ScheduleError("nothing to schedule: no site config has a schedule and feeds, sitemaps or start_urls")
    return jobs


def _now() -> datetime:
    return datetime.now().astimezone()


def _start(command: list[str], output) -> subprocess.Popen:
    # Its own session: a Ctrl-C at the terminal reaches the scheduler only, which then
    # stops each crawl with one SIGTERM (a second signal would make Scrapy stop uncleanly).
    return subprocess.Popen(command, stdout=output, stdin=subprocess.DEVNULL, start_new_session=True)


class Scheduler:
    """Starts each due site's crawl, one at a time per site, ``max_crawls`` at most, and
    records each in ``runs``. ``clock`` and ``start`` (what starts a crawl's process) are
    parameters, so the rules can be tested without waiting for a cron or starting crawls."""

    def __init__(self, runs, jobs: list[Job], command: list[str], max_crawls: int = 4, stop_timeout: float = 60.0,
                 clock: Callable[[], datetime] = _now, start: Callable[[list[str], object], subprocess.Popen] = _start):
        self.runs = runs  # the run log: the store's ``crawl`` part
        self.clock = clock
        self.start = start
        self.jobs = jobs
        self.command = command          # the crawl command; the site key is appended
        self.max_crawls = max(1, max_crawls)
        self.stop_timeout = stop_timeout
        self.running: dict[str, Crawl] = {}
        self.waiting: list[str] = []    # due sites waiting for a free place, in order
        self.stopping = threading.Event()

    # --- the loop -----------------------------------------------------------------------
    def run(self) -> None:
        abandoned = self.runs.abandon_runs()
        if abandoned:
            logger.warning("%d run(s) left 'running' by an earlier scheduler marked abandoned", abandoned)
        for job in self.jobs:
            logger.info("%s: %r, first crawl at %s", job.site.key, job.site.schedule, job.due.isoformat(timespec="seconds"))
        try:
            while not self.stopping.is_set():
                self.tick()
                self.stopping.wait(self.sleep_seconds())
        finally:
            self.stop_all()

    def tick(self) -> None:
        """Record the crawls that ended, queue the sites now due, start what may start."""
        self.reap()
        now = self.clock()
        for job in self.jobs:
            if job.due <= now:
                self.due(job.site.key)
                job.advance(now)
        self.launch_waiting()

    def sleep_seconds(self) -> float:
        """Until the next job is due; at most a second while crawls run (to record their end)."""
        now = self.clock()
        until = min(job.due for job in self.jobs) - now
        seconds = max(0.0, until.total_seconds())
        return min(seconds, 1.0) if (self.running or self.waiting) else min(seconds, 60.0)

    def due(self, key: str) -> None:
        if key in self.running:
            logger.warning("%s: still crawling since its last time; this time is skipped", key)
        elif key in self.waiting:
            logger.warning("%s: still waiting for a free place; this time is skipped", key)
        else:
            self.waiting.append(key)

    def launch_waiting(self) -> None:
        while self.waiting and len(self.running) < self.max_crawls and not self.stopping.is_set():
            self.launch(self.waiting.pop(0))

    def launch(self, key: str) -> None:
        run_id = self.runs.start_run(key, self.clock().astimezone(timezone.utc).isoformat(timespec="seconds"))
        output = tempfile.TemporaryFile(mode="w+b")
        try:
            process = self.start([*self.command, key], output)
        except OSError as exc:
            output.close()
            logger.error("%s: cannot start the crawl: %s", key, exc)
            self.runs.finish_run(run_id, "failed", None, errors=1, error_kinds={"start": 1})
            return
        logger.info("%s: crawl started (run %d, pid %d)", key, run_id, process.pid)
        self.running[key] = Crawl(key, run_id, process, output)

    def reap(self) -> None:
        for key, crawl in list(self.running.items()):
            if crawl.process.poll() is not None:
                self.record(crawl)
                del self.running[key]

    def record(self, crawl: Crawl, interrupted: bool = False) -> None:
        code = crawl.process.returncode
        crawl.output.seek(0)
        raw = crawl.output.read()
        crawl.output.close()
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
        self.runs.finish_run(
            crawl.run_id,
            status,
            code,
            pages_fetched=summary.get("pages_fetched"),
            new_documents=summary.get("new"),
            errors=summary.get("errors"),
            error_kinds=summary.get("errors_by_kind"),
        )
        logger.info(
            "%s: crawl ended (run %d): %s, exit status %s, %s pages, %s new documents, %s errors",
            crawl.site, crawl.run_id, status, code, summary.get("pages_fetched"), summary.get("new"), summary.get("errors"),
        )

    # --- stopping -----------------------------------------------------------------------
    def stop(self, *args) -> None:
        self.stopping.set()

    def stop_all(self) -> None:
        if not self.running:
            return
        logger.info("stopping %d running crawl(s)", len(self.running))
        for crawl in self.running.values():
            if crawl.process.poll() is None:
                crawl.process.send_signal(signal.SIGTERM)
        for key, crawl in list(self.running.items()):
            try:
                crawl.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s: crawl did not stop within %.0f s; killed", key, self.stop_timeout)
                crawl.process.kill()
                crawl.process.wait()
            self.record(crawl, interrupted=True)
            del self.running[key]


def crawl_command(db: str, config: str, overrides=()) -> list[str]:
    """``python -m collector --db DB --config DIR crawl --json [-s NAME=VALUE...]`` (site appended)."""
    target = db if is_postgres(db) else os.path.abspath(db)  # a PostgreSQL URL is no path
    command = [sys.executable, "-m", "collector", "--db", target, "--config", os.path.abspath(config), "crawl", "--json",
               "-s", "COLLECTOR_RECORD_RUNS=False"]  # the scheduler records each run itself
    for override in overrides:
        command += ["-s", override]
    return command


def run_schedule(db: str, config: str, keys=None, overrides=(), max_crawls: int | None = None) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C."""
    from ..context import Context, build_settings, parse_overrides
    from ..core.sites import Sites

    settings = build_settings(db, config, parse_overrides(overrides))
    jobs = jobs_for(Sites.load(config), keys)
    store = Context(settings).open_store()  # the store's settings as every writer has them (lock timeout, waits log)
    scheduler = Scheduler(
        store.crawl,
        jobs,
        crawl_command(db, config, overrides),
        max_crawls=max_crawls or settings.getint("COLLECTOR_SCHEDULE_MAX_CRAWLS"),
        stop_timeout=settings.getfloat("COLLECTOR_SCHEDULE_STOP_TIMEOUT"),
    )
    previous = {sig: signal.signal(sig, scheduler.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.close()
