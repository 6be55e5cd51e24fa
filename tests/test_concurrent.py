"""Several writers on one database: imports and crawls at once, in either order, and two
writers merging one lineage group; nothing is lost, nothing waits long, all exit 0.

Every writer here is the real ``collector`` command in its own process: SQLite's locking
between processes is the point.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from backends import READ_ERRORS, postgres
from conftest import REPO, assert_fts_matches_documents, rows
from sites_server import SiteServer, article_page, prose, site_config, slow_site, urlset
from textgen import article

#: Batches bounded by time only, long enough that the first writer holds the lock when the
#: second starts.
HOLD = {"COLLECTOR_COMMIT_INTERVAL": "0.15", "COLLECTOR_BATCH_SIZE": "100000", "COLLECTOR_LOCK_TIMEOUT": "120"}
DOCS = 200
PAGES = 100


def _texts(folder: Path, prefix: str, count: int, seed: int) -> set[str]:
    """``count`` fictional articles as .txt files; returns their file names."""
    folder.mkdir(parents=True)
    for i in range(count):
        title, paragraphs = article(seed + i, paragraphs=4)
        (folder / f"{prefix}{i:03d}.txt").write_text("\n".join([title, *paragraphs]) + "\n", encoding="utf-8")
    return {f"{prefix}{i:03d}.txt" for i in range(count)}


def _start(db, *args, config=None, env=None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "collector", "--db", str(db)]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.Popen(cmd + [str(a) for a in args], cwd=REPO, env={**os.environ, **HOLD, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}:\n{err}"
    assert "Traceback" not in err and "database is locked" not in err and ": not stored: " not in err, err
    return out, err


def _committed(db) -> int:
    if postgres(db):
        try:
            return rows(db, "SELECT count(*) AS n FROM documents")[0]["n"]
        except READ_ERRORS:
            return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _wait_for_documents(db, proc, at_least: int = 1) -> None:
    deadline = time.monotonic() + 60
    while _committed(db) < at_least and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def _stored_files(db) -> set[str]:
    return {Path(r["source"]).name for r in rows(db, "SELECT source FROM documents")}


def _pages(folder: Path, count: int, seed: int) -> set[str]:
    """``count`` saved article pages: extraction makes their import last seconds."""
    folder.mkdir(parents=True)
    for i in range(count):
        title, paragraphs = prose(seed + i)
        page = article_page(title, paragraphs, site_name="Page Post", published="2026-03-02T10:00:00+00:00")
        (folder / f"p{i:03d}.html").write_text(page, encoding="utf-8")
    return {f"p{i:03d}.html" for i in range(count)}


@pytest.mark.parametrize("order, backend", [("pages_first", "sqlite"), ("texts_first", "sqlite"),
                                            ("together_on_a_new_file", "sqlite"), ("pages_first", "postgresql"),
                                            ("together_on_a_new_file", "postgresql")])
def test_two_imports_store_everything(tmp_path, config_dir, order, backend, request):
    """A slow import (saved pages: extraction) and a quick one (texts), in both orders and at
    once on a new file; every document of both is stored, and both exit 0."""
    config = config_dir  # with site configs: each process records them at start-up
    # Pages first: enough of them to outlast the second process's start-up (about 2 s here).
    n_pages = 3 * PAGES if order == "pages_first" else PAGES
    pages = _pages(tmp_path / "pages", n_pages, 1000)
    texts = _texts(tmp_path / "texts", "t", DOCS, 5000)
    db = tmp_path / "shared.db" if backend == "sqlite" else \
        request.getfixturevalue("pg_server").new_database(empty=order == "together_on_a_new_file")
    first, second = ("pages", "texts") if order != "texts_first" else ("texts", "pages")
    p1 = _start(db, "import", "--json", "--workers", "1", tmp_path / first, config=config)
    if order != "together_on_a_new_file":
        _wait_for_documents(db, p1)  # the first writer is mid-import, holding or soon retaking the lock
    p2 = _start(db, "import", "--json", "--workers", "1", tmp_path / second, config=config)
    results = {}
    for name, proc in ((first, p1), (second, p2)):
        out, _ = _finish(proc)
        results[name] = json.loads(out)["new"]
    assert results == {"pages": n_pages, "texts": DOCS}
    assert _stored_files(db) == pages | texts
    if order == "pages_first":
        # The lock changed hands while both ran: the texts did not wait for all the pages.
        ids = {"p": [], "t": []}
        for r in rows(db, "SELECT id, source FROM documents ORDER BY id"):
            ids[Path(r["source"]).name[0]].append(r["id"])
        assert min(ids["t"]) < max(ids["p"])
    if backend == "sqlite":
        assert_fts_matches_documents(db)
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    else:
        assert rows(db, "SELECT count(*) AS n FROM documents WHERE fts IS NOT NULL")[0]["n"] == n_pages + DOCS


def test_many_processes_create_one_new_database_at_once(tmp_path, config_dir):
    config = config_dir
    names = set()
    procs = []
    for n in range(4):
        names |= _texts(tmp_path / f"in{n}", f"p{n}_", 3, 9000 + 10 * n)
    db = tmp_path / "new.db"
    procs = [_start(db, "import", "--workers", "1", tmp_path / f"in{n}", config=config) for n in range(4)]
    for proc in procs:
        _finish(proc)
    assert _stored_files(db) == names
    migrations = rows(db, "SELECT name, count(*) AS n FROM _sqlite_migrations GROUP BY name")
    assert migrations and all(m["n"] == 1 for m in migrations)


@pytest.mark.parametrize("order", ["import_first", "crawl_first", "together_on_a_new_file"])
def test_an_import_and_a_crawl_store_everything(tmp_path, order):
    config = tmp_path / "configs"
    server, paths = slow_site(config, 30, 3000, delay=0.05)
    try:
        files = _texts(tmp_path / "saved", "s", 120, 7000)
        db = tmp_path / "mixed.db"
        crawl_args = ("crawl", "--json", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                      "-s", "REMOTE_CONTROL_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        import_args = ("import", "--json", "--workers", "1", tmp_path / "saved")
        first_args, second_args = (crawl_args, import_args) if order == "crawl_first" else (import_args, crawl_args)
        p1 = _start(db, *first_args, config=config)
        if order != "together_on_a_new_file":
            _wait_for_documents(db, p1)
        p2 = _start(db, *second_args, config=config)
        for proc in (p1, p2):
            _finish(proc)
        urls = {r["url"] for r in rows(db, "SELECT url FROM documents")}
        assert {server.url(p) for p in paths} <= urls
        assert {n for n in _stored_files(db) if n.endswith(".txt")} == files
        assert_fts_matches_documents(db)
    finally:
        server.stop()


def _jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_two_writers_merging_one_group_see_each_others_links(tmp_path, db_url):
    """Writer A brings the true originals (published earlier), writer B more copies, at
    the same moment: whatever the interleaving, each group ends with one origin and every
    other member linked straight to it (a merge re-read the group under the write lock)."""
    config = tmp_path / "configs"
    config.mkdir()
    db = db_url  # on SQLite and on PostgreSQL
    groups = 6
    texts = ["\n".join(article(400 + g, paragraphs=5)[1]) for g in range(groups)]

    def doc(site, g, day, suffix=""):
        return {"url": f"https://{site}.example/{g}{suffix}", "title": f"Story {g}", "text": texts[g],
                "published": f"2026-03-{day:02d}T09:00:00+00:00"}

    seed = _jsonl(tmp_path / "seed.jsonl", [doc("middle", g, 10) for g in range(groups)])
    subprocess.run([sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "import", str(seed)],
                   cwd=REPO, check=True, capture_output=True)
    originals = _jsonl(tmp_path / "a.jsonl", [doc("origin", g, 1) for g in range(groups)])
    copies = _jsonl(tmp_path / "b.jsonl", [doc(f"copy{k}", g, 20) for g in range(groups) for k in range(2)])
    env = {"COLLECTOR_COMMIT_INTERVAL": "0.05"}  # many small transactions: the writers interleave
    procs = [_start(db, "import", "--workers", "1", f, config=config, env=env) for f in (originals, copies)]
    for proc in procs:
        _finish(proc)
    links = rows(db, "SELECT c.url AS copy, o.url AS origin, l.relation FROM links l"
                     " JOIN documents c ON c.id = l.copy_id JOIN documents o ON o.id = l.origin_id")
    assert len(links) == groups * 3, links  # every document but the origins is linked
    for link in links:
        assert link["origin"].startswith("https://origin.example/"), link
        assert link["copy"].rsplit("/", 1)[1] == link["origin"].rsplit("/", 1)[1]


def test_a_lock_held_past_the_deadline_stops_the_run_in_one_line_and_loses_nothing(tmp_path, config_dir):
    """A writer that cannot get the lock in COLLECTOR_LOCK_TIMEOUT seconds skips nothing: it
    names the document not stored and exits 75; the same command later finishes the work.
    A shorter hold is simply waited for."""
    names = _texts(tmp_path / "in", "d", 20, 3000)
    db = tmp_path / "held.db"
    _finish(_start(db, "import", "--workers", "1", tmp_path / "in", config=config_dir))  # schema and sites exist
    for path in (tmp_path / "in").iterdir():
        path.write_text(path.read_text() + "Updated later with one more sentence for the record.\n")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, holding the lock
    try:
        started = time.monotonic()
        proc = _start(db, "import", "--workers", "1", tmp_path / "in", config=config_dir, env={"COLLECTOR_LOCK_TIMEOUT": "2"})
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 75, err
        assert 2 <= time.monotonic() - started < 30
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "not stored" in lines[0] and "run the same command again" in lines[0], err
        assert "d000.txt" in lines[0]
        proc = _start(db, "import", "--json", "--workers", "1", tmp_path / "in", config=config_dir)
        time.sleep(1.5)  # held a while longer, then released: waited for, not an error
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, _ = _finish(proc)
    assert json.loads(out)["updated"] == 20
    assert _stored_files(db) == names


def test_a_crawl_that_cannot_get_the_lock_stops_and_says_so(tmp_path):
    server = SiteServer("held").start()
    try:
        paths = [f"/p/{i}" for i in range(6)]
        for i, path in enumerate(paths):
            title, paragraphs = prose(4000 + i)
            server.add(path, article_page(title, paragraphs, site_name="Held Times", published="2026-03-04T09:00:00+00:00"))
        server.add("/sitemap.xml", urlset([server.url(p) for p in paths]), content_type="application/xml")
        config = tmp_path / "configs"
        site_config(config, "held", name="Held Times", domains=[server.host], sitemaps=[server.url("/sitemap.xml")])
        db = tmp_path / "crawl.db"
        crawl = ("crawl", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "REMOTE_CONTROL_ENABLED=False",
                 "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        _finish(_start(db, "import", "--workers", "1", _write_one(tmp_path), config=config))  # the schema exists
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            proc = _start(db, *crawl, config=config, env={"COLLECTOR_LOCK_TIMEOUT": "2"})
            _, err = proc.communicate(timeout=120)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert proc.returncode == 75, err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert str(db) in last and "run the same command again" in last, last
        _finish(_start(db, *crawl, config=config))
        assert {server.url(p) for p in paths} <= {r["url"] for r in rows(db, "SELECT url FROM documents")}
    finally:
        server.stop()


def _write_one(tmp_path: Path) -> Path:
    folder = tmp_path / "one"
    _texts(folder, "one", 1, 4500)
    return folder
