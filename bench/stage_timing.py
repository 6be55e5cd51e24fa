"""Bench helper: time every pipeline stage and the run of ``collector crawl`` / ``import``.

``install()`` wraps ``pipelines.stage.Stage.process_item`` (every stage's entry point, in a
crawl and in an import alike) and the library functions the two commands call, and at exit
writes ``{"stages": {class: seconds}, "calls": {...}, "run_seconds", "cpu_seconds"}`` to
the file named by ``$BENCH_TIMINGS``. Heavy modules are imported first, so the run's time
excludes start-up.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from collections import defaultdict

stages: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)
run = {"started": None, "ended": None, "cpu_started": None, "cpu_ended": None}


def install() -> None:
    import scrapy.crawler  # noqa: F401  start-up, not the run
    import trafilatura  # noqa: F401

    import collector.crawl.report
    import collector.ingest
    import collector.spiders.site  # noqa: F401
    import pipelines.attribute  # noqa: F401
    import pipelines.clean  # noqa: F401
    import pipelines.extract  # noqa: F401
    import pipelines.fingerprint  # noqa: F401
    import pipelines.learn  # noqa: F401
    import pipelines.link  # noqa: F401
    import pipelines.store  # noqa: F401
    from pipelines.stage import Stage

    original = Stage.process_item

    def process_item(self, item):
        started = time.perf_counter()
        try:
            return original(self, item)
        finally:
            name = type(self).__name__
            stages[name] += time.perf_counter() - started
            calls[name] += 1

    Stage.process_item = process_item

    def timed_run(function):
        def wrapper(*args, **kwargs):
            run["started"], run["cpu_started"] = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                run["ended"], run["cpu_ended"] = time.perf_counter(), time.process_time()

        return wrapper

    collector.crawl.report.run_crawl = timed_run(collector.crawl.report.run_crawl)
    collector.ingest.import_paths = timed_run(collector.ingest.import_paths)
    atexit.register(dump)


def dump() -> None:
    target = os.environ.get("BENCH_TIMINGS")
    if not target:
        return
    seconds = (run["ended"] or time.perf_counter()) - (run["started"] or time.perf_counter())
    with open(target, "w", encoding="utf-8") as fh:
        json.dump({"stages": stages, "calls": calls, "run_seconds": seconds, "cpu_seconds": time.process_time(),
                   "run_cpu_seconds": (run["cpu_ended"] or 0.0) - (run["cpu_started"] or 0.0)}, fh, indent=2)
