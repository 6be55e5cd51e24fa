"""The ``collector`` command: a thin layer over the library.

The group (``main``) and how library errors reach the user live here; the commands are in
one module per family: ``documents`` (import, reprocess, refingerprint, migrate-store), ``query`` (lineage,
stats, raw, search, export, report), ``crawling`` (crawl, add-site, schedule) and ``web``
(serve, sites). Every ``CollectorError`` becomes a ``CommandFailed`` (a
``click.ClickException``): its one-line message on stderr, its ``exit_status`` as the exit
status; so does a SQLite error that ``collector.storage.explain`` recognises.
"""

from __future__ import annotations

import os
import sqlite3

import click

from ..core.errors import CollectorError
from ..storage import explain
from .common import CommandFailed

__all__ = ["main", "CommandFailed"]


class _Commands(click.Group):
    """Every command: a database that cannot be used (damaged, not a database, read-only,
    locked too long), a broken config, any library error is one line naming the file and
    what to do, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CollectorError as exc:
            raise CommandFailed(str(exc), exc.exit_status) from exc
        except Exception as exc:
            if not isinstance(exc, sqlite3.Error) and not type(exc).__module__.startswith("psycopg"):
                raise
            path = (ctx.obj or {}).get("db", "the database")
            problem = explain(path, exc)
            if problem is None:
                raise
            raise CommandFailed(str(problem), problem.exit_status) from exc


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", default=lambda: os.environ.get("COLLECTOR_DB", "collector.db"), show_default="collector.db or $COLLECTOR_DB", help="SQLite database file, or a postgresql:// URL (docs/postgresql.md).")
@click.option("--config", "config_dir", default=lambda: os.environ.get("COLLECTOR_CONFIG", "configs"), show_default="configs/ or $COLLECTOR_CONFIG", help="Folder of site configs.")
@click.version_option(package_name="collector")
@click.pass_context
def main(ctx, db, config_dir):
    """Collect news articles, strip site chrome, and trace syndicated copies to their origin."""
    ctx.obj = {"db": db, "config": config_dir}


def _add_commands() -> None:
    from . import crawling, documents, query, web

    for family in (documents, query, crawling, web):
        for command in family.COMMANDS:
            main.add_command(command)


_add_commands()
