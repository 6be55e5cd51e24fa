"""The PostgreSQL store against the SQLite one: the same corpus gives the same database, the
read commands answer the same, a second writer waits, migrations only add, errors are one line.

The store, LSH, scope and lineage tests run on both backends themselves (the ``db_url``
fixture); these are what only a comparison or PostgreSQL itself shows.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import REPO, invoke_cli, rows

EXAMPLES = REPO / "examples"


def _contents(db) -> dict:
    """Documents, links and claims, by URL (ids may differ between databases)."""
    docs = rows(db, "SELECT url, site, title, author, published, published_raw, published_from, source, text, chrome,"
                    " canonical_url, sitename, language, content_hash, words, shingles, signature FROM documents ORDER BY url")
    for d in docs:
        d["signature"] = bytes(d["signature"])
    links = rows(db, "SELECT copy_url, origin_url, relation, round(CAST(similarity AS numeric), 6) AS similarity,"
                     " round(CAST(containment AS numeric), 6) AS containment, evidence FROM lineage ORDER BY copy_url")
    for link in links:
        link["similarity"], link["containment"] = float(link["similarity"]), float(link["containment"])
    claims = rows(db, "SELECT d.url, c.kind, c.claimed_site, c.claimed_name, c.claimed_url, c.evidence FROM claims c"
                      " JOIN documents d ON d.id = c.doc_id ORDER BY d.url, c.id")
    chrome = rows(db, "SELECT site, line, documents FROM site_chrome ORDER BY site, line")
    return {"documents": docs, "links": links, "claims": claims, "chrome": chrome}


@pytest.fixture(scope="module")
def example_both(pg_server, tmp_path_factory):
    """The example corpus imported into a SQLite file and into a PostgreSQL database."""
    sqlite = tmp_path_factory.mktemp("examples") / "examples.db"
    postgres = pg_server.new_database()
    for db in (sqlite, postgres):
        invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=db, config=EXAMPLES / "configs")
    return sqlite, postgres


def test_the_example_corpus_gives_the_same_database_on_both(example_both):
    sqlite, postgres = example_both
    expected = _contents(sqlite)
    assert expected["documents"] and expected["links"] and expected["claims"]
    assert _contents(postgres) == expected


def _without(value, key: str):
    if isinstance(value, dict):
        return {k: _without(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_without(v, key) for v in value]
    return value


@pytest.mark.parametrize("command", [["stats", "--json"], ["lineage", "--json", "https://dailyledger.example/2026/03/04/harbour-bridge-tolls"],
                                     ["search", "--json", "harbour bridge"], ["sites", "--json"]])
def test_the_read_commands_answer_the_same_on_both(example_both, command):
    sqlite, postgres = example_both
    # ``fetched`` is when each import ran (files carry no fetch time): it may differ by a second
    answers = [_without(json.loads(invoke_cli(*command, db=db, config=EXAMPLES / "configs").stdout), "fetched")
               for db in (sqlite, postgres)]
    if command[0] == "search":  # FTS5 ranks by bm25, PostgreSQL by ts_rank_cd: the same documents, snippets apart
        answers = [(a["total"], sorted(r["url"] for r in a["results"])) for a in answers]
        assert answers[0][0] > 0
    assert answers[0] == answers[1]


def test_a_second_writer_waits_for_the_first_and_never_fails_at_once(pg_server):
    from collector.storage import open_store

    url = pg_server.new_database()
    first, second = open_store(url), open_store(url, lock_timeout=30)
    version = second.data_version()
    first.begin()  # the first writer holds the lock from here
    took = {}

    def write():
        started = time.monotonic()
        second.begin()  # waits for the first writer's COMMIT
        took["waited"] = time.monotonic() - started
        second.commit()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive() and "waited" not in took  # waiting, not failed
    first.commit()
    thread.join(10)
    assert took["waited"] >= 0.4
    assert second.data_version() != version  # another writer committed: the linker's cache is stale
    own = first.data_version()
    first.begin()
    first.commit()
    assert first.data_version() == own  # its own commits do not count
    first.close()
    second.close()


def test_a_writer_gives_up_after_the_lock_timeout_with_one_line(pg_server):
    from collector.storage import StoreBusy, open_store

    url = pg_server.new_database()
    first, second = open_store(url), open_store(url, lock_timeout=0.3)
    first.begin()
    with pytest.raises(StoreBusy, match="held the database's lock for over 0.3 s"):
        second.begin()
    first.commit()
    second.begin()  # free again: the same command run again goes on
    second.commit()
    first.close()
    second.close()


def test_migrations_only_add_and_a_new_database_is_created_once(pg_server):
    from collector.storage import open_store
    from collector.storage.postgres import schema

    url = pg_server.new_database(empty=True)
    stores = []
    threads = [threading.Thread(target=lambda: stores.append(open_store(url))) for _ in range(3)]
    for t in threads:  # three writers opening one new database at once: no "already exists"
        t.start()
    for t in threads:
        t.join(60)
    assert len(stores) == 3
    applied = [r["name"] for r in rows(url, "SELECT name FROM collector_migrations ORDER BY name")]
    assert applied == [name for name, _ in schema.MIGRATIONS]
    for store in stores:
        store.close()
    # a database at the first migration gets the later ones, its rows kept
    old = pg_server.new_database(empty=True)
    from collector.storage.postgres.connection import connect

    conn = connect(old)
    conn.execute("CREATE TABLE collector_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    conn.raw.execute(schema.MIGRATIONS[0][1])
    conn.execute("INSERT INTO collector_migrations VALUES ('m001_core', 'then')")
    conn.execute("INSERT INTO documents (url, site, fetched, text, chrome, content_hash, words, shingles, signature)"
                 " VALUES ('https://a.example/1', 'a', 'then', 'kept text', '[\"Share this\"]', 'h', 2, 1, '\\x00')")
    conn.close()
    store = open_store(old)
    assert rows(old, "SELECT url FROM documents") == [{"url": "https://a.example/1"}]
    assert rows(old, "SELECT name FROM collector_migrations WHERE applied <> 'then' ORDER BY name") == \
        [{"name": name} for name, _ in schema.MIGRATIONS[1:]]
    store.close()


def test_inbox_rows_waiting_when_the_item_column_became_json_are_taken_as_they_were(pg_server):
    """m006 turns the inbox's item from JSONB into JSON (lz4 where the server has it): the
    rows a node handed over before the upgrade are kept, and the link-worker reads them alike."""
    from collector.storage import open_store
    from collector.storage.postgres import inbox, schema
    from collector.storage.postgres.connection import connect

    url = pg_server.new_database(empty=True)
    conn = connect(url)
    conn.execute("CREATE TABLE collector_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    for name, sql in schema.MIGRATIONS[: [n for n, _ in schema.MIGRATIONS].index("m006_inbox_item_json")]:
        conn.raw.execute(sql)
        conn.execute("INSERT INTO collector_migrations VALUES (?, 'then')", (name,))
    item = {"url": "https://ニュース.example/記事?id=7", "site": "a", "text": '東京 "quoted" \\ back\nslash', "words": 3}
    conn.execute("INSERT INTO inbox (source, item, raw, run_id) VALUES (?, ?::jsonb, ?, 7)",
                 (item["url"], json.dumps(item, ensure_ascii=False), b"\x1f\x8b records"))
    conn.close()
    open_store(url).close()
    assert rows(url, "SELECT data_type FROM information_schema.columns WHERE table_name = 'inbox'"
                     " AND column_name = 'item'") == [{"data_type": "json"}]
    conn = connect(url)
    try:
        [taken] = inbox.take(conn, 10)
        assert (taken.item, taken.records, taken.run_id) == (item, b"\x1f\x8b records", 7)
        lz4 = conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'inbox'::regclass"
                           " AND attname = 'item' AND attcompression = 'l'").fetchone()[0]
        try:
            conn.execute("SET default_toast_compression = lz4")
            assert lz4 == 1  # the server has lz4: the item uses it
        except Exception:
            assert lz4 == 0  # built without lz4: pglz, and the migration still applied
    finally:
        conn.close()
    pg_server.drop(url)


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path):
    result = invoke_cli("stats", db="postgresql://someone:s3cret@127.0.0.1:1/nothing", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "s3cret" not in result.stderr and "someone:***@127.0.0.1:1" in result.stderr
    result = invoke_cli("import", tmp_path, db="postgresql://someone:s3cret@127.0.0.1:1/nothing", check=False)
    assert result.returncode == 2 and "cannot connect to PostgreSQL" in result.stderr and "s3cret" not in result.stderr


def test_a_server_that_goes_away_mid_run_is_one_line(pg_server, tmp_path):
    """The writer's connection cut (the server restarted, say): the command stops in one line
    and keeps what it committed; the same command again finishes the work."""
    from collector.core.errors import StoreError
    from collector.storage import open_store

    url = pg_server.new_database()
    store = open_store(url)
    store.crawl.start_run("a")
    pg_server.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{url.rsplit('/', 1)[1]}'")
    with pytest.raises(Exception) as caught:
        store.crawl.start_run("b")
    from collector.storage import explain

    problem = explain(url, caught.value)
    assert isinstance(problem, StoreError) and "run the same command again" in str(problem)
    assert "\n" not in str(problem)
    assert rows(url, "SELECT site FROM runs") == [{"site": "a"}]


def test_migrate_store_copies_a_sqlite_corpus_into_postgresql(example_both, pg_server, tmp_path):
    """The example corpus moved from its SQLite file: the same documents, links, claims and
    ids as importing it into PostgreSQL; linking goes on from there; a second copy into the
    same database is refused in one line."""
    sqlite, imported = example_both
    url = pg_server.new_database()
    done = invoke_cli("migrate-store", sqlite, url, "--json")
    copied = json.loads(done.stdout)
    assert copied["documents"] == len(rows(sqlite, "SELECT id FROM documents")) and copied["lsh_recent"] > 0
    assert _contents(url) == _contents(imported)
    ids = "SELECT id, url FROM documents ORDER BY id"
    assert rows(url, ids) == rows(sqlite, ids)
    assert rows(url, "SELECT count(*) AS n FROM documents WHERE fts IS NOT NULL") == [{"n": len(rows(sqlite, ids))}]
    # a copy of a stored article, imported after the move: new ids, found by the copied LSH rows
    origin = rows(url, "SELECT id, url, text FROM documents d WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.copy_id = d.id)"
                       " ORDER BY id LIMIT 1")[0]
    (tmp_path / "late").mkdir()
    (tmp_path / "late" / "copy.txt").write_text(origin["text"] + "\nOriginally published elsewhere.\n", encoding="utf-8")
    invoke_cli("import", tmp_path / "late", "--site", "morningwire", db=url, config=EXAMPLES / "configs")
    late = rows(url, "SELECT l.origin_id, d.id FROM lineage l JOIN documents d ON d.id = l.copy_id"
                     " WHERE d.source LIKE '%copy.txt%'")
    assert late and late[0]["id"] > max(r["id"] for r in rows(sqlite, ids)) >= late[0]["origin_id"]
    again = invoke_cli("migrate-store", sqlite, url, check=False)
    assert again.returncode == 2 and "already holds documents" in again.stderr and again.stderr.count("\n") == 1
