"""Commands that read the database, never write it: lineage, stats, raw, search, export, report."""

from __future__ import annotations

import json
import re
import sys

import click
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from .common import err, fail, json_option, read_conn, read_db, stdout


@click.command()
@click.argument("url_or_id")
@json_option("Print the group as JSON.")
@click.pass_obj
def lineage(obj, url_or_id, as_json):
    """Show the document's lineage group: its origin and every copy, with the evidence."""
    from ..lineage import lineage as lineage_of

    group = lineage_of(read_db(obj), url_or_id)
    if group is None:
        fail(f"{url_or_id}: no such document", 1)
    if as_json:
        click.echo(json.dumps(group, indent=2, ensure_ascii=False))
    else:
        stdout().print(_lineage_tree(group))


def _lineage_tree(group: dict) -> Tree:
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
    return tree


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


@click.command()
@json_option("Print the figures as JSON.")
@click.option("--top", default=5, show_default=True, help="Chrome lines shown per site.")
@click.pass_obj
def stats(obj, as_json, top):
    """Documents per site, links per relation, the chrome stripped most often per site."""
    from ..lineage import stats as stats_of
    from ..overview import rules_changed

    data = stats_of(read_db(obj), top=top)
    data["rules_changed"] = rules_changed(obj["db"], obj["config"])
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    out = stdout()
    for table in _stats_tables(data):
        out.print(table)
    if data.get("rules_changed"):
        from ..reprocess.selection import rules_lines

        for line in rules_lines(data["rules_changed"]):
            out.print(escape(line.replace("rules changed:", "rules changed since processed:", 1)))
        out.print("`collector reprocess` applies them")
    if data.get("runs"):
        columns = list(data["runs"][0].keys())
        out.print(_table("recent crawl runs", columns, ([str(run[c]) for c in columns] for run in data["runs"])))


def _table(title: str, columns, rows) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    return table


def _stats_tables(data: dict) -> list:
    """The sites, the links by relation, the claims line and the chrome stripped most often."""
    learned = data["learned_chrome_lines"]
    chrome = ((site, entry["line"] if len(entry["line"]) <= 80 else entry["line"][:77] + "...", str(entry["documents"]))
              for site, lines in data["chrome"].items() for entry in lines)
    return [
        _table(f"{data['documents']} documents", ("site", "name", "documents", "learned chrome lines"),
               ((s["site"], s["name"], str(s["documents"]), str(learned.get(s["site"], 0))) for s in data["sites"])),
        _table("links", ("relation", "count"),
               ((relation, str(data["links"].get(relation, 0))) for relation in ("duplicate", "copy", "excerpt"))),
        f"claims: {data['claims']} ({data['claims_without_origin']} from documents with no origin found yet)",
        _table("chrome stripped most often", ("site", "line", "documents"), chrome),
    ]


@click.command()
@click.argument("id_or_url")
@click.option("--open", "to_file", is_flag=True, help="Write the page to a file a browser can open, and print its path.")
@click.option("--headers", is_flag=True, help="Print the archived HTTP response headers first.")
@click.pass_obj
def raw(obj, id_or_url, to_file, headers):
    """Print the document's raw input: the page as fetched (archive) or the imported record."""
    from ..core.errors import RawMissing
    from ..raw import raw_document, refs_base, write_browsable

    conn = read_conn(obj)
    try:
        doc, body, content_type, head = raw_document(conn, id_or_url, refs_base(obj["db"]))
    except LookupError as exc:
        fail(str(exc), 1)
    except RawMissing as exc:
        fail(f"{id_or_url}: raw input unreadable: {exc}", exc.exit_status)
    if to_file:
        click.echo(write_browsable(doc, body, content_type).resolve().as_uri())
        return
    if headers and head:
        sys.stdout.buffer.write(head)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()


@click.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--site", help="Only documents of this site key.")
@click.option("--limit", default=20, show_default=True, help="Results shown.")
@click.option("--offset", default=0, show_default=True, help="Results skipped (the next page: --offset 20).")
@json_option("Print the results as JSON.")
@click.pass_obj
def search(obj, words, site, limit, offset, as_json):
    """Full-text search over titles and text, as you would type it: words (all must occur),
    "a phrase", prefix*; apostrophes, hyphens, dots and AND/OR/NOT are searched as words."""
    from ..search import search as run_search

    found = run_search(read_db(obj), " ".join(words), site=site, limit=limit, offset=offset)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    out = stdout()
    shown = f"{offset + 1}-{offset + len(found['results'])}" if found["results"] else "none"
    out.print(f"{found['total']} found for {escape(found['query'])!r} (showing {shown})")
    for r in found["results"]:
        out.print(f"\n[bold]#{r['id']}[/] [cyan]{escape(r['site'])}[/] {escape(r['published'] or r['fetched'] or '')}"
                  f"\n  {escape(r['title'] or '(untitled)')}\n  {escape(r['url'])}\n  {_highlight(r['snippet'])}")


def _highlight(snippet: str) -> str:
    """FTS5's snippet with its [match] marks shown in bold."""
    text = escape(" ".join(snippet.split()))
    return re.sub(r"\\\[(.*?)\]", lambda m: f"[bold yellow]{m.group(1)}[/]", text)


@click.command()
@click.argument("kind", type=click.Choice(["documents", "lineage", "claims"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True)
@click.option("--site", help="Only this site key (lineage: as origin or copy).")
@click.option("--since", help="Only rows dated (published, else fetched) on or after this date (YYYY-MM-DD).")
@click.option("--relation", type=click.Choice(["duplicate", "copy", "excerpt"]), help="Only copies of this relation (documents, lineage).")
@click.option("-o", "--out", "out", help="File to write (default: standard output; parquet needs a file).")
@click.pass_obj
def export(obj, kind, fmt, site, since, relation, out):
    """Export documents, lineage or claims as CSV, JSON Lines or Parquet (needs pyarrow)."""
    from ..export import export as run_export

    count = run_export(read_conn(obj), kind, fmt, out, site=site, since=since, relation=relation)
    err.print(f"exported {count} {kind} rows" + (f" to {out}" if out and out != "-" else ""))


@click.command()
@click.option("--out", "out", default="report.html", show_default=True, help="HTML file to write.")
@click.option("--site", help="Only copies whose origin or copy is on this site key.")
@click.option("--since", help="Only copies dated on or after this date (YYYY-MM-DD).")
@click.pass_obj
def report(obj, out, site, since):
    """Write one self-contained HTML report (opens offline): heat map, time line, top groups, chrome, figures."""
    import time

    from ..report import write_report

    started = time.perf_counter()
    size = write_report(read_conn(obj), out, site=site, since=since)
    err.print(f"wrote {out} ({size // 1024} KB) in {time.perf_counter() - started:.1f} s")


COMMANDS = [lineage, stats, raw, search, export, report]
