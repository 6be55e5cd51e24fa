"""Distributed mode: crawl nodes hand extracted documents to the inbox in PostgreSQL, one
link-worker stores and links them. Against a scratch PostgreSQL (skipped with the reason when
there is none) and the local test sites of test_crawl.py:

- a node crawl then ``link-worker --once`` stores what a one-process crawl into SQLite stores;
- the link-worker killed with SIGKILL mid-batch, then run again: nothing lost or duplicated;
- two link-workers at once take every item exactly once (``FOR UPDATE SKIP LOCKED``);
- a node crawl killed with SIGKILL, then run again: nothing lost or duplicated in the end;
- the node role reads the store and fills the inbox, and cannot write documents.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, invoke_cli, rows, run_cli
from sites_server import article_page, prose, slow_site
from test_crawl import FAST, Web, _crawled, crawl
from test_postgres import _contents

EXAMPLES = REPO / "examples"
TESTS_ON_PATH = {"PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}


def _without_ids(contents: dict) -> dict:
    """Contents with the document ids in link evidence ("#9 (site) says") left out: PostgreSQL
    does not give back the ids a rolled-back batch drew, so a resumed run's ids have gaps."""
    links = [{**link, "evidence": re.sub(r"#\d+ ", "# ", link["evidence"] or "")} for link in contents["links"]]
    return {**contents, "links": links}


def _inbox(url) -> int:
    return rows(url, "SELECT count(*) AS n FROM inbox")[0]["n"]


def _link(url, *args, env=None, check=True, **kwargs):
    result = run_cli("link-worker", "--once", "--json", *args, db=url, config=EXAMPLES / "configs", env=env,
                     check=check, **kwargs)
    return result, (json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None)


@pytest.fixture(scope="module")
def example_sqlite(tmp_path_factory):
    """The example corpus imported in one process into SQLite: what the inbox path must give."""
    db = tmp_path_factory.mktemp("inbox") / "examples.db"
    invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=db, config=EXAMPLES / "configs")
    return _contents(db)


def _fill_inbox(pg_server) -> str:
    url = pg_server.new_database()
    result = invoke_cli("import", "--inbox", "--json", "--workers", "1", EXAMPLES / "corpus", db=url, config=EXAMPLES / "configs")
    assert json.loads(result.stdout)["queued"] == _inbox(url) > 10
    assert rows(url, "SELECT count(*) AS n FROM documents")[0]["n"] == 0  # a node writes no document
    item = rows(url, "SELECT item FROM inbox LIMIT 1")[0]["item"]
    assert item["text"] and "html" not in item  # extracted on the node
    return url


def test_an_import_fed_to_the_inbox_then_linked_gives_the_one_process_import(pg_server, example_sqlite):
    url = _fill_inbox(pg_server)
    queued = _inbox(url)
    _, summary = _link(url)
    assert summary["new"] == queued and _inbox(url) == 0
    assert _contents(url) == example_sqlite
    _, again = _link(url)  # an empty inbox: nothing to do
    assert again["imported"] == 0
    pg_server.drop(url)


def test_a_link_worker_killed_mid_batch_then_run_again_loses_and_duplicates_nothing(pg_server, example_sqlite):
    url = _fill_inbox(pg_server)
    queued = _inbox(url)
    kill = {"ITEM_PIPELINES": json.dumps({"failing_stage.KillAfter": 650})}  # after the store and link stages
    env = {**TESTS_ON_PATH, "COLLECTOR_TEST_KILL_AFTER": "6"}
    result, _ = _link(url, "-s", "COLLECTOR_LINK_BATCH=4", "-s", f"ITEM_PIPELINES={kill['ITEM_PIPELINES']}",
                      env=env, check=False)
    assert result.returncode == -signal.SIGKILL
    # the first batch (4) committed with its deletes, the second (killed at its 2nd document) undone
    assert rows(url, "SELECT count(*) AS n FROM documents")[0]["n"] == 4
    assert _inbox(url) == queued - 4
    _, summary = _link(url, "-s", "COLLECTOR_LINK_BATCH=4")
    assert summary["new"] == queued - 4 and _inbox(url) == 0
    assert _without_ids(_contents(url)) == _without_ids(example_sqlite)
    pg_server.drop(url)


def test_two_link_workers_share_the_inbox_and_take_each_item_once(pg_server, example_sqlite):
    url = _fill_inbox(pg_server)
    queued = _inbox(url)
    cmd = [sys.executable, "-m", "collector", "--db", url, "--config", str(EXAMPLES / "configs"), "link-worker", "--once",
           "--json", "-s", "COLLECTOR_LINK_BATCH=2"]
    workers = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    summaries = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    taken = [s["imported"] + s["unchanged"] + s["variants"] + s["skipped"] for s in summaries]
    assert sum(taken) == queued  # no item taken twice, none left
    assert sum(s["new"] for s in summaries) == queued and _inbox(url) == 0
    assert _contents(url) == example_sqlite
    pg_server.drop(url)


