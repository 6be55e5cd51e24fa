"""The writing connection: SQLite's one write lock, taken briefly, and documents in batches.

WAL mode, one transaction per batch of documents. A writer holds SQLite's write lock from
``BEGIN IMMEDIATE`` to ``COMMIT``: never a read transaction upgraded to a write (that fails at
once when another writer committed meanwhile), and never for long (``hold_seconds``), so
other writers wait little, and a kill loses at most the open batch.

Each document's writes sit in a savepoint inside the batch's transaction, opened by
``with writer.document():`` as sqlite-utils' ``atomic()`` opens one, with two differences:
the savepoint is opened at the document's first write (the lock is taken when the store
stage writes, not while the page is extracted), and a full batch is committed when the next
document begins. A block that raises (``DropItem`` included) undoes the document's writes
and what the writer holds for them (``Writer`` hooks, which ``Store`` fills).
"""

from __future__ import annotations

import random
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from .dbfile import QUICK_CHECK_SECONDS, StoreBusy, StoreError, check_writable, explain, is_busy, quick_check

#: Seconds a batch may hold the write lock (COLLECTOR_COMMIT_INTERVAL): other writers wait
#: at most about this long, and a kill loses at most this long's work.
HOLD_SECONDS = 1.0
#: Seconds a writer waits for the lock before giving up with ``StoreBusy`` (COLLECTOR_LOCK_TIMEOUT).
LOCK_TIMEOUT = 600.0
#: Waiting for the lock, ``BEGIN IMMEDIATE`` is tried again after at most this long...
_POLL_MAX = 0.01
#: ...and a writer that just held the lock lets a tenth of that time (``_GAP`` at most) pass
#: before taking it again, so a waiter polling every ``_POLL_MAX`` gets its turn: SQLite's
#: lock is not fair, and an import would otherwise retake it at once, batch after batch.
_GAP = 0.02
#: Busy timeout (ms) of every other statement: reads wait only for a WAL recovery.
BUSY_MS = 30_000


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class _Scope:
    """One ``document()`` block: its savepoint, once the document wrote."""

    name: str
    open: bool = False
    counted: bool = False  # counted as a document (the outermost block, once)
    in_batch: bool = False  # counted in the open batch (not yet committed or rolled back)
    mark: object = None  # what the hooks need to take the document's writes back


