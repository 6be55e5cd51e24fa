"""The loader: generated documents through the genuine extract, clean and attribute stages
(a process pool), and the rows the store and learn stages would write, bulk-inserted into a
database the real ``Store`` created (see ``Loader``)."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import queue
import sqlite3
import time
from pathlib import Path

import numpy as np

from bench.common.paths import CONFIGS, OUT
from bench.scale.generate import CHECK_EVERY, COMMIT_DOCS, DOC_COLUMNS, corpus_records, generator, signatures
from collector.context import build_settings
from collector.core.document import Document
from collector.core.sites import Sites
from collector.storage.lsh import BANDS, ROWS
from collector.storage import Store
from pipelines.attribute import AttributePipeline
from pipelines.clean import CleanPipeline
from pipelines.extract import ExtractPipeline, content_hash, iso_date
from pipelines.learn import LearnChromePipeline


class LoaderMemory:
    """The store's parts the extract, clean and learn stages use, for a corpus loaded from
    nothing: no content known (``DocumentStore``), no chrome learned, and the learn stage's
    sightings recorded (``ChromeMemory``; each line seen once: generated articles share no
    lines, so nothing is ever learned and the learn stage never re-cleans or re-links)."""

    def __init__(self):
        self.sightings: list[tuple] = []

    def has_content(self, content_hash):
        return False

    def learned(self, site):
        return set()

    def record_sightings(self, site, doc_id, key, line_hashes):
        self.sightings.extend((site, h, doc_id, key) for h in line_hashes)

    def sighting_counts(self, site, line_hashes):
        return {h: 1 for h in line_hashes}

    def site_document_count(self, site):
        return 0


_STAGES: list = []
_LEARN: list = []


def stages() -> list:
    """The genuine extract, clean and attribute stages with collector's default settings and
    the repository's site configs, and the learn stage (whose memory only records what it
    would write to ``line_sightings``; it never learns here, so it needs no linker)."""
    if not _STAGES:
        sites, memory = Sites.load(CONFIGS), LoaderMemory()
        mode = build_settings().get("COLLECTOR_EXTRACTION")  # collector's default, as the CLI has it
        _STAGES.extend([ExtractPipeline(sites, memory, mode), CleanPipeline(sites, memory), AttributePipeline(sites)])
        _LEARN.append(LearnChromePipeline(memory, memory, linker=None))
    return _STAGES


def band_values(values: np.ndarray) -> np.ndarray:
    """The 64 bucket keys of ``LSHIndex.band_keys`` for rows of signature values, vectorised
    exactly as it does it (checked against it in ``verify``)."""
    return np.ascontiguousarray(values[:, : BANDS * ROWS].astype(">u4")).view(">i8").astype(np.int64)


PLAIN = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .\n")


def plain(text: str) -> bool:
    """Letters, single spaces, periods and single newlines, no line with spaces at its ends:
    the clean stage's ``split_lines`` gives such a text back unchanged, and no line of it can
    be an attribution claim (every claim phrasing needs a word, URL or colon it cannot hold...
    checked anyway: every CHECK_EVERY-th document goes through the genuine stages)."""
    return (not text.translate(PLAIN) and "  " not in text and "\n\n" not in text and " \n" not in text
            and "\n " not in text and text[:1] != " " and text[-1:] != " ")


def genuine(rec: dict, source: str) -> dict:
    """What the genuine extract, clean and attribute stages make of a generated record."""
    item = Document(url=rec["url"], source=f"{source} doc {rec['id']}", site=rec["site"], title=rec["title"],
                   published=rec["published"], fetched=rec["fetched"], first_line_is_title=False, text=rec["text"])
    for stage in stages():
        item = stage.process_item(item)
    item = dict(item)
    item.pop("lines", None)  # the text split once for the stages after clean: not stored
    return item


def shortcut(rec: dict, source: str) -> dict:
    """What extract, clean and attribute make of a generated text (see ``plain``)."""
    return {"url": rec["url"], "source": f"{source} doc {rec['id']}", "site": rec["site"], "title": rec["title"],
            "published": iso_date(rec["published"]) or rec["published"], "fetched": rec["fetched"],
            "first_line_is_title": False, "text": rec["text"], "chrome": [], "claims": [],
            "content_hash": content_hash(rec["url"], rec["text"], rec["title"]),
            "published_from": "source" if rec["published"] else None}


def prepare(records: list[dict], source: str = "bench/scale.py") -> dict:
    """Rows of ``records`` as the store and learn stages write them. The extract, clean and
    attribute stages run for real on every CHECK_EVERY-th document and on any text out of the
    ordinary; the others take the short cut ``shortcut``, checked equal on those documents."""
    stages()
    items = []
    for n, rec in enumerate(records):
        if n % CHECK_EVERY == 0 or not plain(rec["text"]) or not rec["title"]:
            item = genuine(rec, source)
            if plain(rec["text"]) and rec["title"]:
                short = shortcut(rec, source)
                assert {k: item.get(k) for k in short} == short and set(item) <= set(short), (item, short)
        else:
            item = shortcut(rec, source)
        items.append(item)
    values, counts = signatures([item["text"] for item in items])
    rows, sightings, claims = [], [], []
    for rec, item, sig, count in zip(records, items, values, counts):
        text, doc_id = item["text"], rec["id"]
        row = {
            "id": doc_id, "url": item["url"], "site": item["site"], "title": item.get("title"),
            "author": item.get("author"), "published": item.get("published"), "fetched": item.get("fetched"),
            "source": item.get("source"), "text": text,
            "chrome": json.dumps(item.get("chrome") or [], ensure_ascii=False),
            "canonical_url": item.get("canonical_url"), "sitename": item.get("sitename"), "language": item.get("language"),
            "content_hash": item["content_hash"], "words": len(text.split()), "shingles": int(count),
            "signature": sig.tobytes(),  # = signature_bytes(minhash): the uint32 values, native order
            "published_from": item.get("published_from"),
        }
        rows.append(tuple(row[c] for c in DOC_COLUMNS))
        for c in item.get("claims") or []:
            claims.append((doc_id, c["kind"], c.get("claimed_site"), c.get("claimed_name"), c.get("claimed_url"), c["evidence"]))
        # The learn stage itself says what it records (its memory is a LoaderMemory).
        _LEARN[0].chrome.sightings = sightings
        learned = _LEARN[0].process(dict(item, doc_id=doc_id))
        assert learned.get("text") == text and not learned.get("new_links"), "the learn stage changed a generated document"
    return {"rows": rows, "bands": band_values(values), "ids": np.array([r["id"] for r in records], dtype=np.int64),
            "sightings": sightings, "claims": claims}


def work(task):
    chunk, docs, seed = task
    started = time.process_time()
    records = corpus_records(generator(), seed, chunk, docs)
    generated = time.process_time()
    out = prepare(records)
    out["seconds"] = (generated - started, time.process_time() - generated)  # CPU
    return out


def fts_writer(path: str, create_sql: str, batches, done) -> None:
    """A process that indexes (rowid, title, text) batches into an FTS5 table of its own
    database, made with the very statement sqlite-utils made the real one with; its shadow
    tables are copied into the corpus database at the end (``Loader.finish``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute(create_sql)
    conn.execute("BEGIN")
    while True:
        batch = batches.get()
        if batch is None:
            break
        # What the store does for each batch of new documents (DocumentStore.index_new).
        conn.executemany('INSERT INTO "documents_fts" (rowid, "title", "text") VALUES (?, ?, ?)', batch)
    conn.execute("COMMIT")
    conn.close()
    done.put(time.process_time())


FTS_TRIGGERS_SQL = ("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'documents' "
                    "AND sql LIKE '%documents_fts%' ORDER BY name")


class Loader:
    """Writes prepared batches into a database the real ``Store`` created.

    The full-text index is what costs: ~0.4 ms a document, 20 times the rest of the insert.
    So the update/delete triggers are dropped for the load (their SQL kept), a process
    of its own indexes the documents into an FTS5 table of the same definition in a scratch
    database while the pool generates and this process inserts, and at the end its shadow tables
    (``documents_fts_data``, ``_idx``, ``_docsize``, ``_config``) are copied over and the triggers
    recreated from their own SQL. The result is the index the triggers would have built
    (FTS5 'integrity-check' compares it with the documents; see ``verify``). Rows of
    ``lsh_buckets`` and ``line_sightings`` are kept and written at the end in primary-key order.
    """

    def __init__(self, path: Path):
        self.path = path
        self.fts_path = Path(f"{path}.fts")
        for p in (path, self.fts_path):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
        store = Store(path)
        store.sync_sites(Sites.load(CONFIGS))
        store.close()
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=DELETE")
        self.conn.execute("PRAGMA journal_mode=OFF")  # a failed build is deleted, never resumed
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-1048576")
        # The full-text index's triggers only; the others (chrome_counts) fire as on any insert.
        self.triggers = self.conn.execute(FTS_TRIGGERS_SQL).fetchall()
        assert [t[0] for t in self.triggers] == ["documents_ad", "documents_au"], self.triggers
        for name, _ in self.triggers:
            self.conn.execute(f'DROP TRIGGER "{name}"')
        create = self.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'documents_fts'").fetchone()[0]
        ctx = multiprocessing.get_context("fork")
        self.fts_batches, self.fts_done = ctx.Queue(maxsize=8), ctx.Queue()
        self.fts = ctx.Process(target=fts_writer, args=(str(self.fts_path), create, self.fts_batches, self.fts_done),
                               name="scale-fts", daemon=True)
        self.fts.start()
        self.bands, self.ids, self.sightings, self.sites = [], [], [], set()
        self.pending = 0
        self.text_bytes = 0
        self.times = {"documents": 0.0}
        self.conn.execute("BEGIN")

    def add(self, batch: dict) -> None:
        started = time.perf_counter()
        marks = ", ".join("?" * len(DOC_COLUMNS))
        new_sites = {r[2] for r in batch["rows"]} - self.sites
        self.conn.executemany("INSERT OR IGNORE INTO sites (key, name) VALUES (?, ?)", [(s, s) for s in sorted(new_sites)])
        self.sites |= new_sites
        self.conn.executemany(f"INSERT INTO documents ({', '.join(DOC_COLUMNS)}) VALUES ({marks})", batch["rows"])
        self.conn.executemany(
            "INSERT INTO claims (doc_id, kind, claimed_site, claimed_name, claimed_url, evidence) VALUES (?, ?, ?, ?, ?, ?)",
            batch["claims"])
        i_id, i_title, i_text = DOC_COLUMNS.index("id"), DOC_COLUMNS.index("title"), DOC_COLUMNS.index("text")
        self._to_fts([(r[i_id], r[i_title], r[i_text]) for r in batch["rows"]])
        self.text_bytes += sum(len(r[i_text].encode("utf-8")) for r in batch["rows"])
        self.bands.append(batch["bands"])
        self.ids.append(batch["ids"])
        self.sightings.extend(batch["sightings"])
        self.pending += len(batch["rows"])
        if self.pending >= COMMIT_DOCS:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
            self.pending = 0
        self.times["documents"] += time.perf_counter() - started

    def _to_fts(self, batch) -> None:
        while True:
            try:
                self.fts_batches.put(batch, timeout=5)
                return
            except queue.Full:
                if not self.fts.is_alive():
                    raise RuntimeError(f"the FTS5 index process died (exit code {self.fts.exitcode})")

    def finish(self) -> dict:
        conn = self.conn
        self._to_fts(None)  # the index process finishes its queue meanwhile
        started = time.perf_counter()
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        ids = np.concatenate(self.ids) if self.ids else np.empty(0, np.int64)
        bands = np.concatenate(self.bands) if self.bands else np.empty((0, BANDS), np.int64)
        self.bands = self.ids = None
        sql = "INSERT INTO lsh_buckets (band, bucket, doc_id) VALUES (?, ?, ?)"
        step = 1_000_000
        for band in range(BANDS):
            column = bands[:, band]
            order = np.lexsort((ids, column))  # by bucket, then doc_id
            keys, docs = column[order], ids[order]
            for lo in range(0, len(order), step):
                conn.executemany(sql, zip(itertools.repeat(band), keys[lo:lo + step].tolist(), docs[lo:lo + step].tolist()))
        del bands
        conn.execute("COMMIT")
        self.times["lsh_buckets"] = time.perf_counter() - started
        started = time.perf_counter()
        self.sightings.sort()  # the primary key's order: (site, line_hash, doc_id)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO line_sightings (site, line_hash, doc_id, title_key) VALUES (?, ?, ?, ?)", self.sightings)
        conn.execute("COMMIT")
        self.sightings = None
        self.times["line_sightings"] = time.perf_counter() - started
        started = time.perf_counter()
        self.times["fts_cpu"] = self.fts_done.get()
        self.fts.join()
        self.times["fts_wait"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ATTACH ? AS fts", (str(self.fts_path),))
        conn.execute("BEGIN")
        for shadow in ("data", "idx", "docsize", "config"):
            conn.execute(f"DELETE FROM main.documents_fts_{shadow}")
            conn.execute(f"INSERT INTO main.documents_fts_{shadow} SELECT * FROM fts.documents_fts_{shadow}")
        for _, sql_text in self.triggers:
            conn.execute(sql_text)
        conn.execute("COMMIT")
        conn.execute("DETACH fts")
        self.fts_path.unlink()
        self.times["fts_copy"] = time.perf_counter() - started
        after = conn.execute(FTS_TRIGGERS_SQL).fetchall()
        assert after == self.triggers, "FTS triggers differ from the ones sqlite-utils made"
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
        return self.times


def groups_path(docs: int, suffix: str) -> Path:
    return OUT / f"scale-{docs}-groups{suffix}"


def build_from_records(path: Path, records: list[dict]) -> float:
    started = time.perf_counter()
    loader = Loader(path)
    loader.add(prepare(records))
    loader.finish()
    return time.perf_counter() - started