# --- crawl nodes ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web(tmp_path_factory):
    w = Web(tmp_path_factory.mktemp("web"))
    yield w
    w.stop()


def _node_crawl(url, config, *args, **kwargs):
    return crawl(url, config, "-s", f"COLLECTOR_INBOX={url}", *args, **kwargs)


def test_a_node_crawl_then_the_link_worker_store_what_one_crawl_into_sqlite_stores(web, pg_server, tmp_path):
    sqlite = tmp_path / "one.db"
    _, alone = crawl(sqlite, web.config, "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'one.warc'}")
    url = pg_server.new_database()
    node_url, linker_url = _roles(pg_server, url, "crawl_node", "crawl_linker")
    run_cli("link-worker", "--once", db=linker_url, config=web.config)  # the site configs written by the linker
    # The node crawls under the node role: a write other than its inbox rows and crawl records would fail.
    _, node = _node_crawl(node_url, web.config, "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'node.warc'}")
    assert node["new"] == 0 and node["queued"] == alone["new"] + alone["variants"] + alone["unchanged"]
    assert rows(url, "SELECT count(*) AS n FROM documents")[0]["n"] == 0
    assert [r["status"] for r in rows(url, "SELECT status FROM runs ORDER BY id")] == ["ok"] * 3  # the runs rows, as ever
    result = run_cli("link-worker", "--once", "--json", db=linker_url, config=web.config,
                     env={"COLLECTOR_ARCHIVE": str(tmp_path / "linker.warc")})
    assert json.loads(result.stdout)["new"] == alone["new"] and _inbox(url) == 0
    assert _crawled(url) == _crawled(sqlite)
    _assert_raw_pages_kept_by_the_linker(url, sqlite, tmp_path)
    _assert_records_refused_aloud(pg_server, web, tmp_path)
    _assert_damaged_records_named_and_the_document_kept(pg_server, web, tmp_path)
    # Each node run is credited by the link-worker with its site's documents that were new.
    credited = {r["site"]: r["new_documents"] for r in rows(url, "SELECT site, new_documents FROM runs")}
    assert credited == {r["site"]: r["n"] for r in rows(url, "SELECT site, count(*) AS n FROM documents GROUP BY site")}
    _, again = _node_crawl(node_url, web.config, "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'node.warc'}")
    assert again.get("queued", 0) == 0  # the node read the store: nothing fetched again
    assert [r["new_documents"] for r in rows(url, "SELECT new_documents FROM runs ORDER BY id")][3:] == [0, 0, 0]
    pg_server.drop(url)
    _drop_roles(pg_server, "crawl_node", "crawl_linker")


def _assert_raw_pages_kept_by_the_linker(url, sqlite, tmp_path) -> None:
    """Every document's raw page is in the link-worker's archive, the very page a one-process
    crawl archived; the node kept none (its records travelled with the items)."""
    from collector.raw import RawRef, raw_bytes

    def pages(db) -> dict[str, bytes]:
        found = rows(db, "SELECT url, raw_ref FROM documents JOIN raw_inputs ON doc_id = documents.id")
        return {r["url"]: raw_bytes(RawRef.parse(r["raw_ref"], tmp_path))[0] for r in found}

    linked = pages(url)
    assert len(linked) == rows(url, "SELECT count(*) AS n FROM documents")[0]["n"]
    assert all(r["raw_ref"].startswith(str(tmp_path / "linker.warc")) for r in rows(url, "SELECT raw_ref FROM raw_inputs"))
    assert linked == pages(sqlite) and all(linked.values())
    assert not (tmp_path / "node.warc").exists()


def _assert_records_refused_aloud(pg_server, web, tmp_path) -> None:
    """A link-worker with archiving off says once, at once, that the nodes' raw pages are not kept."""
    url = pg_server.new_database()
    run_cli("link-worker", "--once", db=url, config=web.config)
    _node_crawl(url, web.config)
    result = run_cli("link-worker", "--once", db=url, config=web.config, env={"COLLECTOR_ARCHIVE_ENABLED": "0"})
    assert result.stderr.count("raw pages are not kept") == 2  # the log line, then the summary's note
    assert rows(url, "SELECT count(*) AS n FROM raw_inputs WHERE raw_ref IS NOT NULL")[0]["n"] == 0
    pg_server.drop(url)


