"""Commands that show the collection as a whole: serve (Datasette), sites."""

from __future__ import annotations

import json
import os

import click
from rich.table import Table

from ..storage import is_postgres
from ..storage.postgres import redacted
from .common import err, json_option, read_conn, read_db, stdout


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8001, show_default=True, help="Port to listen on (0: any free one).")
@click.pass_obj
def serve(obj, host, port):
    """Browse the database in Datasette (read-only), with a lineage page per group (/-/lineage).
    On PostgreSQL: the lineage pages (a SQLite snapshot by migrate-store gives the rest)."""
    from ..serve import serve as run

    read_db(obj).close()  # usable? (a one-line error if not); the server opens its own
    if is_postgres(obj["db"]):
        shown = redacted(obj["db"])
        what = (f"the lineage pages of {shown} (read-only; Datasette's table and SQL pages need a SQLite"
                f" snapshot: collector migrate-store {shown} snapshot.db)")
    else:
        what = f"{obj['db']} (read-only)"
    try:
        run(obj["db"], host, port, on_ready=lambda url: err.print(f"serving {what} at {url} (Ctrl-C stops)"))
    except KeyboardInterrupt:
        pass


@click.command()
@json_option("Print the sites as JSON.")
@click.pass_obj
def sites(obj, as_json):
    """Sites: configured ones and hosts seen, their sources, documents, and last crawl."""
    from ..overview import configured_sites, site_rows

    configured = configured_sites(obj["config"])
    if is_postgres(obj["db"]):
        rows = site_rows(configured, read_db(obj).conn)
    else:
        rows = site_rows(configured, read_conn(obj) if os.path.exists(obj["db"]) else None)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows)} sites")
    for col in ("site", "name", "sources", "schedule", "documents", "last crawl"):
        table.add_column(col)
    for r in rows:
        sources = ", ".join(f"{len(r[k])} {k.replace('_', ' ')}" for k in ("feeds", "sitemaps", "start_urls") if r[k])
        sources = sources or ("none configured" if r["configured"] else "not configured")
        crawl = f"{r['last_crawl']['started']} {r['last_crawl']['status']}" if r["last_crawl"] else "never"
        table.add_row(r["site"], r["name"], sources, r["schedule"] or "", str(r["documents"]), crawl)
    stdout().print(table)


COMMANDS = [serve, sites]
