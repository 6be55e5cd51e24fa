"""The raw archive and re-processing, on real news pages (../shared/corpus) crawled from
local servers, and on imported files.

- ``real``: 30 real pages of trafilatura's evaluation set, served as they are (half with
  ``Content-Encoding: gzip``), listed in a sitemap.
- ``echo``: two reposts of the first two, with a banner and "Originally appeared at Real
  Pages" (the attribution that makes the real page their origin).

Rules R1 crawl them into one database; R2 adds an XPath (``//p[1]``) to ``real`` and the
banner to ``echo``'s chrome lines. Re-processing the R1 database with R2 must give what a
fresh crawl with R2 gives: texts, chrome, titles, dates, claims and lineage.
"""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, REPO, assert_fts_matches_documents, invoke_cli, needs_shared, rows, run_cli
from sites_server import SiteServer, article_page, prose, site_config, slow_site, urlset

PAGES = CORPUS / "extraction" / "trafilatura-eval" / "html"
pytestmark = needs_shared(PAGES)

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=1", "-s", "DOWNLOAD_TIMEOUT=5",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "COLLECTOR_EXTRACT_PROCESSES=0"]
ECHO_BANNER = "Echo Chamber: the news, twice, since 2009."
REAL_PAGES = 30


def crawl(db: Path, config: Path, *args):
    result = run_cli("crawl", "--json", *FAST, *args, db=db, config=config, timeout=300)
    return json.loads(result.stdout)


def real_pages() -> list[Path]:
    return sorted(PAGES.glob("*.html.gz"))[:REAL_PAGES]


def write_configs(root: Path, real: SiteServer, echo: SiteServer, revised: bool) -> Path:
    config = root / ("configs-r2" if revised else "configs-r1")
    shutil.copytree(REPO / "configs", config, dirs_exist_ok=True)
    site_config(config, "real", name="Real Pages", domains=[real.host], aliases=["Real Pages"],
                sitemaps=[real.url("/sitemap.xml")], chrome={"xpaths": ["//p[1]"]} if revised else {})
    site_config(config, "echo", name="Echo Chamber", domains=[echo.host], sitemaps=[echo.url("/sitemap.xml")],
                chrome={"lines": [ECHO_BANNER]} if revised else {})
    return config


class Corpus:
    """The two servers, both rule sets, and the database crawled with R1."""

    def __init__(self, root: Path):
        import trafilatura

        self.root = root
        self.real = SiteServer("real").start()
        self.echo = SiteServer("echo").start()
        paths = []
        for i, page in enumerate(real_pages()):
            path = f"/p/{i}.html"
            packed = page.read_bytes()
            if i % 2:
                self.real.add(path, gzip.decompress(packed), content_type="text/html")
            else:  # as a server that compresses sends it; Scrapy inflates it before the spider
                self.real.add(path, packed, content_type="text/html", headers={"Content-Encoding": "gzip"})
            paths.append(path)
            if i < 2:
                text = trafilatura.extract(gzip.decompress(packed).decode("utf-8", "replace")) or ""
                paragraphs = [line for line in text.splitlines() if line.strip()]
                self.echo.add(f"/repost/{i}", article_page(
                    f"Repost {i}", [*paragraphs, "Originally appeared at Real Pages"], site_name="Echo Chamber",
                    published="2026-03-04T09:00:00+00:00", top=(ECHO_BANNER,)))
        self.real.add("/sitemap.xml", urlset([self.real.url(p) for p in paths]), content_type="application/xml")
        self.echo.add("/sitemap.xml", urlset([self.echo.url(f"/repost/{i}") for i in range(2)]), content_type="application/xml")
        self.r1 = write_configs(root, self.real, self.echo, revised=False)
        self.r2 = write_configs(root, self.real, self.echo, revised=True)
        self.db = root / "crawl" / "r1.db"
        self.db.parent.mkdir()
        self.summary = crawl(self.db, self.r1, "-s", "COLLECTOR_ARCHIVE_MAX_SIZE=300000", "-s", "COLLECTOR_ARCHIVE_KINDS=article,sitemap")
        self._fresh = None

    def copy(self, name: str, with_archive: bool = False) -> Path:
        """A copy of the R1 database (beside it, so its archive references hold; or in a
        folder of its own with a copy of the archive)."""
        folder = self.db.parent if not with_archive else self.root / name
        target = folder / f"{name}.db"
        if with_archive:
            shutil.copytree(self.db.parent / "r1.warc", folder / "r1.warc")
        src = sqlite3.connect(self.db)
        dst = sqlite3.connect(target)
        src.backup(dst)
        src.close()
        dst.close()
        return target

    def fresh(self) -> Path:
        """The same sites crawled afresh with R2."""
        if self._fresh is None:
            self._fresh = self.root / "fresh" / "r2.db"
            self._fresh.parent.mkdir()
            crawl(self._fresh, self.r2)
        return self._fresh

    def stop(self):
        self.real.stop()
        self.echo.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    c = Corpus(tmp_path_factory.mktemp("reprocess"))
    yield c
    c.stop()


