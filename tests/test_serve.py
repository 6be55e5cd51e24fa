"""`collector serve` (a real server on 127.0.0.1), export round-trips, search, sites, report."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.request

import pytest
from conftest import REPO, invoke_cli, rows, run_cli
from webdata import known_database, start_server, stop_server

from collector.export import read_back


invoke = invoke_cli  # the CLI in this process: the same code as `collector ...`


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    return known_database(folder)


def test_serve_binds_localhost_read_only_and_reports_a_busy_port(known):
    before = (known["db"].stat().st_mtime, known["db"].stat().st_size)
    proc, base = start_server(known["db"])
    try:
        assert base.startswith("http://127.0.0.1:")
        data = json.load(urllib.request.urlopen(base + "/known.json"))
        assert {t["name"] for t in data["tables"] + data["views"]} >= {"documents", "sites", "lineage"}
        page = urllib.request.urlopen(base + "/-/lineage/1").read().decode()
        assert "Who copied whom" in page
        port = int(base.rsplit(":", 1)[1])
        busy = run_cli("serve", "--port", port, db=known["db"], check=False, timeout=30)
        assert busy.returncode == 2
        assert busy.stderr.strip().count("\n") == 0 and f"127.0.0.1:{port}" in busy.stderr and "in use" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        stop_server(proc)
    assert (known["db"].stat().st_mtime, known["db"].stat().st_size) == before


def test_serve_without_a_database_says_so(tmp_path):
    result = run_cli("serve", db=tmp_path / "missing.db", check=False, timeout=30)
    assert result.returncode == 2 and "no such database" in result.stderr


@pytest.mark.parametrize("kind", ["documents", "lineage", "claims"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trips_every_row(known, tmp_path, kind, fmt):
    out = tmp_path / f"{kind}.{fmt}"
    result = invoke("export", kind, "--format", fmt, "-o", out, db=known["db"])
    table = {"documents": "documents", "lineage": "lineage", "claims": "claims"}[kind]
    expected = rows(known["db"], f"SELECT * FROM {table} ORDER BY 1")
    for row in expected:
        row.pop("signature", None)
    if kind == "claims":
        docs = {d["id"]: d for d in rows(known["db"], "SELECT id, url, site FROM documents")}
        for row in expected:
            row["doc_url"], row["doc_site"] = docs[row["doc_id"]]["url"], docs[row["doc_id"]]["site"]
    got = read_back(out, fmt)
    if fmt == "csv":  # CSV holds text: compare as text, NULL as ''
        expected = [{k: "" if v is None else str(v) for k, v in row.items()} for row in expected]
    assert got == expected
    assert f"exported {len(expected)} {kind} rows" in result.stderr
    assert not list(tmp_path.glob(".*.part"))


def test_export_filters_and_stdout(known, tmp_path):
    db = known["db"]
    lines = invoke("export", "lineage", "--format", "jsonl", "--relation", "excerpt", db=db).stdout.splitlines()
    assert [json.loads(x)["copy_url"] for x in lines] == [known["urls"]["excerpt"]]
    lines = invoke("export", "lineage", "--format", "jsonl", "--site", "morningwire", db=db).stdout.splitlines()
    assert {json.loads(x)["copy_url"] for x in lines} == {known["urls"]["mw"], known["urls"]["dup"]}
    lines = invoke("export", "documents", "--format", "jsonl", "--since", "2026-03-01T12:30:00+00:00", db=db).stdout.splitlines()
    assert {json.loads(x)["url"] for x in lines} == {known["urls"][k] for k in ("mw", "dup", "orphan")}
    lines = invoke("export", "claims", "--format", "jsonl", "--site", "coastaldigest", db=db).stdout.splitlines()
    assert {json.loads(x)["doc_site"] for x in lines} == {"coastaldigest"} and len(lines) == 2
    csv_out = invoke("export", "documents", "--relation", "duplicate", db=db).stdout
    assert csv_out.splitlines()[0].startswith("id,url,site,") and known["urls"]["dup"] in csv_out and csv_out.count("\nhttp") == 0
    for bad, message in ((["--since", "yesterday"], "not a date"), (["--format", "parquet"], "-o FILE")):
        result = invoke("export", "documents", *bad, db=db, check=False)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    result = invoke("export", "claims", "--relation", "copy", db=db, check=False)
    assert result.returncode == 2 and "--relation applies to documents and lineage" in result.stderr


def test_parquet_without_pyarrow_says_how_to_get_it(known, tmp_path):
    code = ("import sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None;"
            "from collector.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code, "--db", str(known["db"]), "export", "documents",
                             "--format", "parquet", "-o", str(tmp_path / "d.parquet")], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.strip() == "--format parquet needs pyarrow: pip install 'collector[parquet]'"
    assert not (tmp_path / "d.parquet").exists()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def known_any(request, tmp_path_factory):
    """The known database on each backend: search reads both the same way."""
    folder = tmp_path_factory.mktemp("search")
    if request.param == "sqlite":
        return known_database(folder)
    return known_database(folder, request.getfixturevalue("pg_server").new_database())


@pytest.mark.parametrize("typed", ["Trump's", "covid-19", "U.S.", "e-mail", "AND", '"plan for the', "NOT", "e-ma*", "Trum*"])
def test_search_cli_takes_what_people_type(known_any, typed):
    known = known_any
    found = json.loads(invoke("search", typed, "--json", db=known["db"]).stdout)
    assert found["total"] == 1 and found["results"][0]["url"] == known["urls"]["typed"]
    assert "[" in found["results"][0]["snippet"]


def test_search_cli_site_filter_paging_and_text(known_any):
    known = known_any
    db = known["db"]
    everywhere = json.loads(invoke("search", "thousand", "--json", "--limit", "2", db=db).stdout)
    assert everywhere["total"] == 7 and len(everywhere["results"]) == 2
    second = json.loads(invoke("search", "thousand", "--json", "--limit", "2", "--offset", "2", db=db).stdout)
    assert not {r["id"] for r in second["results"]} & {r["id"] for r in everywhere["results"]}
    on_site = json.loads(invoke("search", "thousand", "--site", "morningwire", "--json", db=db).stdout)
    assert on_site["total"] == 2 and {r["site"] for r in on_site["results"]} == {"morningwire"}
    text = invoke("search", "e-mail", "inbox", db=db).stdout
    assert text.startswith("1 found for 'e-mail inbox'") and known["urls"]["typed"] in text
    assert "0 found" in invoke("search", "-", db=db).stdout


def test_sites_lists_configured_sites_with_documents_and_last_crawl(known, tmp_path):
    conn = sqlite3.connect(known["db"])
    with conn:
        conn.execute("INSERT INTO runs (site, started, ended, status) VALUES ('dailyledger', '2026-03-02T00:00:00+00:00', '2026-03-02T00:05:00+00:00', 'ok')")
    conn.close()
    (known["config"] / "sites" / "quietpost.yaml").write_text("name: Quiet Post\ndomains: [quietpost.example]\nfeeds: [https://quietpost.example/feed.xml]\n")
    try:
        data = {s["site"]: s for s in json.loads(invoke("sites", "--json", db=known["db"], config=known["config"]).stdout)}
    finally:
        (known["config"] / "sites" / "quietpost.yaml").unlink()
    assert data["dailyledger"]["documents"] == 2 and data["dailyledger"]["last_crawl"]["status"] == "ok"
    assert data["quietpost"]["documents"] == 0 and data["quietpost"]["feeds"] == ["https://quietpost.example/feed.xml"]
    assert data["morningwire"]["configured"] is True
    text = invoke("sites", db=known["db"], config=known["config"]).stdout
    assert "dailyledger" in text and "2026-03-02T00:00:00+00:00 ok" in text


def test_report_is_one_self_contained_file(known, tmp_path):
    out = tmp_path / "report.html"
    invoke("report", "--out", out, db=known["db"])
    page = out.read_text()
    assert not re.search(r"src=['\"]", page) and "<link" not in page and "<script" not in page and "url(" not in page
    heat = page[page.index("class='heat'"):page.index("id='copies-over-time'")]
    assert "title='harbourwatch copied dailyledger 1 times'" in heat and "title='coastaldigest copied dailyledger 1 times'" in heat
    assert "The Daily Ledger" not in heat  # keys, not names, label the map
    assert "Keep Harbour Watch independent - donate today!" in page  # chrome per site
    assert page.count("<section class='group'") == 1  # one group has copies (duplicates aside)
    assert "median time from origin to copy</th><td>+3 h" in page
    filtered = tmp_path / "since.html"
    invoke("report", "--out", filtered, "--since", "2026-03-01T12:00:00+00:00", db=known["db"])
    assert "1 of 1 origins, 1 site pairs" in filtered.read_text()
    bad = invoke("report", "--out", tmp_path / "x.html", "--since", "soon", db=known["db"], check=False)
    assert bad.returncode == 2 and "not a date" in bad.stderr
