"""Serving benchmark: Datasette pages, canned queries, lineage pages, report and exports on a
database of 100,000 documents.

    .venv/bin/python bench/serve.py [--docs 100000] [--repeat 3]

1. **Build** (once; cached as ``bench/out/serve-<docs>.db``) with a light loader: articles from
   ``bench/corpusgen.py`` (nobody's text) over 50 sites, a third of them copies (edited,
   excerpted, duplicated, some with an attribution line) in groups of 2-7, and one group of
   1,000 members; chrome lines per site; rows written straight into the real schema
   (``collector.storage.Store`` creates it), the full-text index rebuilt once. Signatures are
   zero bytes and the LSH index empty: serving reads neither.
2. **Serve** it with ``collector serve`` on 127.0.0.1 and time each page over HTTP (median of
   ``--repeat`` requests after one warm-up): Datasette's pages, every canned query, the lineage
   page of a small group and of the 1,000-member group (first page, a later page, one site).
3. **Report and exports** with the real CLI.

Targets (issue 14): every page and canned query < 1 s, the 1,000-member lineage page < 2 s,
the report < 60 s. Tables go to stdout and ``bench/out/serve-<docs>.md`` (stamped).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.cli import Collector  # noqa: E402
from bench.common.paths import OUT, REPO  # noqa: E402
from bench.common.report import Report  # noqa: E402
from bench.corpusgen import Generator  # noqa: E402

import numpy as np  # noqa: E402

from collector.storage import Store  # noqa: E402

SITES = 50
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
BIG_GROUP = 1000


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def build(path: Path, docs: int, seed: int) -> dict:
    """The database: originals, copies in groups, one 1,000-member group (see the docstring)."""
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    Store(tmp).close()
    gen, rng = Generator(seed=seed), random.Random(seed)
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("DROP TRIGGER IF EXISTS documents_au")  # FTS rebuilt once at the end
    conn.execute("DROP TRIGGER IF EXISTS documents_ad")
    chrome = {s: [f"Follow site{s} for more news like this", f"© 2024 Site {s} Media. All rights reserved."] for s in range(SITES)}
    conn.executemany("INSERT INTO sites (key, name, domains, aliases) VALUES (?, ?, ?, ?)",
                     [(f"site{s}", f"Site {s}", json.dumps([f"site{s}.example"]), json.dumps([f"Site {s}"])) for s in range(SITES)])
    weights = 1.0 / np.arange(1, SITES + 1) ** 0.8
    weights = list(weights / weights.sum())
    sig = bytes(4 * 128)
    doc_id, docs_rows, links, claims = 0, [], [], []

    def add(site, title, paras, published, chrome_lines):
        nonlocal doc_id
        doc_id += 1
        text = "\n".join(paras)
        docs_rows.append((doc_id, f"https://site{site}.example/{doc_id}", f"site{site}", title, published and iso(published),
                          iso((published or EPOCH) + timedelta(hours=1)), "bench/serve.py", text,
                          json.dumps(chrome_lines), f"h{doc_id}", len(text.split()), len(text.split()) - 4, sig))
        return doc_id

    def group(size: int, when: datetime):
        title, paras = gen.article()
        origin_site = rng.choices(range(SITES), weights)[0]
        origin = add(origin_site, title, paras, when, chrome[origin_site][:1])
        for _ in range(size - 1):
            site = rng.choices(range(SITES), weights)[0]
            kind = rng.choices(["copy", "excerpt", "duplicate"], [6, 3, 1])[0]
            text = list(paras)
            if kind == "excerpt":
                text = text[: rng.randint(1, max(1, len(text) // 3))]
            elif kind == "copy":
                k = rng.randrange(len(text))
                words = text[k].split()
                words[rng.randrange(len(words))] = "edited"
                text[k] = " ".join(words)
            attribution = rng.random() < 0.4
            if attribution:
                text.append(f"Originally appeared at Site {origin_site}")
            delay = timedelta(hours=rng.expovariate(1 / 18))
            published = when + delay if rng.random() > 0.07 else None
            copy = add(site, title, text, published, chrome[site])
            links.append((copy, origin, "duplicate" if kind == "duplicate" else kind, rng.uniform(0.3, 1), rng.uniform(0.85, 1),
                          "attribution claim" if attribution else "earliest publication date"))
            if attribution:
                claims.append((copy, "attribution", f"site{origin_site}", f"Site {origin_site}", None, text[-1]))

    group(BIG_GROUP, EPOCH + timedelta(days=30))
    while doc_id < docs:
        when = EPOCH + timedelta(minutes=5 * doc_id)
        if rng.random() < 0.12:
            group(min(rng.randint(2, 7), docs - doc_id), when)
        else:
            title, paras = gen.article()
            site = rng.choices(range(SITES), weights)[0]
            add(site, title, paras, when, chrome[site][: rng.randint(0, 2)])
        if len(docs_rows) >= 5000:
            flush(conn, docs_rows, links, claims)
    flush(conn, docs_rows, links, claims)
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    Store(tmp).close()  # the triggers (and any migration) back, through the store
    tmp.rename(path)
    return {"documents": doc_id, "seconds": time.perf_counter() - started}


def flush(conn, docs_rows, links, claims) -> None:
    with conn:
        conn.executemany("INSERT INTO documents (id, url, site, title, published, fetched, source, text, chrome, content_hash,"
                         " words, shingles, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", docs_rows)
        conn.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?, ?)", links)
        conn.executemany("INSERT INTO claims (doc_id, kind, claimed_site, claimed_name, claimed_url, evidence) VALUES (?, ?, ?, ?, ?, ?)", claims)
    docs_rows.clear(), links.clear(), claims.clear()


def timed_get(url: str, repeat: int) -> tuple[float, int, int]:
    """(median seconds, status, bytes) of GET url, after one warm-up request."""
    times, status, size = [], 0, 0
    for i in range(repeat + 1):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=120) as r:
                body, status = r.read(), r.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        if i:
            times.append(time.perf_counter() - started)
        size = len(body)
    return statistics.median(times), status, size


def pages(conn: sqlite3.Connection, name: str) -> list[tuple[str, str, float]]:
    """(what, path, target seconds) of every page measured."""
    small = conn.execute("SELECT copy_id FROM links WHERE origin_id != 1 LIMIT 1 OFFSET 500").fetchone()[0]
    member = conn.execute("SELECT copy_id FROM links WHERE origin_id = 1 ORDER BY copy_id LIMIT 1 OFFSET 700").fetchone()[0]
    site = conn.execute("SELECT site FROM documents WHERE id = ?", (member,)).fetchone()[0]
    url = conn.execute("SELECT url FROM documents WHERE id = ?", (small,)).fetchone()[0]
    word = conn.execute("SELECT title FROM documents WHERE id = 5000").fetchone()[0].split()[0]
    conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, documents_fts, row)")
    common = [t for t, in conn.execute("SELECT term FROM temp.terms ORDER BY doc DESC LIMIT 2")]  # in every document
    q = urllib.parse.quote
    out = [
        ("home", "/", 1), ("database", f"/{name}", 1),
        ("documents (facet: site)", f"/{name}/documents", 1),
        ("documents, facets site and day published", f"/{name}/documents?_facet=site&_facet_date=published", 1),
        ("documents, search", f"/{name}/documents?_search={q(word)}", 1),
        ("documents, search for words in every document", f"/{name}/documents?_search={q(' '.join(common))}", 1),
        ("documents, one site, sorted by published", f"/{name}/documents?site=site3&_sort_desc=published", 1),
        ("document row", f"/{name}/documents/{small}", 1),
        ("lineage view (facet: relation)", f"/{name}/lineage", 1),
        ("lineage view, facets relation, origin and copy site", f"/{name}/lineage?_facet=relation&_facet=origin_site&_facet=copy_site", 1), ("lineage view, relation=excerpt", f"/{name}/lineage?relation=excerpt", 1),
        ("links", f"/{name}/links", 1), ("claims", f"/{name}/claims", 1), ("sites", f"/{name}/sites", 1),
        ("sites row (links from other tables)", f"/{name}/sites/site3", 1),
        ("site_chrome view", f"/{name}/site_chrome", 1),
        ("documents.json, 100 rows", f"/{name}/documents.json?_size=100", 1),
    ]
    for query, params in [("most_syndicated_origins", ""), ("site_pairs", ""), ("copy_delay", ""),
                          ("copies_of_url", f"?url={q(url)}"), ("claims_without_origin", ""),
                          ("chrome_per_site", "?site=site3"), ("chrome_per_site", "?site="),
                          ("search", f"?q={q(word)}"), ("search", f"?q={q(' '.join(common))}"), ("search", "?q=" + q("Site 3's e-mail U.S. AND"))]:
        out.append((f"canned: {query}{' ' + urllib.parse.unquote(params) if params else ''}", f"/{name}/{query}{params}", 1))
    out += [
        ("lineage page, small group", f"/-/lineage/{small}", 1),
        ("lineage index (largest groups)", "/-/lineage", 1),
        (f"lineage page, {BIG_GROUP}-member group", f"/-/lineage/{member}", 2),
        (f"lineage page, {BIG_GROUP}-member group, page 30", f"/-/lineage/{member}?page=30", 2),
        (f"lineage page, {BIG_GROUP}-member group, one site", f"/-/lineage/{member}?site={site}", 2),
        (f"lineage JSON, {BIG_GROUP}-member group", f"/-/lineage/{member}.json", 2),
    ]
    return out


def serve(db: Path):
    proc = subprocess.Popen(Collector(db).argv("serve", "--port", "0"),
                            cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    base = re.search(r"at (http://\S+)/", proc.stderr.readline()).group(1)
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    return proc, base


def cli(db: Path, *args) -> float:
    return Collector(db).run(*args).seconds


def prepared(docs: int, seed: int) -> Path:
    """The cached database of ``docs`` documents, built if absent, migrated to the current schema."""
    OUT.mkdir(exist_ok=True)
    db = OUT / f"serve-{docs}.db"
    if not db.exists():
        built = build(db, docs, seed)
        print(f"built {db.name}: {built['documents']:,} documents in {built['seconds']:.0f} s", file=sys.stderr)
    Store(db).close()  # a cached database gets the migrations added since it was built
    return db


def page_rows(db: Path, measured: list, repeat: int) -> list[list]:
    proc, base = serve(db)
    rows = []
    try:
        for what, path, target in measured:
            seconds, status, size = timed_get(base + path, repeat)
            ok = "yes" if status == 200 and seconds < target else "NO"
            rows.append([what, f"{seconds * 1000:,.0f}", f"< {target} s", status, f"{size / 1024:,.0f}", ok])
            print(f"  {what}: {seconds * 1000:,.0f} ms", file=sys.stderr, flush=True)
    finally:
        proc.terminate()
        proc.wait()
    return rows


def command_rows(db: Path, docs: int) -> list[list]:
    tmp = OUT / "serve-tmp"
    tmp.mkdir(exist_ok=True)
    extra = [
        ("collector report", cli(db, "report", "--out", str(OUT / f"serve-{docs}-report.html")), 60),
        ("collector report --since (last 30 days)", cli(db, "report", "--out", str(tmp / "r.html"), "--since", "2024-12-01"), 60),
        ("collector export documents --format csv", cli(db, "export", "documents", "-o", str(tmp / "d.csv")), None),
        ("collector export documents --format parquet", cli(db, "export", "documents", "--format", "parquet", "-o", str(tmp / "d.parquet")), None),
        ("collector export lineage --format jsonl", cli(db, "export", "lineage", "--format", "jsonl", "-o", str(tmp / "l.jsonl")), None),
        ("collector search (CLI)", cli(db, "search", "Site", "3's", "--limit", "20"), None),
    ]
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return [[what, f"{s:,.1f}", f"< {t} s" if t else "", ("yes" if s < t else "NO") if t else ""] for what, s, t in extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    db = prepared(args.docs, args.seed)
    conn = sqlite3.connect(db)
    figures = conn.execute("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM links), (SELECT count(*) FROM claims)").fetchone()
    measured = pages(conn, db.stem)
    conn.close()
    rows = page_rows(db, measured, args.repeat)
    cli_rows = command_rows(db, args.docs)
    with Report(f"serve-{args.docs}") as report:
        print(f"# Serving benchmark ({figures[0]:,} documents, {figures[1]:,} links, {figures[2]:,} claims; "
              f"median of {args.repeat} requests after a warm-up)\n")
        report.table(["page (over HTTP, collector serve)", "ms", "target", "status", "KB", "met"], rows)
        print("\nWall time of the commands (one run each; the search and the Python start-up included):\n")
        report.table(["command", "s", "target", "met"], cli_rows)


if __name__ == "__main__":
    main()
