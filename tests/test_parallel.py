"""Imports extracting HTML in worker processes store exactly what a one-process import does."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import REPO
from textgen import article

import collector.ingest as ingest
from collector.context import Context
from collector.ingest import import_paths

TABLES = ("documents", "links", "claims", "lsh_index", "chrome_lines", "line_sightings", "sites")


def contents(db_path) -> dict:
    conn = sqlite3.connect(db_path)
    out = {}
    for table in TABLES:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in ("fetched", "learned")]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
    conn.close()
    return out


@pytest.fixture
def corpus(tmp_path, html_page):
    root = tmp_path / "in"
    (root / "example").mkdir(parents=True)
    import shutil

    shutil.copytree(REPO / "examples" / "corpus", root / "example", dirs_exist_ok=True)
    for seed in range(200, 212):  # pages of one site with a banner to learn, and a page with no article
        title, paras = article(seed)
        banner = "Become a member of the Valley Courier and support local news"
        head = f'<meta property="og:url" content="https://valleycourier.example/{seed}">'
        (root / f"courier-{seed}.html").write_text(html_page(title, [banner, *paras], head=head))
    (root / "empty-page.html").write_text("<html><body><nav>Home</nav></body></html>")
    return root


def test_workers_store_what_one_process_stores(tmp_path, corpus, config_dir, monkeypatch):
    monkeypatch.setattr(ingest, "POOL_AFTER_PAGES", 0)  # use the pool from the first page
    results = {}
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.db"
        ctx = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(config_dir)})
        summary = import_paths([corpus], ctx, workers=workers)
        ctx.close()
        results[workers] = (summary.as_dict(), contents(db))
    (s1, c1), (s2, c2) = results[1], results[2]
    for key in ("new", "skipped", "new_links"):
        assert s1[key] == s2[key]
    assert s1["skipped"] == 1 and s1["new_links"] >= 10
    assert c1 == c2
    assert c1["chrome_lines"]  # the banner was learned in both
