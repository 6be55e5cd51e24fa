"""``collector schedule``: each site crawled on its config's ``schedule`` cron expression.

Cron expressions are read by croniter (five fields, or six with seconds last), in local
time. Each crawl runs in its own process (``python -m collector ... crawl SITE --json``: a
Twisted reactor cannot be restarted, and a crashed crawl must not take the scheduler with
it), or, with COLLECTOR_SCRAPYD_NODES set, as a job on the least-busy Scrapyd node: where a
crawl runs is a ``Launcher``'s business (collector.crawl.launchers; docs/scrapyd.md). One site
is never crawled twice at once: a crawl still running when its next time comes makes that
time be skipped (it is logged). At most COLLECTOR_SCHEDULE_MAX_CRAWLS crawls run at once;
due crawls beyond that wait for a free place.

Every run is a row of the ``runs`` table (site, started, ended, status, exit status, pages
fetched, new documents, errors by kind), opened by the scheduler through the store and
completed by it (a local crawl killed by a signal is recorded too) or, on a Scrapyd node,
by the crawl itself. SIGTERM or Ctrl-C stops the scheduler cleanly:
no new crawl starts, running crawls get SIGTERM (on a node: ``cancel.json``, SIGINT; Scrapy
finishes them gracefully: their committed documents are kept) and
COLLECTOR_SCHEDULE_STOP_TIMEOUT seconds, then SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from croniter import croniter

from ..core.sites import Site
from ..storage import is_postgres
from ..core.errors import ScheduleError, ScrapydError
from .launchers import Launcher, LocalLauncher, ScrapydLauncher, start_process

logger = logging.getLogger(__name__)


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")



@dataclass
class Crawl:
    """One running crawl: its site, its ``runs`` row and its launcher's handle."""

    site: str
    run_id: int
    handle: object


@dataclass
class Job:
    """A site's schedule: its cron expression and the next time it is due."""

    site: Site
    cron: croniter | None  # None: crawled once, now (``collector schedule --once``)
    due: datetime = field(init=False)

    def __post_init__(self):
        self.due = self.cron.get_next(datetime) if self.cron is not None else datetime.min.replace(tzinfo=timezone.utc)

    def advance(self, now: datetime) -> None:
        if self.cron is None:
            self.due = datetime.max.replace(tzinfo=timezone.utc)
            return
        while self.due <= now:
            self.due = self.cron.get_next(datetime)


def jobs_for(sites, keys=None, now: datetime | None = None, once: bool = False) -> list[Job]:
    """A job for every crawlable site with a ``schedule`` (or the named ones, which must have
    one); ``once``: every crawlable site (or the named ones), due now, with or without one."""
    from .runner import crawlable

    now = now or datetime.now().astimezone()
    chosen = []
    if keys:
        for key in keys:
            site = sites.get(key)
            if site is None:
                raise ScheduleError(f"{key}: no such site config (known: {', '.join(sorted(sites.by_key)) or 'none'})")
            if not site.schedule and not once:
                raise ScheduleError(f"{key}: {site.path} has no schedule")
            if not crawlable(site):
                raise ScheduleError(f"{key}: {site.path} has no feeds, sitemaps or start_urls to crawl")
            chosen.append(site)
    else:
        chosen = [s for s in sites if (s.schedule or once) and crawlable(s)]
    jobs = []
    for site in chosen:
        if once:
            jobs.append(Job(site, None))
            continue
        if not croniter.is_valid(site.schedule):
            raise ScheduleError(f"{site.path}: schedule {site.schedule!r} is not a cron expression")
        jobs.append(Job(site, croniter(site.schedule, now)))
    if not jobs:
        raise ScheduleError("nothing to schedule: no site config has a schedule and feeds, sitemaps or start_urls")
    return jobs


def _now() -> datetime:
    return datetime.now().astimezone()


