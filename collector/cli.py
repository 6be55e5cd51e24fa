"""The ``collector`` command: a thin layer over the library (ingest, lineage, crawl)."""

from __future__ import annotations

import json
import os
import sqlite3
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree
from sqlite_utils import Database

from .context import Context, build_settings
from .core.sites import ConfigError
from .dbfile import StoreError, explain, open_for_reading

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _interrupted(exc: BaseException, what_now: str):
    """Ctrl-C (exit 130) or SIGTERM (exit 143, ``Interrupted``) during a run: one line."""
    from .ingest import Interrupted

    _fail(f"interrupted: {what_now}", 143 if isinstance(exc, Interrupted) else 130)


def _fail(message: str, code: int = 1):
    click.echo(message, err=True)
    sys.exit(code)


class _Commands(click.Group):
    """Every command: a database that cannot be used (damaged, not a database, read-only,
    locked too long) is one line naming the file and what to do, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except StoreError as exc:
            _fail(str(exc), exc.exit_status)
        except sqlite3.Error as exc:
            path = (ctx.obj or {}).get("db", "the database")
            problem = explain(path, exc)
            if problem is None:
                raise
            _fail(str(problem), problem.exit_status)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", default=lambda: os.environ.get("COLLECTOR_DB", "collector.db"), show_default="collector.db or $COLLECTOR_DB", help="SQLite database file.")
@click.option("--config", "config_dir", default=lambda: os.environ.get("COLLECTOR_CONFIG", "configs"), show_default="configs/ or $COLLECTOR_CONFIG", help="Folder of site configs.")
@click.version_option(package_name="collector")
@click.pass_context
def main(ctx, db, config_dir):
    """Collect news articles, strip site chrome, and trace syndicated copies to their origin."""
    ctx.obj = {"db": db, "config": config_dir}


def _context(obj, overrides: dict | None = None) -> Context:
    try:
        context = Context({**(overrides or {}), "COLLECTOR_DB": obj["db"], "COLLECTOR_CONFIG": obj["config"]})
        context.open_store()  # fail early on an unusable database (a broken config failed already)
        return context
    except ConfigError as exc:
        _fail(str(exc), 2)


def _read_db(obj) -> Database:
    """The database, opened read-only and checked: read commands work on read-only files.
    The site configs are not needed to read, but a broken one is said here too."""
    if os.path.isdir(obj["config"]):
        from .core.sites import Sites

        try:
            Sites.load(obj["config"])
        except ConfigError as exc:
            _fail(str(exc), 2)
    return Database(open_for_reading(obj["db"]))


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False))  # reported per path, the run goes on
@click.option("--site", help="Site config key of every imported document (else recognised from URL or chrome).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--workers", type=int, default=lambda: os.cpu_count() or 1, show_default="the number of cores",
              help="Processes extracting HTML in parallel (1: all in this process).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="A setting for this import (repeatable), e.g. -s 'ITEM_PIPELINES={\"pipelines.learn.LearnChromePipeline\": null}'.")
@click.pass_obj
def import_cmd(obj, paths, site, as_json, workers, overrides):
    """Import .txt, .html, .warc(.gz), .jsonl files (or .gz of them), and folders of them."""
    from .context import parse_overrides
    from .ingest import Interrupted, import_paths

    try:
        extra = parse_overrides(overrides)
    except ValueError as exc:
        _fail(str(exc), 2)
    context = _context(obj, extra)
    progress = _progress()
    try:
        with progress as bar:
            task = bar.add_task("importing", total=None) if bar else None
            summary = import_paths(
                paths,
                context,
                site=site,
                workers=max(1, workers),
                on_problem=lambda message: err.print(escape(message), soft_wrap=True),
                on_item=(lambda item: bar.advance(task)) if bar else (lambda item: None),
            )
    except ValueError as exc:
        _fail(str(exc), 2)
    except (KeyboardInterrupt, Interrupted) as exc:
        _interrupted(exc, "committed documents are kept; run the same import again to finish")
    finally:
        context.close()
    data = summary.as_dict()
    if as_json:
        click.echo(json.dumps(data))
    else:
        for notice in summary.notices:
            err.print(f"note: {escape(notice)}", soft_wrap=True)
        err.print(
            f"imported {data['imported']} ({data['new']} new, {data['updated']} updated), "
            f"unchanged {data['unchanged']}, skipped {data['skipped']} with errors, "
            f"new links {data['new_links']}, {data['documents_per_second']} documents/s"
            + (f", {data['variants']} other URLs of stored documents (aliases added)" if data["variants"] else "")
        )
    if summary.imported + summary.unchanged + summary.variants == 0:
        sys.exit(1)


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress():
    """A progress bar on a terminal, nothing otherwise (logs and pipes stay clean)."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), "{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True)


