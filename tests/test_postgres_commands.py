"""The commands that read a whole corpus, on PostgreSQL as on SQLite: export (every kind and
format), report, raw, reprocess and serve's lineage pages give the same output for the same
corpus; migrate-store copies a corpus both ways, ids kept, and the SQLite copy of a
PostgreSQL corpus works fully (search, lineage, a further import links as into the original).

The same corpus goes into both backends: ``build_known`` (tests/webdata.py: fixed fetch
times, so even the ids and times are equal) for export and report, the example corpus
(imported files) for raw and reprocess. Tests over ``db_url`` check each backend on its own
against what it stores (export holds every row, raw gives the file, reprocess gives what a
fresh import with the new rules gives).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, invoke_cli, rows
from webdata import build_known

EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def known_both(pg_server, tmp_path_factory):
    """The known database (webdata.build_known) built into a SQLite file and into PostgreSQL."""
    folder = tmp_path_factory.mktemp("known-both")
    config = folder / "configs"
    shutil.copytree(REPO / "configs", config)
    for yaml in (EXAMPLES / "configs" / "sites").glob("*.yaml"):
        shutil.copy(yaml, config / "sites" / yaml.name)
    sqlite, postgres = folder / "known.db", pg_server.new_database()
    for db in (sqlite, postgres):
        build_known(db, config)
    assert rows(sqlite, "SELECT id, url, fetched FROM documents ORDER BY id") == \
        rows(postgres, "SELECT id, url, fetched FROM documents ORDER BY id")
    return sqlite, postgres, config


@pytest.fixture(scope="module")
def examples_both(pg_server, tmp_path_factory):
    """The example corpus (imported files: their raw inputs are the files) imported into both."""
    sqlite, postgres = tmp_path_factory.mktemp("examples-both") / "examples.db", pg_server.new_database()
    for db in (sqlite, postgres):
        invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=db, config=EXAMPLES / "configs")
    return sqlite, postgres


# --- export, report, raw -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["documents", "lineage", "claims"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_gives_the_same_bytes_from_both_backends(known_both, tmp_path, kind, fmt):
    sqlite, postgres, _ = known_both
    outputs = []
    for name, db in (("sqlite", sqlite), ("postgres", postgres)):
        out = tmp_path / f"{name}.{fmt}"
        result = invoke_cli("export", kind, "--format", fmt, "-o", out, db=db)
        outputs.append((out.read_bytes(), result.stderr.replace(str(out), "FILE")))
    assert outputs[0] == outputs[1]
    expected = len(rows(sqlite, f"SELECT 1 FROM {kind}"))
    assert expected > 0 and outputs[0][1].strip() == f"exported {expected} {kind} rows to FILE"


@pytest.mark.parametrize("options", [["--since", "2026-03-01T10:30:00+00:00"], ["--since", "2026-03-01T12:30:00+02:00"],
                                     ["--site", "morningwire"], ["--relation", "copy"], ["--since", "2026-03-02"]])
@pytest.mark.parametrize("kind", ["documents", "lineage"])
def test_export_filters_the_same_on_both_backends(known_both, kind, options):
    sqlite, postgres, _ = known_both
    answers = [invoke_cli("export", kind, "--format", "jsonl", *options, db=db).stdout for db in (sqlite, postgres)]
    assert answers[0] == answers[1]
    if options == ["--since", "2026-03-01T10:30:00+00:00"]:  # the same moment as 12:30 at +02:00
        assert answers[0] == invoke_cli("export", kind, "--format", "jsonl", "--since", "2026-03-01T12:30:00+02:00", db=sqlite).stdout
        assert 0 < answers[0].count("\n") < len(rows(sqlite, f"SELECT 1 FROM {kind}"))


def _report(db, out: Path, *options) -> str:
    invoke_cli("report", "--out", out, *options, db=db)
    return re.sub(r"written [0-9T:+-]+ by collector", "written (time) by collector", out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("options", [[], ["--site", "morningwire"], ["--since", "2026-03-01T10:00:00+00:00"]])
def test_report_is_the_same_from_both_backends(known_both, tmp_path, options):
    sqlite, postgres, _ = known_both
    pages = [_report(db, tmp_path / f"{i}.html", *options) for i, db in enumerate((sqlite, postgres))]
    assert pages[0] == pages[1]
    assert "Who copies whom" in pages[0] and "<td>" in pages[0]


def test_raw_prints_the_same_input_from_both_backends(examples_both):
    sqlite, postgres = examples_both
    checked = 0
    for doc in rows(sqlite, "SELECT id, url FROM documents ORDER BY id"):
        for key in (str(doc["id"]), doc["url"]):
            answers = [subprocess.run([sys.executable, "-m", "collector", "--db", str(db), "raw", key], cwd=REPO,
                                      capture_output=True, timeout=60) for db in (sqlite, postgres)]
            assert answers[0].returncode == answers[1].returncode == 0, answers[1].stderr
            assert answers[0].stdout == answers[1].stdout and answers[0].stdout
            checked += 1
        if checked >= 4:
            break
    missing = invoke_cli("raw", "999999", db=postgres, check=False)
    assert missing.returncode == 1 and missing.stderr.strip() == "999999: no such document"


# --- reprocess ---------------------------------------------------------------------------------

def _corpus(db) -> dict:
    """Documents, links and claims by URL, without fetch times (each import ran at its own time)."""
    docs = rows(db, "SELECT id, url, site, title, published, text, chrome, canonical_url, content_hash, words, shingles,"
                    " signature FROM documents ORDER BY id")
    for d in docs:
        d["signature"] = bytes(d["signature"])
    links = rows(db, "SELECT copy_id, origin_id, relation, evidence FROM links ORDER BY copy_id")
    claims = rows(db, "SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims"
                      " ORDER BY doc_id, id")  # a reprocessed document's claims are written anew: later ids
    chrome = rows(db, "SELECT site, line, documents FROM chrome_counts ORDER BY site, line")
    return {"documents": docs, "links": links, "claims": claims, "chrome": chrome}


def test_reprocess_gives_the_same_documents_links_and_claims_on_both(examples_both, tmp_path):
    """New rules (the origin site's articles cut to their first two paragraphs by XPath, the
    first paragraph of a copying site cut, the origin site's aliases taken away): reprocess
    --all changes the same documents, links and claims on both, and counts the same changes."""
    import yaml

    sqlite, postgres = examples_both
    before = _corpus(sqlite)
    assert _corpus(postgres) == before
    revised = tmp_path / "configs"
    shutil.copytree(EXAMPLES / "configs", revised)
    harbour = revised / "sites" / "harbourwatch.yaml"
    config = yaml.safe_load(harbour.read_text(encoding="utf-8"))
    config.setdefault("chrome", {}).setdefault("xpaths", []).append("//p[1]")
    harbour.write_text(yaml.safe_dump(config), encoding="utf-8")
    ledger = revised / "sites" / "dailyledger.yaml"
    config = yaml.safe_load(ledger.read_text(encoding="utf-8"))
    config["aliases"] = []  # "Originally appeared at The Daily Ledger" no longer names a known site
    config["chrome"]["xpaths"] = ["//article/p[position() > 2]"]  # its stories become excerpts of the copies
    ledger.write_text(yaml.safe_dump(config), encoding="utf-8")
    summaries = []
    for db in (sqlite, postgres):
        dry = json.loads(invoke_cli("reprocess", "--dry-run", "--json", db=db, config=revised).stdout)
        result = invoke_cli("reprocess", "--all", "--json", "--workers", "1", db=db, config=revised)
        summary = json.loads(result.stdout)
        summaries.append(({k: v for k, v in summary.items() if k != "seconds"}, dry["selected"]))
    assert summaries[0] == summaries[1]
    summary = summaries[0][0]
    assert summary["failed"] == 0 and summary["changed"] > 0 and summary["selected"] == len(before["documents"])
    assert summary["links_added"] + summary["links_removed"] + summary["links_changed"] > 0
    after = _corpus(sqlite)
    assert after != before and _corpus(postgres) == after
    assert rows(postgres, "SELECT count(*) AS n FROM reprocess_queue") == [{"n": 0}]


def _revise(configs: Path) -> Path:
    """The example configs with new rules: the origin site's articles cut to their first two
    paragraphs (its stories become excerpts of their copies), its aliases taken away (its
    attribution lines name no known site), a copying site's first paragraph cut."""
    import yaml

    revised = configs.parent / "revised"
    shutil.copytree(configs, revised)
    for key, change in (("harbourwatch", lambda c: c.setdefault("chrome", {}).setdefault("xpaths", []).append("//p[1]")),
                        ("dailyledger", lambda c: c.update(aliases=[], chrome={**c["chrome"], "xpaths": ["//article/p[position() > 2]"]}))):
        path = revised / "sites" / f"{key}.yaml"
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(config)
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return revised


def _another(db_url: str, pg_server_or_none, tmp_path: Path) -> str:
    return pg_server_or_none.new_database() if db_url.startswith("postgresql://") else str(tmp_path / "fresh.db")


def test_reprocess_gives_what_a_fresh_import_with_the_new_rules_gives(db_url, request, tmp_path):
    """On each backend: the example corpus reprocessed with new rules is the corpus a fresh
    import with them makes (documents, links, claims, chrome counts; same ids, same order)."""
    configs = tmp_path / "configs"
    shutil.copytree(EXAMPLES / "configs", configs)
    invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=db_url, config=configs)
    revised = _revise(configs)
    summary = json.loads(invoke_cli("reprocess", "--all", "--json", "--workers", "1", db=db_url, config=revised).stdout)
    assert summary["failed"] == 0 and summary["changed"] > 0
    fresh = _another(db_url, request.getfixturevalue("pg_server") if db_url.startswith("postgresql://") else None, tmp_path)
    invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=fresh, config=revised)
    assert _corpus(db_url) == _corpus(fresh)


