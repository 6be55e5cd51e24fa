"""Commands that write documents from local input: import, reprocess, refingerprint."""

from __future__ import annotations

import json
import sys

import click
from rich.markup import escape

from ..core.errors import Interrupted
from ..storage.postgres import redacted
from .common import err, fail, interrupted, json_option, open_context, progress, read_db, workers_option, writing


def _say(message: str) -> None:
    err.print(escape(message), soft_wrap=True)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False))  # reported per path, the run goes on
@click.option("--site", help="Site config key of every imported document (else recognised from URL or chrome).")
@json_option("Print the summary as JSON.")
@workers_option
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A setting for this import (repeatable), e.g. -s 'ITEM_PIPELINES={\"pipelines.learn.LearnChromePipeline\": null}'.")
@click.option("--inbox", is_flag=True,
              help="Extract only and hand the documents to the inbox of the --db PostgreSQL database, for"
                   " collector link-worker (a backfill fed from several machines); as COLLECTOR_INBOX.")
@click.pass_obj
def import_cmd(obj, paths, site, as_json, workers, overrides, inbox):
    """Import .txt, .html, .warc(.gz), .jsonl files (or .gz of them), and folders of them."""
    from ..context import parse_overrides
    from ..ingest import import_paths

    try:
        extra = parse_overrides(overrides)
    except ValueError as exc:
        fail(str(exc), 2)
    if inbox:
        extra.setdefault("COLLECTOR_INBOX", obj["db"])
    context = open_context(obj, extra)
    with writing(context, "committed documents are kept; run the same import again to finish"), progress() as bar:
        task = bar.add_task("importing", total=None) if bar else None
        summary = import_paths(paths, context, site=site, workers=max(1, workers), on_problem=_say,
                               on_item=(lambda item: bar.advance(task)) if bar else (lambda item: None))
    _print_import_summary(summary, as_json)
    if summary.imported + summary.unchanged + summary.variants + summary.queued == 0:
        sys.exit(1)


@click.command("link-worker")
@click.option("--once", is_flag=True, help="Stop when the inbox is empty (default: keep polling until SIGTERM).")
@json_option("Print the summary as JSON.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A setting for this run (repeatable), e.g. -s COLLECTOR_LINK_BATCH=500.")
@click.pass_obj
def link_worker(obj, once, as_json, overrides):
    """Store and link the documents crawl nodes put in the inbox (--db postgresql://...), a batch per transaction."""
    from ..context import parse_overrides
    from ..linkworker import link_inbox
    from ..storage import is_postgres

    try:
        extra = parse_overrides(overrides)
    except ValueError as exc:
        fail(str(exc), 2)
    extra["COLLECTOR_INBOX"] = None  # this is the linker: every stage runs here
    if not is_postgres(obj["db"]):
        fail(f"collector link-worker: the inbox lives in a PostgreSQL store; {obj['db']} is not one"
             " (--db postgresql://...; docs/postgresql.md)", 2)
    context = open_context(obj, extra)
    with writing(context, "committed batches are kept; the open one stays in the inbox"):
        summary = link_inbox(context, once=once, on_problem=_say)
    _print_import_summary(summary, as_json)


@click.command("pg-roles")
@click.option("--node", default="collector_node", show_default=True, help="The crawl nodes' role.")
@click.option("--linker", default="collector_linker", show_default=True, help="The link-worker's role.")
def pg_roles(node, linker):
    """Print the SQL that creates the PostgreSQL roles of distributed mode (run it with psql as the owner)."""
    from ..storage.postgres.roles import roles_sql

    click.echo(roles_sql(node, linker))


def _print_import_summary(summary, as_json: bool) -> None:
    data = summary.as_dict()
    if as_json:
        click.echo(json.dumps(data))
        return
    for notice in summary.notices:
        err.print(f"note: {escape(notice)}", soft_wrap=True)
    err.print(
        f"imported {data['imported']} ({data['new']} new, {data['updated']} updated), "
        f"unchanged {data['unchanged']}, skipped {data['skipped']} with errors, "
        f"new links {data['new_links']}, {data['documents_per_second']} documents/s"
        + (f", {data['variants']} other URLs of stored documents (aliases added)" if data["variants"] else "")
        + (f", {data['queued']} handed to the inbox" if data.get("queued") else "")
        + (f", in {data['batches']} inbox batches" if data.get("batches") else "")
    )