class Writer:
    #: The database's own errors (the PostgreSQL writer names psycopg's).
    db_errors: tuple = (sqlite3.Error,)

    def __init__(self, path: str | Path, batch_size: int = 1000, hold_seconds: float = HOLD_SECONDS,
                 lock_timeout: float = LOCK_TIMEOUT, quick_check_seconds: float = QUICK_CHECK_SECONDS,
                 lock_log: str | None = None):
        self.path = str(path)
        self.batch_size = max(1, batch_size)
        self.hold_seconds = hold_seconds
        self.lock_timeout = lock_timeout
        self.lock_log = lock_log
        self.lock_waits: list[float] = []  # seconds each BEGIN IMMEDIATE waited
        self._begun = self._released = 0.0  # monotonic times of the last BEGIN and COMMIT
        self._held = 0.0
        self._pending = 0  # documents in the open batch
        self.documents_started = 0  # documents begun in this process (a crawl's commit timer watches it)
        self._scopes: list[_Scope] = []
        #: Changes whenever this connection undoes writes (a rollback) or changes documents
        #: behind the linker's back: what a reader holds from before (the linker's groups) may
        #: be stale then. Other connections' commits show in ``data_version``.
        self.generation = 0
        self.conn = self._connect(quick_check_seconds)

    def _connect(self, quick_check_seconds: float) -> sqlite3.Connection:
        check_writable(self.path)
        existed = Path(self.path).exists() and Path(self.path).stat().st_size > 0
        try:
            conn = self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_MS / 1000)
            if existed:
                quick_check(conn, self.path, quick_check_seconds)
            self.when_free(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())
            conn.execute("PRAGMA synchronous=NORMAL")
            # Reads of the first GB come straight from the memory map; the page cache holds the
            # batch's dirty pages and the pages read beyond the map (the upper levels of the LSH
            # index at a million documents). Larger costs more than it saves: every page of it is
            # a page fault the first time, 65,000 of them for 256 MB (bench/scale.py).
            conn.execute("PRAGMA cache_size=-65536")  # KiB: 64 MB at most, used as needed
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA foreign_keys=ON")
            self.db = Database(conn)
            return conn
        except sqlite3.Error as exc:
            raise self.unusable(exc) from exc

    def unusable(self, exc: sqlite3.Error) -> StoreError:
        return explain(self.path, exc) or StoreError(f"{self.path}: not a usable SQLite database: {exc}")

    # --- hooks: what the store holds for the open batch -----------------------------------
    def _batch_started(self) -> None:
        """A transaction began: what other writers committed is seen from now on."""

    def _before_commit(self) -> None:
        """Write what the batch held back, inside its transaction."""

    def _savepoint_opened(self) -> object:
        """A document's savepoint opened: returns the mark ``_savepoint_undone`` takes."""

    def _savepoint_released(self, outermost: bool) -> None:
        """The savepoint's writes stay (for good once the outermost is released)."""

    def _savepoint_undone(self, mark: object) -> None:
        """The savepoint was rolled back: so is what was held for its writes."""

    def _rolled_back(self) -> None:
        """The transaction was rolled back: nothing held is kept."""

    # --- the lock -------------------------------------------------------------------------
    def begin(self) -> None:
        if self.conn.in_transaction:
            return
        pause = self._released + min(_GAP, self._held / 10) - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.when_free(lambda: self.conn.execute("BEGIN IMMEDIATE"), record=True)
        self._begun = time.monotonic()
        self._batch_started()

    def when_free(self, statement, record: bool = False):
        """Run ``statement`` (one that takes the write lock), retrying while another writer
        holds it, polling with a growing pause, until ``lock_timeout``: then ``StoreBusy``."""
        started = time.monotonic()
        pause = 0.001
        self.conn.execute("PRAGMA busy_timeout = 0")  # polled here: SQLite's own waits grow to 100 ms
        try:
            while True:
                try:
                    result = statement()
                    break
                except sqlite3.OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    if time.monotonic() - started > self.lock_timeout:
                        raise StoreBusy(
                            f"{self.path}: another writer held the database's lock for over {self.lock_timeout:g} s"
                            " (COLLECTOR_LOCK_TIMEOUT); nothing was lost: run the same command again") from exc
                time.sleep(random.uniform(0.5, 1.0) * pause)
                pause = min(pause * 1.5, _POLL_MAX)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        if record:
            self._record_wait(time.monotonic() - started)
        return result

    def _record_wait(self, seconds: float) -> None:
        self.lock_waits.append(seconds)
        if self.lock_log:  # bench/soak.py: every writer's waits, for percentiles
            with open(self.lock_log, "a", encoding="utf-8") as log:
                log.write(f"{seconds:.6f}\n")

    def held_too_long(self) -> bool:
        return self.conn.in_transaction and time.monotonic() - self._begun >= self.hold_seconds

    def commit_if_due(self, idle: bool = False) -> None:
        """Commit the open batch if it held the lock ``hold_seconds``, or at once when the
        caller has nothing to write for now (a crawl waiting for responses)."""
        if self.conn.in_transaction and (idle or self.held_too_long()):
            self.commit()

    # --- documents --------------------------------------------------------------------------
    @contextmanager
    def document(self) -> Iterator[None]:
        """The scope of one document's writes: kept together, or undone if the block raises.

        A block inside another is a savepoint inside the document's (the inner one's writes
        alone are undone when it raises); blocks must nest, as ``with`` blocks do.
        """
        scope = _Scope("document" if not self._scopes else f"document_{len(self._scopes)}")
        self._scopes.append(scope)
        try:
            yield
        except BaseException:
            self._leave(scope)
            if scope.open:
                self._undo(scope)
            raise
        self._leave(scope)
        if scope.open:
            try:
                self._release(scope.name)
            except self.db_errors:
                self._undo(scope)  # a write of the document failed, said only now (PostgreSQL's held writes)
                raise
            self._savepoint_released(outermost=not self._scopes)

    def in_document(self) -> bool:
        return bool(self._scopes)

    def write(self) -> None:
        """Called before every write: the batch's transaction, and the savepoint of the
        document in progress, are opened now if they are not yet."""
        if self._scopes and not self._scopes[-1].open:
            self._open_scopes()
        elif not self.conn.in_transaction:
            self.begin()

    def _open_scopes(self) -> None:
        for depth, scope in enumerate(self._scopes):
            if scope.open:
                continue
            if depth == 0 and not scope.counted:
                # a new document: the ones before it are complete, a full batch is committed
                if self._pending >= self.batch_size or self.held_too_long():
                    self.commit()
                self._pending += 1
                self.documents_started += 1
                scope.counted = scope.in_batch = True
            self.begin()
            self.conn.execute(f"SAVEPOINT {scope.name}")
            scope.mark = self._savepoint_opened()
            scope.open = True

    def _release(self, name: str) -> None:
        """The document's writes kept: its savepoint released (the PostgreSQL writer also
        sends here what it held back, ``collector.storage.postgres.store``)."""
        self.conn.execute(f"RELEASE SAVEPOINT {name}")

    def _leave(self, scope: _Scope) -> None:
        if not self._scopes or self._scopes[-1] is not scope:
            raise RuntimeError("document() blocks of one store must nest: one ended while another inside it was open")
        self._scopes.pop()

    def _undo(self, scope: _Scope) -> None:
        if not self.conn.in_transaction:
            # The error ended the transaction itself (a full disk, an I/O error: errors that
            # stop the run): the whole batch is gone, and what was held for it with it.
            self.rollback()
            return
        try:
            self.conn.execute(f"ROLLBACK TO SAVEPOINT {scope.name}")
            self.conn.execute(f"RELEASE SAVEPOINT {scope.name}")
        except self.db_errors:
            self.rollback()  # nothing half undone is kept; the error says why
            raise
        scope.open = False
        self.generation += 1
        if scope.in_batch:
            self._pending -= 1
        self._savepoint_undone(scope.mark)

    def _close_scopes(self) -> None:
        for scope in self._scopes:
            scope.open = scope.in_batch = False  # a later write opens a new savepoint (not a new document)

    # --- the batch --------------------------------------------------------------------------
    def commit(self) -> None:
        """Commit the open batch; a document in progress keeps what it wrote so far."""
        if self._scopes and self._scopes[0].open:
            self.conn.execute(f"RELEASE SAVEPOINT {self._scopes[0].name}")
            self._savepoint_released(outermost=True)
        self._close_scopes()
        if self.conn.in_transaction:
            self._before_commit()
            self.conn.execute("COMMIT")
            self._released = time.monotonic()
            self._held = self._released - self._begun
        self._pending = 0

    def rollback(self) -> None:
        """Drop the open batch (an interrupted run): the next run redoes it."""
        self._close_scopes()
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except self.db_errors:
                pass  # a damaged or vanished file: SQLite rolled back already, or never wrote
        self.generation += 1
        self._pending = 0
        self._rolled_back()

    def data_version(self) -> int:
        """SQLite's count of other connections' commits as this one saw them."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def checkpoint(self) -> None:
        """Pages back in the file; skipped, not waited for, while others write."""
        self.conn.execute("PRAGMA busy_timeout = 100")
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    def close(self) -> None:
        self.commit()
        self.conn.close()