@pytest.mark.parametrize("kind", ["documents", "lineage", "claims"])
def test_export_holds_every_row_of_each_backend(db_url, config_dir, tmp_path, kind):
    """On each backend: every row of the table or view, every column but the signature, as stored."""
    build_known(db_url, config_dir)
    out = tmp_path / "out.jsonl"
    invoke_cli("export", kind, "--format", "jsonl", "-o", out, db=db_url)
    from collector.export import read_back

    expected = rows(db_url, f"SELECT * FROM {kind} ORDER BY 1")
    for row in expected:
        row.pop("signature", None), row.pop("fts", None)
    if kind == "claims":
        urls = {r["id"]: (r["url"], r["site"]) for r in rows(db_url, "SELECT id, url, site FROM documents")}
        for row in expected:
            row["doc_url"], row["doc_site"] = urls[row["doc_id"]]
    assert read_back(out, "jsonl") == expected and expected


def test_raw_prints_the_imported_file_from_each_backend(db_url):
    """On each backend: ``raw`` of an imported page is the file as it is, by id and by URL."""
    invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=db_url, config=EXAMPLES / "configs")
    page = EXAMPLES / "corpus" / "zz-dailyledger" / "harbour-bridge-tolls.html"
    doc = rows(db_url, "SELECT d.id, d.url FROM documents d JOIN raw_inputs r ON r.doc_id = d.id WHERE r.raw_ref = ?",
               (str(page.resolve()),))[0]
    for key in (str(doc["id"]), doc["url"]):
        shown = subprocess.run([sys.executable, "-m", "collector", "--db", db_url, "raw", key], cwd=REPO, capture_output=True,
                               timeout=60)
        assert shown.returncode == 0 and shown.stdout == page.read_bytes(), shown.stderr


