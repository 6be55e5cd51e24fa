"""Reading a PostgreSQL store: what the read commands (lineage, stats, search, export, report,
raw, the lineage pages of ``serve``) read through.

The read commands take a sqlite-utils ``Database`` or a read-only ``sqlite3`` connection on
SQLite and use a few of their methods: ``query(sql, params)`` (rows as dicts),
``execute(sql, params)`` (a cursor) and ``db[table].exists()``. ``Reader`` offers the same
over one read-only PostgreSQL session, with the same placeholders (``connection.translate``),
so the queries' SQL is written once for both. What only a query of the whole corpus needs
(a cursor that streams, the columns of a table) is in ``collector.storage.reading``, for both
backends.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Iterator

from .connection import Connection, connect, translate

_cursor_names = itertools.count(1)


class _Table:
    def __init__(self, conn: Connection, name: str):
        self.conn, self.name = conn, name

    def exists(self) -> bool:
        return self.conn.execute("SELECT to_regclass(?) IS NOT NULL", (self.name,)).fetchone()[0]


class Reader:
    postgres = True

    def __init__(self, url: str):
        self.url = url
        self.conn = connect(url, "reader")
        # never writes, whatever the role may do (the nodes' role can write the inbox)
        self.conn.execute("SET default_transaction_read_only = on")
        self.conn.execute("SELECT count(*) FROM documents WHERE false").fetchone()  # a collector database?

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def query(self, sql: str, params=()) -> Iterator[dict]:
        cur = self.conn.execute(sql, params)
        columns = [c.name for c in cur.description or ()]
        for row in cur:
            yield dict(zip(columns, row))

    def __getitem__(self, name: str) -> _Table:
        return _Table(self.conn, name)

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, declared type) of a table's or view's columns, in order, without generated
        ones (``documents.fts``): the columns SQLite's ``PRAGMA table_info`` lists."""
        return [(name, kind.upper()) for name, kind in self.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]

    @contextmanager
    def snapshot(self):
        """The statements inside see one snapshot of the database (a report's several queries)."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield self
        finally:
            self.conn.execute("ROLLBACK")  # it wrote nothing

    @contextmanager
    def stream(self, sql: str, params=()):
        """A server-side cursor over ``sql``: rows come as they are fetched (``fetchmany``),
        so a corpus of any size is read in constant memory."""
        with self.snapshot():
            cur = self.conn.raw.cursor(name=f"collector_read_{next(_cursor_names)}")
            try:
                cur.itersize = 2000
                cur.execute(translate(sql), params if params else None)
                yield cur
            finally:
                cur.close()

    def close(self) -> None:
        self.conn.close()
