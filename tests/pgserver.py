"""A scratch PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` on 127.0.0.1 and a free
port, in a temporary folder, started once per test session and stopped at its end.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user (Debian's
package creates it) in a folder that user owns. Each test gets a database of its own, copied
from a template that holds the migrated schema (``CREATE DATABASE ... TEMPLATE``), so a test
pays for a copy (tens of ms), not for the migrations.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "collector"
TEMPLATE = "collector_template"


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: Debian's newest, or the ones on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path | None = None, settings: str = ""):
        """``root``: a folder kept between runs (a benchmark's cached database), started again
        as it was left; ``settings``: more ``-c name=value`` options for ``postgres``."""
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL's initdb and pg_ctl were not found (Debian: apt-get install postgresql)")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise RuntimeError("psycopg 3 is not installed (pip install -e '.[postgres]')") from exc
        self.keep = root is not None
        if root is not None:
            Path(root).mkdir(parents=True, exist_ok=True)
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="collector-pg-"))
        self.settings = settings
        self.data = self.root / "data"
        self.port = _free_port()
        self._as = []
        if os.geteuid() == 0:
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server as") from exc
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def start(self) -> "Server":
        existed = (self.data / "PG_VERSION").exists()
        if not existed:
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -F -c full_page_writes=off"
                   f" -c synchronous_commit=off -c max_connections=50 -c shared_buffers=64MB {self.settings}")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "600", "start")
        if existed:
            return self
        self.admin(f"CREATE DATABASE {TEMPLATE}")
        from collector.storage import open_store

        open_store(self.url(TEMPLATE)).close()  # the migrated schema every test's database starts from
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self, empty: bool = False) -> str:
        """The URL of a new database: the migrated schema (or nothing, ``empty``)."""
        name = f"test_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a test's database (its connections closed first)."""
        self.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        if self.keep:  # shut down cleanly: started again next time as it was left
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "600", "stop")
            return
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