def _assert_damaged_records_named_and_the_document_kept(pg_server, web, tmp_path) -> None:
    """Records damaged on the way (not what a node makes) are named in one line, not archived;
    their document is stored all the same, and every other page is archived."""
    url = pg_server.new_database()
    run_cli("link-worker", "--once", db=url, config=web.config)
    _node_crawl(url, web.config)
    damaged = rows(url, "SELECT id, item FROM inbox ORDER BY id LIMIT 1")[0]
    rows(url, "UPDATE inbox SET raw = ? WHERE id = ? RETURNING id", (b"\x1f\x8bnot a gzip member", damaged["id"]))
    queued = _inbox(url)
    result = run_cli("link-worker", "--once", db=url, config=web.config, env={"COLLECTOR_ARCHIVE": str(tmp_path / "damaged.warc")})
    assert f"{damaged['item']['url']}: the page's archive records from the crawl node are damaged" in result.stderr
    assert rows(url, "SELECT count(*) AS n FROM documents")[0]["n"] == queued
    kept = rows(url, "SELECT d.url FROM documents d JOIN raw_inputs r ON r.doc_id = d.id WHERE r.raw_ref IS NOT NULL")
    assert len(kept) == queued - 1 and damaged["item"]["url"] not in {r["url"] for r in kept}
    pg_server.drop(url)


