"""Real Scrapyd nodes on 127.0.0.1 for the dispatch tests and bench/scrapyd_nodes.py.

``build_egg`` builds the project's egg as ``scrapyd-deploy`` does (``setup.py bdist_egg``, in
a copy of the sources so the work tree gets no build files); ``ScrapydNode`` writes a
``scrapyd.conf`` with ``collector.crawl.scrapyd.scrapyd_conf`` (loopback, basic auth, a free port,
its own eggs/logs/dbs folders), starts ``python -m scrapyd`` in its own process group (so
stopping it stops its crawls too), waits until it answers, and uploads eggs to it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from collector.crawl.scrapyd import Node, scrapyd_conf

USERNAME = "crawler"
PASSWORD = "loopback-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_egg(repo: Path, out: Path) -> Path:
    src = out / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "scrapy.cfg"):
        shutil.copy(repo / name, src / name)
    for package in ("collector", "pipelines"):
        shutil.copytree(repo / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "bdist_egg", "-d", str(out / "eggs")],
                           cwd=src, capture_output=True, text=True, timeout=300)
    if build.returncode != 0:
        raise RuntimeError(f"bdist_egg failed:\n{build.stderr[-2000:]}")
    return next((out / "eggs").glob("*.egg"))


class ScrapydNode:
    def __init__(self, root: Path, max_proc: int = 1, poll_interval: float = 0.2):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.node = Node(f"http://127.0.0.1:{self.port}", USERNAME, PASSWORD)
        conf = scrapyd_conf("127.0.0.1", self.port, USERNAME, PASSWORD, str(root), max_proc=max_proc, poll_interval=poll_interval)
        (root / "scrapyd.conf").write_text(conf, encoding="utf-8")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return self.node.url

    def start(self, timeout: float = 60.0) -> "ScrapydNode":
        # The crawls inherit the node's environment: none of the test run's COLLECTOR_ settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "SCRAPY_"))}
        self.log = open(self.root / "scrapyd.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "scrapyd", "--pidfile", ""], cwd=self.root, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.node.get("daemonstatus.json")
                return self
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"scrapyd did not start:\n{(self.root / 'scrapyd.log').read_text()[-2000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the node and the crawls it started
            except ProcessLookupError:
                pass
            self.process.wait(timeout=30)
        if self.process is not None:
            self.log.close()

    def jobs(self) -> dict:
        return self.node.get("listjobs.json", project="collector")
