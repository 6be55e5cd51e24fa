"""Datasette over the database (JSON API through Datasette's test client), the canned
queries against a known database, search as people type it, and the lineage page."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3

import pytest
import yaml
from conftest import rows
from webdata import BANNER, build_big_group, known_database

from collector.search import fts_query
from collector.serve import WEB, make_datasette
from collector.storage import Store


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    return known_database(folder)


def get(db, path: str):
    """GET through Datasette's test client (no server)."""
    async def fetch():
        return await make_datasette(db).client.get(path)

    return asyncio.run(fetch())


def canned(known, name: str, **params) -> list[dict]:
    from urllib.parse import urlencode

    response = get(known["db"], f"/known/{name}.json?_shape=array&" + urlencode(params))
    assert response.status_code == 200, response.text
    return response.json()


def test_metadata_describes_every_table_view_and_column(tmp_path):
    db = tmp_path / "fresh.db"
    Store(db).close()
    meta = yaml.safe_load((WEB / "metadata.yaml").read_text())["tables"]
    conn = sqlite3.connect(db)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
             if not n.startswith("documents_fts")]  # the FTS index: Datasette hides it itself
    for name in names:
        table = meta.get(name, {})
        assert table.get("description") or table.get("description_html"), f"{name}: no description in collector/web/metadata.yaml"
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({name})")]
        missing = [c for c in columns if c not in meta[name].get("columns", {})]
        assert not missing, f"{name}: columns without a description: {missing}"
    assert set(meta) <= set(names), "metadata describes tables the schema does not have"
    for internal in ("lsh_recent", "line_sightings", "fingerprint_params", "lsh_buckets"):
        assert meta[internal].get("hidden") is True


def test_json_api_hides_internal_tables_and_describes_the_rest(known):
    data = get(known["db"], "/known.json").json()
    tables = {t["name"]: t for t in data["tables"]}
    for internal in ("lsh_recent", "line_sightings", "fingerprint_params", "lsh_buckets"):
        assert tables[internal]["hidden"] is True
    for shown in ("documents", "sites", "claims", "links", "chrome_lines"):
        assert tables[shown]["hidden"] is False
    assert tables["documents"]["count"] == 7
    page = get(known["db"], "/known/documents").text
    assert "One row per article collected" in page  # the table's description
    assert "Site key (a link to sites)" in page  # column descriptions are shown
    assert "href='/known/sites/dailyledger'" in page  # documents.site links to its sites row
    assert "/-/lineage/" in page


def test_datasette_opens_the_database_read_only(known):
    db = make_datasette(known["db"]).get_database("known")
    conn = db.connect()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("CREATE TABLE scribble (x)")
    conn.close()


def test_facets_on_site_relation_and_published(known):
    docs = get(known["db"], "/known/documents.json").json()
    facets = docs["facet_results"]
    assert {r["value"]: r["count"] for r in facets["site"]["results"]} == {
        "dailyledger": 2, "harbourwatch": 1, "coastaldigest": 2, "morningwire": 2}
    dated = get(known["db"], "/known/documents.json?_facet=site&_facet_date=published").json()["facet_results"]
    assert {r["value"]: r["count"] for r in dated["published"]["results"]} == {"2026-03-01": 6, "2026-03-02": 1}
    page = get(known["db"], "/known/documents").text
    assert "_facet_date=published" in page  # offered as a link under the table's description
    lineage = get(known["db"], "/known/lineage.json").json()["facet_results"]
    assert {r["value"]: r["count"] for r in lineage["relation"]["results"]} == {"copy": 2, "excerpt": 1, "duplicate": 1}


