"""The CLI's face of library errors (collector/cli/__init__.py), in process with click's
CliRunner: every CollectorError is its one line on stderr and its exit status; the command
names and the console entry point stay as scripts know them."""

from __future__ import annotations

import sqlite3
from importlib.metadata import entry_points

import click
import pytest
from click.testing import CliRunner

from collector.cli import CommandFailed, main
from collector.core import errors
from collector.core.errors import CollectorError


def every_subclass(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *every_subclass(sub)]
    return found


ERRORS = [CollectorError, *every_subclass(CollectorError)]


def run_raising(exc: BaseException, db: str = "harbour.db"):
    """A command of the CLI's group class that raises ``exc``, run as ``collector --db DB boom``."""
    @click.command("boom")
    def boom():
        raise exc

    # The real group's class, options (--db, --config) and callback, with this one command.
    group = type(main)(name="collector", commands=[boom], params=main.params, callback=main.callback)
    return CliRunner().invoke(group, ["--db", db, "boom"], catch_exceptions=False)


def test_every_error_of_the_errors_module_is_mapped():
    defined = {c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, CollectorError)}
    assert defined == set(ERRORS) and len(ERRORS) == 11


@pytest.mark.parametrize("cls", ERRORS, ids=[c.__name__ for c in ERRORS])
def test_each_library_error_is_its_line_and_its_exit_status(cls):
    result = run_raising(cls("harbour.db: something precise went wrong"))
    assert result.exit_code == cls.exit_status
    assert result.stderr == "harbour.db: something precise went wrong\n" and result.stdout == ""


def test_the_statuses_scripts_rely_on():
    statuses = {cls.__name__: cls.exit_status for cls in ERRORS}
    assert statuses["ConfigError"] == statuses["StoreError"] == statuses["ExportError"] == 2
    assert statuses["ScheduleError"] == statuses["ServeError"] == 2
    assert statuses["ScrapydError"] == statuses["ScrapydRefused"] == 2
    assert (statuses["StoreBusy"], statuses["Interrupted"], statuses["RawMissing"]) == (75, 143, 1)


def test_a_locked_database_is_busy_and_a_statement_error_is_a_bug():
    uri = "file:cli-errors?mode=memory&cache=shared"
    holder, waiter = sqlite3.connect(uri, uri=True), sqlite3.connect(uri, uri=True, timeout=0)
    holder.execute("CREATE TABLE t (x PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        waiter.execute("SELECT * FROM t")
    except sqlite3.OperationalError as exc:
        locked = exc
    result = run_raising(locked, db="busy.db")
    assert result.exit_code == 75 and result.stderr.startswith("busy.db: the database stayed locked")
    holder.commit()
    try:
        holder.execute("INSERT INTO t VALUES (1)")
    except sqlite3.IntegrityError as exc:
        constraint = exc
    with pytest.raises(sqlite3.IntegrityError):  # not the file's fault: a traceback, for a bug report
        run_raising(constraint)


def test_command_failed_is_a_click_exception_without_prefix():
    failed = CommandFailed("x.db: no such database", 2)
    assert isinstance(failed, click.ClickException) and failed.exit_code == 2


def test_every_command_keeps_its_name():
    assert sorted(main.commands) == ["add-site", "crawl", "export", "import", "lineage", "link-worker", "migrate-store",
                                     "pg-roles", "raw", "refingerprint", "report", "reprocess", "schedule", "scrapyd-conf",
                                     "search", "serve", "sites", "stats"]


def test_the_console_script_is_the_group():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "collector"]
    assert script.value == "collector.cli:main" and script.load() is main


@pytest.mark.parametrize("command", [["import", "nothing-here"], ["crawl"]])
def test_a_setting_given_a_word_for_a_number_is_one_line_naming_it(tmp_path, command):
    """`-s COLLECTOR_BATCH_SIZE=lots` is refused before any work, naming the setting (not
    "could not convert string to float" where it is first read, or a traceback)."""
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "corpus.db"), *command, "-s", "COLLECTOR_BATCH_SIZE=lots"])
    assert result.exit_code == 2, result.output
    assert "-s COLLECTOR_BATCH_SIZE='lots': not a number" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "corpus.db").exists()
