"""Importers: every input format (and its gzip), folders, metadata and sites, through the real
``collector import`` command and through the library, checked in the SQLite store.

All articles are fiction (``textgen``); sites are the example configs (``config_dir``).
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import re
import subprocess
import sys

import pytest
from conftest import REPO, invoke_cli, rows
from textgen import article

from collector.importers import Problem, discover, read_file
from collector.ingest import import_paths

DL = "https://dailyledger.example"
HW = "https://harbourwatch.example"
MW = "https://morningwire.example"
CD = "https://coastaldigest.example"
BANNER = "Keep Harbour Watch independent - donate today!"   # harbourwatch.yaml chrome.lines
POLICY = "Comment policy: stay on topic and be kind to each other."  # matches chrome.patterns


def dump(seed: int, *, top=(), bottom=()) -> tuple[str, list[str], str]:
    """(title, paragraphs, .txt content) of fictional article ``seed``."""
    title, paras = article(seed, paragraphs=4)
    return title, paras, "\n".join([*top, title, "", *paras, *bottom]) + "\n"


def meta(url=None, *, og_url=None, published=None, author=None) -> str:
    tags = []
    if url:
        tags.append(f'<link rel="canonical" href="{url}">')
    if og_url:
        tags.append(f'<meta property="og:url" content="{og_url}">')
    if published:
        tags.append(f'<meta property="article:published_time" content="{published}">')
    if author:
        tags.append(f'<meta name="author" content="{author}">')
    return "".join(tags)


# --- one CLI import of a folder holding every format ----------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory, html_page, write_warc):
    """A folder of every input format, nested; returns (folder, expected {relative source: facts})."""
    root = tmp_path_factory.mktemp("import") / "corpus"
    expect = {}

    def put(rel: str, data: bytes | str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    # .txt: the title is the first line; the site is recognised from its chrome, else "local"
    title, paras, text = dump(201)
    put("plain/ferry.txt", text)
    expect["plain/ferry.txt"] = {"title": title, "site": "local", "first": paras[0]}
    title, paras, text = dump(202, top=[BANNER], bottom=[POLICY])
    put("plain/watch-banner.txt", text)
    expect["plain/watch-banner.txt"] = {"title": title, "site": "harbourwatch", "first": paras[0]}
    title, paras, text = dump(203)
    put("plain/zipped.txt.gz", gzip.compress(text.encode()))
    expect["plain/zipped.txt.gz"] = {"title": title, "site": "local", "first": paras[0]}

    # .html / .htm: URL from canonical, og:url, else the file's path; metadata from the page
    title, paras = article(204)
    put("pages/canonical.html", html_page(title, paras, meta(f"{DL}/news/ferry-vote", published="2026-02-03T14:25:00+02:00", author="Mara Quillfeather")))
    expect["pages/canonical.html"] = {"title": title, "site": "dailyledger", "url": f"{DL}/news/ferry-vote", "first": paras[0],
                                      "published": "2026-02-03T14:25:00+02:00", "author": "Mara Quillfeather"}
    title, paras = article(205)
    put("pages/og.htm", html_page(title, paras, meta(og_url=f"{MW}/story/pier-plan", published="2026-02-04T09:05:00Z")))
    expect["pages/og.htm"] = {"title": title, "site": "morningwire", "url": f"{MW}/story/pier-plan", "first": paras[0],
                              "published": "2026-02-04T09:05:00+00:00"}
    title, paras = article(206)
    put("pages/no-url.html", html_page(title, paras))
    expect["pages/no-url.html"] = {"title": title, "site": "local", "url": (root / "pages/no-url.html").resolve().as_uri(), "first": paras[0]}
    title, paras = article(207)
    put("pages/zipped.html.gz", gzip.compress(html_page(title, paras, meta(f"{CD}/digest/market-hours")).encode()))
    expect["pages/zipped.html.gz"] = {"title": title, "site": "coastaldigest", "url": f"{CD}/digest/market-hours", "first": paras[0]}

    # .warc: only HTML responses with status 200 become documents
    (root / "archive").mkdir()
    t1, p1 = article(208)
    t2, p2 = article(209)
    write_warc(root / "archive/crawl.warc", [
        {"type": "request", "url": f"{DL}/w/one"},
        {"url": f"{DL}/w/one", "html": html_page(t1, p1), "date": "2026-02-10T08:00:00Z"},
        {"url": f"{DL}/logo.jpg", "html": b"\xff\xd8\xff\xe0 not really a jpeg", "content_type": "image/jpeg"},
        {"url": f"{DL}/w/missing", "html": html_page("Not Found", ["This page does not exist any more, sorry about that."]), "status": "404 Not Found"},
        {"url": f"{DL}/w/old", "html": "<html><body>Moved</body></html>", "status": "301 Moved Permanently", "headers": {"Location": f"{DL}/w/one"}},
        {"url": f"{HW}/w/two", "html": html_page(t2, p2, meta(published="2026-02-11T17:30:00+01:00")), "date": "2026-02-11T18:00:00Z"},
        {"type": "metadata", "url": f"{HW}/w/two", "html": "via: a crawler"},
    ])
    expect["archive/crawl.warc record 2"] = {"title": t1, "site": "dailyledger", "url": f"{DL}/w/one", "first": p1[0], "fetched": "2026-02-10T08:00:00+00:00"}
    expect["archive/crawl.warc record 6"] = {"title": t2, "site": "harbourwatch", "url": f"{HW}/w/two", "first": p2[0],
                                             "published": "2026-02-11T17:30:00+01:00", "fetched": "2026-02-11T18:00:00+00:00"}
    # .warc.gz, one gzip member per record (the usual layout)...
    t3, p3 = article(210)
    t4, p4 = article(211)
    write_warc(root / "archive/members.warc.gz", [
        {"url": f"{MW}/w/three", "html": html_page(t3, p3)},
        {"url": f"{MW}/w/style.css", "html": "body { color: black }", "content_type": "text/css"},
        {"url": f"{MW}/w/four", "html": html_page(t4, p4)},
    ])
    expect["archive/members.warc.gz record 1"] = {"title": t3, "site": "morningwire", "url": f"{MW}/w/three", "first": p3[0]}
    expect["archive/members.warc.gz record 3"] = {"title": t4, "site": "morningwire", "url": f"{MW}/w/four", "first": p4[0]}
    # ... and a whole .warc gzipped as one stream (`gzip crawl.warc`)
    t5, p5 = article(212)
    write_warc(root / "archive/whole.warc", [{"url": f"{CD}/w/five", "html": html_page(t5, p5)}])
    whole = root / "archive/whole.warc"
    put("archive/whole.warc.gz", gzip.compress(whole.read_bytes()))
    whole.unlink()
    expect["archive/whole.warc.gz record 1"] = {"title": t5, "site": "coastaldigest", "url": f"{CD}/w/five", "first": p5[0]}

    # .jsonl: url and html or text, optionally title, published, site
    t6, p6 = article(213)
    t7, p7 = article(214)
    t8, p8 = article(215)
    t9, p9 = article(216)
    lines = [
        {"url": f"{DL}/j/six", "html": html_page(t6, p6)},
        {"url": f"{HW}/j/seven", "text": "\n".join(p7), "title": t7, "published": "2026-03-02T06:45:00+01:00", "site": "harbourwatch"},
        None,  # a blank line is passed over
        {"url": "https://unconfigured.example/j/eight", "text": "\n".join([t8, *p8])},  # title: the first line
        {"url": f"{MW}/j/nine", "text": "\n".join(p9), "title": t9, "site": "coastaldigest"},  # the line's site wins
    ]
    put("feeds/items.jsonl", "\n".join("" if line is None else json.dumps(line) for line in lines) + "\n")
    expect["feeds/items.jsonl line 1"] = {"title": t6, "site": "dailyledger", "url": f"{DL}/j/six", "first": p6[0]}
    expect["feeds/items.jsonl line 2"] = {"title": t7, "site": "harbourwatch", "url": f"{HW}/j/seven", "first": p7[0], "published": "2026-03-02T06:45:00+01:00"}
    expect["feeds/items.jsonl line 4"] = {"title": t8, "site": "unconfigured.example", "url": "https://unconfigured.example/j/eight", "first": p8[0]}
    expect["feeds/items.jsonl line 5"] = {"title": t9, "site": "coastaldigest", "url": f"{MW}/j/nine", "first": p9[0]}
    t10, p10 = article(217)
    put("feeds/more.jsonl.gz", gzip.compress((json.dumps({"url": f"{CD}/j/ten", "title": t10, "text": "\n".join(p10)}) + "\n").encode()))
    expect["feeds/more.jsonl.gz line 1"] = {"title": t10, "site": "coastaldigest", "url": f"{CD}/j/ten", "first": p10[0]}

    # folders are walked recursively; hidden files and folders, and other file types, are not imported
    title, paras, text = dump(218)
    put("deep/a/b/c/nested.txt", text)
    expect["deep/a/b/c/nested.txt"] = {"title": title, "site": "local", "first": paras[0]}
    put(".hidden/secret.txt", dump(219)[2])
    put("plain/.draft.txt", dump(220)[2])
    put("plain/.git/notes.txt", dump(221)[2])
    put("notes/readme.md", "# not an article\n")
    put("pages/logo.png", b"\x89PNG\r\n\x1a\n")
    return root, expect


@pytest.fixture(scope="module")
def imported(corpus, tmp_path_factory, module_config_dir):
    root, expect = corpus
    db = tmp_path_factory.mktemp("import-db") / "corpus.db"
    result = invoke_cli("import", root, db=db, config=module_config_dir)
    docs = rows(db, "SELECT * FROM documents")
    by_source = {os.path.relpath(d["source"], root) if d["source"].startswith("/") else d["source"]: d for d in docs}
    return {"db": db, "result": result, "docs": by_source, "expect": expect, "root": root, "config": module_config_dir}


def _rel(doc_source: str, root) -> str:
    return os.path.relpath(doc_source, root)


def test_cli_imports_every_format_recursively_and_nothing_else(imported):
    result, expect = imported["result"], imported["expect"]
    assert result.returncode == 0
    assert result.stdout == ""
    assert sorted(imported["docs"]) == sorted(expect)  # hidden files, .md, .png: not imported
    for source, facts in expect.items():
        doc = imported["docs"][source]
        assert doc["title"] == facts["title"], source
        assert doc["site"] == facts["site"], source
        assert doc["text"].startswith(facts["first"]), source
        assert doc["title"] not in doc["text"].split("\n"), f"{source}: title left in the body"
        if "url" in facts:
            assert doc["url"] == facts["url"], source


def test_txt_url_is_the_file_and_chrome_names_the_site(imported):
    docs, root = imported["docs"], imported["root"]
    assert docs["plain/ferry.txt"]["url"] == (root / "plain/ferry.txt").resolve().as_uri()
    banner = docs["plain/watch-banner.txt"]
    assert banner["site"] == "harbourwatch"  # recognised from its chrome: no --site, no URL
    assert BANNER not in banner["text"] and POLICY not in banner["text"]
    assert set(json.loads(banner["chrome"])) == {BANNER, POLICY}
    assert json.loads(docs["plain/ferry.txt"]["chrome"]) == []


def test_html_metadata_from_trafilatura_keeps_time_of_day_and_zone(imported):
    docs, expect = imported["docs"], imported["expect"]
    for source in ("pages/canonical.html", "pages/og.htm", "archive/crawl.warc record 6", "feeds/items.jsonl line 2"):
        assert docs[source]["published"] == expect[source]["published"], source
    page = docs["pages/canonical.html"]
    assert page["author"] == "Mara Quillfeather"
    assert page["canonical_url"] == f"{DL}/news/ferry-vote"


def test_no_publication_date_is_guessed_from_years_in_the_text(tmp_path, context, db_path, html_page):
    title, paras = article(247)
    paras[1] += " The old pier was built in 1996 and rebuilt in 2004."
    (tmp_path / "a.html").write_text(html_page(title, paras))
    import_paths([tmp_path], context)
    assert rows(db_path, "SELECT published FROM documents") == [{"published": None}]


def test_warc_keeps_html_200_responses_only(imported):
    docs = imported["docs"]
    warc = {s: d for s, d in docs.items() if s.startswith("archive/")}
    assert sorted(d["url"] for d in warc.values()) == sorted(
        [f"{DL}/w/one", f"{HW}/w/two", f"{MW}/w/three", f"{MW}/w/four", f"{CD}/w/five"]
    )  # no request, image, 404, redirect, stylesheet or metadata record
    assert docs["archive/crawl.warc record 2"]["fetched"] == "2026-02-10T08:00:00+00:00"  # WARC-Date, normalised
    assert docs["archive/crawl.warc record 6"]["fetched"] == "2026-02-11T18:00:00+00:00"


def test_jsonl_fields(imported):
    docs = imported["docs"]
    line2 = docs["feeds/items.jsonl line 2"]
    assert line2["published"] == "2026-03-02T06:45:00+01:00"
    assert line2["text"].split("\n")[0] == imported["expect"]["feeds/items.jsonl line 2"]["first"]  # title given: body intact
    assert docs["feeds/items.jsonl line 4"]["site"] == "unconfigured.example"  # no config: the host
    assert rows(imported["db"], "SELECT name FROM sites WHERE key = 'unconfigured.example'") == [{"name": "unconfigured.example"}]


def test_gzip_of_each_format_reads_like_the_plain_file(tmp_path, context, db_path, html_page, write_warc):
    title, paras, text = dump(230)
    page = html_page(*article(231), meta(f"{DL}/gz/page"))
    line = json.dumps({"url": f"{DL}/gz/line", "text": "\n".join(article(232)[1]), "title": article(232)[0]}) + "\n"
    plain, zipped = tmp_path / "plain", tmp_path / "zipped"
    plain.mkdir()
    zipped.mkdir()
    for name, data in (("a.txt", text), ("b.html", page), ("c.jsonl", line)):
        (plain / name).write_text(data)
        (zipped / (name + ".gz")).write_bytes(gzip.compress(data.encode()))
    write_warc(plain / "d.warc", [{"url": f"{DL}/gz/warc", "html": html_page(*article(233))}])
    (zipped / "d.warc.gz").write_bytes(gzip.compress((plain / "d.warc").read_bytes()))

    def read(folder):
        out = {}
        for path in sorted(folder.iterdir()):
            for item in read_file(path):
                assert not isinstance(item, Problem), item
                out[path.name.removesuffix(".gz")] = {k: item.get(k) for k in ("title", "text", "html", "published")}
        return out

    assert read(zipped) == read(plain)
    summary = import_paths([zipped], context)
    assert (summary.new, summary.skipped) == (4, 0)
    assert {r["title"] for r in rows(db_path, "SELECT title FROM documents")} >= {title, article(231)[0], article(232)[0]}


def test_discover_walks_folders_in_order_skipping_hidden_and_foreign_files(tmp_path):
    for rel in ("b/2.txt", "b/1.html.gz", "a/z.jsonl", ".git/x.txt", "a/.swp.txt", "a/img.png", "c/.hidden/y.warc", "top.WARC"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path, tmp_path / "b" / "2.txt"])]
    assert found == ["top.WARC", "a/z.jsonl", "b/1.html.gz", "b/2.txt"]  # each once, even if named twice


# --- sites ------------------------------------------------------------------------------------

def test_site_option_names_the_site_of_every_document(tmp_path, context, db_path, html_page):
    (tmp_path / "a.txt").write_text(dump(240, top=[BANNER])[2])  # Harbour Watch chrome...
    (tmp_path / "b.html").write_text(html_page(*article(241), meta(f"{DL}/x/b")))  # ... a Daily Ledger URL ...
    (tmp_path / "c.jsonl").write_text(json.dumps({"url": f"{HW}/x/c", "text": "\n".join(article(242)[1])}) + "\n")
    summary = import_paths([tmp_path], context, site="morningwire")
    assert summary.new == 3
    assert {r["site"] for r in rows(db_path, "SELECT site FROM documents")} == {"morningwire"}  # ... --site wins


def test_unknown_site_option_is_refused(tmp_path, context):
    (tmp_path / "a.txt").write_text(dump(243)[2])
    with pytest.raises(ValueError, match="no-such-site"):
        import_paths([tmp_path], context, site="no-such-site")


def test_site_from_url_domain_with_www_and_unconfigured_hosts(tmp_path, context, db_path, html_page):
    (tmp_path / "a.html").write_text(html_page(*article(244), meta("https://www.dailyledger.example/x/a")))
    (tmp_path / "b.html").write_text(html_page(*article(245), meta("https://news.elsewhere.example/x/b")))
    import_paths([tmp_path], context)
    got = {r["url"]: r["site"] for r in rows(db_path, "SELECT url, site FROM documents")}
    assert got == {"https://www.dailyledger.example/x/a": "dailyledger", "https://news.elsewhere.example/x/b": "news.elsewhere.example"}


def test_dated_url_does_not_lose_the_time_of_day(tmp_path, context, db_path, html_page):
    (tmp_path / "a.html").write_text(html_page(*article(246), meta(f"{DL}/2026/02/03/ferry-vote", published="2026-02-03T14:25:00+02:00")))
    import_paths([tmp_path], context)
    assert rows(db_path, "SELECT published FROM documents") == [{"published": "2026-02-03T14:25:00+02:00"}]


# --- progress and summary ---------------------------------------------------------------------

SUMMARY = re.compile(
    r"imported (\d+) \((\d+) new, (\d+) updated\), unchanged (\d+), skipped (\d+) with errors, "
    r"new links (\d+), ([\d.]+) documents/s"
)


def test_quiet_without_a_terminal_and_a_summary_at_the_end(imported):
    err = imported["result"].stderr
    assert "\x1b[" not in err and "importing" not in err  # no progress bar, no colour codes
    found = SUMMARY.search(" ".join(err.split()))
    assert found, err
    imported_n, new, updated, unchanged, skipped, links = map(int, found.groups()[:6])
    assert (imported_n, new, updated, unchanged, skipped) == (len(imported["expect"]), len(imported["expect"]), 0, 0, 0)
    assert float(found.group(7)) > 0


def test_summary_is_one_line(imported):
    lines = imported["result"].stderr.strip().splitlines()
    assert len(lines) == 1 and SUMMARY.fullmatch(lines[0]), lines


def test_progress_bar_on_a_terminal(tmp_path, config_dir):
    for seed in range(250, 253):
        (tmp_path / f"{seed}.txt").write_text(dump(seed)[2])
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", "--db", str(tmp_path / "t.db"), "--config", str(config_dir), "import", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=slave, cwd=REPO, env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = out.decode("utf-8", "replace")
    assert "importing" in text  # the bar
    assert SUMMARY.search(" ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).split()))


# --- repeated import (last: it re-runs the module's import) ----------------------------------

def test_importing_the_same_files_again_changes_nothing(imported, db_snapshot):
    before = db_snapshot(imported["db"])
    again = invoke_cli("import", imported["root"], "--json", db=imported["db"], config=imported["config"])
    data = json.loads(again.stdout)  # the summary as JSON
    assert set(data) >= {"imported", "new", "updated", "unchanged", "skipped", "new_links", "seconds", "documents_per_second"}
    n = len(imported["expect"])
    assert (data["unchanged"], data["new"], data["updated"], data["skipped"], data["new_links"]) == (n, 0, 0, 0, 0)
    assert db_snapshot(imported["db"]) == before


def test_extraction_modes_and_the_short_text_check(monkeypatch, tmp_path, html_page):
    import trafilatura
    from trafilatura.settings import Document

    from pipelines import extract

    title, paras = article(370)
    tree = extract.load_html(html_page(title, paras))
    # every mode finds the article in a real page
    for mode in extract.EXTRACTION_MODES:
        doc = extract.extract_document(tree, "https://dailyledger.example/x", mode)
        assert paras[0] in doc.text and paras[-1] in doc.text and doc.title == title
    with pytest.raises(ValueError, match="COLLECTOR_EXTRACTION"):
        extract.ExtractPipeline(sites=None, contents=None, mode="greedy")

    # the rule itself: the precise text, unless it is short and has < 90% of the standard one
    calls = []

    def fake(tree, favor_precision=False, with_metadata=True, **options):
        calls.append("precise" if favor_precision else "standard")
        doc = Document()
        doc.text = texts["precise" if favor_precision else "standard"]
        doc.title = "from metadata" if with_metadata else None
        return doc

    monkeypatch.setattr(trafilatura, "bare_extraction", fake)
    cases = [  # precise text, standard text, expected text, passes
        ("p" * 3000, "s" * 9000, "p" * 3000, ["precise"]),             # long enough: one pass
        ("p" * 850, "s" * 1000, "s" * 1000, ["precise", "standard"]),  # short and cut: standard
        ("p" * 950, "s" * 1000, "p" * 950, ["precise", "standard"]),   # short, not cut: precise
    ]
    for precise, standard, expected, passes in cases:
        texts = {"precise": precise, "standard": standard}
        calls.clear()
        doc = extract.extract_document(tree, None, "precision-unless-short")
        assert (doc.text, calls, doc.title) == (expected, passes, "from metadata")
