"""`collector serve`: browse the lineage in a web browser (read-only, standard library only).

    /                 the largest groups (origins with the most copies) and a search box
    /search?q=...     full-text search over titles and text (FTS5 syntax: "exact phrase", OR)
    /doc/ID           a document's lineage group, its claims and the chrome stripped from it
    /api/lineage/ID   the same group as JSON (what `collector lineage ID --json` prints)

For SQL, open the database in any SQLite client or Datasette: the tables and views are the
interface (see the README).
"""

from __future__ import annotations

import html
import json
import sqlite3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sqlite_utils import Database

from .lineage import lineage

STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
a{color:#0b5cad}li{margin:.35rem 0}.m{color:#666;font-size:.9em}.r{font-weight:600;text-transform:uppercase;font-size:.8em}
code{background:#f3f3f3;padding:0 .2em}input{font-size:1em;width:24rem}"""


def _page(title: str, body: str) -> bytes:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)} - collector</title>"
        f"<style>{STYLE}</style></head><body><p><a href='/'>collector</a> "
        "<form action='/search' style='display:inline'><input name='q' placeholder='search titles and text'></form></p>"
        f"{body}</body></html>"
    ).encode("utf-8")


def _doc_line(d: dict) -> str:
    date = d.get("published") or f"fetched {d.get('fetched')}"
    return (
        f"<a href='/doc/{d['id']}'>{html.escape(d.get('title') or '(untitled)')}</a> "
        f"<span class='m'>#{d['id']} {html.escape(d['site'])}, {html.escape(date or '')}<br>{html.escape(d['url'])}</span>"
    )


def render_index(db: Database) -> bytes:
    rows = db.query(
        "SELECT d.id, d.title, d.site, d.url, d.published, d.fetched, count(*) AS copies FROM links l"
        " JOIN documents d ON d.id = l.origin_id GROUP BY l.origin_id ORDER BY copies DESC, d.id LIMIT 100"
    )
    items = "".join(f"<li>{_doc_line(r)} <span class='m'>{r['copies']} linked</span></li>" for r in rows)
    total = next(db.query("SELECT count(*) AS n FROM documents"))["n"]
    return _page("lineage", f"<h1>Lineage</h1><p class='m'>{total} documents. Origins with the most copies:</p><ol>{items}</ol>")


def render_search(db: Database, query: str) -> bytes:
    try:
        rows = list(
            db.query(
                "SELECT d.id, d.title, d.site, d.url, d.published, d.fetched FROM documents_fts f"
                " JOIN documents d ON d.id = f.rowid WHERE documents_fts MATCH ? ORDER BY rank LIMIT 100",
                [query],
            )
        )
    except sqlite3.OperationalError as exc:
        return _page("search", f"<p>Not a valid search: {html.escape(str(exc))}</p>")
    items = "".join(f"<li>{_doc_line(r)}</li>" for r in rows)
    return _page(f"search: {query}", f"<h1>{len(rows)} found for <code>{html.escape(query)}</code></h1><ol>{items}</ol>")


def render_doc(db: Database, doc_id: str) -> bytes | None:
    group = lineage(db, doc_id)
    if group is None:
        return None
    origin = group["origin"]

    def claims(doc) -> str:
        return "".join(
            f"<li class='m'>claim ({c['kind']}) &rarr; {html.escape(c['claimed_site'] or c['claimed_name'] or c['claimed_url'] or '?')}: "
            f"<code>{html.escape(c['evidence'])}</code></li>"
            for c in doc["claims"]
        )

    children: dict[int, list] = {}
    for copy in group["copies"]:
        children.setdefault(copy["origin_id"], []).append(copy)

    def branch(parent: int) -> str:
        out = ""
        for c in children.get(parent, []):
            out += (
                f"<li><span class='r'>{c['relation']}</span> {_doc_line(c)}<br><span class='m'>similarity {c['similarity']:.2f}, "
                f"containment {c['containment']:.2f}</span><ul>{claims(c)}{branch(c['id'])}</ul></li>"
            )
        return out

    me = next(db.query("SELECT chrome, text FROM documents WHERE id = ?", [group["query"]]))
    chrome = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in json.loads(me["chrome"])) or "<li class='m'>none</li>"
    evidence = f"<p class='m'>origin chosen by {html.escape(origin['evidence'])}</p>" if origin["evidence"] else ""
    body = (
        f"<h1>Lineage of #{group['query']}</h1>{evidence}<ul><li><span class='r'>origin</span> {_doc_line(origin)}"
        f"<ul>{claims(origin)}{branch(origin['id'])}</ul></li></ul>"
        f"<h2>Chrome stripped from #{group['query']}</h2><ul>{chrome}</ul>"
        f"<h2>Text of #{group['query']}</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in me["text"].split("\n"))
    )
    return _page(f"lineage of #{group['query']}", body)


def make_handler(db_path: str):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            url = urlsplit(self.path)
            db = Database(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False))
            try:
                if url.path == "/":
                    self._send(200, render_index(db))
                elif url.path == "/search":
                    self._send(200, render_search(db, parse_qs(url.query).get("q", [""])[0]))
                elif url.path.startswith("/doc/"):
                    page = render_doc(db, url.path[5:])
                    self._send(200 if page else 404, page or _page("not found", "<p>No such document.</p>"))
                elif url.path.startswith("/api/lineage/"):
                    group = lineage(db, url.path[len("/api/lineage/"):])
                    self._send(200 if group else 404, json.dumps(group, ensure_ascii=False).encode(), "application/json")
                else:
                    self._send(404, _page("not found", "<p>Not found.</p>"))
            finally:
                db.conn.close()

        def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):  # quiet: one line per request is noise here
            pass

    return Handler


def make_server(db_path: str, host: str = "127.0.0.1", port: int = 8001) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(db_path))