@main.command()
@click.argument("url_or_id")
@click.option("--json", "as_json", is_flag=True, help="Print the group as JSON.")
@click.pass_obj
def lineage(obj, url_or_id, as_json):
    """Show the document's lineage group: its origin and every copy, with the evidence."""
    from .lineage import lineage as lineage_of

    group = lineage_of(_read_db(obj), url_or_id)
    if group is None:
        _fail(f"{url_or_id}: no such document", 1)
    if as_json:
        click.echo(json.dumps(group, indent=2, ensure_ascii=False))
        return
    out = _stdout()
    origin = group["origin"]
    tree = Tree(_label("ORIGIN", origin, group["query"]))
    if origin["evidence"]:
        tree.add(f"[dim]chosen by {escape(origin['evidence'])}[/]")
    for claim in origin["claims"]:
        tree.add(_claim_label(claim))
    branches = {origin["id"]: tree}
    for copy in group["copies"]:
        branch = branches[copy["origin_id"]].add(
            _label(copy["relation"].upper(), copy, group["query"])
            + f"\n  similarity {copy['similarity']:.2f}, containment {copy['containment']:.2f}"
            + ("" if copy["origin_id"] == origin["id"] and not copy["evidence"].endswith("another copy") else f"; {escape(copy['evidence'])}")
        )
        branches[copy["id"]] = branch
        for claim in copy["claims"]:
            branch.add(_claim_label(claim))
    if not group["copies"]:
        tree.add("[dim]no copies or origin found (yet)[/]")
    out.print(tree)


def _stdout() -> Console:
    # On a terminal, its width; in a pipe or file, wide enough not to cut URLs.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def _label(kind: str, doc: dict, query: int) -> str:
    marker = " [bold]<- this one[/]" if doc["id"] == query else ""
    date = doc["published"] or f"fetched {doc['fetched']}"
    return (
        f"[bold]{kind}[/] #{doc['id']} [cyan]{escape(doc['site'])}[/] {escape(date)}{marker}\n"
        f"  {escape(doc['title'] or '(untitled)')}\n  {escape(doc['url'])}"
    )