@click.command()
@click.option("--site", "sites", multiple=True, metavar="KEY", help="Only this site's documents (repeatable).")
@click.option("--since", metavar="DATE", help="Only documents fetched on or after DATE (ISO-8601, e.g. 2026-03-01).")
@click.option("--all", "everything", is_flag=True, help="Every chosen document, not only those whose rules changed.")
@click.option("--dry-run", is_flag=True, help="Say which sites' rules changed and how many documents would be reprocessed.")
@json_option("Print the summary as JSON.")
@workers_option
@click.pass_obj
def reprocess(obj, sites, since, everything, dry_run, as_json, workers):
    """Run the stages again from each document's raw input with today's configs; update what changed."""
    from datetime import date

    from ..reprocess import reprocess as run

    if since:
        try:
            date.fromisoformat(since[:10])
        except ValueError:
            fail(f"--since {since!r}: not a date (YYYY-MM-DD)", 2)
    read_db(obj)
    context = open_context(obj)
    with writing(context, "finished documents are kept; run reprocess again to finish the rest"):
        summary = run(context, sites, since, everything, dry_run, workers=max(1, workers), on_problem=_say)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        _say(summary.text(dry_run))
    if not dry_run and summary.selected and summary.changed + summary.unchanged == 0:
        sys.exit(1)  # every chosen document failed


@click.command()
@click.pass_obj
def refingerprint(obj):
    """Fingerprint Chinese, Japanese, Thai... documents by characters (once, after upgrading)."""
    from ..context import build_settings, store_options
    from ..core.sites import Sites
    from ..refingerprint import refingerprint as run

    settings = build_settings(obj["db"], obj["config"])
    done = run(obj["db"], Sites.load(obj["config"]), options=store_options(settings))
    err.print(f"re-fingerprinted {done['documents']} documents, {done['links']} links added or changed")


@click.command("migrate-store")
@click.argument("source")
@click.argument("target")
@json_option("Print the rows copied per table as JSON.")
def migrate_store(source, target, as_json):
    """Copy a corpus between backends, ids kept: a SQLite file (SOURCE) into a new PostgreSQL
    database (TARGET, a postgresql:// URL), or a PostgreSQL database into a new SQLite file."""
    from ..storage import is_postgres

    if is_postgres(source) == is_postgres(target):
        fail(f"migrate-store {redacted(source)} {redacted(target)}: copies a SQLite file into a postgresql://"
             " database, or a postgresql:// database into a new SQLite file", 2)
    if is_postgres(target):
        from ..storage.postgres.copy import copy_sqlite_to_postgres as copy
    else:
        from ..storage.postgres.to_sqlite import copy_postgres_to_sqlite as copy
    with progress() as bar:
        task = bar.add_task("copying", total=None) if bar else None
        shown = (lambda table, n: bar.update(task, description=f"copying {table}", completed=n)) if bar else None
        copied = _migrate(copy, source, target, shown)
    if as_json:
        click.echo(json.dumps(copied))
    else:
        err.print(f"copied {copied['documents']} documents, {copied['links']} links, {copied['claims']} claims"
                  f" ({sum(copied.values())} rows in {len(copied)} tables)")


def _migrate(copy, source: str, target: str, progress_to) -> dict:
    """The copy; an interruption says what is left (nothing: it is one transaction or a part file)."""
    from ..storage import is_postgres
    from ..storage.postgres.connection import psycopg

    try:
        return copy(source, target, progress=progress_to)
    except (KeyboardInterrupt, Interrupted) as exc:
        interrupted(exc, f"nothing was copied into {redacted(target)}; run the same command again")
    except (psycopg.Error,) if psycopg else () as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"{redacted(source if is_postgres(source) else target)}: PostgreSQL: {first}", 2)


COMMANDS = [import_cmd, reprocess, refingerprint, migrate_store, link_worker, pg_roles]