# --- serve: the lineage pages of a PostgreSQL corpus -----------------------------------------------

def _get(db, path: str):
    import asyncio

    from collector.serve import make_datasette

    async def fetch():
        datasette = make_datasette(db)
        try:
            return await datasette.client.get(path)
        finally:
            source = getattr(datasette, "collector_postgres", None)
            if source is not None:
                source.close()

    return asyncio.run(fetch())


def test_serve_shows_the_lineage_pages_of_a_postgresql_corpus(known_both):
    sqlite, postgres, _ = known_both
    origin = rows(sqlite, "SELECT id FROM documents WHERE url = 'https://dailyledger.example/a'")[0]["id"]
    answers = [_get(db, f"/-/lineage/{origin}.json") for db in (sqlite, postgres)]
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].json() == answers[1].json() and len(answers[0].json()["copies"]) >= 3
    page = _get(postgres, f"/-/lineage/{origin}")
    assert page.status_code == 200 and "Who copied whom" in page.text and "harbourwatch" in page.text
    index = _get(postgres, "/-/lineage")
    assert index.status_code == 200 and f"/-/lineage/{origin}" in index.text
    assert "migrate-store" in index.text and "snapshot.db" in index.text  # how to get the table pages
    assert _get(postgres, "/").headers["location"] == "/-/lineage"
    assert _get(postgres, "/-/lineage/999999.json").status_code == 404
    found = _get(postgres, "/-/search?q=" + "covid-19 U.S.")  # collector search's reading of what is typed
    assert found.status_code == 200 and "1 found" in found.text and "<mark>" in found.text
    assert re.search(r"href='/-/lineage/\d+'", found.text)
    by_url = _get(postgres, "/-/lineage?url=https://harbourwatch.example/a")
    assert by_url.status_code == 302 and re.fullmatch(r"/-/lineage/\d+", by_url.headers["location"])


