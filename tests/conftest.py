"""Shared fixtures: a fresh database and config folder per test, and the real CLI."""

from __future__ import annotations

import logging
import os
import shutil
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_dbf7eac3a2e765a4.txt"
CORPUS = SHARED / "corpus"


def needs_shared(path: Path = SHARED):
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is absent: the shared corpus is not beside the repo")


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A copy of the repo's configs/ plus the example sites, extendable per test."""
    target = tmp_path / "configs"
    shutil.copytree(REPO / "configs", target)
    for yaml in (REPO / "examples" / "configs" / "sites").glob("*.yaml"):
        shutil.copy(yaml, target / "sites" / yaml.name)
    return target


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "test.db"


@pytest.fixture(scope="session")
def pg_server():
    """One scratch PostgreSQL server for the session (tests/pgserver.py); skipped with the
    reason when PostgreSQL or psycopg cannot be had."""
    from pgserver import Server

    try:
        server = Server().start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"no scratch PostgreSQL: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A new database of each backend: a SQLite file, or a PostgreSQL database of its own.
    Tests over ``db_url`` run against both, so the two SQL paths cannot drift."""
    if request.param == "sqlite":
        yield str(tmp_path / "test.db")
        return
    server = request.getfixturevalue("pg_server")
    url = server.new_database()
    yield url
    server.drop(url)


@pytest.fixture
def context(db_path, config_dir):
    from collector.context import Context

    ctx = Context({"COLLECTOR_DB": str(db_path), "COLLECTOR_CONFIG": str(config_dir)})
    yield ctx
    ctx.close()


def _cli_args(args, db, config) -> list[str]:
    options = (["--db", str(db)] if db is not None else []) + (["--config", str(config)] if config is not None else [])
    return options + [str(a) for a in args]


def invoke_cli(*args, db=None, config=None, check=True, env=None, timeout=None) -> subprocess.CompletedProcess:
    """The ``collector`` command in this process (click's ``CliRunner``): the same code as the
    console script, its exit status, stdout and stderr apart, without a Python start-up per
    call. For what only a process shows (signals, kills, crawls: a Twisted reactor starts once
    per process; settings read from the environment when ``collector.settings`` is imported;
    another user), use ``run_cli``. ``env`` only reaches what is read at run time; ``timeout``
    is accepted for the same signature and not enforced. An exception the CLI does not turn
    into a one-line error fails the test with its traceback."""
    from click.testing import CliRunner

    from collector.cli import main

    argv = _cli_args(args, db, config)
    here = os.getcwd()
    os.chdir(REPO)  # as run_cli: relative paths (the default configs/) from the repository
    # A process with no logging configured prints warnings on stderr through ``logging.lastResort``;
    # here pytest's capture handlers sit on the root logger, so the last resort is added for the call.
    root = logging.getLogger()
    root.addHandler(logging.lastResort)
    try:
        result = CliRunner().invoke(main, argv, env=env, catch_exceptions=False, prog_name="collector")
    finally:
        root.removeHandler(logging.lastResort)
        os.chdir(here)
    done = subprocess.CompletedProcess(["collector", *argv], result.exit_code, result.stdout, result.stderr)
    if check and done.returncode != 0:
        raise AssertionError(f"{done.args} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


def run_cli(*args, db=None, config=None, check=True, env=None, **kwargs) -> subprocess.CompletedProcess:
    """Run the real ``collector`` command in a subprocess (where a real process is the point;
    otherwise ``invoke_cli``)."""
    cmd = [sys.executable, "-m", "collector"]
    if db is not None:
        cmd += ["--db", str(db)]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += [str(a) for a in args]
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=full_env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def assert_fts_matches_documents(db_path) -> None:
    """The full-text index holds every document, with its current title and text: the terms
    FTS5 has per document (fts5vocab) are as many as the words of its title and text."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts_terms USING fts5vocab(main, documents_fts, instance)")
        indexed = dict(conn.execute("SELECT doc, count(*) FROM temp.fts_terms GROUP BY doc"))
        words = re.compile(r"[^\W_]+")
        expected = {i: len(words.findall(t or "")) + len(words.findall(x)) for i, t, x in conn.execute("SELECT id, title, text FROM documents")}
        assert indexed == expected
    finally:
        conn.close()


