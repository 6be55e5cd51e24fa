"""One report writer: the markdown a benchmark prints also goes to ``bench/out/<name>.md``,
stamped with the date and the machine (cores, CPU model, Python, code revision).

    with Report("stages") as report:
        print("some text")                    # goes to stdout and to the report
        report.table(["stage", "ms"], rows)   # a markdown table, printed the same way

Numbers are formatted by the caller; ``table`` aligns nothing (markdown renders it).
"""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import datetime, timezone
from pathlib import Path

from bench.common.paths import OUT, REPO


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def revision() -> str:
    try:
        found = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return found.stdout.strip() or "unknown"


def machine_stamp(now: datetime | None = None) -> str:
    """One line naming when and where: date (UTC), cores, CPU model, Python, load, code revision."""
    now = now or datetime.now(timezone.utc)
    return (f"{now:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()} "
            f"on {platform.system()} {platform.machine()}; load average {os.getloadavg()[0]:.2f}; code `{revision()}`")


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table; the first column left-aligned, the others right-aligned (figures)."""
    lines = ["| " + " | ".join(str(h) for h in header) + " |",
             "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _relative(path: str) -> str:
    """A script's path from the repository's root (no machine paths in a report)."""
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return Path(path).name


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


class Report:
    """Print the benchmark's markdown and keep a copy; on leaving, write it stamped to ``path``."""

    def __init__(self, name: str, out: Path | None = None, command: list[str] | None = None):
        self.name = name
        # ``bench/run.py --quick`` sends its small-size reports elsewhere (BENCH_REPORTS), so
        # they never replace the full-size reports the docs cite.
        self.path = (out or Path(os.environ.get("BENCH_REPORTS") or OUT)) / f"{name}.md"
        self.command = command if command is not None else sys.argv
        self.text = io.StringIO()
        self._redirect = None

    def __enter__(self) -> "Report":
        self._redirect = redirect_stdout(_Tee(sys.stdout, self.text))
        self._redirect.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._redirect.__exit__(*exc)
        self.write()

    def table(self, header: list[str], rows: list[list], title: str | None = None) -> None:
        if title:
            print(f"\n{title}\n")
        print(table(header, rows))

    def write(self) -> Path:
        command = " ".join([_relative(self.command[0]) if self.command else self.name, *self.command[1:]])
        head = f"<!-- bench/out/{self.name}.md: written by the benchmark; do not edit -->\n\n" \
               f"Machine: {machine_stamp()}.\nCommand: `{command}`\n\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(head + self.text.getvalue(), encoding="utf-8")
        print(f"(report: {self.path})", file=sys.stderr)
        return self.path


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"