def test_collector_serve_on_postgresql_says_what_it_serves(known_both):
    from webdata import start_server, stop_server

    postgres = known_both[1]
    proc, base = start_server(postgres)
    try:
        import urllib.request

        page = urllib.request.urlopen(base + "/").read().decode()  # redirected to the lineage index
        assert "Largest lineage groups" in page
    finally:
        stop_server(proc)


# --- migrate-store, PostgreSQL -> SQLite -----------------------------------------------------------

TABLES = {"documents": "id", "links": "copy_id", "claims": "id", "chrome_lines": "site, line", "chrome_counts": "site, line",
          "url_aliases": "alias", "runs": "id", "sites": "key", "raw_inputs": "doc_id", "rule_sets": "hash",
          "line_sightings": "site, line_hash, doc_id", "lsh_index": "band, bucket, doc_id", "source_validators": "url"}


def _tables(db) -> dict:
    out = {}
    for table, order in TABLES.items():
        found = rows(db, f"SELECT * FROM {table} ORDER BY {order}")
        for row in found:
            row.pop("fts", None)  # PostgreSQL's generated full-text column
            if "signature" in row:
                row["signature"] = bytes(row["signature"])
        out[table] = found
    return out


def test_migrate_store_round_trip_keeps_every_table_and_links_later_imports_alike(pg_server, tmp_path):
    """The demo corpus SQLite -> PostgreSQL -> SQLite: equal tables, ids kept; the round-tripped
    file searches, shows lineage, and links a further import exactly as the original does."""
    original = tmp_path / "demo.db"
    invoke_cli("import", EXAMPLES / "corpus", "--workers", "1", db=original, config=EXAMPLES / "configs")
    from collector.storage import open_store

    store = open_store(str(original))  # a crawl run's row and a URL alias, to see them copied too
    store.begin()
    store.crawl.add_url_aliases(1, {"https://dailyledger.example/amp/1": "variant", "https://dl.example/r": "redirect"})
    store.commit()
    run = store.crawl.start_run("harbourwatch", "2026-03-05T10:00:00+00:00")
    store.crawl.finish_run(run, "ok", 0, pages_fetched=3, new_documents=0, errors=1, error_kinds={"http_404": 1},
                           ended="2026-03-05T10:01:00+00:00")
    store.close()
    url = pg_server.new_database()
    invoke_cli("migrate-store", original, url)
    back = tmp_path / "back" / "demo.db"
    back.parent.mkdir()
    copied = json.loads(invoke_cli("migrate-store", url, back, "--json").stdout)
    expected = _tables(original)
    assert [t for t in ("documents", "links", "claims", "url_aliases", "runs", "chrome_counts", "lsh_index") if not expected[t]] == []
    assert _tables(back) == expected
    assert copied["documents"] == len(expected["documents"]) and copied["lsh_recent"] + copied["lsh_buckets"] > 0
    assert not list(back.parent.glob(".*part*"))
    # it works as a SQLite store: search, lineage, the FTS index holds every document
    from conftest import assert_fts_matches_documents

    assert_fts_matches_documents(back)
    for command in (["search", "--json", "harbour bridge"], ["lineage", "--json", "https://dailyledger.example/2026/03/04/harbour-bridge-tolls"]):
        answers = [json.loads(invoke_cli(*command, db=db).stdout) for db in (original, back)]
        assert answers[0] == answers[1]
    # a further import links against the old documents exactly as into the original
    origin = rows(original, "SELECT text FROM documents d WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.copy_id = d.id)"
                            " ORDER BY id LIMIT 1")[0]
    late = tmp_path / "late"
    late.mkdir()
    (late / "copy.txt").write_text(origin["text"] + "\nOriginally published elsewhere.\n", encoding="utf-8")
    for db in (original, back):
        invoke_cli("import", late, "--site", "morningwire", db=db, config=EXAMPLES / "configs")
    linked = "SELECT copy_id, origin_id, relation, similarity, containment, evidence FROM links ORDER BY copy_id"
    assert rows(back, linked) == rows(original, linked) and len(rows(back, linked)) == len(expected["links"]) + 1