def _claim_label(claim: dict) -> str:
    target = claim["claimed_site"] or f"{claim['claimed_name'] or claim['claimed_url']} (unknown site)"
    return f"[yellow]claim[/] ({claim['kind']}) -> {escape(target)}: {escape(claim['evidence'])}"


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--top", default=5, show_default=True, help="Chrome lines shown per site.")
@click.pass_obj
def stats(obj, as_json, top):
    """Documents per site, links per relation, the chrome stripped most often per site."""
    from .lineage import stats as stats_of

    data = stats_of(_read_db(obj), top=top)
    data["rules_changed"] = _rules_changed(obj)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    out = _stdout()
    table = Table(title=f"{data['documents']} documents")
    for col in ("site", "name", "documents", "learned chrome lines"):
        table.add_column(col)
    for s in data["sites"]:
        table.add_row(s["site"], s["name"], str(s["documents"]), str(data["learned_chrome_lines"].get(s["site"], 0)))
    out.print(table)
    links = Table(title="links")
    links.add_column("relation")
    links.add_column("count")
    for relation in ("duplicate", "copy", "excerpt"):
        links.add_row(relation, str(data["links"].get(relation, 0)))
    out.print(links)
    out.print(f"claims: {data['claims']} ({data['claims_without_origin']} from documents with no origin found yet)")
    chrome = Table(title="chrome stripped most often")
    for col in ("site", "line", "documents"):
        chrome.add_column(col)
    for site, lines in data["chrome"].items():
        for entry in lines:
            line = entry["line"] if len(entry["line"]) <= 80 else entry["line"][:77] + "..."
            chrome.add_row(site, line, str(entry["documents"]))
    out.print(chrome)
    if data.get("rules_changed"):
        from .reprocess import rules_lines

        for line in rules_lines(data["rules_changed"]):
            out.print(escape(line.replace("rules changed:", "rules changed since processed:", 1)))
        out.print("`collector reprocess` applies them")
    if data.get("runs"):
        runs = Table(title="recent crawl runs")
        cols = [c for c in data["runs"][0].keys()]
        for col in cols:
            runs.add_column(col)
        for run in data["runs"]:
            runs.add_row(*(str(run[c]) for c in cols))
        out.print(runs)


@main.command()
@click.argument("id_or_url")
@click.option("--open", "to_file", is_flag=True, help="Write the page to a file a browser can open, and print its path.")
@click.option("--headers", is_flag=True, help="Print the archived HTTP response headers first.")
@click.pass_obj
def raw(obj, id_or_url, to_file, headers):
    """Print the document's raw input: the page as fetched (archive) or the imported record."""
    from .raw import RawMissing, raw_document

    _read_db(obj)
    try:
        doc, body, content_type, head = raw_document(obj["db"], id_or_url)
    except LookupError as exc:
        _fail(str(exc), 1)
    except RawMissing as exc:
        _fail(f"{id_or_url}: raw input unreadable: {exc}", 1)
    if to_file:
        import tempfile
        from pathlib import Path

        from .raw import browsable

        suffix = ".html" if "html" in content_type else ".txt"
        path = Path(tempfile.gettempdir()) / f"collector-raw-{doc['id']}{suffix}"
        path.write_bytes(browsable(body, doc["url"]) if suffix == ".html" else body)
        click.echo(path.resolve().as_uri())
        return
    if headers and head:
        sys.stdout.buffer.write(head)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()


@main.command()
@click.option("--site", "sites", multiple=True, metavar="KEY", help="Only this site's documents (repeatable).")
@click.option("--since", metavar="DATE", help="Only documents fetched on or after DATE (ISO-8601, e.g. 2026-03-01).")
@click.option("--all", "everything", is_flag=True, help="Every chosen document, not only those whose rules changed.")
@click.option("--dry-run", is_flag=True, help="Say which sites' rules changed and how many documents would be reprocessed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--workers", type=int, default=lambda: os.cpu_count() or 1, show_default="the number of cores",
              help="Processes extracting HTML in parallel (1: all in this process).")
@click.pass_obj
def reprocess(obj, sites, since, everything, dry_run, as_json, workers):
    """Run the stages again from each document's raw input with today's configs; update what changed."""
    from .ingest import Interrupted
    from .reprocess import reprocess as run

    if since:
        from datetime import date

        try:
            date.fromisoformat(since[:10])
        except ValueError:
            _fail(f"--since {since!r}: not a date (YYYY-MM-DD)", 2)
    _read_db(obj)
    context = _context(obj)
    try:
        summary = run(context, sites, since, everything, dry_run, workers=max(1, workers),
                      on_problem=lambda message: err.print(escape(message), soft_wrap=True))
    except ValueError as exc:
        _fail(str(exc), 2)
    except (KeyboardInterrupt, Interrupted) as exc:
        _interrupted(exc, "finished documents are kept; run reprocess again to finish the rest")
    finally:
        context.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        err.print(escape(summary.text(dry_run)), soft_wrap=True)
    if not dry_run and summary.selected and summary.changed + summary.unchanged == 0:
        sys.exit(1)  # every chosen document failed


