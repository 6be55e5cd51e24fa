"""The PostgreSQL store: the SQLite store's transaction semantics over a PostgreSQL database.

The same ``Store`` (``collector.storage.store``), its parts from ``parts.py``, its writer
methods here:

- **One writer at a time, waited for.** A batch's transaction takes
  ``pg_advisory_xact_lock(WRITER_LOCK)`` first, as SQLite's ``BEGIN IMMEDIATE`` takes the
  write lock: a second writer waits in the queue (PostgreSQL grants the lock in order), up to
  ``lock_timeout`` (COLLECTOR_LOCK_TIMEOUT; then ``StoreBusy``, never a failure at once). The
  lock is released by the COMMIT or ROLLBACK, and by PostgreSQL when a writer is killed.
  Readers never wait for it. Isolation is READ COMMITTED: under the lock every statement
  sees every earlier writer's commits, as SQLite's writer does.
- **Batches and savepoints.** One transaction per batch; ``with store.document():`` is a
  PostgreSQL SAVEPOINT opened at the document's first write (``Writer`` unchanged).
- **Round trips.** Savepoint statements, and writes whose result nobody reads, are sent
  with the next statement (``connection.Connection``); what is still held when a document
  ends is sent then (``_release``), so its errors undo that document and no other.
- **data_version.** SQLite counts other connections' commits (``PRAGMA data_version``);
  here every writer's commit adds one to ``store_version.commits`` in its own transaction
  (the writers hold the lock, so the row is never contended), and ``data_version`` is that
  count less this writer's own commits: it changes exactly when another writer committed.
"""

from __future__ import annotations

import time

from collector.core.errors import StoreBusy, StoreError

from .. import params
from ..store import Store
from . import schema
from .connection import connect, psycopg, redacted
from .parts import PgChromeMemory, PgCrawlState, PgDocumentStore, PgLineageStore, PgLSHIndex, PgProvenanceLog

#: The advisory lock every writer of a database takes for its transaction ("coll").
WRITER_LOCK = 0x636F6C6C


class PgStore(Store):
    documents_class = PgDocumentStore
    lsh_class, lineage_class, chrome_class = PgLSHIndex, PgLineageStore, PgChromeMemory
    crawl_class, provenance_class = PgCrawlState, PgProvenanceLog
    db_errors = (psycopg.Error,) if psycopg is not None else ()

    def __init__(self, url: str, *args, **kwargs):
        self.url = url
        self._own_commits = 0
        self._version_seen: int | None = None
        super().__init__(redacted(url), *args, **kwargs)

    # --- the connection -------------------------------------------------------------------
    def _connect(self, quick_check_seconds: float):
        self.conn = connect(self.url, "writer")
        # a writer waits for the lock this long (then StoreBusy); other statements never wait for it
        self.conn.execute(f"SET lock_timeout = {int(self.lock_timeout * 1000)}")
        self.db = None  # no sqlite-utils here: the parts use ``conn``
        return self.conn

    def unusable(self, exc: Exception) -> StoreError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreError(f"{self.path}: not a usable collector database: {first}")

    def _set_up(self, old_tokens: bool) -> None:
        """Create or migrate the schema and record the fingerprint parameters, under the lock."""
        try:
            if schema.pending(self.conn) or not self._stored_params():
                self.begin()
                schema.migrate(self.conn)
                if not self._stored_params():
                    self._save_params()
                self.commit()
            if params.must_save(self._stored_params(), self.path, self.documents, old_tokens):
                self.begin()
                self._save_params()
                self.commit()
        except psycopg.Error as exc:
            self.rollback()
            raise self.unusable(exc) from exc

    def _stored_params(self) -> dict:
        if not self.conn.execute("SELECT to_regclass('fingerprint_params') IS NOT NULL").fetchone()[0]:
            return {}
        return dict(self.conn.execute("SELECT key, value FROM fingerprint_params").fetchall())

    def _save_params(self) -> None:
        self.conn.execute("DELETE FROM fingerprint_params")
        self.conn.executemany("INSERT INTO fingerprint_params (key, value) VALUES (?, ?)", schema.fingerprint_rows())

    def save_fingerprint_params(self) -> None:
        own = not self.conn.in_transaction
        if own:
            self.begin()
        self._save_params()
        if own:
            self.commit()

    # --- the lock -------------------------------------------------------------------------
    def begin(self) -> None:
        if self.conn.in_transaction:
            return
        started = time.monotonic()
        self.conn.execute("BEGIN")
        try:
            self.conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
        except psycopg.errors.LockNotAvailable as exc:
            self.conn.execute("ROLLBACK")
            raise StoreBusy(
                f"{self.path}: another writer held the database's lock for over {self.lock_timeout:g} s"
                " (COLLECTOR_LOCK_TIMEOUT); nothing was lost: run the same command again") from exc
        self._record_wait(time.monotonic() - started)
        self._begun = time.monotonic()
        self._batch_started()

    def when_free(self, statement, record: bool = False):
        return statement()  # the advisory lock waits by itself (``begin``)

    # --- the batch ------------------------------------------------------------------------
    def _before_commit(self) -> None:
        super()._before_commit()
        self.conn.execute("UPDATE store_version SET commits = commits + 1")
        self._own_commits += 1

    def _release(self, name: str) -> None:
        super()._release(name)
        if self.conn.holds_writes:  # a held write's error belongs to this document (connection.py)
            self.conn.flush()

    def commit(self) -> None:
        if self.conn.raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            # PostgreSQL would roll back on COMMIT without a word: say it instead
            self.rollback()
            raise StoreError(f"{self.path}: a statement failed outside a document's savepoint; the batch was undone")
        super().commit()

    def data_version(self) -> int:
        """Other writers' commits, as counted in ``store_version`` (see the module docstring).
        Read once per batch: while this writer holds the lock no other can commit."""
        if self._version_seen is None or not self.conn.in_transaction:
            self._version_seen = self.conn.execute("SELECT commits FROM store_version").fetchone()[0] - self._own_commits
        return self._version_seen

    def _batch_started(self) -> None:
        self._version_seen = None
        super()._batch_started()

    def checkpoint(self) -> None:
        """After a merge (``merge_index``): the emptied recent table's dead rows cleared and its
        statistics renewed now, not when autovacuum comes by, or every query probes them."""
        if not self.conn.in_transaction:
            self.conn.execute("VACUUM (ANALYZE) lsh_recent")
