"""collector's Datasette plugin: the lineage page, links between tables, and search.

- ``/-/lineage/ID`` (or ``?url=``): the lineage page of a document (``lineage_page``);
  ``/-/lineage/ID.json`` the same group as JSON; ``/-/lineage`` the largest groups.
- Site keys link to the ``sites`` row, URLs link out, document ids and ``lineage`` columns
  link to the lineage page, search snippets show their matches.
- ``fts_query(text)`` in SQL: what a person types as an FTS5 query (``collector.search``).
- Over a PostgreSQL corpus (``collector.web.postgres``) only the lineage pages, read through
  the same functions; ``/`` leads to them, and they say how to get the table pages.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup

from ..search import fts_query
from . import lineage_page
from .group import load_group

SITE_COLUMNS = {"site", "copy_site", "origin_site", "claimed_site"}
DOC_COLUMNS = {"doc_id", "copy_id", "origin_id", "copies_from"}


@hookimpl
def prepare_connection(conn):
    conn.create_function("fts_query", 1, lambda text: fts_query(text) or '""', deterministic=True)


def _database(datasette):
    """The collector database: the PostgreSQL source, or the first file Datasette serves."""
    postgres = getattr(datasette, "collector_postgres", None)
    if postgres is not None:
        return postgres
    for name, db in datasette.databases.items():
        if name != "_internal" and not db.is_memory:
            return db
    return datasette.get_database()


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None or value == "":
        return None
    if column in SITE_COLUMNS and isinstance(value, str):
        url = datasette.urls.row(database, "sites", tilde_encode(value))
        return Markup(f"<a href='{html.escape(url)}'>{html.escape(value)}</a>")
    if column == "lineage" and isinstance(value, str) and value.startswith("/-/lineage/"):
        return Markup(f"<a href='{html.escape(value)}'>lineage</a>")
    if column in DOC_COLUMNS and isinstance(value, int) and table != "lsh_buckets":
        return Markup(f"<a href='/-/lineage/{value}'>{value}</a>")
    if column == "snippet" and isinstance(value, str):
        text = html.escape(value).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
        return Markup(text)
    if table == "documents" and column == "url" and isinstance(value, str) and row is not None:
        doc_id = row["id"] if "id" in row.keys() else None
        link = f" <a href='/-/lineage/{doc_id}' class='lineage-link'>[lineage]</a>" if doc_id else ""
        return Markup(f"<a href='{html.escape(value)}'>{html.escape(value)}</a>{link}")
    return None


@hookimpl
def menu_links(datasette):
    return [{"href": "/-/lineage", "label": "Largest lineage groups"}]


@hookimpl
def register_routes(datasette):
    routes = [
        (r"^/-/lineage/?$", lineage_index),
        (r"^/-/lineage/(?P<key>\d+)(?P<format>\.json)?$", lineage_view),
    ]
    if getattr(datasette, "collector_postgres", None) is not None:
        routes.append((r"^/$", to_lineage_index))  # no database page: the lineage pages
        routes.append((r"^/-/search$", search_page))  # no table search either: collector's own
    return routes


async def to_lineage_index():
    return Response.redirect("/-/lineage")


def _links(datasette, db_name: str, doc_id, request) -> lineage_page.Links:
    from urllib.parse import urlencode

    tables = getattr(datasette, "collector_postgres", None) is None  # PostgreSQL: no table pages to link to
    return lineage_page.Links(
        doc=lambda i: f"/-/lineage/{i}",
        site=lambda key: datasette.urls.row(db_name, "sites", tilde_encode(key)) if tables else None,
        page=lambda params: f"/-/lineage/{doc_id}" + ("?" + urlencode(params) if params else ""),
    )


async def _page(datasette, request, title: str, body: str, status: int = 200) -> Response:
    page = await datasette.render_template(
        "collector_page.html", {"title": title, "body": Markup(body), "style": Markup(lineage_page.STYLE)}, request=request)
    return Response.html(page, status=status)


async def lineage_view(datasette, request):
    db = _database(datasette)
    key = request.url_vars["key"]
    if request.url_vars.get("format"):
        group = await db.execute_fn(lambda conn: load_group(conn, key))
        if group is None:
            return Response.json({"error": f"{key}: no such document"}, status=404)
        return Response.json(_group_json(group))
    site = request.args.get("site") or None
    page = request.args.get("page")
    page = int(page) if page and page.isdigit() else None
    links = _links(datasette, db.name, key, request)
    result = await db.execute_fn(lambda conn: lineage_page.render(conn, key, links, site=site, page=page))
    if result is None:
        return await _page(datasette, request, "No such document", f"<p>No document {html.escape(key)}.</p>", 404)
    return await _page(datasette, request, *result)


def _group_json(group) -> dict:
    def member(m):
        return {k: getattr(m, k) for k in ("id", "url", "site", "title", "published", "fetched", "origin_id",
                                          "relation", "similarity", "containment", "evidence", "delay")}
    return {"query": group.query, "origin": {**member(group.origin), "evidence": group.origin_evidence},
            "copies": [member(c) for c in group.copies]}


INDEX_SQL = """
SELECT o.id, o.site, o.title, o.published, count(*) AS copies, count(DISTINCT c.site) AS sites
FROM links l JOIN documents o ON o.id = l.origin_id JOIN documents c ON c.id = l.copy_id
WHERE l.relation != 'duplicate' GROUP BY o.id ORDER BY copies DESC, o.id LIMIT 100"""


async def lineage_index(datasette, request):
    db = _database(datasette)
    url = request.args.get("url") or request.args.get("q")
    if url:
        found = await db.execute_fn(lambda conn: load_group(conn, url))
        if found is None:
            return await _page(datasette, request, "No such document", f"<p>No document at {html.escape(url)}.</p>", 404)
        return Response.redirect(f"/-/lineage/{found.query}")
    rows = (await db.execute(INDEX_SQL)).rows
    items = "".join(
        f"<tr><td><a href='/-/lineage/{r['id']}'>{html.escape(r['title'] or '(untitled)')}</a></td>"
        f"<td>{html.escape(r['site'])}</td><td>{html.escape(r['published'] or '')}</td><td>{r['copies']}</td><td>{r['sites']}</td></tr>"
        for r in rows)
    body = (
        f"<div class='lg'><h1>Largest lineage groups</h1>{_postgres_note(db)}<form action='/-/lineage'><label>Lineage of a URL: "
        "<input name='url' size='60' placeholder='https://...'></label> <button>Show</button></form>"
        "<table class='data'><tr><th>origin</th><th>site</th><th>published</th><th>copies</th><th>sites</th></tr>"
        f"{items}</table></div>"
    )
    return await _page(datasette, request, "Largest lineage groups", body)


SEARCH_PAGE = 20


async def search_page(datasette, request):
    """``/-/search?q=...`` over a PostgreSQL corpus: ``collector search``'s results (the same
    reading of what is typed), each linked to its lineage page."""
    from ..search import search

    db = _database(datasette)
    typed = request.args.get("q") or ""
    offset = request.args.get("offset") or "0"
    offset = int(offset) if offset.isdigit() else 0
    found = await db.execute_fn(lambda reader: search(reader, typed, limit=SEARCH_PAGE, offset=offset)) if typed else None
    items = "".join(
        f"<li><a href='/-/lineage/{r['id']}'>{html.escape(r['title'] or '(untitled)')}</a> <span class='meta'>"
        f"{html.escape(r['site'])}, {html.escape(r['published'] or r['fetched'] or '')}</span><br>"
        f"{_marked(r['snippet'])}</li>" for r in (found or {}).get("results", []))
    more = ""
    if found and offset + SEARCH_PAGE < found["total"]:
        more = f"<p><a href='/-/search?{urlencode({'q': typed, 'offset': offset + SEARCH_PAGE})}'>next {SEARCH_PAGE} ›</a></p>"
    summary = f"<p class='meta'>{found['total']} found</p>" if found else ""
    body = (f"<div class='lg'><h1>Search</h1>{_search_form(typed)}{summary}<ol start='{offset + 1}'>{items}</ol>{more}</div>")
    return await _page(datasette, request, f"Search: {typed}" if typed else "Search", body)


def _marked(snippet: str | None) -> str:
    """A snippet's [match] marks (collector.search) as <mark>."""
    text = html.escape(" ".join((snippet or "").split()))
    return re.sub(r"\[(.*?)\]", r"<mark>\1</mark>", text)


def _search_form(typed: str = "") -> str:
    return (f"<form action='/-/search'><label>Search titles and text: <input name='q' size='50' value='{html.escape(typed)}'>"
            "</label> <button>Search</button></form>")


def _postgres_note(db) -> str:
    if not getattr(db, "url", None):
        return ""
    return (f"{_search_form()}<p class='meta postgres-note'>Read live from the PostgreSQL corpus {html.escape(db.name)}: its lineage pages and search."
            " Datasette's table, facet and SQL pages read SQLite files: make a snapshot with"
            f" <code>collector migrate-store {html.escape(db.name)} snapshot.db</code> and serve it with"
            " <code>collector --db snapshot.db serve</code> (docs/postgresql.md).</p>")


def group_json_text(group) -> str:
    return json.dumps(_group_json(group), ensure_ascii=False)