def _rules_changed(obj) -> list[dict]:
    """Sites whose rules changed since their documents were processed (collector.core.rules)."""
    import sqlite3

    from .reprocess import rules_report
    from .core.rules import Rules
    from .core.sites import Sites

    try:
        sites = Sites.load(obj["config"])
    except ConfigError:
        return []
    conn = sqlite3.connect(f"file:{obj['db']}?mode=ro", uri=True)
    try:
        return rules_report(conn, Rules(sites, build_settings().get("COLLECTOR_EXTRACTION")))
    except sqlite3.OperationalError:  # a database from before rule hashes were kept
        return []
    finally:
        conn.close()


@main.command()
@click.argument("sites", nargs=-1)
@click.option("--refresh", is_flag=True, help="Download stored articles again; ask feeds and sitemaps unconditionally.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy or COLLECTOR_ setting for this crawl (repeatable), e.g. -s DOWNLOAD_DELAY=2.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("-v", "--verbose", count=True, help="Show Scrapy's log (-v: INFO, -vv: DEBUG); by default only errors.")
@click.option("--log-level", type=click.Choice(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], case_sensitive=False),
              help="Scrapy's LOG_LEVEL for this crawl (default ERROR: faults are in the summary).")
@click.pass_obj
def crawl(obj, sites, refresh, overrides, as_json, verbose, log_level):
    """Crawl SITES (site config keys; all with feeds, sitemaps or start_urls if none) in one process."""
    from .context import parse_overrides
    from .crawl.runner import run_crawl

    try:
        given = parse_overrides(overrides)
        # Faults are listed in the summary: the log repeats them only when asked to.
        given.setdefault("LOG_LEVEL", (log_level or ("DEBUG" if verbose > 1 else "INFO" if verbose else "ERROR")).upper())
        live = err if sys.stderr.isatty() and not as_json and given["LOG_LEVEL"] in ("ERROR", "CRITICAL") else None
        summary = run_crawl(sites, db=obj["db"], config=obj["config"], refresh=refresh, overrides=given, progress=live)
    except (ValueError, ConfigError) as exc:
        _fail(str(exc), 2)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        err.print(escape(summary.text()), soft_wrap=True)
    if any(reason == "shutdown" for reason in summary.finish_reasons.values()):
        sys.exit(130)
    if summary.pages_fetched == 0 and summary.faults:
        sys.exit(1)


@main.command("add-site")
@click.argument("url")
@click.option("--key", help="The config's key (file name); default from the site's host.")
@click.option("--dry-run", is_flag=True, help="Print the config instead of writing it.")
@click.option("--force", is_flag=True, help="Replace an existing configs/sites/KEY.yaml.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A Scrapy or COLLECTOR_ setting (repeatable).")
@click.pass_obj
def add_site(obj, url, key, dry_run, force, overrides):
    """Find URL's feeds, sitemaps and name (through Scrapy: robots.txt, politeness) and write configs/sites/KEY.yaml."""
    from .context import build_settings, parse_overrides
    from .crawl.discover import discover, site_key, write_config

    try:
        given = parse_overrides(overrides)
        given.setdefault("LOG_LEVEL", "ERROR")
        given.update({"EXTENSIONS": {"collector.crawl.extensions.RunRecord": None, "collector.crawl.extensions.PeriodicCommit": None,
                                     "scrapy.extensions.remote_control.RemoteControl": None}})
        key = key or site_key(url)
        target = os.path.join(obj["config"], "sites", f"{key}.yaml")
        if os.path.exists(target) and not (force or dry_run):
            _fail(f"{target}: exists; --force replaces it", 2)
        found = discover(url, build_settings(obj["db"], obj["config"], given))
        path, text = write_config(found, obj["config"], key, force=force, dry_run=dry_run)
    except (ValueError, FileExistsError) as exc:
        _fail(str(exc), 2)
    for tried, what in found.tried:
        err.print(f"  tried {escape(tried)}: {escape(what)}", soft_wrap=True)
    err.print(f"found: name {found.name!r}, host {found.host}, {len(found.feeds)} feed(s), {len(found.sitemaps)} sitemap(s)"
              + ("" if found.feeds or found.sitemaps else "; neither: the config follows links from the home page"))
    if dry_run:
        click.echo(text, nl=False)
    else:
        err.print(f"wrote {path}")