def documents(db: Path) -> dict[str, dict]:
    """What a document is, by URL: everything but ids, fetch time and source."""
    docs = {d["url"]: d for d in rows(db, "SELECT url, site, title, author, published, text, chrome, canonical_url, sitename,"
                                          " language, content_hash, words, shingles, hex(signature) AS signature, id FROM documents")}
    urls = {d["id"]: u for u, d in docs.items()}
    for claim in rows(db, "SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims ORDER BY id"):
        docs[urls[claim.pop("doc_id")]].setdefault("claims", []).append(claim)
    for doc in docs.values():
        doc.pop("id")
        doc["chrome"] = sorted(json.loads(doc["chrome"]))  # order: when a line was learned
    return docs


def lineage(db: Path) -> set[tuple]:
    return {(r["copy_url"], r["origin_url"], r["relation"], r["similarity"], r["containment"])
            for r in rows(db, "SELECT * FROM lineage")}


def reprocess(db: Path, config: Path, *args, check=True):
    result = invoke_cli("reprocess", "--json", *args, db=db, config=config, check=check, timeout=300)
    return json.loads(result.stdout) if result.stdout.strip() else None, result


# --- the archive ---------------------------------------------------------------------------

def test_every_crawled_page_is_archived_and_referenced(corpus):
    assert corpus.summary["new"] == REAL_PAGES + 2, corpus.summary
    files = sorted((corpus.db.parent / "r1.warc").glob("*.warc.gz"))
    assert {f.name.split("-")[0] for f in files} == {"real", "echo"}
    assert len([f for f in files if f.name.startswith("real")]) > 1, "rotated at COLLECTOR_ARCHIVE_MAX_SIZE"
    refs = rows(corpus.db, "SELECT d.id, d.url, r.raw_ref FROM documents d LEFT JOIN raw_inputs r ON r.doc_id = d.id")
    assert all(r["raw_ref"] and r["raw_ref"].startswith("r1.warc/") and "#offset=" in r["raw_ref"] for r in refs)
    # Valid for other tools: warcio checks every record's digests.
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    from warcio.archiveiterator import ArchiveIterator

    kinds, encodings, sitemaps = [], 0, 0
    for path in files:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                kinds.append(record.rec_type)
                if record.rec_type == "response":
                    encodings += record.http_headers.get_header("Content-Encoding") is not None
                    assert record.rec_headers.get_header("WARC-Target-URI").startswith("http://127.0.0.1:")
                    sitemaps += record.rec_headers.get_header("WARC-Target-URI").endswith("/sitemap.xml")
    assert kinds.count("response") == kinds.count("request") == REAL_PAGES + 2 + 2  # and the two sitemaps
    assert kinds.count("warcinfo") == len(files) and sitemaps == 2
    assert encodings == 0  # half came gzipped: stored inflated, as Scrapy hands them over, and said so


