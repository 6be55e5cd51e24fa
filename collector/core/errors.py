"""Every error collector raises on purpose, under one base: ``CollectorError``.

Each carries a one-line message for the user (it names the file, URL or record and the
reason) and the exit status the CLI ends with (``exit_status``); the CLI turns them into
``click.ClickException``s, so a script can tell a busy database from a bad config.
"""

from __future__ import annotations


class CollectorError(Exception):
    """An error whose message is one line for the user."""

    exit_status = 1


class ConfigError(CollectorError, ValueError):
    """A site config that cannot be used; the message names the file."""

    exit_status = 2


class StoreError(CollectorError, RuntimeError):
    """The database cannot be used; the message is one line for the user."""

    exit_status = 2


class StoreBusy(StoreError):
    """Another writer held the lock past the deadline: nothing was lost, run again later."""

    exit_status = 75  # EX_TEMPFAIL


class Interrupted(CollectorError):
    """SIGTERM during a run: handled like Ctrl-C (what was committed is complete)."""

    exit_status = 143  # 128 + SIGTERM; Ctrl-C itself ends with 130


class RawMissing(CollectorError):
    """A document's raw input cannot be read: the message says which and why."""


class ExportError(CollectorError, ValueError):
    """An export that cannot be made."""

    exit_status = 2


class ScheduleError(CollectorError, ValueError):
    """A schedule that cannot run."""

    exit_status = 2


class ServeError(CollectorError, RuntimeError):
    """A server that cannot start."""

    exit_status = 2


class ScrapydError(CollectorError, RuntimeError):
    """A Scrapyd node that cannot be reached, refuses the credentials, or answers an error."""

    exit_status = 2


class ScrapydRefused(ScrapydError):
    """A Scrapyd node refused the username or password: a mistake to fix, not to wait out."""