class Scheduler:
    """Starts each due site's crawl, one at a time per site, ``max_crawls`` at most, and
    records each in ``runs``. Where a crawl runs is the ``launcher``'s business (a local
    process by default: ``command`` + the site key, started by ``start``; or a Scrapyd
    node). ``clock`` and ``start`` are parameters, so the rules can be tested without
    waiting for a cron or starting crawls. ``once``: each job's site is crawled once, then
    ``run`` returns."""

    #: Seconds between looks at running crawls. A look at a Scrapyd node is one
    #: ``listjobs.json`` (about 0.8 ms of CPU, both ends); a second's wait was up to a second
    #: of a node left idle when its crawl ended, and of ``--once`` returning late.
    FOLLOW = 0.25

    def __init__(self, runs, jobs: list[Job], command: list[str] | None = None, max_crawls: int = 4, stop_timeout: float = 60.0,
                 clock: Callable[[], datetime] = _now, start: Callable[[list[str], object], subprocess.Popen] = start_process,
                 launcher: Launcher | None = None, once: bool = False):
        self.runs = runs  # the run log: the store's ``crawl`` part
        self.clock = clock
        self.jobs = jobs
        self.launcher = launcher if launcher is not None else LocalLauncher(command or [], start)
        self.max_crawls = max(1, max_crawls)
        self.stop_timeout = stop_timeout
        self.once = once
        self.running: dict[str, Crawl] = {}
        self.waiting: list[str] = []    # due sites waiting for a free place, in order
        self.stopping = threading.Event()

    # --- the loop -----------------------------------------------------------------------
    def run(self) -> None:
        self.adopt()
        abandoned = self.runs.abandon_runs(keep=[c.run_id for c in self.running.values()])
        if abandoned:
            logger.warning("%d run(s) left 'running' by an earlier scheduler marked abandoned", abandoned)
        for job in self.jobs:
            first = "now" if self.once else job.due.isoformat(timespec="seconds")
            logger.info("%s: %r, first crawl at %s", job.site.key, job.site.schedule, first)
        try:
            while not self.stopping.is_set():
                self.tick()
                if self.once and not (self.running or self.waiting):
                    break
                self.stopping.wait(self.sleep_seconds())
        finally:
            self.stop_all()

    def adopt(self) -> None:
        """Follow the crawls an earlier scheduler left running on the nodes: their sites are busy."""
        for handle in self.launcher.adopt():
            logger.warning("%s: still crawling (run %d, %s) since an earlier scheduler; followed", handle.site,
                           handle.run_id, self.launcher.describe(handle))
            self.running[handle.site] = Crawl(handle.site, handle.run_id, handle)

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
        """Until the next job is due; at most FOLLOW seconds while crawls run (to record their
        end, and start a waiting site, soon after it)."""
        now = self.clock()
        until = min(job.due for job in self.jobs) - now
        seconds = max(0.0, until.total_seconds())
        return min(seconds, self.FOLLOW) if (self.running or self.waiting) else min(seconds, 60.0)

    def due(self, key: str) -> None:
        if key in self.running:
            logger.warning("%s: still crawling since its last time; this time is skipped", key)
        elif key in self.waiting:
            logger.warning("%s: still waiting for a free place; this time is skipped", key)
        else:
            self.waiting.append(key)

    def launch_waiting(self) -> None:
        if not self.waiting or len(self.running) >= self.max_crawls or self.stopping.is_set():
            return
        if not self.launcher.available():
            return  # no node answers: the sites wait (logged by the launcher), nothing is dropped
        while self.waiting and len(self.running) < self.max_crawls and not self.stopping.is_set():
            self.launch(self.waiting.pop(0))

    def launch(self, key: str) -> None:
        run_id = self.runs.start_run(key, self.clock().astimezone(timezone.utc).isoformat(timespec="seconds"))
        try:
            handle = self.launcher.launch(key, run_id)
        except (OSError, ScrapydError) as exc:
            logger.error("%s: cannot start the crawl: %s", key, exc)
            self.runs.finish_run(run_id, "failed", None, errors=1, error_kinds={"start": 1})
            return
        where = self.launcher.describe(handle)
        self.runs.note_worker(run_id, where)
        logger.info("%s: crawl started (run %d, %s)", key, run_id, where)
        self.running[key] = Crawl(key, run_id, handle)

    def reap(self) -> None:
        if not self.running:
            return
        ended = self.launcher.ended([c.handle for c in self.running.values()])
        for key, crawl in list(self.running.items()):
            if any(h is crawl.handle for h in ended):
                self.record(crawl)
                del self.running[key]

    def record(self, crawl: Crawl, interrupted: bool = False) -> None:
        outcome = self.launcher.outcome(crawl.handle, interrupted=interrupted)
        if outcome.status is not None:
            self.runs.finish_run(crawl.run_id, outcome.status, outcome.exit_status, **outcome.counts)
            row = {"status": outcome.status, "exit_status": outcome.exit_status, **outcome.counts}
        else:  # the crawl completed its runs row itself
            row = self.runs.run(crawl.run_id) or {}
        logger.info(
            "%s: crawl ended (run %d): %s, exit status %s, %s pages, %s new documents, %s errors",
            crawl.site, crawl.run_id, row.get("status"), row.get("exit_status"), row.get("pages_fetched"),
            row.get("new_documents"), row.get("errors"),
        )

    # --- stopping -----------------------------------------------------------------------
    def stop(self, *args) -> None:
        self.stopping.set()

    def stop_all(self) -> None:
        if not self.running:
            return
        logger.info("stopping %d running crawl(s)", len(self.running))
        self.launcher.stop([c.handle for c in self.running.values()], self.stop_timeout)
        for key, crawl in list(self.running.items()):
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


