"""`collector export`: documents, lineage or claims as CSV, JSON Lines or Parquet.

Rows stream from the database (SQLite, or PostgreSQL through the same query:
``collector.storage.reading``) to the output, so a corpus of any size exports in constant
memory, and the same corpus gives the same bytes from either backend.
A file named with ``-o`` is written beside itself and renamed when complete: an interrupted
export never leaves a half file under the name. Parquet needs pyarrow (``pip install
'collector[parquet]'``). Documents are exported with every column but ``signature`` (the
MinHash values, binary); ``chrome`` stays the JSON list it is in the database.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from .core.dates import parse_time
from .core.errors import ExportError  # noqa: F401  (raised here; defined with every error)
from .storage.reading import columns as _columns
from .storage.reading import stream

KINDS = ("documents", "lineage", "claims")
FORMATS = ("csv", "jsonl", "parquet")
BATCH = 5000


def check_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ExportError(f"--since {value!r}: not a date (use YYYY-MM-DD or an ISO-8601 time)") from None
    return value


def export_query(conn, kind: str, site: str | None = None, since: str | None = None,
                 relation: str | None = None) -> tuple[str, list, list[tuple[str, str]]]:
    """(SQL, parameters, [(column, declared type)]) of an export. With ``since`` the query
    has one more column, the row's time, which ``_Since`` reads and drops: times are
    compared in Python (``parse_time``: the moment, whatever the offset), the same on both
    backends."""
    check_date(since)
    where, params = [], []
    if kind == "documents":
        columns = [c for c in _columns(conn, "documents") if c[0] != "signature"]
        select, source = [f"d.{c}" for c, _ in columns], "documents d"
        time = "coalesce(d.published, d.fetched)"
        if site:
            where.append("d.site = ?"), params.append(site)
        if relation:
            where.append("d.id IN (SELECT copy_id FROM links WHERE relation = ?)"), params.append(relation)
        order = "d.id"
    elif kind == "lineage":
        columns = _columns(conn, "lineage")
        select, source = [f"v.{c}" for c, _ in columns], "lineage v"
        time = "coalesce(v.copy_published, (SELECT fetched FROM documents d WHERE d.id = v.copy_id))"
        if site:
            where.append("(v.copy_site = ? OR v.origin_site = ?)"), params.extend([site, site])
        if relation:
            where.append("v.relation = ?"), params.append(relation)
        order = "v.copy_id"
    elif kind == "claims":
        if relation:
            raise ExportError("--relation applies to documents and lineage, not claims")
        columns = _columns(conn, "claims") + [("doc_url", "TEXT"), ("doc_site", "TEXT")]
        select = [f"c.{c}" for c, _ in columns[:-2]] + ["d.url AS doc_url", "d.site AS doc_site"]
        source = "claims c JOIN documents d ON d.id = c.doc_id"
        time = "coalesce(d.published, d.fetched)"
        if site:
            where.append("d.site = ?"), params.append(site)
        order = "c.id"
    else:
        raise ExportError(f"{kind}: not one of {', '.join(KINDS)}")
    if since:
        select.append(f"{time} AS row_time")
    sql = f"SELECT {', '.join(select)} FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
    return sql + f" ORDER BY {order}", params, columns


@contextmanager
def _output(path: str | None, binary: bool):
    """The file to write (its temporary name until complete), or stdout."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as out:
            yield out
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class _Since:
    """The cursor's rows dated on or after ``since`` (their last column), without that column."""

    def __init__(self, cursor, since: str):
        self.cursor, self.since = cursor, parse_time(since)

    def fetchmany(self, size: int) -> list:
        while rows := self.cursor.fetchmany(size):
            kept = [r[:-1] for r in rows if (t := parse_time(r[-1])) is not None and t >= self.since]
            if kept:
                return kept
        return []


def _write_csv(cursor, names, out) -> int:
    writer = csv.writer(out)
    writer.writerow(names)
    n = 0
    while rows := cursor.fetchmany(BATCH):
        writer.writerows(rows)
        n += len(rows)
    return n


def _write_jsonl(cursor, names, out) -> int:
    n = 0
    while rows := cursor.fetchmany(BATCH):
        out.write("".join(json.dumps(dict(zip(names, r)), ensure_ascii=False) + "\n" for r in rows))
        n += len(rows)
    return n


def _arrow_schema(pa, columns):
    def kind(declared: str):
        if "INT" in declared:
            return pa.int64()
        if any(t in declared for t in ("REAL", "FLOA", "DOUB")):
            return pa.float64()
        return pa.string()

    return pa.schema([(name, kind(declared)) for name, declared in columns])


def _write_parquet(cursor, columns, out) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError("--format parquet needs pyarrow: pip install 'collector[parquet]'") from None
    schema = _arrow_schema(pa, columns)
    n = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        while rows := cursor.fetchmany(BATCH):
            arrays = [pa.array([r[i] for r in rows], type=field.type) for i, field in enumerate(schema)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            n += len(rows)
    return n


def export(conn, kind: str, fmt: str = "csv", out: str | None = None, site: str | None = None,
           since: str | None = None, relation: str | None = None) -> int:
    """Write the rows of ``kind`` to ``out`` (a path; None or '-' for stdout). Returns the row count."""
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt}: not one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if out in (None, "-"):
            raise ExportError("--format parquet writes a binary file: name it with -o FILE")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError("--format parquet needs pyarrow: pip install 'collector[parquet]'") from None
    sql, params, columns = export_query(conn, kind, site, since, relation)
    with stream(conn, sql, params) as cursor, _output(out, binary=fmt == "parquet") as output:
        names = [c[0] for c in cursor.description][: len(columns)]
        rows = _Since(cursor, since) if since else cursor
        if fmt == "csv":
            return _write_csv(rows, names, output)
        if fmt == "jsonl":
            return _write_jsonl(rows, names, output)
        return _write_parquet(rows, columns, output)


def read_back(path: str | Path, fmt: str) -> list[dict]:
    """The rows of an exported file (for tests and scripts); CSV values come back as text."""
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    if fmt == "jsonl":
        return [json.loads(line) for line in io.open(path, encoding="utf-8")]
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
