"""One stage timer: wall and CPU seconds and calls per label, first-call events, and each
document's time in chosen stages.

In this process::

    timer = StageTimer()
    with timer.time("ExtractPipeline"):
        ...
    timer.wrap_stages()            # every pipeline stage's ``process_item``, from now on

In a ``collector`` process: ``bench.common.cli.Collector(timings=path)`` starts the command
with ``bench/common/hook`` on ``PYTHONPATH``; its ``sitecustomize`` calls ``install_from_env``,
which wraps every stage and the ``BENCH_TIME_CALLS`` methods, and writes ``as_dict()`` to
``$BENCH_TIMINGS`` when the process exits. It changes no behaviour.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from contextlib import contextmanager


class StageTimer:
    def __init__(self, per_item: tuple[str, ...] = (), cpu_clock=time.thread_time):
        self.cpu_clock = cpu_clock        # thread_time: the calling thread's; process_time: all threads'
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.events: dict[str, float] = {}
        self.items: list[list] = []       # [url, wall, cpu, new_links] per document, for ``per_item`` stages
        self.per_item = per_item
        self.run: dict[str, float] = {}
        self.each: dict[str, list[tuple[float, float]]] = defaultdict(list)  # (cpu, wall) per call, if asked

    def add(self, label: str, wall: float, cpu: float, each: bool = False) -> None:
        if each:
            self.each[label].append((cpu, wall))
        self.wall[label] += wall
        self.cpu[label] += cpu
        self.calls[label] += 1

    def event(self, name: str) -> None:
        """The first time ``name`` happened (epoch seconds)."""
        self.events.setdefault(name, time.time())

    @contextmanager
    def time(self, label: str, each: bool = False):
        started, cpu = time.perf_counter(), self.cpu_clock()
        try:
            yield
        finally:
            self.add(label, time.perf_counter() - started, self.cpu_clock() - cpu, each)

    def wrap(self, owner, name: str, label: str, first: str | None = None, each: bool = False):
        """Time every call of ``owner.name`` under ``label`` (its first call as events; each
        call's (cpu, wall) in ``each[label]`` if asked). Returns a function that undoes it."""
        original = getattr(owner, name)
        timer = self

        def timed(*args, **kwargs):
            if first:
                timer.event(first + "_start")
            with timer.time(label, each):
                try:
                    return original(*args, **kwargs)
                finally:
                    if first:
                        timer.event(first + "_end")

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    def wrap_stages(self, prefix: str = "") -> None:
        """Time every stage's ``process_item`` (the entry point in a crawl and an import alike)."""
        from pipelines.stage import Stage

        original, timer = Stage.process_item, self

        def process_item(stage, item):
            name = type(stage).__name__
            timer.event(name + "_first_start")
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(stage, item)
            finally:
                wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
                timer.add(prefix + name, wall, cpu)
                timer.event(name + "_first_end")
                if name in timer.per_item:
                    timer.items.append([item.get("url"), wall, cpu, item.get("new_links")])

        Stage.process_item = process_item

    def wrap_run(self, module: str, function: str) -> None:
        """Time one call of the command's own loop (``run_seconds``, without start-up)."""
        owner = importlib.import_module(module)
        original, run = getattr(owner, function), self.run

        def timed(*args, **kwargs):
            run["started"], run["cpu_started"] = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                run["ended"], run["cpu_ended"] = time.perf_counter(), time.process_time()

        setattr(owner, function, timed)

    def as_dict(self) -> dict:
        run = self.run
        return {"wall": dict(self.wall), "cpu": dict(self.cpu), "calls": dict(self.calls), "events": self.events,
                "items": self.items, "cpu_seconds": time.process_time(),
                "run_seconds": run.get("ended", 0.0) - run.get("started", 0.0),
                "run_cpu_seconds": run.get("cpu_ended", 0.0) - run.get("cpu_started", 0.0)}


def targets(spec: str) -> list[tuple[str, str, str, str]]:
    """``"store@collector.storage.documents:DocumentStore.save,..."`` -> [(label prefix, module, class, method), ...]."""
    found = []
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        prefix, _, path = entry.rpartition("@")
        module, _, attribute = path.partition(":")
        owner, _, method = attribute.rpartition(".")
        found.append((prefix or owner.lower(), module, owner, method))
    return found


def install_from_env() -> StageTimer | None:
    """In a ``collector`` process started by ``bench.common.cli``: time it, write at exit."""
    target = os.environ.pop("BENCH_TIMINGS", None)
    if not target:
        return None
    # Only this process is measured: Python processes it starts (a worker pool) must not
    # install a timer of their own and write over this one's figures.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                               if p and Path(p).resolve() != Path(__file__).resolve().parent / "hook")
    timer = StageTimer(per_item=tuple(filter(None, os.environ.get("BENCH_PER_ITEM", "").split(","))))
    timer.event("hook_start")
    for module, function in (entry.split(":") for entry in os.environ.get("BENCH_TIME_RUN", "").split(",") if entry):
        timer.wrap_run(module, function)
    for prefix, module, owner, method in targets(os.environ.get("BENCH_TIME_CALLS", "")):
        cls = getattr(importlib.import_module(module), owner)
        opening = method == "__init__"  # its first call is an event too: "<prefix>_open_start" / "_end"
        timer.wrap(cls, method, f"{prefix}:{'open' if opening else method}", first=f"{prefix}_open" if opening else None)
    timer.wrap_stages(prefix="stage:")
    pid = os.getpid()

    def dump() -> None:
        if os.getpid() != pid:  # a forked child of the command: not the process measured
            return
        timer.event("exit")
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(timer.as_dict(), fh)

    atexit.register(dump)
    return timer
