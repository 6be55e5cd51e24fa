"""Reading a PostgreSQL store: what ``collector lineage``, ``stats`` and ``search`` read through.

The read commands take a sqlite-utils ``Database`` on SQLite and use three of its methods:
``query(sql, params)`` (rows as dicts), ``execute(sql, params)`` (a cursor) and
``db[table].exists()``. ``Reader`` offers the same three over one read-only PostgreSQL
session, with the same placeholders (``connection.translate``), so the queries' SQL is
written once for both.
"""

from __future__ import annotations

from typing import Iterator

from .connection import Connection, connect


class _Table:
    def __init__(self, conn: Connection, name: str):
        self.conn, self.name = conn, name

    def exists(self) -> bool:
        return self.conn.execute("SELECT to_regclass(?) IS NOT NULL", (self.name,)).fetchone()[0]


class Reader:
    postgres = True

    def __init__(self, url: str):
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

    def close(self) -> None:
        self.conn.close()
