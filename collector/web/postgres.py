"""The lineage pages of a PostgreSQL corpus: what ``collector serve`` shows of one.

Datasette serves SQLite files only, so over PostgreSQL ``collector serve`` runs Datasette
with no database of the corpus and this source behind collector's own pages (the plugin's
``/-/lineage``, ``/-/lineage/ID``, ``/-/lineage/ID.json``): the same functions as on SQLite
(``collector.web.group``, ``lineage_page``), reading through ``Reader`` (the same
statements), each call in a worker thread on a read-only session of a small pool. The table,
facet and SQL pages need the SQLite file: ``collector migrate-store URL snapshot.db`` makes
one (docs/postgresql.md, "A Datasette view").
"""

from __future__ import annotations

import asyncio
import queue
from dataclasses import dataclass

from ..storage.postgres import redacted

POOL = 4  # read sessions kept open: the pages' calls are short


@dataclass
class _Results:
    rows: list[dict]


class PostgresSource:
    """What the plugin asks of a Datasette database (``name``, ``execute_fn``, ``execute``),
    over PostgreSQL."""

    is_memory = False

    def __init__(self, url: str):
        self.url = url
        self.name = redacted(url)
        self._idle: queue.LifoQueue = queue.LifoQueue()

    def _reader(self):
        from ..storage.postgres.reading import Reader

        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return Reader(self.url)

    def run(self, fn):
        """``fn(reader)`` on a read session; a session the server dropped is replaced once."""
        from ..storage.postgres.connection import psycopg

        for attempt in (1, 2):
            reader = self._reader()
            try:
                result = fn(reader)
            except psycopg.OperationalError:
                reader.close()
                if attempt == 2:
                    raise
                continue
            if self._idle.qsize() < POOL:
                self._idle.put(reader)
            else:
                reader.close()
            return result

    async def execute_fn(self, fn):
        return await asyncio.to_thread(self.run, fn)

    async def execute(self, sql: str, params=()):
        return _Results(await self.execute_fn(lambda reader: list(reader.query(sql, params))))

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()
