"""Known databases for the web, export and report tests.

``build_known`` runs fictional articles through the real pipeline, so its lineage is what the
linker decides: one story of The Daily Ledger copied by Harbour Watch (edited, with a banner
stripped and an attribution line), excerpted by Coastal Digest, copied by Morning Wire and
duplicated there; an unrelated story holding the words people type badly into search boxes;
and a story claiming an origin that is not in the corpus.

``build_big_group`` writes one group of N members straight into the schema (for paging and
collapsing), with dates, relations and texts varied by a seed.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import REPO
from textgen import article

from collector.context import Context
from collector.ingest import run_items
from collector.core.document import Document
from collector.storage import Store

DL = "https://dailyledger.example/"
HW = "https://harbourwatch.example/"
CD = "https://coastaldigest.example/"
MW = "https://morningwire.example/"
BANNER = "Keep Harbour Watch independent - donate today!"  # configured chrome of harbourwatch
TYPED = "Trump's covid-19 plan for the U.S. reached every e-mail inbox, AND it said NOT much."
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def item(url, seed, *, text=None, title=None, hours=None, top=(), bottom=(), cut=None):
    t, paras = article(seed)
    if cut is not None:
        paras = paras[:cut]
    return Document(url=url, source=url, title=title or t, text=text if text is not None else "\n".join([*top, *paras, *bottom]),
                   published=at(hours) if hours is not None else None, fetched=at(200))


def build_known(db_path: Path, config_dir: Path) -> dict:
    """The known database; returns the URLs and edits the tests look for."""
    _, paras = article(1)
    edited = [p.replace("thousand", "thousand dollars", 1) for p in paras[:-1]]
    items = [
        item(DL + "a", 1, hours=0),
        item(HW + "a", 1, title="A new title for the same story", hours=2,
             text="\n".join([BANNER, *edited, "Originally appeared at The Daily Ledger"])),
        item(CD + "a", 1, cut=2, bottom=["Read more at The Daily Ledger"], hours=3),
        item(MW + "a", 1, hours=5),
        item(MW + "amp/a", 1, hours=5),
        item(DL + "b", 2, hours=1, bottom=[TYPED]),
        item(CD + "c", 3, hours=30, bottom=["Originally appeared at The Nowhere Times"]),
    ]
    context = Context({"COLLECTOR_DB": str(db_path), "COLLECTOR_CONFIG": str(config_dir)})
    try:
        summary = run_items(items, context)
    finally:
        context.close()
    assert summary.new == len(items), summary.as_dict()
    return {"origin": DL + "a", "copy": HW + "a", "excerpt": CD + "a", "mw": MW + "a", "dup": MW + "amp/a",
            "typed": DL + "b", "orphan": CD + "c", "last_paragraph": paras[-1]}


def build_big_group(db_path: Path, members: int = 1000, sites: int = 30, seed: int = 7) -> dict:
    """One origin and ``members - 1`` copies over ``sites`` sites, written straight into the schema."""
    Store(db_path).close()  # the schema, by the store's migrations
    rng = random.Random(seed)
    t, paras = article(seed, paragraphs=8)
    conn = sqlite3.connect(db_path)
    sig = bytes(4 * 128)
    rows, links = [], []
    for i in range(1, members + 1):
        site = "origin-site" if i == 1 else f"site{rng.randrange(sites):02d}"
        text = list(paras)
        relation = "origin"
        if i > 1:
            relation = rng.choice(["copy", "copy", "excerpt", "duplicate"])
            if relation == "excerpt":
                text = text[: rng.randint(1, 3)]
            elif relation == "copy":
                k = rng.randrange(len(text))
                text[k] = text[k].replace("thousand", f"thousand and {i}", 1)
        hours = 0 if i == 1 else rng.uniform(0.2, 24 * 20)
        published = at(hours) if i == 1 or rng.random() > 0.05 else None
        rows.append((i, f"https://{site}.example/story/{i}", site, t if i == 1 else f"{t} ({site})", published, at(500),
                     "\n".join(text), json.dumps([f"Follow {site} for more"]), f"h{i}", sig))
        if i > 1:
            links.append((i, 1, relation if relation != "duplicate" else "copy", rng.uniform(0.3, 1), rng.uniform(0.8, 1),
                          "earliest publication date"))
    with conn:
        conn.executemany("INSERT OR IGNORE INTO sites (key, name) VALUES (?, ?)", [(r[2], r[2]) for r in rows])
        conn.executemany("INSERT INTO documents (id, url, site, title, published, fetched, text, chrome, content_hash, words,"
                         " shingles, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 100, 100, ?)", rows)
        conn.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?, ?)", links)
    conn.close()
    return {"members": members, "sites": len({r[2] for r in rows}) - 1}


def start_server(db, *args):
    """`collector serve --port 0` in a subprocess; returns (process, base URL) once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "collector", "--db", str(db), "serve", "--port", "0", *args],
                            cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    line = proc.stderr.readline()
    found = re.search(r"at (http://\S+/)", line)
    if not found:
        proc.kill()
        raise AssertionError(f"serve did not start: {line}{proc.stderr.read()}")
    base = found.group(1).rstrip("/")
    for _ in range(100):  # uvicorn takes the socket a moment after it is bound
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    return proc, base


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def known_database(folder, db=None) -> dict:
    """The known database of ``build_known`` in ``folder``, with the repo's and the example
    sites' configs: its path, URLs by name, document ids by name, config folder."""
    import shutil

    from conftest import REPO, rows

    config = folder / "configs"
    shutil.copytree(REPO / "configs", config)
    for site in (REPO / "examples" / "configs" / "sites").glob("*.yaml"):
        shutil.copy(site, config / "sites" / site.name)
    db = db or folder / "known.db"  # or a PostgreSQL URL
    urls = build_known(db, config)
    ids = {k: rows(db, "SELECT id FROM documents WHERE url = ?", (u,))[0]["id"] for k, u in urls.items() if u.startswith("http")}
    return {"db": db, "urls": urls, "ids": ids, "config": config, "folder": folder}
