"""One way to run the real CLI: the installed ``collector`` command in a new process, on a
database of the caller's choosing (``temp_db()`` gives a fresh one).

    result = Collector(db, config=CONFIGS).run("import", folder, "--json")
    result.seconds, result.cpu, result.max_rss, result.summary, result.timings

``start`` returns at once (two runs can share the machine; ``cpu`` pins one to a core);
``finish`` waits. ``timings=path`` runs the command with the stage timer
(``bench/common/timing.py``) and reads what it wrote. A command that fails stops the benchmark
with its last lines of stderr (``check=False`` returns the result instead).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common.paths import BENCH, REPO

HOOK = BENCH / "common" / "hook"
#: The commands' own loops, timed as ``run_seconds`` (start-up excluded; importing them in the
#: timed process costs the start-up of both commands, so only when asked).
RUN_LOOPS = "collector.crawl.runner:run_crawl,collector.ingest:import_paths"


def command() -> list[str]:
    """The ``collector`` script installed beside this Python (the project's venv)."""
    script = Path(sys.executable).with_name("collector")
    if not script.exists():
        raise SystemExit(f"{script} is missing: install the project first (make test builds .venv)")
    return [str(script)]


@contextmanager
def temp_db(name: str = "bench.db"):
    """A path for a fresh database in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        yield Path(folder) / name


@dataclass
class Result:
    argv: list[str]
    returncode: int
    seconds: float
    cpu: float
    max_rss: int              # bytes
    stdout: str
    stderr: str
    timings: dict | None = None
    started: float = 0.0      # epoch seconds at spawn
    extra: dict = field(default_factory=dict)

    @property
    def summary(self) -> dict:
        """The last stdout line as JSON (``--json``), or {}."""
        lines = self.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            return {}


@dataclass
class Running:
    argv: list[str]
    proc: subprocess.Popen
    started: float
    spawned: float
    out: Path
    err: Path
    rss: Path | None
    timings: Path | None
    load: float = 0.0         # load average at the start

    def command_pid(self) -> int:
        """The command's own process: when GNU time wraps it, time's child, not time."""
        pid = self.proc.pid
        if self.rss is not None:
            try:
                pid = int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                pass  # not started yet, or already gone: time itself, then
        return pid

    def signal(self, signum: int) -> None:
        os.kill(self.command_pid(), signum)


class Collector:
    """``collector --db DB [--config CONFIG] ...`` with an environment and optional timing."""

    def __init__(self, db: Path | str, config: Path | None = None, env: dict | None = None,
                 timings: Path | None = None, time_calls: str = "", per_item: str = "", cwd: Path = REPO,
                 program: list[str] | None = None, time_run: str = ""):
        """``program``: another command than the installed ``collector`` (another build's, to score it)."""
        # A PostgreSQL URL stays a string (a Path would fold its "//").
        self.db = db if str(db).startswith("postgresql") else Path(db)
        self.config, self.env, self.cwd = config, dict(env or {}), cwd
        self.program, self.time_run = program, time_run
        self.timings, self.time_calls, self.per_item = timings, time_calls, per_item

    def argv(self, *args) -> list[str]:
        head = [*(self.program or command()), "--db", str(self.db)]
        if self.config is not None:
            head += ["--config", str(self.config)]
        return head + [str(a) for a in args]

    def environment(self) -> dict:
        env = {**os.environ, **self.env}
        for name in ("BENCH_TIMINGS", "BENCH_TIME_CALLS", "BENCH_PER_ITEM", "BENCH_TIME_RUN"):
            env.pop(name, None)
        if self.timings is not None:
            env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HOOK), str(REPO), env.get("PYTHONPATH")] if p)
            env.update(BENCH_TIMINGS=str(self.timings), BENCH_TIME_CALLS=self.time_calls,
                       BENCH_PER_ITEM=self.per_item, BENCH_TIME_RUN=self.time_run)
            self.timings.unlink(missing_ok=True)
        return env

    def start(self, *args, cpu: int | None = None) -> Running:
        argv = self.argv(*args)
        scratch = Path(tempfile.gettempdir()) / "bench" if isinstance(self.db, str) else self.db.parent
        scratch.mkdir(exist_ok=True)
        base = f"{getattr(self.db, 'name', 'postgresql')}.{os.getpid()}-{time.monotonic_ns()}"
        out, err = scratch / f"{base}.stdout", scratch / f"{base}.stderr"
        # Peak RSS from GNU time: the ru_maxrss os.wait4 gives for a child of a large process
        # counts the pages it had between fork and exec.
        rss = scratch / f"{base}.rss" if os.path.exists("/usr/bin/time") else None
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(rss), *argv] if rss else argv
        if cpu is not None and (os.cpu_count() or 1) > cpu and shutil.which("taskset"):
            wrapped = ["taskset", "-c", str(cpu), *wrapped]
        env = self.environment()
        with open(out, "wb") as fo, open(err, "wb") as fe:
            spawned, started = time.time(), time.perf_counter()
            proc = subprocess.Popen(wrapped, stdout=fo, stderr=fe, cwd=self.cwd, env=env)
        return Running(argv, proc, started, spawned, out, err, rss, self.timings, os.getloadavg()[0])

    def finish(self, running: Running, check: bool = True) -> Result:
        _, status, usage = os.wait4(running.proc.pid, 0)
        running.proc.returncode = code = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - running.started
        stdout, stderr = (path.read_text(encoding="utf-8", errors="replace") for path in (running.out, running.err))
        rss = int(running.rss.read_text().split()[-1]) * 1024 if running.rss and code == 0 else usage.ru_maxrss * 1024
        for path in (running.out, running.err, running.rss):
            if path is not None:
                path.unlink(missing_ok=True)
        if check and code != 0:
            raise SystemExit(f"{' '.join(running.argv)} failed ({code}):\n{stderr[-3000:]}")
        timings = json.loads(running.timings.read_text()) if running.timings and running.timings.exists() else None
        return Result(running.argv, code, seconds, usage.ru_utime + usage.ru_stime, rss, stdout, stderr, timings,
                      running.spawned, {"read_bytes": usage.ru_inblock * 512, "written_bytes": usage.ru_oublock * 512,
                       "load": (running.load, os.getloadavg()[0])})

    def run(self, *args, check: bool = True, cpu: int | None = None) -> Result:
        return self.finish(self.start(*args, cpu=cpu), check=check)


def run_pair(first: tuple[Collector, tuple], second: tuple[Collector, tuple], swap: bool = False) -> tuple[Result, Result]:
    """Two runs at the same time, one on each core (``swap`` exchanges the cores): the machine's
    load and clock are then the same for both, and their ratio is the code's doing."""
    cpus = (1, 0) if swap else (0, 1)
    running = [collector.start(*args, cpu=cpu) for (collector, args), cpu in zip((first, second), cpus)]
    return first[0].finish(running[0]), second[0].finish(running[1])