def test_a_node_crawl_killed_then_run_again_loses_and_duplicates_nothing(pg_server, tmp_path):
    config = tmp_path / "configs"
    server, paths = slow_site(config, 60, 3000, delay=0.1, validators=True)
    try:
        url = pg_server.new_database()
        cmd = [sys.executable, "-m", "collector", "--db", url, "--config", str(config), "crawl", "--json", *FAST,
               "-s", f"COLLECTOR_INBOX={url}", "-s", f"COLLECTOR_ARCHIVE={tmp_path / 'kill.warc'}",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"]
        process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _inbox(url) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert 0 < _inbox(url) < len(paths), "the kill did not land midway"
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        run_cli("link-worker", "--once", db=url, config=config, env={"COLLECTOR_ARCHIVE": str(tmp_path / "linker.warc")})
        docs = rows(url, "SELECT url, count(*) AS n FROM documents GROUP BY url")
        assert sorted(d["url"] for d in docs) == sorted(server.url(p) for p in paths), "a document was lost"
        assert all(d["n"] == 1 for d in docs) and _inbox(url) == 0
        assert rows(url, "SELECT count(*) AS n FROM lsh_recent")[0]["n"] + rows(url, "SELECT count(*) AS n FROM lsh_buckets")[0]["n"] \
            == len(paths) * len({r["band"] for r in rows(url, "SELECT DISTINCT band FROM lsh_recent UNION SELECT DISTINCT band FROM lsh_buckets")})
        pg_server.drop(url)
    finally:
        server.stop()


# --- roles ----------------------------------------------------------------------------------------

def _roles(pg_server, url, node: str, linker: str) -> tuple[str, str]:
    """``collector pg-roles``' SQL run by the owner on ``url``: the URLs of the node and the linker."""
    import psycopg

    sql = invoke_cli("pg-roles", "--node", node, "--linker", linker).stdout
    with psycopg.connect(url, autocommit=True) as owner:
        owner.execute(sql)
    user = url.split("//")[1].split("@")[0]
    return url.replace(f"//{user}@", f"//{node}@"), url.replace(f"//{user}@", f"//{linker}@")


def _drop_roles(pg_server, *names) -> None:
    for name in names:
        pg_server.admin(f"DROP ROLE {name}")


def test_the_node_role_reads_the_store_and_fills_the_inbox_but_cannot_write_documents(pg_server):
    import psycopg

    url = pg_server.new_database()
    node_url, linker_url = _roles(pg_server, url, "test_node", "test_linker")
    with psycopg.connect(node_url, autocommit=True) as node:
        assert node.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
        node.execute("INSERT INTO inbox (source, item) VALUES ('x', '{\"url\": \"https://a.example/1\"}')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            node.execute("INSERT INTO documents (url, site, fetched, text, chrome, content_hash, words, shingles, signature)"
                         " VALUES ('https://a.example/1', 'a', 'now', 't', '[]', 'h', 1, 1, '')")
        for table in ("links", "claims", "lsh_buckets"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                node.execute(f"DELETE FROM {table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            node.execute("DELETE FROM inbox")  # only the linker takes items out
    with psycopg.connect(linker_url, autocommit=True) as linker:
        assert linker.execute("DELETE FROM inbox").rowcount == 1
    pg_server.drop(url)
    _drop_roles(pg_server, "test_node", "test_linker")


def test_the_link_worker_polls_until_sigterm_and_stops_between_batches(pg_server, tmp_path):
    """Without --once it waits for work; SIGTERM ends it cleanly (exit 0, the summary printed)."""
    url = pg_server.new_database()
    cmd = [sys.executable, "-m", "collector", "--db", url, "--config", str(EXAMPLES / "configs"), "link-worker", "--json",
           "-s", "COLLECTOR_LINK_POLL=0.2"]
    worker = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # started, polling an empty inbox
        invoke_cli("import", "--inbox", "--workers", "1", EXAMPLES / "corpus", db=url, config=EXAMPLES / "configs")
        deadline = time.monotonic() + 60
        while _inbox(url) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _inbox(url) == 0 and worker.poll() is None  # linked, and still waiting for more
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["new"] == rows(url, "SELECT count(*) AS n FROM documents")[0]["n"] > 10
    pg_server.drop(url)


def test_items_arriving_one_by_one_are_gathered_into_few_batches(pg_server):
    """A node sends slower than the link-worker stores: after a small batch it lingers
    (COLLECTOR_LINK_LINGER), so the items trickling in share a few transactions."""
    filled = _fill_inbox(pg_server)
    waiting = rows(filled, "SELECT source, item::text AS item, raw, run_id FROM inbox ORDER BY id")[:12]
    url = pg_server.new_database()
    cmd = [sys.executable, "-m", "collector", "--db", url, "--config", str(EXAMPLES / "configs"), "link-worker", "--json",
           "-s", "COLLECTOR_LINK_POLL=0.05", "-s", "COLLECTOR_LINK_LINGER=1.0"]
    worker = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import psycopg

        with psycopg.connect(url, autocommit=True) as node:
            time.sleep(1.0)  # started, polling an empty inbox
            for row in waiting:  # one every 0.1 s, as a node hands them over
                node.execute("INSERT INTO inbox (source, item, raw, run_id) VALUES (%(source)s, %(item)s, %(raw)s, %(run_id)s)", row)
                time.sleep(0.1)
        deadline = time.monotonic() + 60
        while _inbox(url) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    summary = json.loads(out.strip().splitlines()[-1])
    assert worker.returncode == 0 and summary["new"] + summary["unchanged"] + summary["variants"] == len(waiting), err
    assert 1 <= summary["batches"] <= 3, summary  # not one a tenth of a second (a dozen)
    pg_server.drop(url)
    pg_server.drop(filled)


def test_the_link_worker_says_in_one_line_that_it_needs_postgresql(tmp_path):
    result = invoke_cli("link-worker", "--once", db=tmp_path / "corpus.db", config=EXAMPLES / "configs", check=False)
    assert result.returncode == 2 and "PostgreSQL" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "corpus.db").exists()


@pytest.mark.parametrize("inbox", [None, "postgresql://node@127.0.0.1/news"])
def test_the_mode_picks_the_stages_however_a_crawl_is_started(inbox):
    """Through Scrapy's own crawler (``scrapy crawl``, a Scrapyd job): the add-on reads
    COLLECTOR_INBOX after every other setting; an import's settings get the same stages."""
    from scrapy.utils.test import get_crawler

    import collector.settings as project
    from collector.context import build_settings

    given = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    crawler = get_crawler(settings_dict={**given, "COLLECTOR_INBOX": inbox})
    expected = project.NODE_ITEM_PIPELINES_BASE if inbox else project.ITEM_PIPELINES_BASE
    assert crawler.settings.getdict("ITEM_PIPELINES_BASE") == expected
    assert build_settings(overrides={"COLLECTOR_INBOX": inbox}).getdict("ITEM_PIPELINES_BASE") == expected


def test_an_import_extracting_in_worker_processes_feeds_the_inbox_alike(pg_server, tmp_path):
    """``import --inbox --workers 2``: the HTML is extracted in the pool, the documents handed
    over; linked, they are what a one-process import into SQLite stores."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(14):  # past the pages an import extracts itself before it starts a pool
        title, paragraphs = prose(5100 + i)
        url = f"https://pages.example/{i}"
        (pages / f"{i}.html").write_text(article_page(title, paragraphs, site_name="Pages", canonical=url,
                                                      published="2026-03-04T09:00:00+00:00"), encoding="utf-8")
    sqlite = tmp_path / "one.db"
    invoke_cli("import", "--workers", "1", pages, db=sqlite, config=EXAMPLES / "configs")
    url = pg_server.new_database()
    result = invoke_cli("import", "--inbox", "--json", "--workers", "2", pages, db=url, config=EXAMPLES / "configs")
    assert json.loads(result.stdout)["queued"] == 14
    _link(url)
    assert _contents(url) == _contents(sqlite)
    pg_server.drop(url)
