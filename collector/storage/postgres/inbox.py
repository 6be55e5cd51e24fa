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
from collections import Counter
from typing import NamedTuple

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

    def put(self, item, run_id: int | None = None) -> None:
        """``item`` handed over, with its page's archive records and the node's run (``runs.id``)."""
        try:
            self.conn.execute("INSERT INTO inbox (source, item, raw, run_id) VALUES (?, ?, ?, ?)",
                              (item.get("source") or item.get("url"), as_json(item), item.get("raw_record"), run_id))
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"{redacted(self.url)}: cannot hand {item.get('url')} to the inbox: {first}") from exc

    def close(self) -> None:
        self.conn.close()


class Taken(NamedTuple):
    id: int
    item: dict
    records: bytes | None  # the page's archive records, made on the node
    run_id: int | None     # the node's run


def take(conn, limit: int) -> list[Taken]:
    """Up to ``limit`` inbox rows, oldest first, locked for the caller's transaction; rows
    another transaction holds are skipped, not waited for."""
    rows = conn.execute("SELECT id, item, raw, run_id FROM inbox ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
                        (limit,)).fetchall()
    return [Taken(r[0], r[1] if isinstance(r[1], dict) else json.loads(r[1]), None if r[2] is None else bytes(r[2]), r[3])
            for r in rows]


def delete(conn, ids: list[int]) -> None:
    """The taken rows, gone in the caller's transaction (with the documents they made)."""
    conn.execute("DELETE FROM inbox WHERE id = ANY(?)", (ids,))


def credit_runs(conn, new_documents: Counter) -> None:
    """The nodes' runs credited with the documents of theirs that were new, in the caller's
    transaction (a node's run cannot count them: the link-worker decides what is new)."""
    for run_id, count in sorted(new_documents.items()):
        conn.execute("UPDATE runs SET new_documents = coalesce(new_documents, 0) + ? WHERE id = ?", (count, run_id))


def waiting(conn) -> int:
    return conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
