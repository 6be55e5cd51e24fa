"""What every command shares: the one-line failure, the consoles, the database and context openers."""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from sqlite_utils import Database

from ..context import Context
from ..core.errors import Interrupted
from ..core.sites import Sites
from ..storage import is_postgres, open_for_reading
from ..storage.postgres import redacted

#: Messages, summaries and progress go to stderr; stdout carries only what was asked for.
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CommandFailed(click.ClickException):
    """A command that cannot go on: one line on stderr (no "Error:" prefix, no traceback)
    and an exit status a script can tell apart (2: usage, config or database; 75: busy)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True, file=file)


def fail(message: str, code: int = 1):
    raise CommandFailed(message, code)


def interrupted(exc: BaseException, what_now: str):
    """Ctrl-C (exit 130) or SIGTERM (``Interrupted``, exit 143) during a run: one line."""
    fail(f"interrupted: {what_now}", Interrupted.exit_status if isinstance(exc, Interrupted) else 130)


@contextmanager
def writing(context: Context, what_now: str):
    """A command's run over ``context``: a usage error is one line (exit 2), an interruption
    says what is kept (``what_now``), and the store is closed whatever happens."""
    try:
        yield
    except ValueError as exc:
        fail(str(exc), 2)
    except (KeyboardInterrupt, Interrupted) as exc:
        interrupted(exc, what_now)
    finally:
        context.close()


def open_context(obj, overrides: dict | None = None) -> Context:
    """The run's context, its site configs and store opened now: a broken config or an
    unusable database fails here, before any work (``ConfigError``/``StoreError``)."""
    try:
        context = Context({**(overrides or {}), "COLLECTOR_DB": obj["db"], "COLLECTOR_CONFIG": obj["config"]})
    except ValueError as exc:  # a -s value a setting cannot take
        fail(str(exc), 2)
    context.open_store()  # fail early on an unusable database (a broken config failed already)
    return context


def read_db(obj) -> Database:
    """The database, opened read-only and checked: read commands work on read-only files.
    The site configs are not needed to read, but a broken one is said here too. On
    PostgreSQL, a ``Reader`` with the same ``query``/``execute`` (collector.storage.postgres)."""
    if os.path.isdir(obj["config"]):
        Sites.load(obj["config"])
    if is_postgres(obj["db"]):
        return read_postgres(obj["db"])
    return Database(open_for_reading(obj["db"]))


def read_postgres(url: str):
    from ..storage.postgres.connection import psycopg
    from ..storage.postgres.reading import Reader

    try:
        return Reader(url)
    except psycopg.Error as exc:
        fail(f"{redacted(url)}: not a usable collector database: {str(exc).strip().splitlines()[0]}", 2)


def read_conn(obj):
    """The database opened read-only (these commands never write to it): a ``sqlite3``
    connection, or on PostgreSQL a ``Reader`` that takes the same statements
    (``collector.storage.reading``)."""
    if is_postgres(obj["db"]):
        return read_db(obj)
    read_db(obj)
    try:
        conn = sqlite3.connect(Path(obj["db"]).resolve().as_uri() + "?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM documents").fetchone()
    except sqlite3.DatabaseError as exc:
        fail(f"{obj['db']}: not a usable collector database: {exc}", 2)
    return conn


def stdout() -> Console:
    # On a terminal, its width; in a pipe or file, wide enough not to cut URLs.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def progress():
    """A progress bar on a terminal, nothing otherwise (logs and pipes stay clean)."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), "{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


def workers_option(function):
    return click.option("--workers", type=int, default=lambda: os.cpu_count() or 1, show_default="the number of cores",
                        help="Processes extracting HTML in parallel (1: all in this process).")(function)


def json_option(help: str):
    return click.option("--json", "as_json", is_flag=True, help=help)
