"""End to end on real news pages from ../shared/corpus (fundus' publisher test pages)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORPUS, invoke_cli, needs_shared, rows

FUNDUS = CORPUS / "publishers" / "fundus"
pytestmark = needs_shared(FUNDUS)

PUBLISHERS = ["us/APNews", "uk/BBC", "uk/TheGuardian", "us/FoxNews", "de/DerSpiegel", "ca/GlobalNews", "at/DerStandard",
              "us/TheIntercept", "uk/TheIndependent", "au/NineNews", "ch/NZZ", "us/Reuters"]


@pytest.fixture(scope="module")
def manifest():
    entries = [json.loads(line) for line in (FUNDUS / "manifest.jsonl").read_text().splitlines()]
    wanted = {p.split("/")[1] for p in PUBLISHERS}
    return [e for e in entries if e["publisher"] in wanted]


def test_real_pages_import_with_metadata_and_reposts_link(tmp_path, config_dir, manifest):
    pages = tmp_path / "pages"
    pages.mkdir()
    for entry in manifest:
        shutil.copy(FUNDUS / entry["html"], pages / (entry["publisher"] + ".html.gz"))
    db = tmp_path / "corpus.db"
    result = invoke_cli("import", pages, "--json", db=db, config=config_dir)
    summary = json.loads(result.stdout)
    assert summary["new"] == len(manifest), result.stderr
    docs = {d["source"].rsplit("/", 1)[1].split(".")[0]: d for d in rows(db, "SELECT * FROM documents")}

    def same_title(ours, theirs):  # pages carry several headline versions; most words agree
        ours_words, their_words = set((ours or "").lower().split()), set(theirs.lower().split())
        return len(ours_words & their_words) >= 0.6 * len(their_words)

    titled = sum(1 for e in manifest if same_title(docs[e["publisher"]]["title"], e["title"]))
    assert titled >= len(manifest) * 0.8
    timed = [d for d in docs.values() if d["published"] and "T" in d["published"]]
    assert len(timed) >= len(manifest) * 0.7  # dates keep their time of day
    assert all(d["url"].startswith("http") for d in docs.values())  # named by their own URL, not the file
    # Unrelated real articles are not linked to each other.
    assert rows(db, "SELECT * FROM links") == []

    # Repost two of them on a fictional site: one whole with a banner and a claim, one cut short.
    origin, other = docs[manifest[0]["publisher"]], docs[manifest[1]["publisher"]]
    site_dir = config_dir / "sites"
    (site_dir / "echo.yaml").write_text("name: Echo Chamber\ndomains: [echo.example]\nchrome:\n  lines: ['Echo Chamber: the news, twice.']\n")
    paras = origin["text"].split("\n")
    cut = other["text"].split("\n")
    reposts = tmp_path / "reposts.jsonl"
    reposts.write_text(
        json.dumps({"url": "https://echo.example/1", "title": "Reposted",
                    "text": "\n".join(["Echo Chamber: the news, twice.", f"Originally appeared at {origin['sitename'] or origin['site']}", *paras])})
        + "\n"
        + json.dumps({"url": "https://echo.example/2", "title": "Cut", "text": "\n".join([*cut[: max(2, len(cut) // 3)], f"Read more at {other['url']}"])})
        + "\n"
    )
    invoke_cli("import", reposts, db=db, config=config_dir)
    lineage = {r["copy_url"]: r for r in rows(db, "SELECT * FROM lineage")}
    assert lineage["https://echo.example/1"]["origin_url"] == origin["url"]
    assert lineage["https://echo.example/1"]["relation"] == "copy"
    assert lineage["https://echo.example/1"]["evidence"].startswith("attribution claim")
    assert lineage["https://echo.example/2"]["origin_url"] == other["url"]
    assert lineage["https://echo.example/2"]["relation"] == "excerpt"
    stored = rows(db, "SELECT text, chrome FROM documents WHERE url = 'https://echo.example/1'")[0]
    assert "Echo Chamber: the news, twice." not in stored["text"]
