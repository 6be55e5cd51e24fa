"""A psycopg 3 connection that the store's parts can share with SQLite.

The parts (``collector.storage.documents``, ``lsh``, ``lineage``...) write their statements
once, in the SQL both engines accept, with SQLite's ``?`` and ``:name`` placeholders. This
connection turns those into psycopg's ``%s`` and ``%(name)s`` (once per statement text, cached)
and ``INSERT OR IGNORE`` into ``INSERT ... ON CONFLICT DO NOTHING``, the same meaning. A
statement whose meaning differs (``INSERT OR REPLACE``, ``lastrowid``, full-text search) is
written for PostgreSQL in the part's subclass (``collector.storage.postgres.parts``), never
translated here.

The connection is in autocommit mode: the writer opens its transactions itself (``BEGIN``,
``SAVEPOINT``, ``COMMIT``), as it does on SQLite, and reads outside a batch see what was
last committed.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit, urlunsplit

from collector.core.errors import StoreError

try:  # an optional extra: pip install -e .[postgres]
    import psycopg
    from psycopg import pq
except ImportError:  # pragma: no cover - said in one line by ``connect``
    psycopg = None

SCHEMES = ("postgresql://", "postgres://")

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.IGNORECASE)


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password: what messages and logs show."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """SQLite's placeholders and ``INSERT OR IGNORE`` in PostgreSQL's terms (see the module docstring)."""
    ignore = bool(_OR_IGNORE.match(sql))
    if ignore:
        sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
    sql = sql.replace("%", "%%")
    sql = _NAMED.sub(r"%(\1)s", sql.replace("?", "%s"))
    return sql + " ON CONFLICT DO NOTHING" if ignore else sql


class Connection:
    """The few methods of ``sqlite3.Connection`` the parts use, over a psycopg connection."""

    def __init__(self, raw: "psycopg.Connection"):
        self.raw = raw

    def execute(self, sql: str, params=()) -> "psycopg.Cursor":
        cur = self.raw.cursor()
        cur.execute(translate(sql), params if params else None)
        return cur

    def executemany(self, sql: str, rows) -> "psycopg.Cursor":
        rows = list(rows)
        cur = self.raw.cursor()
        if rows:
            cur.executemany(translate(sql), rows)
        return cur

    def cursor(self) -> "psycopg.Cursor":
        return self.raw.cursor()

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)

    def close(self) -> None:
        self.raw.close()


def connect(url: str, what: str = "database") -> Connection:
    """An autocommit connection to ``url``; a one-line ``StoreError`` when there is none."""
    if psycopg is None:
        raise StoreError(f"{redacted(url)}: the PostgreSQL store needs psycopg 3: pip install -e '.[postgres]'")
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=30, application_name=f"collector {what}")
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"{redacted(url)}: cannot connect to PostgreSQL: {detail}") from exc
    return Connection(raw)
