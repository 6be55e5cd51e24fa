"""Moving a PostgreSQL store into a new SQLite file (``collector migrate-store URL FILE``):
to browse it in Datasette, to hand a snapshot to someone, to go back to one machine.

The copy is built in a part file beside the target (``.NAME.part``) and put in place at the
end by a hard link, which fails if the target appeared meanwhile: a kill at any moment leaves
no target, or the whole copy; a part file left by a kill is removed by the next run. What it
copies is one snapshot of the PostgreSQL database (a REPEATABLE READ transaction), so a
link-worker or crawl writing meanwhile is not half in it. Every table's rows keep their ids;
the LSH rows are copied as they are (the same band keys), ``chrome_counts`` fills itself
(SQLite's triggers, as documents arrive), the FTS5 index is built once at the end
('rebuild'), and each table's row count is checked against PostgreSQL's before the copy is
put in place. SQLite's ids go on after the highest copied (``INTEGER PRIMARY KEY``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable

from collector.core.errors import StoreError

from ..store import Store
from .connection import redacted
from .copy import TABLES
from .reading import Reader

_ROWS_PER_FETCH = 5000
#: Each table in its primary key's order: SQLite's B-trees fill from the left, pages stay full.
ORDER = {"sites": "key", "documents": "id", "claims": "id", "links": "copy_id", "url_aliases": "alias",
         "rule_sets": "hash", "raw_inputs": "doc_id", "chrome_lines": "site, line",
         "line_sightings": "site, line_hash, doc_id", "lsh_buckets": "band, bucket, doc_id",
         "lsh_recent": "band, bucket, doc_id", "source_validators": "url", "runs": "id", "reprocess_queue": "doc_id"}


def part_file(target: Path) -> Path:
    return target.with_name(f".{target.name}.part")


def copy_postgres_to_sqlite(source: str, target: str | Path, progress: Callable[[str, int], None] | None = None) -> dict:
    """Copy the PostgreSQL store ``source`` into the new SQLite file ``target``; returns rows
    copied per table."""
    target = Path(target)
    if target.exists() and target.stat().st_size > 0:
        raise StoreError(f"{target}: already exists: migrate-store writes a new SQLite file only"
                         " (name another, or move this one away)")
    reader = Reader(source)
    part = part_file(target)
    try:
        with reader.snapshot():
            _remove(part)
            Store(part).close()  # the schema, made by the SQLite store itself
            copied = _fill(reader, part, source, progress)
        _put_in_place(part, target)
        return copied
    finally:
        reader.close()
        _remove(part)


def _fill(reader: Reader, part: Path, source: str, progress) -> dict:
    conn = sqlite3.connect(part, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")  # a part file: on failure it is deleted, never used
        conn.execute("PRAGMA synchronous=OFF")
        _check_params(reader, conn, source)
        conn.execute("BEGIN")
        copied = {table: _copy_table(reader, conn, table, progress) for table in TABLES}
        conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')")
        conn.execute("COMMIT")
        for table, count in copied.items():
            theirs = reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if count != theirs or conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != theirs:
                raise StoreError(f"{part}: {table} has {count} rows copied of {theirs}: the copy was not put in place")
        conn.execute("PRAGMA journal_mode=WAL")  # as the store keeps it
        conn.execute("PRAGMA synchronous=FULL")
    finally:
        conn.close()
    return copied


def _check_params(reader: Reader, conn: sqlite3.Connection, source: str) -> None:
    theirs = dict(reader.execute("SELECT key, value FROM fingerprint_params").fetchall())
    ours = dict(conn.execute("SELECT key, value FROM fingerprint_params"))
    if theirs != ours:
        raise StoreError(f"{redacted(source)}: signatures were made with {theirs}, this version makes {ours}:"
                         " run `collector refingerprint` on it first")


def _copy_table(reader: Reader, conn: sqlite3.Connection, table: str, progress) -> int:
    ours = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    columns = [c for c, _ in reader.columns(table) if c in ours]
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    count = 0
    with reader.stream(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {ORDER[table]}") as cur:
        while rows := cur.fetchmany(_ROWS_PER_FETCH):
            conn.executemany(insert, rows)
            count += len(rows)
            if progress:
                progress(table, count)
    return count


def _put_in_place(part: Path, target: Path) -> None:
    """The finished copy under the target's name, durably; never over a file that appeared."""
    wal = Path(f"{part}-wal")
    if wal.exists() and wal.stat().st_size:  # closed cleanly, SQLite has moved it into the file
        raise StoreError(f"{part}: its write-ahead log was not checkpointed; the copy was not put in place")
    with open(part, "rb") as fh:
        os.fsync(fh.fileno())
    if target.exists() and target.stat().st_size == 0:
        target.unlink()  # an empty file the user made for it
    try:
        os.link(part, target)
    except FileExistsError:
        raise StoreError(f"{target}: appeared while copying; the copy was not put in place") from None
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _remove(part: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{part}{suffix}").unlink(missing_ok=True)
