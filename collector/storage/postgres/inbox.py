"""The inbox: extracted documents waiting for the one linker (docs/postgresql.md, "The inbox").

Crawl nodes (and imports feeding a backfill) run the extract stage only and ``put`` each
document here: its fields as JSON, without the HTML (extraction is done), and a crawled
page's archive records (``raw``: WARC, gzip; the link-worker archives them), one autocommitted
row per document, so a node killed at any point has handed over every document it finished
and the rest are fetched again by its next crawl (they are not in the store yet).

``collector link-worker`` (``collector.linkworker``) ``take``s a batch with ``FOR UPDATE SKIP
LOCKED`` inside the store's own transaction, runs the remaining stages, and deletes the batch's
rows in that same transaction: documents, links and deletes are committed together or not at
all, so each item is stored exactly once whatever is killed when, and two link-workers never
take the same rows.
"""

from __future__ import annotations

import json

from collector.core.errors import StoreError

from .connection import connect, is_postgres, psycopg, redacted

#: Fields an inbox item never carries: the raw page (extracted already) and what the later
#: stages set (a node has not run them).
LEFT_OUT = ("html", "raw_record", "lines", "chrome", "claims", "signature", "shingle_count", "shingles", "doc_id",
            "new_links", "origin_id", "origin_url", "relation")


def as_json(item) -> str:
    return json.dumps({k: v for k, v in dict(item).items() if v is not None and k not in LEFT_OUT},
                      ensure_ascii=False, default=str)


class Inbox:
    """A node's side: one connection, one INSERT per document, committed at once."""

    def __init__(self, url: str | None):
        if not is_postgres(url):
            raise StoreError(f"COLLECTOR_INBOX={url!r}: the inbox is a PostgreSQL database (postgresql://...)")
        self.url = url
        self.conn = connect(url, "node")

    def put(self, item) -> None:
        try:
            self.conn.execute("INSERT INTO inbox (source, item, raw) VALUES (?, ?, ?)",
                              (item.get("source") or item.get("url"), as_json(item), item.get("raw_record")))
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"{redacted(self.url)}: cannot hand {item.get('url')} to the inbox: {first}") from exc

    def close(self) -> None:
        self.conn.close()


def take(conn, limit: int) -> list[tuple[int, dict, bytes | None]]:
    """Up to ``limit`` inbox rows (id, item, archive records), oldest first, locked for the
    caller's transaction; rows another transaction holds are skipped, not waited for."""
    rows = conn.execute("SELECT id, item, raw FROM inbox ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED", (limit,)).fetchall()
    return [(r[0], r[1] if isinstance(r[1], dict) else json.loads(r[1]), None if r[2] is None else bytes(r[2])) for r in rows]


def delete(conn, ids: list[int]) -> None:
    """The taken rows, gone in the caller's transaction (with the documents they made)."""
    conn.execute("DELETE FROM inbox WHERE id = ANY(?)", (ids,))


def waiting(conn) -> int:
    return conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