@main.command()
@click.argument("sites", nargs=-1)
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="A setting passed to every crawl (repeatable).")
@click.option("--max-crawls", type=int, help="Crawls at once at most (default COLLECTOR_SCHEDULE_MAX_CRAWLS).")
@click.pass_obj
def schedule(obj, sites, overrides, max_crawls):
    """Crawl each site (or SITES) on its config's `schedule` cron expression, until SIGTERM or Ctrl-C."""
    import logging

    from .crawl.schedule import ScheduleError, run_schedule

    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    try:
        run_schedule(obj["db"], obj["config"], sites, overrides, max_crawls)
    except (ScheduleError, ValueError, ConfigError) as exc:
        _fail(str(exc), 2)


@main.command()
@click.pass_obj
def refingerprint(obj):
    """Fingerprint Chinese, Japanese, Thai... documents by characters (once, after upgrading)."""
    from .context import Context, store_options
    from .refingerprint import refingerprint as run
    from .core.sites import Sites

    try:
        settings = Context({"COLLECTOR_DB": obj["db"], "COLLECTOR_CONFIG": obj["config"]}).settings
        done = run(obj["db"], Sites.load(obj["config"]), options=store_options(settings))
    except (ConfigError, StoreError) as exc:
        _fail(str(exc), 2)
    err.print(f"re-fingerprinted {done['documents']} documents, {done['links']} links added or changed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8001, show_default=True, help="Port to listen on (0: any free one).")
@click.pass_obj
def serve(obj, host, port):
    """Browse the database in Datasette (read-only), with a lineage page per group (/-/lineage)."""
    from .serve import ServeError, serve as run

    _read_db(obj)
    try:
        run(obj["db"], host, port, on_ready=lambda url: err.print(f"serving {obj['db']} (read-only) at {url} (Ctrl-C stops)"))
    except ServeError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        pass


def _read_conn(obj):
    """The database opened read-only (these commands never write to it)."""
    import sqlite3
    from pathlib import Path

    _read_db(obj)
    try:
        conn = sqlite3.connect(Path(obj["db"]).resolve().as_uri() + "?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM documents").fetchone()
    except sqlite3.DatabaseError as exc:
        _fail(f"{obj['db']}: not a usable collector database: {exc}", 2)
    return conn


@main.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--site", help="Only documents of this site key.")
@click.option("--limit", default=20, show_default=True, help="Results shown.")
@click.option("--offset", default=0, show_default=True, help="Results skipped (the next page: --offset 20).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_obj
def search(obj, words, site, limit, offset, as_json):
    """Full-text search over titles and text, as you would type it: words (all must occur),
    "a phrase", prefix*; apostrophes, hyphens, dots and AND/OR/NOT are searched as words."""
    from sqlite_utils import Database

    from .search import search as run_search

    found = run_search(Database(_read_conn(obj)), " ".join(words), site=site, limit=limit, offset=offset)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    out = _stdout()
    shown = f"{offset + 1}-{offset + len(found['results'])}" if found["results"] else "none"
    out.print(f"{found['total']} found for {escape(found['query'])!r} (showing {shown})")
    for r in found["results"]:
        out.print(f"\n[bold]#{r['id']}[/] [cyan]{escape(r['site'])}[/] {escape(r['published'] or r['fetched'] or '')}"
                  f"\n  {escape(r['title'] or '(untitled)')}\n  {escape(r['url'])}\n  {_highlight(r['snippet'])}")


def _highlight(snippet: str) -> str:
    """FTS5's snippet with its [match] marks shown in bold."""
    import re

    text = escape(" ".join(snippet.split()))
    return re.sub(r"\\\[(.*?)\]", lambda m: f"[bold yellow]{m.group(1)}[/]", text)


@main.command()
@click.argument("kind", type=click.Choice(["documents", "lineage", "claims"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True)
@click.option("--site", help="Only this site key (lineage: as origin or copy).")
@click.option("--since", help="Only rows dated (published, else fetched) on or after this date (YYYY-MM-DD).")
@click.option("--relation", type=click.Choice(["duplicate", "copy", "excerpt"]), help="Only copies of this relation (documents, lineage).")
@click.option("-o", "--out", "out", help="File to write (default: standard output; parquet needs a file).")
@click.pass_obj
def export(obj, kind, fmt, site, since, relation, out):
    """Export documents, lineage or claims as CSV, JSON Lines or Parquet (needs pyarrow)."""
    from .export import ExportError, export as run_export

    try:
        count = run_export(_read_conn(obj), kind, fmt, out, site=site, since=since, relation=relation)
    except ExportError as exc:
        _fail(str(exc), 2)
    err.print(f"exported {count} {kind} rows" + (f" to {out}" if out and out != "-" else ""))


@main.command()
@click.option("--out", "out", default="report.html", show_default=True, help="HTML file to write.")
@click.option("--site", help="Only copies whose origin or copy is on this site key.")
@click.option("--since", help="Only copies dated on or after this date (YYYY-MM-DD).")
@click.pass_obj
def report(obj, out, site, since):
    """Write one self-contained HTML report (opens offline): heat map, time line, top groups, chrome, figures."""
    import time
    from pathlib import Path

    from .export import ExportError
    from .report import build_report

    started = time.perf_counter()
    try:
        page = build_report(_read_conn(obj), site=site, since=since)
    except ExportError as exc:
        _fail(str(exc), 2)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    err.print(f"wrote {out} ({len(page.encode()) // 1024} KB) in {time.perf_counter() - started:.1f} s")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the sites as JSON.")
@click.pass_obj
def sites(obj, as_json):
    """Sites: configured ones and hosts seen, their sources, documents, and last crawl."""
    from .core.sites import Sites

    try:
        configured = Sites.load(obj["config"]) if os.path.isdir(obj["config"]) else Sites([])
    except ConfigError as exc:
        _fail(str(exc), 2)
    counts, names, runs = {}, {}, {}
    if os.path.exists(obj["db"]):
        conn = _read_conn(obj)
        counts = dict(conn.execute("SELECT site, count(*) FROM documents GROUP BY site"))
        names = dict(conn.execute("SELECT key, name FROM sites"))
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
            for site, started, status in conn.execute(
                    "SELECT site, started, status FROM runs r WHERE id = (SELECT max(id) FROM runs WHERE site = r.site)"):
                runs[site] = {"started": started, "status": status}
    rows = []
    for key in sorted(set(configured.by_key) | set(counts) | set(names)):
        s = configured.get(key)
        rows.append({
            "site": key, "name": s.name if s else names.get(key, key), "configured": s is not None,
            "feeds": list(s.feeds) if s else [], "sitemaps": list(s.sitemaps) if s else [],
            "start_urls": list(s.start_urls) if s else [], "schedule": s.schedule if s else None,
            "documents": counts.get(key, 0), "last_crawl": runs.get(key),
        })
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
    _stdout().print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