def test_migrate_store_refuses_an_existing_target_and_leaves_nothing_when_it_fails(known_both, tmp_path):
    postgres = known_both[1]
    target = tmp_path / "taken.db"
    target.write_bytes(b"something of someone's")
    refused = invoke_cli("migrate-store", postgres, target, check=False)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "already exists" in refused.stderr
    assert target.read_bytes() == b"something of someone's"
    both = invoke_cli("migrate-store", postgres, postgres, check=False)
    assert both.returncode == 2 and both.stderr.count("\n") == 1
    gone = invoke_cli("migrate-store", postgres + "_missing", tmp_path / "new.db", check=False)
    assert gone.returncode == 2 and gone.stderr.count("\n") == 1 and not (tmp_path / "new.db").exists()
    assert not list(tmp_path.glob(".*part*"))


def test_migrate_store_killed_midway_leaves_no_target_then_copies_whole(pg_server, tmp_path):
    """A big enough corpus that the copy is under way when SIGKILL comes: no target file is
    left (a part file at most), and the same command then makes the whole copy."""
    import signal

    from collector.storage.postgres.connection import connect

    url = pg_server.new_database()
    conn = connect(url)
    conn.execute("INSERT INTO sites (key, name) VALUES ('s', 'S')")
    conn.execute("INSERT INTO documents (url, site, fetched, text, chrome, content_hash, words, shingles, signature)"
                 " SELECT 'https://s.example/' || i, 's', '2026-03-01T00:00:00+00:00', repeat('word' || i || ' ', 400),"
                 " '[]', 'h' || i, 400, 400, '\\x00' FROM generate_series(1, 20000) AS i")
    conn.close()
    target = tmp_path / "copy.db"
    cmd = [sys.executable, "-m", "collector", "migrate-store", url, str(target)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    part = tmp_path / ".copy.db.part"
    deadline = time.monotonic() + 60
    while not (part.exists() and part.stat().st_size > 1_000_000) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the copy ended before it could be killed: make the corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not target.exists()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not part.exists()
    check = sqlite3.connect(target)
    assert check.execute("SELECT count(*), max(id) FROM documents").fetchone() == (20000, 20000)
    assert check.execute("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'word19999'").fetchone()[0] == 1
    check.close()
