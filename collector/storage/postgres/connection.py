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

Every statement is a round trip to the server (on loopback 50 us on an idle machine, up to a
millisecond on a busy one, where the server process must be scheduled each time), so
``SAVEPOINT`` and ``RELEASE SAVEPOINT``, two of a document's dozen, are not sent alone: they
are held back and sent ahead of the next statement, in one string (the simple query protocol,
its parameters bound by psycopg's client-side cursor: one round trip; psycopg's pipeline mode
was measured slower here). PostgreSQL runs them in order, so the meaning is the same: the savepoint
exists before the document's first write, and a write that fails leaves it to roll back to.
A part may hold a write whose result nobody reads the same way (``hold``); the store sends
what is still held at the end of each document (``PgStore._release``), so a held write that
fails is raised inside its own document, whose savepoint is then undone.
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
#: Statements sent ahead of the next one instead of alone (see the module docstring).
_HELD = re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT) \w+$")


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
        self._held: list[str] = []  # statements waiting for the next one (see the module docstring)
        self.holds_writes = False  # some of them are writes (not only savepoint statements)

    def execute(self, sql: str, params=()) -> "psycopg.Cursor":
        if _HELD.match(sql):
            self._held.append(sql)
            return None  # (nothing reads a savepoint's result)
        if sql == "ROLLBACK":
            self._drop_held(0)  # undone with the rest
        elif sql.startswith("ROLLBACK TO SAVEPOINT "):
            self._forget_undone(sql.rsplit(" ", 1)[1])
        if self._held:
            return self._with_held(translate(sql), params)
        cur = self.raw.cursor()
        cur.execute(translate(sql), params if params else None)
        return cur

    def executemany(self, sql: str, rows) -> "psycopg.Cursor":
        rows = list(rows)
        cur = self.raw.cursor()
        if rows:
            self.flush()
            cur.executemany(translate(sql), rows)
        return cur

    def cursor(self) -> "psycopg.Cursor":
        self.flush()  # before a COPY, which has the connection to itself
        return self.raw.cursor()

    def hold(self, sql: str, params=()) -> None:
        """A write whose result nobody reads, sent ahead of the next statement (its
        parameters bound now, by psycopg's client-side cursor)."""
        self._held.append(psycopg.ClientCursor(self.raw).mogrify(translate(sql), params if params else None))
        self.holds_writes = True

    def flush(self) -> None:
        """Send what is held now."""
        if self._held:
            held = self._drop_held(0)
            self.raw.execute("; ".join(held))

    def _drop_held(self, start: int) -> list[str]:
        held, self._held = self._held, self._held[:start]
        self.holds_writes = any(not _HELD.match(s) for s in self._held)
        return held

    def _forget_undone(self, name: str) -> None:
        """``ROLLBACK TO SAVEPOINT name`` undoes what was written since that savepoint: what
        is held from after it is dropped, not sent (a held write that would fail with it
        would stop the rollback)."""
        opened = [i for i, s in enumerate(self._held) if s == f"SAVEPOINT {name}"]
        self._drop_held(opened[-1] + 1 if opened else 0)

    def _with_held(self, sql: str, params) -> "psycopg.Cursor":
        """The held statements and this one in one string, one round trip: its parameters
        bound here (psycopg's client-side cursor), the cursor left on its result."""
        held = self._drop_held(0)
        cur = psycopg.ClientCursor(self.raw)
        cur.execute("; ".join(held) + "; " + sql, params if params else None)
        while cur.nextset():
            pass
        return cur

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)

    def close(self) -> None:
        self._held.clear()
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