def launcher_for(settings, runs, db: str, config: str, overrides=()) -> Launcher:
    """Scrapyd nodes when COLLECTOR_SCRAPYD_NODES names some, else local processes."""
    from ..context import parse_overrides
    from .scrapyd import nodes_from

    nodes = nodes_from(settings.get("COLLECTOR_SCRAPYD_NODES") or "")
    if not nodes:
        return LocalLauncher(crawl_command(db, config, overrides))
    # Paths as the nodes see them: the scheduler's own unless the nodes keep theirs elsewhere.
    sent = {"COLLECTOR_DB": settings.get("COLLECTOR_SCRAPYD_DB") or (db if is_postgres(db) else os.path.abspath(db)),
            "COLLECTOR_CONFIG": settings.get("COLLECTOR_SCRAPYD_CONFIG") or os.path.abspath(config)}
    sent.update({k: v for k, v in parse_overrides(overrides).items() if isinstance(v, str)})
    launcher = ScrapydLauncher(nodes, runs, sent, project=settings.get("COLLECTOR_SCRAPYD_PROJECT"),
                               version=settings.get("COLLECTOR_SCRAPYD_VERSION") or None)
    launcher.check()
    return launcher


def run_schedule(db: str, config: str, keys=None, overrides=(), max_crawls: int | None = None, once: bool = False) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C (``once``: until each site was crawled once)."""
    from ..context import Context, build_settings, parse_overrides
    from ..core.sites import Sites

    settings = build_settings(db, config, parse_overrides(overrides))
    jobs = jobs_for(Sites.load(config), keys, once=once)
    # Created or migrated here, before the first crawl: crawls never race to create it.
    store = Context(settings).open_store()  # the store's settings as every writer has them (lock timeout, waits log)
    try:
        scheduler = Scheduler(
            store.crawl,
            jobs,
            launcher=launcher_for(settings, store.crawl, db, config, overrides),
            max_crawls=max_crawls or settings.getint("COLLECTOR_SCHEDULE_MAX_CRAWLS"),
            stop_timeout=settings.getfloat("COLLECTOR_SCHEDULE_STOP_TIMEOUT"),
            once=once,
        )
        previous = {sig: signal.signal(sig, scheduler.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            scheduler.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        store.close()
