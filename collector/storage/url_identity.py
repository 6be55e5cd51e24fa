"""The migration to one URL identity (``schema.m010a_url_identity``): every stored URL in its
canonical form (``collector.core.urls``), as ``collector.core.identity`` decides URLs since."""

from __future__ import annotations

import sqlite3

from collector.core.urls import canonical_url


def migrate_urls(conn: sqlite3.Connection) -> None:
    """Every stored URL in its canonical form. Two documents whose URLs become one are one
    page fetched twice: the later one's claims, links and aliases move to the kept one, its
    URL becomes an alias, and it goes. Claimed and canonical URLs are rewritten too, so the
    claims keep finding the documents they name."""
    docs = conn.execute("SELECT id, url FROM documents ORDER BY id").fetchall()
    taken = {url: doc_id for doc_id, url in docs}
    new_urls = {canonical_url(url) for _, url in docs}
    for alias, doc_id in conn.execute("SELECT alias, doc_id FROM url_aliases").fetchall():
        new = canonical_url(alias)
        if new != alias:  # an alias is the URL as requested: now in its canonical form
            conn.execute("DELETE FROM url_aliases WHERE alias = ?", (alias,))
            if new not in new_urls:
                conn.execute("INSERT OR IGNORE INTO url_aliases (alias, doc_id) VALUES (?, ?)", (new, doc_id))
    for doc_id, url in docs:
        new = canonical_url(url)
        if new == url:
            continue
        keeper = taken.get(new)
        if keeper is None:
            conn.execute("UPDATE documents SET url = ? WHERE id = ?", (new, doc_id))
            del taken[url]
            taken[new] = doc_id
        else:
            _merge(conn, doc_id, keeper)
            del taken[url]
        conn.execute("INSERT OR REPLACE INTO url_aliases (alias, doc_id, kind) VALUES (?, ?, 'variant')",
                     (url, taken[new]))
    for table, column, key in (("documents", "canonical_url", "id"), ("claims", "claimed_url", "id")):
        for row_id, value in conn.execute(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall():
            if canonical_url(value) != value:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (canonical_url(value), row_id))


def _merge(conn: sqlite3.Connection, gone: int, kept: int) -> None:
    conn.execute("UPDATE claims SET doc_id = ? WHERE doc_id = ?", (kept, gone))
    conn.execute("DELETE FROM links WHERE (copy_id = ? AND origin_id = ?) OR (copy_id = ? AND origin_id = ?)",
                 (gone, kept, kept, gone))
    conn.execute("UPDATE links SET origin_id = ? WHERE origin_id = ?", (kept, gone))
    if conn.execute("SELECT 1 FROM links WHERE copy_id = ?", (kept,)).fetchone() is None:
        conn.execute("UPDATE links SET copy_id = ? WHERE copy_id = ?", (kept, gone))
    conn.execute("DELETE FROM links WHERE copy_id = ?", (gone,))  # the kept one has its own origin
    conn.execute("UPDATE url_aliases SET doc_id = ? WHERE doc_id = ?", (kept, gone))
    for table in ("lsh_buckets", "lsh_recent", "line_sightings"):
        conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (gone,))
    conn.execute("DELETE FROM documents WHERE id = ?", (gone,))