@pytest.mark.parametrize("typed", ["Trump's", "covid-19", "U.S.", "e-mail", "AND", "NOT much", '"plan for the', "inbox,", "Trump's -"])
def test_search_accepts_what_people_type(known, typed):
    # Datasette's own table search
    found = get(known["db"], "/known/documents.json?_shape=array&_search=" + typed.replace("+", "%2B")).json()
    assert [d["url"] for d in found] == [known["urls"]["typed"]], typed
    # the canned query and the CLI's library function
    hits = canned(known, "search", q=typed)
    assert [h["url"] for h in hits] == [known["urls"]["typed"]], typed
    assert "<mark>" in hits[0]["snippet"]


def test_fts_query_quotes_words_and_keeps_phrases_and_prefixes():
    assert fts_query("Trump's covid-19") == '"Trump\'s" "covid-19"'
    assert fts_query('"bat colony" AND roof') == '"bat colony" "AND" "roof"'
    assert fts_query('"unbalanced phrase') == '"unbalanced phrase"'
    assert fts_query("elect* - & ***") == '"elect" *'
    assert fts_query('say "hi"there') == '"say" "hi" "there"'
    assert fts_query('a"b') == '"a""b"'
    assert fts_query("   ") == ""


def test_canned_queries_against_a_known_database(known):
    ids, urls = known["ids"], known["urls"]
    top = canned(known, "most_syndicated_origins")
    assert top[0]["origin_id"] == ids["origin"] and top[0]["copies"] == 3 and top[0]["sites"] == 3
    pairs = {(r["origin_site"], r["copy_site"]): r for r in canned(known, "site_pairs")}
    assert {k: v["copies"] for k, v in pairs.items()} == {
        ("dailyledger", "harbourwatch"): 1, ("dailyledger", "coastaldigest"): 1, ("dailyledger", "morningwire"): 1}
    assert pairs[("dailyledger", "coastaldigest")]["excerpts"] == 1
    delays = {(r["origin_site"], r["copy_site"]): r for r in canned(known, "copy_delay")}
    assert delays[("dailyledger", "harbourwatch")]["avg_hours"] == 2.0
    assert delays[("dailyledger", "coastaldigest")]["min_hours"] == 3.0
    assert delays[("dailyledger", "morningwire")]["max_hours"] == 5.0
    group = canned(known, "copies_of_url", url=urls["dup"])
    assert group[0]["id"] == ids["origin"] and group[0]["relation"] == "origin"
    assert {r["id"]: r["relation"] for r in group[1:]} == {
        ids["copy"]: "copy", ids["excerpt"]: "excerpt", ids["mw"]: "copy", ids["dup"]: "duplicate"}
    assert canned(known, "copies_of_url", url="https://nowhere.example/") == []
    orphans = canned(known, "claims_without_origin")
    assert [(o["doc_id"], o["claimed_name"]) for o in orphans] == [(ids["orphan"], "The Nowhere Times")]
    chrome = canned(known, "chrome_per_site", site="harbourwatch")
    assert ("harbourwatch", BANNER, 1) in [(c["site"], c["line"], c["documents"]) for c in chrome]
    assert {c["site"] for c in canned(known, "chrome_per_site", site="")} >= {"harbourwatch"}