def test_raw_prints_the_page_as_fetched(corpus):
    doc = rows(corpus.db, "SELECT id, url FROM documents WHERE url LIKE '%/p/1.html'")[0]
    page = gzip.decompress(real_pages()[1].read_bytes())
    result = subprocess.run([sys.executable, "-m", "collector", "--db", str(corpus.db), "raw", doc["url"]],
                            cwd=REPO, capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stdout == page
    opened = invoke_cli("raw", str(doc["id"]), "--open", db=corpus.db).stdout.strip()
    saved = Path(opened.removeprefix("file://")).read_bytes()
    assert saved.replace(f'<base href="{doc["url"]}">'.encode(), b"") == page and b"<base href=" in saved
    missing = invoke_cli("raw", "https://nowhere.example/x", db=corpus.db, check=False)
    assert missing.returncode == 1 and "no such document" in missing.stderr


def test_archive_reimports_to_the_same_documents(corpus, tmp_path):
    db = tmp_path / "from-archive.db"
    result = invoke_cli("import", corpus.db.parent / "r1.warc", "--json", db=db, config=corpus.r1)
    assert json.loads(result.stdout)["new"] == REAL_PAGES + 2, result.stderr
    assert documents(db) == documents(corpus.db)
    assert lineage(db) == lineage(corpus.db)
    # Imported records are referenced where they are: the WARC file and the record number.
    refs = [r["raw_ref"] for r in rows(db, "SELECT raw_ref FROM raw_inputs")]
    assert all(".warc.gz#record=" in ref and Path(ref.split("#")[0]).is_absolute() for ref in refs)


# --- re-processing -------------------------------------------------------------------------

def test_reprocess_gives_what_a_fresh_crawl_with_the_new_rules_gives(corpus):
    db = corpus.copy("reprocessed")
    before = documents(db)
    dry, result = reprocess(db, corpus.r2, "--dry-run")
    changed_sites = {s["site"]: s for s in dry["rules_changed"]}
    assert set(changed_sites) == {"real", "echo"}
    assert "chrome.xpaths +1 -0" in changed_sites["real"]["changed"]
    assert "chrome.lines +1 -0" in changed_sites["echo"]["changed"]
    assert dry["selected"] == REAL_PAGES + 2 and documents(db) == before  # a dry run writes nothing
    stats = invoke_cli("stats", db=db, config=corpus.r2).stdout
    assert "rules changed since processed: real" in stats and "rules changed since processed: echo" in stats

    summary, result = reprocess(db, corpus.r2)
    assert summary["changed"] + summary["unchanged"] == REAL_PAGES + 2 and summary["failed"] == 0, result.stderr
    assert summary["changed"] >= REAL_PAGES // 2
    after = documents(db)
    fresh = documents(corpus.fresh())
    assert after == fresh
    assert lineage(db) == lineage(corpus.fresh())
    assert all(ECHO_BANNER in d["chrome"] and ECHO_BANNER not in d["text"] for u, d in after.items() if "/repost/" in u)
    assert_fts_matches_documents(db)
    # The links reported are the ones that changed between the two states.
    old, new = ({c: (o, r) for c, o, r, *_ in lineage(path)} for path in (corpus.db, db))
    assert summary["links_added"] == len(set(new) - set(old))
    assert summary["links_removed"] == len(set(old) - set(new)) > 0  # a repost no longer matches its original
    assert summary["links_changed"] == sum(1 for c in set(old) & set(new) if old[c] != new[c])
    # Done: nothing left to do, and doing it all again changes nothing.
    again, _ = reprocess(db, corpus.r2, "--dry-run")
    assert again["rules_changed"] == [] and again["selected"] == 0
    everything, _ = reprocess(db, corpus.r2, "--all", "--site", "echo")
    assert everything["selected"] == 2 and everything["unchanged"] == 2 and everything["changed"] == 0
    assert documents(db) == after


def test_reprocess_killed_midway_then_run_again(corpus):
    db = corpus.copy("killed")
    cmd = [sys.executable, "-m", "collector", "--db", str(db), "--config", str(corpus.r2), "reprocess", "--workers", "1"]
    env = {**__import__("os").environ, "COLLECTOR_BATCH_SIZE": "1"}
    process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    left = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            left = rows(db, "SELECT count(*) AS n FROM reprocess_queue")[0]["n"]
        except sqlite3.OperationalError:
            left = None
        if left and left < REAL_PAGES - 4:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert left and 0 < left < REAL_PAGES + 2, "the kill did not land midway"
    summary, result = reprocess(db, corpus.r2)
    assert summary["continued"] and summary["failed"] == 0, result.stderr
    assert documents(db) == documents(corpus.fresh())
    assert lineage(db) == lineage(corpus.fresh())
    assert rows(db, "SELECT count(*) AS n FROM reprocess_queue")[0]["n"] == 0
    assert_fts_matches_documents(db)


def test_a_document_whose_archive_file_is_gone_is_reported_and_left_alone(corpus):
    db = corpus.copy("lost", with_archive=True)
    refs = rows(db, "SELECT d.url, r.raw_ref FROM documents d JOIN raw_inputs r ON r.doc_id = d.id WHERE d.site = 'real'")
    lost_file = refs[0]["raw_ref"].split("#")[0]
    lost = {r["url"] for r in refs if r["raw_ref"].startswith(lost_file + "#")}
    (db.parent / lost_file).unlink()
    before = documents(db)
    summary, result = reprocess(db, corpus.r2)
    assert summary["failed"] == len(lost) and summary["changed"] + summary["unchanged"] == REAL_PAGES + 2 - len(lost)
    assert all(f"{url}: " in result.stderr and "archive file missing" in result.stderr for url in lost)
    after = documents(db)
    assert all(after[url] == before[url] for url in lost)  # kept as it was
    raw = invoke_cli("raw", sorted(lost)[0], db=db, check=False)
    assert raw.returncode == 1 and "archive file missing" in raw.stderr
    # Still to do (their rules are old): the next dry run says so.
    dry, _ = reprocess(db, corpus.r2, "--dry-run")
    assert dry["selected"] == len(lost)


# --- imported files -------------------------------------------------------------------------

def test_reprocess_of_imports_equals_a_fresh_import(tmp_path, config_dir):
    """Saved pages, a WARC and a JSON Lines file of dumps (with a repost and a banner):
    reprocess --all with new rules gives the database a fresh import with them gives."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    pages = real_pages()[:12]
    for page in pages[:8]:
        shutil.copy(page, inputs / page.name)
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(inputs / "more.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, page in enumerate(pages[8:]):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://warc.example/{i}", "response",
                                                          payload=io.BytesIO(gzip.decompress(page.read_bytes())), http_headers=http))
    banner = "Dumped by the Tidewater Bulletin archive team"
    lines = []
    for n in range(4):
        title, paragraphs = prose(7000 + n)
        top = [banner] if n < 2 else []  # on two only: not learned from repetition, left to the config
        lines.append(json.dumps({"url": f"https://tidewater.example/{n}", "text": "\n".join([*top, title, *paragraphs])}))
    title, paragraphs = prose(7000)
    lines.append(json.dumps({"url": "https://copycat.example/0", "title": title,
                             "text": "\n".join([*paragraphs, "Originally appeared at Tidewater Bulletin"])}))
    (inputs / "dumps.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    site_config(config_dir, "tidewater", name="Tidewater Bulletin", domains=["tidewater.example"])

    db = tmp_path / "old.db"
    invoke_cli("import", inputs, "--workers", "1", db=db, config=config_dir)
    revised = tmp_path / "configs-r2"
    shutil.copytree(config_dir, revised)
    site_config(revised, "tidewater", name="Tidewater Bulletin", domains=["tidewater.example"], chrome={"lines": [banner]})
    site_config(revised, "warc", name="Warc Example", domains=["warc.example"], chrome={"xpaths": ["//p[1]"]})
    summary, result = reprocess(db, revised, "--all")
    assert summary["failed"] == 0 and summary["changed"] >= 6, result.stderr
    fresh = tmp_path / "fresh.db"
    invoke_cli("import", inputs, "--workers", "1", db=fresh, config=revised)
    assert documents(db) == documents(fresh)
    assert lineage(db) == lineage(fresh)
    # Same ids too (same input order): the whole LSH index is the same.
    assert rows(db, "SELECT * FROM lsh_index ORDER BY 1, 2, 3") == rows(fresh, "SELECT * FROM lsh_index ORDER BY 1, 2, 3")
    refs = {r["raw_ref"].rsplit("/", 1)[-1] for r in rows(db, "SELECT raw_ref FROM raw_inputs")}
    assert {"dumps.jsonl#line=1", "more.warc.gz#record=1", pages[0].name} <= refs

    # `raw` of an imported file: the file as it is (inflated); of a JSONL line: its text.
    first = rows(db, "SELECT doc_id FROM raw_inputs WHERE raw_ref LIKE ?", (f"%{pages[0].name}",))[0]["doc_id"]
    result = subprocess.run([sys.executable, "-m", "collector", "--db", str(db), "raw", str(first)], cwd=REPO, capture_output=True)
    assert result.returncode == 0 and result.stdout == gzip.decompress(pages[0].read_bytes())
    dump = invoke_cli("raw", "https://tidewater.example/0", db=db).stdout
    assert dump.startswith(banner) and json.loads(lines[0])["text"] == dump

    # An input that changed since: reported, the document kept.
    (inputs / "dumps.jsonl").write_text(lines[0].replace("tidewater.example/0", "tidewater.example/zero") + "\n", encoding="utf-8")
    summary, result = reprocess(db, revised, "--all", "--site", "tidewater", check=False)
    assert result.returncode == 1 and summary["failed"] == 4 and summary["changed"] + summary["unchanged"] == 0
    assert "not the input the document was made from" in result.stderr
    assert "not found in the file" in result.stderr


# --- a crawl killed midway --------------------------------------------------------------------

def test_crawl_killed_midway_leaves_a_readable_archive_and_no_document_without_it(tmp_path):
    from collector.raw import RawRef, read_record

    config = tmp_path / "configs"
    server, paths = slow_site(config, 80, 2000, delay=0.1)
    try:
        db = tmp_path / "kill.db"
        cmd = [sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "crawl", "--json", *FAST,
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "COLLECTOR_BATCH_SIZE=5", "-s", "COLLECTOR_COMMIT_INTERVAL=0.2"]
        process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while sum(server.hits[p] for p in paths) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()

        def check_refs():
            refs = rows(db, "SELECT d.url, r.raw_ref FROM documents d LEFT JOIN raw_inputs r ON r.doc_id = d.id")
            for ref in refs:
                _, http, body = read_record(**_where(RawRef.parse(ref["raw_ref"], tmp_path)))
                assert http.get_statuscode() == "200" and body
            return refs

        stored = check_refs()
        assert 0 < len(stored) < len(paths)
        # The archive reads: every whole record is imported, a cut last record is reported.
        result = invoke_cli("import", tmp_path / "kill.warc", "--json", db=tmp_path / "check.db", config=config, check=False)
        assert json.loads(result.stdout)["new"] >= len(stored), result.stderr
        subprocess.run(cmd, cwd=REPO, capture_output=True, timeout=120, check=True)
        assert len(check_refs()) == len(paths)
    finally:
        server.stop()


def _where(ref) -> dict:
    return {"path": ref.path, "offset": ref.offset}
