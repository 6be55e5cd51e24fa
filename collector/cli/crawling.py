"""Commands that fetch from the web: crawl, add-site, schedule, and scrapyd-conf for its crawl nodes."""

from __future__ import annotations

import json
import os
import sys

import click
from rich.markup import escape

from .common import err, fail, json_option

_SET_HELP = "A Scrapy or COLLECTOR_ setting for this crawl (repeatable), e.g. -s DOWNLOAD_DELAY=2."


def _log_level(log_level: str | None, verbose: int) -> str:
    # Faults are listed in the summary: the log repeats them only when asked to.
    return (log_level or ("DEBUG" if verbose > 1 else "INFO" if verbose else "ERROR")).upper()


@click.command()
@click.argument("sites", nargs=-1)
@click.option("--refresh", is_flag=True, help="Download stored articles again; ask feeds and sitemaps unconditionally.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help=_SET_HELP)
@json_option("Print the summary as JSON on stdout.")
@click.option("-v", "--verbose", count=True, help="Show Scrapy's log (-v: INFO, -vv: DEBUG); by default only errors.")
@click.option("--log-level", type=click.Choice(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], case_sensitive=False),
              help="Scrapy's LOG_LEVEL for this crawl (default ERROR: faults are in the summary).")
@click.pass_obj
def crawl(obj, sites, refresh, overrides, as_json, verbose, log_level):
    """Crawl SITES (site config keys; all with feeds, sitemaps or start_urls if none) in one process."""
    from ..context import parse_overrides
    from ..crawl.runner import run_crawl

    try:
        given = parse_overrides(overrides)
        given.setdefault("LOG_LEVEL", _log_level(log_level, verbose))
        live = err if sys.stderr.isatty() and not as_json and given["LOG_LEVEL"] in ("ERROR", "CRITICAL") else None
        summary = run_crawl(sites, db=obj["db"], config=obj["config"], refresh=refresh, overrides=given, progress=live)
    except ValueError as exc:  # a bad -s, an unknown site (ConfigError)
        fail(str(exc), 2)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        err.print(escape(summary.text()), soft_wrap=True)
    if any(reason == "shutdown" for reason in summary.finish_reasons.values()):
        sys.exit(130)
    if summary.pages_fetched == 0 and summary.faults:
        sys.exit(1)


#: add-site fetches a few pages: no run is recorded, nothing is committed periodically.
_DISCOVERY_EXTENSIONS = {"collector.crawl.extensions.RunRecord": None, "collector.crawl.extensions.PeriodicCommit": None,
                         "scrapy.extensions.remote_control.RemoteControl": None}


@click.command("add-site")
@click.argument("url")
@click.option("--key", help="The config's key (file name); default from the site's host.")
@click.option("--dry-run", is_flag=True, help="Print the config instead of writing it.")
@click.option("--force", is_flag=True, help="Replace an existing configs/sites/KEY.yaml.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy or COLLECTOR_ setting (repeatable).")
@click.pass_obj
def add_site(obj, url, key, dry_run, force, overrides):
    """Find URL's feeds, sitemaps and name (through Scrapy: robots.txt, politeness) and write configs/sites/KEY.yaml."""
    from ..context import build_settings, parse_overrides
    from ..crawl.discover import discover, site_key, write_config

    try:
        given = parse_overrides(overrides)
        given.setdefault("LOG_LEVEL", "ERROR")
        given.update({"EXTENSIONS": dict(_DISCOVERY_EXTENSIONS)})
        key = key or site_key(url)
        target = os.path.join(obj["config"], "sites", f"{key}.yaml")
        if os.path.exists(target) and not (force or dry_run):
            fail(f"{target}: exists; --force replaces it", 2)
        found = discover(url, build_settings(obj["db"], obj["config"], given))
        path, text = write_config(found, obj["config"], key, force=force, dry_run=dry_run)
    except (ValueError, FileExistsError) as exc:
        fail(str(exc), 2)
    for tried, what in found.tried:
        err.print(f"  tried {escape(tried)}: {escape(what)}", soft_wrap=True)
    err.print(f"found: name {found.name!r}, host {found.host}, {len(found.feeds)} feed(s), {len(found.sitemaps)} sitemap(s)"
              + ("" if found.feeds or found.sitemaps else "; neither: the config follows links from the home page"))
    if dry_run:
        click.echo(text, nl=False)
    else:
        err.print(f"wrote {path}")


@click.command()
@click.argument("sites", nargs=-1)
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A setting passed to every crawl (repeatable).")
@click.option("--max-crawls", type=int, help="Crawls at once at most (default COLLECTOR_SCHEDULE_MAX_CRAWLS).")
@click.option("--once", is_flag=True, help="Crawl each site (or SITES) once, now, then exit (a schedule is not needed).")
@click.pass_obj
def schedule(obj, sites, overrides, max_crawls, once):
    """Crawl each site (or SITES) on its config's `schedule` cron expression, until SIGTERM or Ctrl-C.

    With COLLECTOR_SCRAPYD_NODES set, each crawl goes to the least-busy Scrapyd node (docs/scrapyd.md)."""
    import logging

    from ..crawl.schedule import run_schedule

    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    try:
        run_schedule(obj["db"], obj["config"], sites, overrides, max_crawls, once=once)
    except ValueError as exc:  # ScheduleError and ConfigError are ValueErrors too (a ScrapydError exits 2 by itself)
        fail(str(exc), 2)


@click.command("scrapyd-conf")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on: loopback or a private address.")
@click.option("--port", default=6800, show_default=True, help="Port to listen on.")
@click.option("--username", required=True, help="The node's username.")
@click.option("--password-file", required=True, help="A file holding the password.")
@click.option("--root", default=".", show_default=True, help="Folder for the node's eggs, logs and job queue.")
@click.option("--max-proc", default=0, show_default=True, help="Crawls at once on the node (0: 4 per CPU).")
def scrapyd_conf(bind, port, username, password_file, root, max_proc):
    """Print a scrapyd.conf for a crawl node: private address, basic auth (docs/scrapyd.md)."""
    from ..crawl.scrapyd import read_password, scrapyd_conf as conf

    # A ScrapydError (no such file, a public address, no password) is one line and exit status 2.
    click.echo(conf(bind, port, username, read_password(password_file), root,
                    max_proc=max_proc), nl=False)


COMMANDS = [crawl, add_site, schedule, scrapyd_conf]