def test_lineage_json_and_page(known):
    ids = known["ids"]
    group = get(known["db"], f"/-/lineage/{ids['excerpt']}.json").json()
    assert group["query"] == ids["excerpt"] and group["origin"]["id"] == ids["origin"]
    assert group["origin"]["evidence"]
    copies = {c["id"]: c for c in group["copies"]}
    assert copies[ids["dup"]]["origin_id"] == ids["mw"] and copies[ids["dup"]]["relation"] == "duplicate"
    assert copies[ids["copy"]]["delay"] == 2 * 3600 and copies[ids["excerpt"]]["delay"] == 3 * 3600
    page = get(known["db"], f"/-/lineage/{ids['copy']}")
    assert page.status_code == 200
    html = page.text
    # every asset is local: no script, style sheet, image or font from another host
    assert not re.search(r"src=['\"](https?:)?//", html) and not re.search(r"<link[^>]+href=['\"](https?:)?//", html)
    assert "url(http" not in html and "@import" not in html
    tree = html[html.index("Who copied whom"):html.index("id='timeline'")]
    assert sorted(int(i) for i in re.findall(r"data-doc-id='(\d+)'", tree)) == sorted(ids[k] for k in ("origin", "copy", "excerpt", "mw", "dup"))
    assert "you are here" in html and "+2 h" in html and "+3 h" in html
    card = html[html.index(f"id='doc-{ids['copy']}'"):]
    card = card[: card.index("</details></div>")]
    assert "<ins" in card and "dollars" in card  # the copy's edit
    assert "<del" in card and known["urls"]["last_paragraph"].split()[0] in card  # the paragraph it dropped
    assert BANNER in card  # the chrome stripped from it
    assert "Originally appeared at The Daily Ledger" in card  # its attribution line
    assert get(known["db"], "/-/lineage/999999").status_code == 404
    assert get(known["db"], "/-/lineage?url=" + known["urls"]["dup"]).status_code == 302
    index = get(known["db"], "/-/lineage").text
    assert f"/-/lineage/{ids['origin']}" in index


def test_chrome_counts_follow_the_documents(known, tmp_path):
    """site_chrome reads chrome_counts, which triggers keep equal to unpacking every document's chrome."""
    unpacked = ("SELECT d.site, j.value AS line, count(DISTINCT d.id) AS documents FROM documents d, json_each(d.chrome) j"
                " GROUP BY 1, 2 ORDER BY 1, 2")
    db = tmp_path / "copy.db"
    shutil.copy(known["db"], db)
    counted = lambda: rows(db, "SELECT site, line, documents FROM site_chrome ORDER BY 1, 2")  # noqa: E731
    assert counted() == rows(db, unpacked) and any(r["line"] == BANNER for r in counted())
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE documents SET chrome = '[\"Subscribe now\", \"Subscribe now\"]' WHERE url = ?", (known["urls"]["copy"],))
        conn.execute("UPDATE documents SET site = 'coastaldigest' WHERE url = ?", (known["urls"]["mw"],))
        conn.execute("DELETE FROM links WHERE copy_id = (SELECT id FROM documents WHERE url = ?)", (known["urls"]["dup"],))
        conn.execute("DELETE FROM documents WHERE url = ?", (known["urls"]["dup"],))
    conn.close()
    assert counted() == rows(db, unpacked) and not any(r["line"] == BANNER for r in counted())
    # the migration counts what an older database holds
    conn = sqlite3.connect(db)
    with conn:
        for trigger in ("chrome_counts_ai", "chrome_counts_ad", "chrome_counts_au"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE chrome_counts")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm014a_chrome_counts'")
    conn.close()
    Store(db).close()
    assert counted() == rows(db, unpacked)


def test_a_thousand_member_group_is_collapsed_by_site_and_paged(tmp_path):
    db = tmp_path / "big.db"
    made = build_big_group(db, members=1000, sites=30)
    html = get(db, "/-/lineage/500").text
    tree = html[html.index("Who copied whom"):html.index("id='timeline'")]
    assert len(re.findall(r"class='site-node'", tree)) == made["sites"]
    assert tree.count("data-doc-id=") < 30 * 13 + 1  # at most 12 copies a site, not 999
    assert "<details open>" in tree  # the viewed document's site is open
    copies = html[html.index("id='copies'"):]
    assert len(re.findall(r"class='card copy", copies)) == 25
    assert "page" in copies and "of 40" in copies
    assert "id='doc-500'" in copies  # the page holding the viewed document
    timeline = html[html.index("id='timeline'"):html.index("id='copies'")]
    assert timeline.count("class='point'") == 1000
    on_site = get(db, "/-/lineage/500?site=site03&page=1").text
    listed = re.findall(r"class='card copy[^']*' id='doc-(\d+)'", on_site)
    assert listed and all(r["site"] == "site03" for r in rows(db, f"SELECT site FROM documents WHERE id IN ({','.join(listed)})"))