def rows(db_path, sql, params=()):
    """Rows as dicts; ``db_path`` a SQLite file or a ``postgresql://`` URL (``?`` placeholders on both)."""
    if str(db_path).startswith("postgresql://"):
        import psycopg
        from psycopg.rows import dict_row

        from collector.storage.postgres.connection import translate

        with psycopg.connect(str(db_path), row_factory=dict_row) as conn:
            return conn.execute(translate(sql), params or None).fetchall()
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


# --- fixtures of the importer and bad-input tests (test_importers.py, test_bad_input.py) ---


@pytest.fixture(scope="module")
def module_config_dir(tmp_path_factory) -> Path:
    """Like ``config_dir``, for module-scoped fixtures (one CLI import shared by a module's tests)."""
    target = tmp_path_factory.mktemp("module-configs") / "configs"
    shutil.copytree(REPO / "configs", target)
    for yaml in (REPO / "examples" / "configs" / "sites").glob("*.yaml"):
        shutil.copy(yaml, target / "sites" / yaml.name)
    return target


@pytest.fixture(scope="session")
def html_page():
    """html_page(title, paragraphs, head="") -> a news page (head: extra meta/link tags)."""

    def page(title: str, paragraphs, head: str = "", charset: str = "utf-8") -> str:
        body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="{charset}"><title>{title}</title>{head}</head>\n'
            f'<body><header><nav><a href="/">Home</a> <a href="/local">Local</a></nav></header>\n'
            f"<main><article><h1>{title}</h1>\n{body}\n</article></main>\n"
            f"<footer><p>All rights reserved.</p></footer></body></html>\n"
        )

    return page


@pytest.fixture(scope="session")
def write_warc():
    """write_warc(path, records, gzip=None): each record a dict with ``url`` and ``html`` (str or
    bytes), optionally ``status`` ("200 OK"), ``content_type``, ``date``, ``type`` ("response";
    "request" and "metadata" records carry no page). gzip (one member per record) defaults to
    the file name ending in .gz. Returns the offsets where each record ends."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def write(path: Path, records, gzip: bool | None = None) -> list[int]:
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=str(path).endswith(".gz") if gzip is None else gzip)
        ends = []
        for rec in records:
            kind = rec.get("type", "response")
            payload = rec.get("html", "")
            payload = payload.encode("utf-8") if isinstance(payload, str) else payload
            warc_headers = {"WARC-Date": rec["date"]} if rec.get("date") else None
            if kind == "response":
                http = StatusAndHeaders(
                    rec.get("status", "200 OK"),
                    [("Content-Type", rec.get("content_type", "text/html; charset=utf-8"))]
                    + [(k, v) for k, v in rec.get("headers", {}).items()],
                    protocol="HTTP/1.1",
                )
                record = writer.create_warc_record(
                    rec["url"], "response", payload=io.BytesIO(payload), http_headers=http, warc_headers_dict=warc_headers
                )
            elif kind == "request":
                http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example")], is_http_request=True)
                record = writer.create_warc_record(rec["url"], "request", payload=io.BytesIO(b""), http_headers=http)
            else:
                record = writer.create_warc_record(
                    rec["url"], kind, payload=io.BytesIO(payload), warc_content_type=rec.get("content_type", "text/plain")
                )
            writer.write_record(record)
            ends.append(buffer.tell())
        Path(path).write_bytes(buffer.getvalue())
        return ends

    return write


@pytest.fixture(scope="session")
def db_snapshot():
    """db_snapshot(db_path) -> every row of the tables an import writes, in a stable order."""

    def snapshot(db_path) -> dict[str, list[dict]]:
        return {
            table: rows(db_path, f"SELECT * FROM {table} ORDER BY 1, 2, 3")
            for table in ("documents", "sites", "claims", "links", "lsh_index", "chrome_lines", "line_sightings")
        }

    return snapshot
