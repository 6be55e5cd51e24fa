"""Scale benchmark: a generated corpus of a million documents with Zipf-sized lineage groups,
and what it costs to link into it.

    .venv/bin/python bench/scale.py [--docs 1000000] [--new 1000] [--keep] [--workers 2]
                                    [--group-share 0.15] [--largest 1250]

1. **Build** (once; cached as ``bench/out/scale-<docs>.db``, with ``scale-<docs>.json`` beside
   it) a database of ``--docs`` documents. Most are generated articles (``bench/corpusgen.py``:
   Zipf vocabulary of invented words, 200-1,200 words; nobody's text) spread over 50 sites
   (``site17``, ``https://site17.example/N``), through the real schema (``collector.store.Store``
   creates it) but with a bulk loader: a process pool generates each article and runs the
   genuine extract, clean, attribute and fingerprint stages on it; the main process writes the
   rows the store and learn stages would write (``documents``, ``lsh_buckets`` with the keys of
   ``SQLiteLSH.band_keys``, ``line_sightings``, ``sites``) in big transactions, the LSH rows
   sorted by (band, bucket, doc_id), the full-text index with one FTS5 'rebuild' (its triggers
   dropped during the load and recreated from their own SQL). A sample of 100 documents is
   then imported with the real ``collector import`` into a scratch database and compared
   column by column, bucket by bucket: the loader must store what the pipeline stores.
   Then **lineage groups** (``--group-share`` of the corpus, 15%): sizes follow a Zipf law,
   rank r has ``--largest / r**a`` members (1,250 for the largest; ``a`` chosen for the
   share), each around a corpus document, its reposts on 2,000 other sites (lightly edited
   copies, half crediting their source, excerpts with "Read more at", some copies and
   duplicates of other reposts), all groups interleaved at random in one JSONL file imported
   with the real ``collector import``: groups, links, claims and LSH rows are the pipeline's
   own. The link stage's cost per repost, by the size of the group it joined, is reported.
2. **Link 1,000 new documents** (``--new``; 80% fresh articles, 20% copies, excerpts and
   same-site duplicates: three quarters of them of members of stored groups, as many into
   groups of 2-9, 10-99, 100-999 and 1,000+ members, half of those copying the origin and half
   a repost; the rest of stored singletons) with the real ``collector import --json``, into
   (a) a database holding what those copies need: the singletons' originals (by the same
   loader) and every group they join, its reposts imported from the same JSONL lines as in
   (b) (the groups' links are compared: identical, ids aside), and (b) the big database (a
   scratch copy of it; with ``--keep``, the cached one itself). Same JSONL file, so both runs
   make the same links. Wall time, documents/s, CPU time and peak RSS of the process
   (``os.wait4``), where the time goes (a ``sitecustomize`` hook times every stage and the
   store's calls, and each document's linking; it changes no behaviour), and the link stage's
   cost per new document by the size of the group it joins, in (a) and in (b).
3. **First link in a new process**: the wall time of importing one copy into the big database,
   and when linking starts; ``Store(path)`` opened alone in a new process.
4. **LSH query latency** at N: ``SQLiteLSH.query`` over 1,000 signatures (half of stored
   documents, half fresh), p50/p99, and candidates per query.
5. **Bytes per document** (``dbstat``): text, signatures, LSH index, full-text index, other.

Tables go to stdout and ``bench/out/scale-<docs>-report.md``. Everything runs in one go, so the
ratios compare runs on the same machine under the same load.
"""

from __future__ import annotations

import argparse
import collections
import inspect
import itertools
import json
import math
import multiprocessing
import os
import platform
import queue
import re
import shutil
import statistics
import sqlite3
import subprocess
import sys
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
CONFIGS = REPO / "configs"
CLI = REPO / ".venv" / "bin" / "collector"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from corpusgen import Generator  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.core.document import Document  # noqa: E402
from collector.lsh import BANDS, RECENT_DOCUMENTS, ROWS, SQLiteLSH  # noqa: E402
from collector.core.sites import Sites  # noqa: E402
from collector.store import Store  # noqa: E402
from pipelines.attribute import AttributePipeline  # noqa: E402
from pipelines.clean import CleanPipeline, split_lines  # noqa: E402
from pipelines.extract import ExtractPipeline, content_hash, iso_date  # noqa: E402
from datasketch.minhash import _fmix  # noqa: E402

from collector.core.fingerprint import (  # noqa: E402
    _POWERS, _TEMPLATE, FINGERPRINT, NUM_PERM, SHINGLE_SIZE, _fmix64, fingerprint, signature_from_bytes)
from pipelines.learn import LearnChromePipeline  # noqa: E402

SITES = 50
CHUNK = 2000                 # documents per pool task
COMMIT_DOCS = 50_000         # documents per loader transaction
SAMPLE = 100                 # documents checked against the real pipeline
COPY_SHARE = 0.2             # of --new: copies of stored documents
EPOCH = datetime(2016, 1, 1, tzinfo=timezone.utc)
DOC_COLUMNS = ("id", "url", "site", "title", "author", "published", "fetched", "source", "text", "chrome",
               "canonical_url", "sitename", "language", "content_hash", "words", "shingles", "signature",
               "published_from")
#: Compared between the loader's rows and the pipeline's ("source" names the input file).
COMPARED = [c for c in DOC_COLUMNS if c not in ("id", "source")]


# --- generated documents --------------------------------------------------------------------

def make_generator() -> Generator:
    """corpusgen's Generator with its vocabulary in a fixed order. ``vocabulary()`` sorts a set
    of words by length only, so words of one length come in the set's order, which string-hash
    randomisation changes from process to process; the corpus must be the same in every
    process (the pool's workers, a later run re-checking the cache), so ties go alphabetically."""
    gen = Generator(seed=0)
    gen.vocab = np.array(sorted(gen.vocab.tolist(), key=lambda w: (len(w), w)))
    return gen


def site_weights() -> np.ndarray:
    w = 1.0 / np.arange(1, SITES + 1) ** 0.8   # a few big sites, many small ones
    return w / w.sum()


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def corpus_records(gen: Generator, seed: int, chunk: int, docs: int) -> list[dict]:
    """The articles of one chunk, ids chunk*CHUNK+1.., the same whoever generates them."""
    gen.rng = np.random.default_rng([seed, 1, chunk])
    start, stop = chunk * CHUNK, min(docs, (chunk + 1) * CHUNK)
    sites = gen.rng.choice(SITES, size=stop - start, p=site_weights())
    crc = vocab_crc(gen.vocab)
    out = []
    for i, doc_id in enumerate(range(start + 1, stop + 1)):
        title, paragraphs, word_ids = article_with_ids(gen)
        published = EPOCH + timedelta(minutes=5 * doc_id)
        out.append({
            "id": doc_id,
            "url": f"https://site{sites[i]}.example/{doc_id}",
            "site": f"site{sites[i]}",
            "title": title,
            "published": iso(published),
            "fetched": iso(published + timedelta(hours=2)),
            "text": "\n".join(paragraphs),
            "word_hashes": crc[word_ids],  # crc32 of each word of the text, in order
        })
    return out


def article_with_ids(gen: Generator) -> tuple[str, list[str], np.ndarray]:
    """``gen.article()``, step for step (the same random draws, the same text), plus the
    vocabulary index of every word of the text: the text's tokens are ``gen.vocab[ids]``
    (checked against ``Generator.article`` in ``check_generator``)."""
    total = int(gen.rng.integers(200, 1200))
    paragraphs = int(np.clip(total // 60, 4, 20))
    ids = np.searchsorted(gen.cdf, gen.rng.random(total))
    words = gen.vocab[ids].tolist()
    cuts = np.linspace(0, total, paragraphs + 1).astype(int)
    paras = [" ".join(words[a:b]).capitalize() + "." for a, b in zip(cuts[:-1], cuts[1:])]
    title = " ".join(gen.words(int(gen.rng.integers(5, 12)))).capitalize()
    return title, paras, ids


def check_generator(gen: Generator, n: int = 200) -> None:
    a, b = Generator.__new__(Generator), Generator.__new__(Generator)
    for g in (a, b):
        g.vocab, g.cdf, g.rng = gen.vocab, gen.cdf, np.random.default_rng(12345)
    for _ in range(n):
        title, paras, ids = article_with_ids(a)
        assert (title, paras) == b.article(), "article_with_ids no longer follows corpusgen.Generator.article"
        assert " ".join(paras).lower().replace(".", "").split() == gen.vocab[ids].tolist()


def jsonl_line(rec: dict) -> str:
    return json.dumps({k: rec[k] for k in ("url", "site", "title", "published", "fetched", "text")}, ensure_ascii=False)


# --- the loader: the genuine stages before the store, then the store's rows ---------------

class _LoaderStore:
    """What the extract, clean and learn stages ask the store, for a corpus loaded from
    nothing: no content known, no chrome learned, and the learn stage's sightings recorded
    (each line seen once: generated articles share no lines, so nothing is ever learned)."""

    def __init__(self):
        self.sightings: list[tuple] = []

    def has_content(self, content_hash):
        return False

    def learned_chrome(self, site):
        return set()

    def record_sightings(self, site, doc_id, key, line_hashes):
        self.sightings.extend((site, h, doc_id, key) for h in line_hashes)

    def sighting_counts(self, site, line_hashes):
        return {h: 1 for h in line_hashes}

    def site_document_count(self, site):
        return 0


class _Context:
    def __init__(self):
        self.settings = Context().settings  # collector's defaults, as the CLI has them
        self.sites = Sites.load(CONFIGS)
        self.store = _LoaderStore()


_STAGES = None
_LEARN = None
_GEN = None


def _stages():
    """The genuine extract, clean and attribute stages, and the learn stage (whose store
    only records what it would write to ``line_sightings``)."""
    global _STAGES, _LEARN
    if _STAGES is None:
        ctx = _Context()
        _STAGES = [cls.from_context(ctx) for cls in (ExtractPipeline, CleanPipeline, AttributePipeline)]
        _LEARN = LearnChromePipeline.from_context(ctx)
    return _STAGES


def band_values(values: np.ndarray) -> np.ndarray:
    """The 64 bucket keys of ``SQLiteLSH.band_keys`` for rows of signature values, vectorised
    exactly as it does it (checked against it in ``verify``)."""
    return np.ascontiguousarray(values[:, : BANDS * ROWS].astype(">u4")).view(">i8").astype(np.int64)


# --- signatures in batches ---------------------------------------------------------------------
# pipelines.fingerprint.fingerprint(text) costs ~1.1 ms a document here, most of it Python
# work per word and numpy/datasketch overhead per call. The loader knows every word's
# vocabulary index (``article_with_ids``), so the word hashes are one gather from a crc32 table
# of the vocabulary, and the rest is the same arithmetic over 2,000 documents at once: same
# crc32 word hashes, same shingle hashes (fingerprint._POWERS and _fmix64), same datasketch
# affine32 permutations (its own _fmix and the template's a, b). Identical values: every
# CHECK_EVERY-th document is compared with the genuine function, and ``verify`` compares with
# the real pipeline.

CHECK_EVERY = 100
_VOCAB_CRC: dict[int, np.ndarray] = {}


def vocab_crc(vocab: np.ndarray) -> np.ndarray:
    key = id(vocab)
    if key not in _VOCAB_CRC:
        _VOCAB_CRC[key] = np.array([zlib.crc32(w.encode("utf-8")) for w in vocab.tolist()], dtype=np.uint64)
    return _VOCAB_CRC[key]


def batch_fingerprints(texts: list[str], word_hashes: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """(signature values (n, NUM_PERM) uint32, shingle counts): ``fingerprint(text)`` of each
    text, given the crc32 of its words in order (None: the genuine function is used)."""
    n = len(texts)
    values = np.empty((n, NUM_PERM), dtype=np.uint32)
    counts = np.zeros(n, dtype=np.int64)
    fast = [i for i in range(n) if word_hashes[i] is not None and len(word_hashes[i]) >= SHINGLE_SIZE]
    for i in sorted(set(range(n)) - set(fast)):
        m, c = fingerprint(texts[i])
        values[i], counts[i] = m.hashvalues, c
    if not fast:
        return values, counts
    hashes_in = np.concatenate([word_hashes[i] for i in fast])
    lengths = np.array([len(word_hashes[i]) for i in fast])
    shingles = lengths - SHINGLE_SIZE + 1
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    total = len(hashes_in) - SHINGLE_SIZE + 1
    with np.errstate(over="ignore"):
        combined = np.zeros(total, dtype=np.uint64)
        for k in range(SHINGLE_SIZE):
            combined += hashes_in[k : k + total] * _POWERS[k]
        # only the shingles inside one document: shingle j of document d starts at word starts[d] + j
        doc = np.repeat(np.arange(len(fast)), shingles)
        offset = np.repeat(starts - np.concatenate([[0], np.cumsum(shingles)[:-1]]), shingles)
        hashes = _fmix64(combined[np.arange(len(doc)) + offset])
    # The MinHash of a set is the MinHash of any list of its members: duplicates need no
    # removal for the signature, only for the count of distinct shingles.
    bounds = np.concatenate([[0], np.cumsum(shingles)]).tolist()
    top = _fmix((hashes >> np.uint64(32)).astype(np.uint32).reshape(-1, 1), 32)
    a, b = _TEMPLATE.permutations
    initial = np.asarray(_TEMPLATE.hashvalues, dtype=np.uint32)
    out = np.empty((len(fast), NUM_PERM), dtype=np.uint32)
    per_doc = np.empty(len(fast), dtype=np.int64)
    for d in range(len(fast)):  # one document at a time: small temporaries stay in cache
        lo, hi = bounds[d], bounds[d + 1]
        ordered = np.sort(hashes[lo:hi])
        per_doc[d] = 1 + np.count_nonzero(ordered[1:] != ordered[:-1])
        out[d] = np.minimum(initial, (top[lo:hi] * a + b).min(axis=0))
    values[fast] = out
    counts[fast] = per_doc
    for j in range(0, len(fast), CHECK_EVERY):
        m, c = fingerprint(texts[fast[j]])
        if c != counts[fast[j]] or not np.array_equal(np.asarray(m.hashvalues, dtype=np.uint32), values[fast[j]]):
            raise AssertionError(f"batched signature differs from pipelines.fingerprint for document {fast[j]}")
    return values, counts


_PLAIN = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .\n")


def _plain(text: str) -> bool:
    """Letters, single spaces, periods and single newlines, no line with spaces at its ends:
    the clean stage's ``split_lines`` gives such a text back unchanged, and no line of it can
    be an attribution claim (every claim phrasing needs a word, URL or colon it cannot hold...
    checked anyway: every CHECK_EVERY-th document goes through the genuine stages)."""
    return (not text.translate(_PLAIN) and "  " not in text and "\n\n" not in text and " \n" not in text
            and "\n " not in text and text[:1] != " " and text[-1:] != " ")


def _genuine(rec: dict, source: str) -> dict:
    item = Document(url=rec["url"], source=f"{source} doc {rec['id']}", site=rec["site"], title=rec["title"],
                   published=rec["published"], fetched=rec["fetched"], first_line_is_title=False, text=rec["text"])
    for stage in _stages():
        item = stage.process_item(item)
    return dict(item)


def _direct(rec: dict, source: str) -> dict:
    """What extract, clean and attribute make of a generated text (see ``_plain``)."""
    return {"url": rec["url"], "source": f"{source} doc {rec['id']}", "site": rec["site"], "title": rec["title"],
            "published": iso_date(rec["published"]) or rec["published"], "fetched": rec["fetched"],
            "first_line_is_title": False, "text": rec["text"], "chrome": [], "claims": [],
            "content_hash": content_hash(rec["url"], rec["text"], rec["title"]),
            "published_from": "source" if rec["published"] else None}


def prepare(records: list[dict], source: str = "bench/scale.py") -> dict:
    """Rows of ``records`` as the store and learn stages write them. The extract, clean and
    attribute stages run for real on every CHECK_EVERY-th document and on any text out of the
    ordinary; the others take the short cut ``_direct``, checked equal on those documents."""
    _stages()
    items = []
    for n, rec in enumerate(records):
        if n % CHECK_EVERY == 0 or not _plain(rec["text"]) or not rec["title"]:
            item = _genuine(rec, source)
            if _plain(rec["text"]) and rec["title"]:
                direct = _direct(rec, source)
                assert {k: item.get(k) for k in direct} == direct and set(item) <= set(direct), (item, direct)
        else:
            item = _direct(rec, source)
        items.append(item)
    # The word hashes describe the text as generated; the stages must have left it as it was.
    word_hashes = [rec["word_hashes"] if "word_hashes" in rec and item["text"] == rec["text"] else None
                   for rec, item in zip(records, items)]
    values, counts = batch_fingerprints([item["text"] for item in items], word_hashes)
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
        # The learn stage itself says what it records (its store is _LoaderStore).
        _LEARN.context.store.sightings = sightings
        learned = _LEARN.process(dict(item, doc_id=doc_id))
        assert learned.get("text") == text and not learned.get("new_links"), "the learn stage changed a generated document"
    return {"rows": rows, "bands": band_values(values), "ids": np.array([r["id"] for r in records], dtype=np.int64),
            "sightings": sightings, "claims": claims}


def _work(task):
    chunk, docs, seed = task
    started = time.process_time()
    records = corpus_records(_GEN, seed, chunk, docs)
    generated = time.process_time()
    out = prepare(records)
    out["seconds"] = (generated - started, time.process_time() - generated)  # CPU
    return out


def _fts_writer(path: str, create_sql: str, batches, done) -> None:
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
        # What the store does for each batch of new documents (Store._index_new).
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
        self.fts = ctx.Process(target=_fts_writer, args=(str(self.fts_path), create, self.fts_batches, self.fts_done),
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


def build_big(path: Path, docs: int, seed: int, workers: int, share: float, largest: int) -> dict:
    """``docs`` documents: the loader's corpus, then the reposts that make its lineage groups
    (``group_sizes``), imported with the real CLI."""
    global _GEN
    tmp = path.with_name(path.name + ".building")
    sizes, exponent = group_sizes(docs, share, largest)
    corpus = docs - (sum(sizes) - len(sizes))  # the rest are reposts
    started = time.perf_counter()
    _GEN = make_generator()  # the vocabulary; inherited by the forked workers
    check_generator(_GEN)
    vocab_crc(_GEN.vocab)
    _stages()
    chunks = math.ceil(corpus / CHUNK)
    cpu = {"generate": 0.0, "stages": 0.0}
    ctx = multiprocessing.get_context("fork")
    tasks = [(c, corpus, seed) for c in range(chunks)]
    main_cpu = time.process_time()
    with ctx.Pool(workers) as pool:
        loader = Loader(tmp)
        done = 0
        pending = collections.deque()
        for task in tasks[: 2 * workers]:  # a bounded window: results never pile up in memory
            pending.append(pool.apply_async(_work, (task,)))
        next_task = len(pending)
        while pending:
            batch = pending.popleft().get()
            if next_task < len(tasks):
                pending.append(pool.apply_async(_work, (tasks[next_task],)))
                next_task += 1
            cpu["generate"] += batch["seconds"][0]
            cpu["stages"] += batch["seconds"][1]
            loader.add(batch)
            done += len(batch["rows"])
            if done % 100_000 < CHUNK:
                print(f"  loaded {done:,} documents in {time.perf_counter() - started:,.0f} s", file=sys.stderr, flush=True)
    main_cpu = time.process_time() - main_cpu
    generated = time.perf_counter() - started
    finish_cpu = time.process_time()
    times = loader.finish()
    total = time.perf_counter() - started
    main_cpu = {"main_cpu_load": main_cpu, "main_cpu_finish": time.process_time() - finish_cpu}
    print(f"  loaded {corpus:,} documents in {total:,.0f} s; making {len(sizes):,} groups of {sum(sizes):,} documents",
          file=sys.stderr, flush=True)
    groups_started = time.perf_counter()
    groups, ranks = make_groups(tmp, sizes, corpus, seed, groups_path(docs, ".jsonl"))
    made = time.perf_counter() - groups_started
    imported = import_groups(tmp, groups_path(docs, ".jsonl"), ranks, OUT / "scale-timings-groups.json")
    groups_path(docs, ".json").write_text(json.dumps(groups), encoding="utf-8")
    store = Store(tmp)  # the LSH rows of the reposts into the big index: the corpus starts with lsh_recent empty
    store.merge_index(force=True)
    store.close()
    group_meta = {"params": [share, largest], "exponent": exponent, "sizes": len(sizes), "members": sum(sizes),
                  "largest": sizes[0], "reposts": len(ranks), "make_seconds": made, "import": imported,
                  "stored": stored_groups(tmp), "kinds": dict(sum((collections.Counter(g["kinds"]) for g in groups), collections.Counter()))}
    if imported["summary"]["new"] != len(ranks):
        raise SystemExit(f"the groups' import stored {imported['summary']['new']} of {len(ranks)} reposts")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    total = time.perf_counter() - started
    tmp.rename(path)
    return {"docs": docs, "corpus": corpus, "groups": group_meta, "seed": seed, "workers": workers, "seconds": total,
            "load_seconds": total - made - imported["wall"], "generate_and_insert_seconds": generated,
            "cpu_generate": cpu["generate"], "cpu_stages": cpu["stages"], **main_cpu, **{f"{k}_seconds": v for k, v in times.items()},
            "bytes": path.stat().st_size, "text_bytes": loader.text_bytes, "built": iso(datetime.now(timezone.utc))}


def groups_path(docs: int, suffix: str) -> Path:
    return OUT / f"scale-{docs}-groups{suffix}"


def build_from_records(path: Path, records: list[dict]) -> float:
    started = time.perf_counter()
    loader = Loader(path)
    loader.add(prepare(records))
    loader.finish()
    return time.perf_counter() - started


# --- checking the loader against the pipeline -------------------------------------------------

def doc_state(conn: sqlite3.Connection, url: str) -> dict:
    cur = conn.execute(f"SELECT id, {', '.join(COMPARED)} FROM documents WHERE url = ?", (url,))
    row = cur.fetchone()
    doc_id, values = row[0], dict(zip(COMPARED, row[1:]))
    # The LSH tables have no index on doc_id (nothing in the product needs one): look the
    # document's rows up by the keys its signature gives (SQLiteLSH.band_keys), and count
    # the rows once (``verify``). The loader writes lsh_buckets, an import lsh_recent: the
    # view lsh_index is both.
    keys = SQLiteLSH(conn).band_keys(signature_from_bytes(values["signature"]))
    values["buckets"] = [k for k in keys if conn.execute(
        "SELECT 1 FROM lsh_index WHERE band = ? AND bucket = ? AND doc_id = ?", (*k, doc_id)).fetchone()]
    values["sightings"] = sorted(conn.execute(
        "SELECT site, line_hash, title_key FROM line_sightings WHERE site = ? AND doc_id = ?", (values["site"], doc_id)).fetchall())
    values["claims"] = sorted(conn.execute(
        "SELECT kind, claimed_site, claimed_name, claimed_url, evidence FROM claims WHERE doc_id = ?", (doc_id,)).fetchall())
    values["site_row"] = conn.execute("SELECT key, name, domains, aliases, config FROM sites WHERE key = ?", (values["site"],)).fetchone()
    first_words = " ".join(values["text"].split()[:4])
    values["fts_finds_it"] = doc_id in {r[0] for r in conn.execute(
        "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", ('"' + first_words.replace('"', " ") + '"',))}
    return values


def verify(db: Path, docs: int, seed: int, work: Path, integrity: bool) -> dict:
    """Import SAMPLE documents with the real CLI (the code as it is now); compare what it stored
    with the loader's rows. ``mismatches`` lists the differences; with ``integrity``, FTS5's
    'integrity-check' also compares the whole full-text index with the documents."""
    gen = _GEN or make_generator()
    chunks = sorted({0, (math.ceil(docs / CHUNK) - 1)})
    records = [r for c in chunks for r in corpus_records(gen, seed, c, docs)]
    rng = np.random.default_rng([seed, 7])
    sample = [records[i] for i in sorted(rng.choice(len(records), size=min(SAMPLE, len(records)), replace=False))]
    jsonl = work / "scale-verify.jsonl"
    jsonl.write_text("".join(jsonl_line(r) + "\n" for r in sample), encoding="utf-8")
    target = work / "scale-verify.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    result = run_cli(target, jsonl)
    assert result["summary"]["new"] == len(sample), result
    mine, theirs = sqlite3.connect(db), sqlite3.connect(target)
    mismatches = []
    stored = dict(mine.execute("SELECT key, value FROM fingerprint_params"))
    if stored != {k: str(v) for k, v in FINGERPRINT.items()}:
        mismatches.append(("fingerprint_params", stored))
    try:
        migrations_missing = set(m for m in theirs.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'collector'")) - set(
            mine.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'collector'"))
    except sqlite3.OperationalError as exc:
        migrations_missing = {str(exc)}
    if migrations_missing:  # built by an older schema: rebuilt
        mine.close()
        theirs.close()
        return {"sample": len(sample), "mismatches": [("schema", sorted(migrations_missing))]}
    for rec in sample:
        a, b = doc_state(mine, rec["url"]), doc_state(theirs, rec["url"])
        diff = sorted(k for k in a if a[k] != b[k])
        if diff:
            mismatches.append((rec["url"], diff))
        if len(a["buckets"]) != BANDS:  # every key SQLiteLSH.band_keys gives is stored
            mismatches.append((rec["url"], ["band_keys"]))
    rows, n_docs = mine.execute("SELECT count(*) FROM lsh_index").fetchone()[0], mine.execute("SELECT count(*) FROM documents").fetchone()[0]
    if rows != BANDS * n_docs:  # and nothing else
        mismatches.append(("LSH rows", rows, BANDS * n_docs))
    started = time.perf_counter()
    if integrity and not mismatches:
        mine.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")  # raises if the index is not the documents'
    fts = time.perf_counter() - started if integrity else None
    mine.close()
    theirs.close()
    return {"sample": len(sample), "mismatches": mismatches, "fts_integrity_seconds": fts,
            "compared": COMPARED + ["LSH rows", "line_sightings", "claims", "sites row", "FTS match", "fingerprint_params"]}


# --- running the real CLI ----------------------------------------------------------------------

HOOK = r"""
# bench/scale.py: times the stages and store calls of this process, and nothing else.
import atexit, json, os, sys, time

_target = os.environ.get("SCALE_TIMINGS")
if _target:
    _data = {"hook_start": time.time(), "events": {}, "wall": {}, "cpu": {}, "calls": {}}

    def _event(name):
        _data["events"].setdefault(name, time.time())

    def _add(name, wall, cpu):
        _data["wall"][name] = _data["wall"].get(name, 0.0) + wall
        _data["cpu"][name] = _data["cpu"].get(name, 0.0) + cpu
        _data["calls"][name] = _data["calls"].get(name, 0) + 1

    import collector.store as _store
    import collector.lsh as _lsh
    from pipelines.stage import Stage as _Stage
    _event("store_module_imported")

    def _wrap(cls, name, label, first=None):
        original = getattr(cls, name)

        def wrapper(*args, **kwargs):
            if first:
                _event(first + "_start")
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                _add(label, time.perf_counter() - started, time.thread_time() - cpu)
                if first:
                    _event(first + "_end")

        setattr(cls, name, wrapper)

    _process_item = _Stage.process_item

    def _timed_process_item(self, item):
        name = type(self).__name__
        _event(name + "_first_start")
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return _process_item(self, item)
        finally:
            wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
            _add("stage:" + name, wall, cpu)
            _event(name + "_first_end")
            if name == "LinkPipeline":  # each document's linking, for the cost by group size
                _data.setdefault("items", []).append([item.get("url"), wall, cpu, item.get("new_links")])

    _Stage.process_item = _timed_process_item
    _wrap(_store.Store, "__init__", "store:open", first="store_open")
    for _name in ("save_document", "commit", "close", "candidates", "sketches", "documents", "claim_partners",
                  "group_of", "write_links", "links_of", "metadata", "claims_of", "has_content", "find_url", "record_sightings",
                  "sighting_counts", "site_document_count", "learned_chrome", "sync_sites", "signature", "merge_index"):
        _wrap(_store.Store, _name, "store:" + _name)
    _wrap(_lsh.SQLiteLSH, "add", "lsh:add")
    _wrap(_lsh.SQLiteLSH, "query", "lsh:query")
    _pid = os.getpid()

    @atexit.register
    def _dump():
        if os.getpid() != _pid:  # a forked child of the CLI: not the process measured
            return
        _data["exit"] = time.time()
        with open(_target, "w") as fh:
            json.dump(_data, fh)
"""


def hook_dir(work: Path) -> Path:
    folder = work / "scale-hook"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    return folder


def start_cli(db: Path, jsonl: Path, timings: Path | None = None, extra_env: dict | None = None,
              cpu: int | None = None) -> dict:
    """Start ``collector --db DB --config configs import JSONL --json`` in a new process (on
    core ``cpu`` if given); ``finish_cli`` waits for it."""
    env = dict(os.environ)
    env.pop("SCALE_TIMINGS", None)
    env.update(extra_env or {})
    if timings is not None or extra_env:
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(hook_dir(OUT)), env.get("PYTHONPATH")] if p)
    if timings is not None:
        env["SCALE_TIMINGS"] = str(timings)
        timings.unlink(missing_ok=True)
    out, err = db.with_name(db.name + ".stdout"), db.with_name(db.name + ".stderr")
    cmd = [str(CLI), "--db", str(db), "--config", str(CONFIGS), "import", str(jsonl), "--json"]
    # Peak RSS from GNU time: the ru_maxrss os.wait4 gives for a child of this (large) process
    # counts the pages it had between fork and exec.
    rss_file = db.with_name(db.name + ".time")
    timed = os.path.exists("/usr/bin/time")
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd] if timed else cmd
    if cpu is not None and shutil.which("taskset"):
        wrapped = ["taskset", "-c", str(cpu), *wrapped]
    run = {"cmd": cmd, "timed": timed, "rss_file": rss_file, "out": out, "err": err, "timings": timings,
           "load_before": os.getloadavg()[0], "fo": open(out, "wb"), "fe": open(err, "wb")}
    run["spawned"] = time.time()
    run["started"] = time.perf_counter()
    run["proc"] = subprocess.Popen(wrapped, stdout=run["fo"], stderr=run["fe"], cwd=REPO, env=env)
    return run


def finish_cli(run: dict) -> dict:
    """Wait for a ``start_cli`` process: wall time, CPU time, peak RSS and block I/O
    (os.wait4), its JSON summary, and the hook's timings if asked."""
    proc = run["proc"]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - run["started"]
    run["fo"].close()
    run["fe"].close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(run['cmd'])} failed:\n{run['err'].read_text()[-3000:]}")
    maxrss = int(run["rss_file"].read_text().split()[-1]) * 1024 if run["timed"] else usage.ru_maxrss * 1024
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_bytes": maxrss,
              "read_bytes": usage.ru_inblock * 512, "written_bytes": usage.ru_oublock * 512,
              "summary": json.loads(run["out"].read_text().strip().splitlines()[-1]), "spawned": run["spawned"],
              "load": (run["load_before"], os.getloadavg()[0]), "stderr": run["err"].read_text()}
    if run["timings"] is not None:
        result["timings"] = json.loads(run["timings"].read_text())
    return result


def run_cli(db: Path, jsonl: Path, timings: Path | None = None, extra_env: dict | None = None) -> dict:
    """``start_cli`` and ``finish_cli``: one import, alone."""
    return finish_cli(start_cli(db, jsonl, timings, extra_env))


def run_pair(first: tuple, second: tuple, swap: bool) -> tuple[dict, dict]:
    """Two imports at the same time, one on each core (``swap`` exchanges the cores): the
    machine's load and clock, which drift by a factor of two within minutes here, are then
    the same for both, and their ratio is the database's doing."""
    cpus = (1, 0) if swap else (0, 1)
    runs = [start_cli(*args, cpu=cpu if (os.cpu_count() or 1) >= 2 else None) for args, cpu in zip((first, second), cpus)]
    return finish_cli(runs[0]), finish_cli(runs[1])


IMPORTS = ["collector.cli", "collector.ingest", "scrapy", "datasketch", "scipy.integrate", "sqlite_utils",
           "trafilatura", "numpy", "rich.console", "click"]


def import_times(stderr: str) -> dict[str, float]:
    """Cumulative seconds of some imports in a ``-X importtime`` report (nested: datasketch
    includes scipy.integrate, which it imports; collector.cli includes most of the rest)."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split(":", 1)[1].split("|")
        name = name.strip()
        if name in IMPORTS:
            found[name] = max(found.get(name, 0.0), int(cumulative) / 1e6)
    return found


# --- statement-level costs at N ---------------------------------------------------------------

VARIANTS = [
    # label, FTS5: "batch" (one INSERT ... SELECT per batch before COMMIT, as the store does)
    # | "trigger" (a row trigger inside each document's savepoint, as before m006) | None,
    # table for the LSH rows, documents per commit
    ("as the store does: row, 64 rows into lsh_recent, FTS5 rows per batch", "batch", "lsh_recent", 200),
    ("before: FTS5 trigger per row, the 64 rows straight into lsh_buckets", "trigger", "lsh_buckets", 200),
    ("FTS5 trigger per row, lsh_recent", "trigger", "lsh_recent", 200),
    ("no FTS5 at all", None, "lsh_recent", 200),
    ("no LSH rows", "batch", None, 200),
    ("as the store does, again (last: the cache as warm as it gets)", "batch", "lsh_recent", 200),
]
#: The insert trigger sqlite-utils made for the FTS index (dropped by migration m006).
FTS_TRIGGER = ('CREATE TRIGGER "documents_ai" AFTER INSERT ON "documents" BEGIN INSERT INTO "documents_fts" '
               '(rowid, "title", "text") VALUES (new.rowid, new."title", new."text"); END')


def _written() -> int:
    with open("/proc/self/io") as fh:
        for line in fh:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def fresh_records(gen: Generator, key: list[int], first_id: int, n: int) -> list[dict]:
    gen.rng = np.random.default_rng(key)
    crc = vocab_crc(gen.vocab)
    sites = gen.rng.choice(SITES, size=n, p=site_weights())
    out = []
    for i in range(n):
        doc_id = first_id + i
        title, paragraphs, word_ids = article_with_ids(gen)
        published = datetime(2026, 2, 1, tzinfo=timezone.utc) + timedelta(minutes=i)
        out.append({"id": doc_id, "url": f"https://site{sites[i]}.example/{doc_id}", "site": f"site{sites[i]}", "title": title,
                    "published": iso(published), "fetched": iso(published + timedelta(hours=1)),
                    "text": "\n".join(paragraphs), "word_hashes": crc[word_ids]})
    return out


def fill_recent(db: Path, documents: int, seed: int) -> float:
    """Give ``lsh_recent`` the rows of ``documents`` documents: random bucket keys (band keys
    of real signatures are uniform) for ids no document has, so no query ever meets them."""
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    rng = np.random.default_rng([seed, 15])
    first = 10**12
    conn.execute("BEGIN")
    for lo in range(0, documents, 5000):
        n = min(5000, documents - lo)
        buckets = rng.integers(-2**63, 2**63 - 1, size=(n, BANDS), dtype=np.int64)
        conn.executemany("INSERT INTO lsh_recent (band, bucket, doc_id) VALUES (?, ?, ?)",
                         ((band, int(b), first + lo + i) for i in range(n) for band, b in enumerate(buckets[i])))
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def diagnose(db: Path, variants: list, seed: int, per_variant: int) -> list[dict]:
    """What storing a document costs in ``db``, statement by statement, as ``Store._save`` and
    ``SQLiteLSH.add`` issue them (a savepoint per document, the row with its FTS5 trigger, 64
    bucket rows), and what the batch's COMMIT costs (WAL write and checkpoint): per variant,
    ``per_variant`` new generated documents. Bytes written: /proc/self/io."""
    store = Store(db)  # the store's own connection settings
    conn = store.conn
    gen = _GEN or make_generator()
    first = conn.execute("SELECT max(id) FROM documents").fetchone()[0] + 1_000_000
    cols = [c for c in DOC_COLUMNS if c != "id"]
    insert = f"INSERT INTO documents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    out = []
    for v, (label, fts, table, batch) in enumerate(variants):
        records = fresh_records(gen, [seed, 14, v], first + v * per_variant, per_variant)
        prepared = prepare(records)
        rows = [r[1:] for r in prepared["rows"]]  # the store lets SQLite pick the id
        if fts == "trigger":
            conn.execute(FTS_TRIGGER)
        t = {"label": label, "documents": 0.0, "lsh": 0.0, "commit": 0.0, "n": len(rows)}
        written = _written()
        for lo in range(0, len(rows), batch):
            conn.execute("BEGIN IMMEDIATE")
            ids = []
            for row, bands in zip(rows[lo:lo + batch], prepared["bands"][lo:lo + batch]):
                conn.execute("SAVEPOINT document")
                started = time.perf_counter()
                doc_id = conn.execute(insert, row).lastrowid
                ids.append(doc_id)
                t["documents"] += time.perf_counter() - started
                if table:
                    started = time.perf_counter()
                    conn.execute(f"INSERT OR IGNORE INTO {table} (band, bucket, doc_id) VALUES "  # as SQLiteLSH.add
                                 + ", ".join(["(?, ?, ?)"] * BANDS),
                                 [v for band, bucket in enumerate(bands.tolist()) for v in (band, bucket, doc_id)])
                    t["lsh"] += time.perf_counter() - started
                conn.execute("RELEASE SAVEPOINT document")
            if fts == "batch":  # what the documents_ai trigger does, for the whole batch at once
                started = time.perf_counter()
                conn.execute('INSERT INTO "documents_fts" (rowid, "title", "text") '
                             f"SELECT rowid, title, text FROM documents WHERE rowid IN ({','.join('?' * len(ids))})", ids)
                t["documents"] += time.perf_counter() - started
            started = time.perf_counter()
            conn.execute("COMMIT")
            t["commit"] += time.perf_counter() - started
        t["written"] = _written() - written
        if fts == "trigger":
            conn.execute('DROP TRIGGER "documents_ai"')
        out.append(t)
    store.close()
    return out


# --- lineage groups in the stored corpus --------------------------------------------------------
# A wire story is reposted by hundreds of sites: the stored corpus holds groups whose sizes
# follow a Zipf law. Their origins are corpus documents (written by the loader); every other
# member is imported with the real `collector import` into the loaded corpus, so the links,
# claims and LSH rows of the groups are the pipeline's own, nothing imitated.

GROUP_SHARE = 0.15        # of --docs: members of lineage groups (origins included)
LARGEST = 1250            # members of the largest group
REPOST_SITES = 2000       # sites that repost (repost17, https://repost17.example/N)
EXCERPT_SHARE = 0.25      # of reposts: the first third and "read more"
CHAIN_SHARE = 0.05        # of reposts: copies of another repost, not of the origin
DUPLICATE_SHARE = 0.03    # of reposts: the same text at another URL of a reposting site
#: Sizes of the groups the new documents join, for the per-copy cost: (smallest, largest, label).
STRATA = [(1, 1, "none (copies of a stored singleton)"), (2, 9, "2-9"), (10, 99, "10-99"), (100, 999, "100-999"),
          (1000, 10**9, "1,000 and more")]


def stratum(size: int) -> str:
    return next(label for lo, hi, label in STRATA if lo <= size <= hi)


def repost_text(gen: Generator, rec: dict, kind: str) -> str:
    """The text of a repost of ``rec``: ``copy``, one word in fifty replaced and half the time a
    line crediting ``rec``'s URL; ``excerpt``, the first third and "Read more at" its URL;
    ``duplicate``, the same text."""
    paragraphs = rec["text"].split("\n")
    if kind == "copy":
        words = [p.split(" ") for p in paragraphs]
        where = [(i, j) for i, p in enumerate(words) for j in range(1, len(p) - 1)]
        for k in gen.rng.choice(len(where), size=max(1, len(where) // 50), replace=False):
            i, j = where[k]
            words[i][j] = gen.words(1)[0]
        paragraphs = [" ".join(p) for p in words]
        if gen.rng.random() < 0.5:
            paragraphs.append(f"This article originally appeared at {rec['url']}")
    elif kind == "excerpt":
        paragraphs = paragraphs[: max(1, len(paragraphs) // 3)] + [f"Read more at {rec['url']}"]
    return "\n".join(paragraphs)


def group_sizes(docs: int, share: float, largest: int) -> tuple[list[int], float]:
    """Members (origin included) of each group, largest first: rank r has ``largest / r**a``,
    down to groups of two, with the exponent ``a`` that puts ``share`` of ``docs`` in groups
    (with a = 1 the groups would hold only ~12,000 documents whatever the corpus size)."""
    largest = max(2, min(largest, int(share * docs) // 4))

    def sizes(a: float) -> np.ndarray:
        ranks = np.arange(1, int((largest / 1.5) ** (1 / a)) + 1, dtype=float)
        out = np.rint(largest / ranks ** a).astype(np.int64)
        return out[out >= 2]

    lo, hi = 0.5, 6.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sizes(mid).sum() > share * docs else (lo, mid)
    return sizes(hi).tolist(), hi


def rows_where(conn: sqlite3.Connection, column: str, values) -> dict:
    cols = ("id", "url", "site", "title", "published", "fetched", "text", "content_hash")
    values, found = list(values), {}
    for lo in range(0, len(values), 500):
        part = values[lo:lo + 500]
        for row in conn.execute(f"SELECT {', '.join(cols)} FROM documents WHERE {column} IN ({','.join('?' * len(part))})", part):
            rec = dict(zip(cols, row))
            found[rec[column]] = rec
    return found


def make_groups(db: Path, sizes: list[int], corpus: int, seed: int, jsonl: Path) -> tuple[list[dict], list[int]]:
    """Reposts making each of ``sizes`` a group around a corpus document (JSONL, the groups
    interleaved at random, as reposts of many stories arrive); returns the groups: rank, size,
    origin, members' URLs in the JSONL's order, and each line's group (``lines``)."""
    rng = np.random.default_rng([seed, 20])
    origin_ids = [int(i) for i in rng.choice(np.arange(1, corpus + 1), size=len(sizes), replace=False)]
    conn = sqlite3.connect(db)
    origins = rows_where(conn, "id", origin_ids)
    conn.close()
    gen = _GEN or make_generator()
    gen.rng = np.random.default_rng([seed, 21])
    number = itertools.count(10**9)
    groups, lines = [], []
    for rank, (size, origin_id) in enumerate(zip(sizes, origin_ids), 1):
        origin = origins[origin_id]
        members, sites = [origin], itertools.cycle(gen.rng.permutation(REPOST_SITES).tolist())
        kinds = collections.Counter()
        for _ in range(size - 1):
            roll = gen.rng.random()
            if len(members) > 1 and roll < DUPLICATE_SHARE + CHAIN_SHARE:
                source = members[1 + int(gen.rng.integers(len(members) - 1))]
                kind = "duplicate" if roll < DUPLICATE_SHARE else "copy"
                label, hours = f"{kind} of a repost", 12
            else:
                source, kind = origin, "excerpt" if gen.rng.random() < EXCERPT_SHARE else "copy"
                label, hours = f"{kind} of the origin", 48
            site = source["site"] if kind == "duplicate" else f"repost{next(sites)}"
            published = datetime.fromisoformat(source["published"]) + timedelta(minutes=int(gen.rng.integers(5, 60 * hours)))
            rec = {"url": f"https://{site}.example/{next(number)}", "site": site, "title": source["title"],
                   "published": iso(published), "fetched": iso(published + timedelta(hours=1)),
                   "text": repost_text(gen, source, kind)}
            members.append(rec)
            lines.append((rank, rec["url"], jsonl_line(rec)))
            kinds[label] += 1
        groups.append({"rank": rank, "size": size, "origin_id": origin_id, "origin_url": origin["url"],
                       "urls": [m["url"] for m in members[1:]], "kinds": dict(kinds)})
    order = rng.permutation(len(lines)).tolist()
    with jsonl.open("w", encoding="utf-8") as fh:
        for i in order:
            fh.write(lines[i][2] + "\n")
    by_rank = {g["rank"]: g for g in groups}
    for g in groups:
        g["urls"] = []
    for i in order:  # reposts in the order they are imported
        by_rank[lines[i][0]]["urls"].append(lines[i][1])
    return groups, [lines[i][0] for i in order]


def import_groups(db: Path, jsonl: Path, ranks: list[int], timings: Path | None = None) -> dict:
    """``collector import`` of the groups' reposts into ``db``; the link stage's cost for each,
    by the size of the group it joined (the reposts of its group imported before it, and the
    origin)."""
    run = run_cli(db, jsonl, timings)
    if timings is None:
        return {"summary": run["summary"], "wall": run["wall"], "cpu": run["cpu"]}
    seen, size_at = collections.Counter(), []
    for rank in ranks:
        seen[rank] += 1
        size_at.append(seen[rank])  # joins a group of the origin and seen[rank] - 1 reposts
    costs = collections.defaultdict(list)
    items = run["timings"].get("items", [])
    for (url, wall, cpu, _), size in zip(items, size_at):
        costs[stratum(size)].append((wall, cpu))
    return {"summary": run["summary"], "wall": run["wall"], "cpu": run["cpu"], "items": len(items),
            "by_size": {k: {"n": len(v), "wall_median": statistics.median(w for w, _ in v),
                            "cpu_median": statistics.median(c for _, c in v),
                            "wall_p90": float(np.percentile([w for w, _ in v], 90)), "wall_max": max(w for w, _ in v)}
                        for k, v in costs.items()}}


def stored_groups(db: Path) -> dict:
    """Groups as the links table holds them: count, largest, members (origins included)."""
    conn = sqlite3.connect(db)
    sizes = [r[0] + 1 for r in conn.execute(
        "SELECT count(*) FROM links l1 LEFT JOIN links l2 ON l2.copy_id = l1.origin_id "
        "GROUP BY coalesce(l2.origin_id, l1.origin_id)")]
    relations = dict(conn.execute("SELECT relation, count(*) FROM links GROUP BY relation"))
    evidence = collections.Counter()
    for text, count in conn.execute("SELECT evidence, count(*) FROM links GROUP BY 1"):
        evidence[re.sub(r" of \S+$", " of a site", text.split(":", 1)[0])] += count
    conn.close()
    return {"groups": len(sizes), "largest": max(sizes, default=0), "members": sum(sizes), "relations": relations,
            "evidence": evidence, "at_least_100": sum(1 for s in sizes if s >= 100)}


def group_links(db: Path, urls: list[str]) -> dict[str, tuple]:
    """The links of these documents by URL: origin URL, relation, figures, evidence (with the
    ids it quotes blanked: they differ between databases)."""
    conn = sqlite3.connect(db)
    out = {}
    for lo in range(0, len(urls), 500):
        part = urls[lo:lo + 500]
        for row in conn.execute(
                "SELECT c.url, o.url, l.relation, l.similarity, l.containment, l.evidence FROM links l "
                "JOIN documents c ON c.id = l.copy_id JOIN documents o ON o.id = l.origin_id "
                f"WHERE c.url IN ({','.join('?' * len(part))})", part):
            out[row[0]] = (*row[1:5], re.sub(r"#\d+", "#", row[5]))
    conn.close()
    return out


# --- the new documents ----------------------------------------------------------------------------

def make_new(big: Path, new: int, seed: int, jsonl: Path, groups: list[dict], corpus: int, extra: int = 4) -> dict:
    """--new documents (JSONL): fresh articles, and copies (``COPY_SHARE``), a quarter of them of
    stored singletons, the rest of members of stored groups, as many into each size of group
    (``STRATA``); and ``extra`` single copies of singletons for the first-link runs."""
    conn = sqlite3.connect(big)
    n_docs, base = conn.execute("SELECT count(*), max(id) FROM documents").fetchone()
    rng = np.random.default_rng([seed, 9, base])
    copies = int(round(new * COPY_SHARE))
    strata = [(lo, hi) for lo, hi, _ in STRATA[1:] if any(lo <= g["size"] <= hi for g in groups)]
    per_stratum = copies * 3 // 4 // len(strata) if strata else 0
    joins = []  # (group, URL of the member copied: the origin half the time, else a repost)
    for lo, hi in strata:
        pool = [g for g in groups if lo <= g["size"] <= hi]
        for _ in range(per_stratum):
            g = pool[int(rng.integers(len(pool)))]
            copied = g["origin_url"] if rng.random() < 0.5 else g["urls"][int(rng.integers(len(g["urls"])))]
            joins.append((g, copied))
    in_groups = {g["origin_id"] for g in groups}
    candidates = [int(i) for i in rng.choice(np.arange(1, corpus + 1), size=2 * (copies + extra), replace=False)]
    originals = [i for i in candidates if i not in in_groups][: copies - len(joins) + extra]
    found = rows_where(conn, "id", originals)
    by_url = rows_where(conn, "url", {u for _, u in joins})
    joined = sorted({g["rank"] for g, _ in joins})
    group_origins = rows_where(conn, "id", [g["origin_id"] for g in groups if g["rank"] in joined])
    conn.close()
    for rec in [*found.values(), *group_origins.values()]:  # (reposts are stored as the clean stage left them)
        assert content_hash(rec["url"], rec["text"], rec["title"]) == rec["content_hash"], "stored text is not the input text"
    gen = _GEN or make_generator()
    gen.rng = np.random.default_rng([seed, 10, base])
    number = itertools.count(base + 1)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def fresh(i):
        title, paragraphs = gen.article()
        site = int(gen.rng.choice(SITES, p=site_weights()))
        n = next(number)
        return {"url": f"https://site{site}.example/{n}", "site": f"site{site}", "title": title,
                "published": iso(start + timedelta(minutes=i)), "fetched": iso(start + timedelta(minutes=i, hours=1)),
                "text": "\n".join(paragraphs), "kind": "fresh", "joins": 0}

    def copy_of(rec, kind, joins=1):
        site = rec["site"]
        if kind != "duplicate":
            others = [s for s in range(SITES) if f"site{s}" != site]
            site = f"site{int(gen.rng.choice(others))}"
        published = datetime.fromisoformat(rec["published"]) + timedelta(hours=3)
        n = next(number)
        return {"url": f"https://{site}.example/{n}", "site": site, "title": rec["title"], "published": iso(published),
                "fetched": iso(published + timedelta(hours=1)), "text": repost_text(gen, rec, kind), "kind": kind,
                "original": rec["id"], "joins": joins}

    kinds = ["copy", "excerpt", "copy", "excerpt", "duplicate"]
    items = []
    for i, (g, url) in enumerate(joins):
        item = copy_of(by_url[url], kinds[i % len(kinds)], g["size"])
        credits = item["text"].rsplit("\n", 1)[-1].endswith(url)  # "originally appeared at" / "Read more at" it
        item["how"] = (f"{item['kind']} of {'the origin' if url == g['origin_url'] else 'a repost'}"
                       + (", crediting it" if credits else ""))
        items.append(item)
    items += [copy_of(found[o], kinds[i % len(kinds)]) for i, o in enumerate(originals[: copies - len(joins)])]
    items += [fresh(i) for i in range(new - len(items))]
    order = rng.permutation(len(items))
    items = [items[i] for i in order]
    jsonl.write_text("".join(jsonl_line(r) + "\n" for r in items), encoding="utf-8")
    singles = []
    for i, o in enumerate(originals[copies - len(joins):]):
        single = jsonl.with_name(f"{jsonl.stem}-single{i}.jsonl")
        single.write_text(jsonl_line(copy_of(found[o], "copy")) + "\n", encoding="utf-8")
        singles.append(single)
    return {"docs_in_db": n_docs, "singles": singles, "items": {r["url"]: r for r in items},
            # what (a) holds: the originals of the singletons copied, and the groups joined
            "originals": [found[o] for o in originals[: copies - len(joins)]] + list(group_origins.values()),
            "joined": [g for g in groups if g["rank"] in joined],
            "kinds": {k: sum(1 for r in items if r["kind"] == k) for k in ("fresh", "copy", "excerpt", "duplicate")},
            "joining": len(joins)}


def build_small(path: Path, new: dict, groups_jsonl: Path) -> dict:
    """(a): the originals of the singletons the new documents copy, and every group they join,
    its reposts imported with the real CLI as into the big database (same lines, same order)."""
    started = time.perf_counter()
    build_from_records(path, new["originals"])
    urls = {u for g in new["joined"] for u in g["urls"]}
    part = path.with_name(path.stem + "-groups.jsonl")
    with groups_jsonl.open(encoding="utf-8") as src, part.open("w", encoding="utf-8") as dst:
        for line in src:
            if json.loads(line)["url"] in urls:
                dst.write(line)
    run = run_cli(path, part)
    return {"seconds": time.perf_counter() - started, "reposts": run["summary"]["new"], "docs": len(new["originals"]) + run["summary"]["new"]}


def cost_by_group(new: dict, runs: dict) -> tuple[list, list, tuple | None]:
    """Rows of the link stage's cost per new document by the size of the group it joins, and
    by what it copies (groups of 100 or more); and (b)'s median ratio, wall and CPU, of
    joining a group of 1,000 or more to joining one of 2-9."""
    def per_doc(key):
        times = collections.defaultdict(list)
        for r in runs[key]:
            for url, wall, cpu, _ in r["timings"].get("items", []):
                times[url].append((wall, cpu))
        return {u: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for u, v in times.items()}

    a, b = per_doc("small"), per_doc("big")
    median = statistics.median
    classes, hows = collections.defaultdict(list), collections.defaultdict(list)
    for url, item in new["items"].items():
        if url not in a or url not in b:
            continue
        classes["fresh (nothing like it stored)" if item["kind"] == "fresh" else stratum(item["joins"])].append(url)
        if item["joins"] >= 100:
            hows[item["how"]].append(url)
    rows, medians = [], {}
    for label in ["fresh (nothing like it stored)", *[label for _, _, label in STRATA]]:
        urls = classes.get(label)
        if not urls:
            continue
        wa, wb = median(a[u][0] for u in urls), median(b[u][0] for u in urls)
        ca, cb = median(a[u][1] for u in urls), median(b[u][1] for u in urls)
        medians[label] = (wb, cb)
        rows.append([label, len(urls), ms(wa), ms(wb), f"{wb / wa:.2f}×", ms(ca), ms(cb), f"{cb / ca:.2f}×",
                     ms(max(b[u][0] for u in urls))])
    how_rows = [[how, len(urls), ms(median(a[u][0] for u in urls)), ms(median(b[u][0] for u in urls)),
                 ms(median(a[u][1] for u in urls)), ms(median(b[u][1] for u in urls)), ms(max(b[u][0] for u in urls))]
                for how, urls in sorted(hows.items())]
    big, small = medians.get(STRATA[-1][2]), medians.get(STRATA[1][2])
    ratio = (big[0] / small[0], big[1] / small[1]) if big and small else None
    return rows, how_rows, ratio


def copy_db(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    subprocess.run(["cp", "--reflink=auto", str(src), str(dst)], check=True)
    # Without reflinks (ext4) the copy leaves gigabytes of dirty pages whose writeback would
    # stall the measured run's fsyncs: wait for it, as for a database that sits on disk.
    os.sync()
    return time.perf_counter() - started


# --- LSH queries, Store open, bytes ---------------------------------------------------------------

def query_latency(db: Path, seed: int, queries: int) -> dict:
    store = Store(db)
    n_docs, base = store.conn.execute("SELECT count(*), max(id) FROM documents").fetchone()
    rng = np.random.default_rng([seed, 11])
    stored_ids = [int(i) for i in rng.choice(np.arange(1, base + 1), size=queries // 2, replace=False)]
    stored = [(i, store.signature(i)) for i in stored_ids]
    gen = _GEN or make_generator()
    gen.rng = np.random.default_rng([seed, 12])
    fresh = [(None, fingerprint("\n".join(gen.article()[1]))[0]) for _ in range(queries - len(stored))]
    out = {"docs": n_docs, "rows": []}
    passes = [("≥ 2 bands", {}, "first"), ("≥ 2 bands", {}, "again")]
    if "min_hits" in inspect.signature(SQLiteLSH.query).parameters:
        passes.append(("≥ 1 band (documents that claim an origin)", {"min_hits": 1}, "first"))
    for label, sigs in (("stored", stored), ("fresh", fresh)):
        for rule, kwargs, attempt in passes:
            times, cands, others, missed = [], [], 0, 0
            for own, mh in sigs:
                started = time.perf_counter()
                found = store.lsh.query(mh, **kwargs)
                times.append(time.perf_counter() - started)
                extra = [d for d in found if d != own]
                cands.append(len(extra))
                others += bool(extra)
                if own is not None and own not in found:
                    # A bucket is read up to 16 rows, earliest stored first: a later member of a
                    # big group of near-identical reposts finds the group's first members instead.
                    assert extra, f"a stored document finds neither itself nor a copy ({own})"
                    missed += 1
            out["rows"].append({"label": f"{label} signatures, {rule}, {attempt} pass", "n": len(sigs),
                                "p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99)),
                                "max": max(times), "mean_candidates": float(np.mean(cands)), "max_candidates": max(cands),
                                "with_candidates": others, "not_itself": missed})
    # The index lookups themselves: how the planner runs the query.
    params = [v for pair in store.lsh.band_keys(stored[0][1]) for v in pair]
    out["plan"] = {}
    for name, sql in lsh_statements().items():
        needed = len(set(re.findall(r"\?\d+", sql))) or sql.count("?")  # (min_hits last, where the query takes it)
        out["plan"][name] = [r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params + [2] * (needed - len(params)))]
    store.close()
    return out


def lsh_statements() -> dict[str, str]:
    """The SQL ``SQLiteLSH.query_hits`` issues for 64 keys, by what it does (as the module has it)."""
    import collector.lsh as lsh
    if hasattr(lsh, "_join_sql"):
        return {"the join over all keys": lsh._join_sql(BANDS), "the search for big buckets": lsh._big_sql(BANDS),
                "the row-limited read of big buckets": lsh._capped_sql(BANDS)}
    return {"the query": SQLiteLSH(sqlite3.connect(":memory:"))._query_sql}


def store_open(db: Path) -> dict:
    code = ("import time, json, sys; t0 = time.perf_counter(); from collector.store import Store; t1 = time.perf_counter(); "
            "s = Store(sys.argv[1]); t2 = time.perf_counter(); s.close(); "
            "print(json.dumps({'import': t1 - t0, 'open': t2 - t1}))")
    started = time.perf_counter()
    result = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", code, str(db)], capture_output=True, text=True, check=True, cwd=REPO)
    data = json.loads(result.stdout)
    data["wall"] = time.perf_counter() - started
    return data


def db_bytes(db: Path) -> dict:
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    try:
        # One row per page, summed in SQL: dbstat's own aggregate mode keeps pgsize in 32 bits
        # and wraps above 2 GB (SQLite 3.40).
        objects = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        method = "dbstat"
    except sqlite3.OperationalError:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        objects = {"(all)": page * conn.execute("PRAGMA page_count").fetchone()[0]}
        method = "page_count"
    owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    n_docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    sig = conn.execute("SELECT sum(length(signature)) FROM documents").fetchone()[0] or 0
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    freelist = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
    conn.close()
    groups = {"text (documents table and its indexes, less signatures)": 0, "signatures (documents.signature)": sig,
              "LSH index (lsh_buckets, lsh_recent)": 0, "full-text index (documents_fts*)": 0,
              "line_sightings (learn stage)": 0, "other": freelist}
    for name, size in objects.items():
        table = owner.get(name, name)
        if table == "documents":
            groups["text (documents table and its indexes, less signatures)"] += size
        elif table in ("lsh_buckets", "lsh_recent"):
            groups["LSH index (lsh_buckets, lsh_recent)"] += size
        elif table.startswith("documents_fts"):
            groups["full-text index (documents_fts*)"] += size
        elif table == "line_sightings":
            groups["line_sightings (learn stage)"] += size
        else:
            groups["other"] += size
    groups["text (documents table and its indexes, less signatures)"] -= sig
    return {"docs": n_docs, "groups": groups, "objects": objects, "method": method, "file": db.stat().st_size,
            "seconds": time.perf_counter() - started}


# --- report -------------------------------------------------------------------------------------

def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--keep", action="store_true",
                        help="import into the cached database itself (it keeps the new documents) instead of a scratch copy")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of imports, (a) and (b) at the same time (the median ratio is reported)")
    parser.add_argument("--diagnose", type=int, default=1000,
                        help="new documents per variant in the statement-level measurements (0: skip them)")
    parser.add_argument("--group-share", type=float, default=GROUP_SHARE,
                        help="share of --docs in lineage groups (Zipf-sized; reposts imported with the real CLI)")
    parser.add_argument("--largest", type=int, default=LARGEST, help="members of the largest lineage group")
    parser.add_argument("--fts-check-max", type=int, default=200_000,
                        help="run FTS5 'integrity-check' on the built corpus up to this many documents")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    big = OUT / f"scale-{args.docs}.db"
    meta_path = OUT / f"scale-{args.docs}.json"
    report: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        report.append(text)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    started_all = time.perf_counter()

    # 1. the corpus (rebuilt when the code no longer stores what the cache holds)
    built_now, check = False, None
    if big.exists() and meta_path.exists() and groups_path(args.docs, ".json").exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("groups", {}).get("params") == [args.group_share, args.largest]:
            check = verify(big, meta["corpus"], args.seed, OUT, integrity=False)
        if check["mismatches"]:
            print(f"{big}: the pipeline now stores something else ({check['mismatches'][:3]}): rebuilding",
                  file=sys.stderr, flush=True)
    if check is None or check["mismatches"]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{big}{suffix}").unlink(missing_ok=True)
        print(f"building {big} ({args.docs:,} documents, {args.workers} workers)...", file=sys.stderr, flush=True)
        meta = build_big(big, args.docs, args.seed, args.workers, args.group_share, args.largest)
        check = verify(big, meta["corpus"], args.seed, OUT, integrity=args.docs <= args.fts_check_max)
        if check["mismatches"]:
            raise SystemExit(f"the loader stores what the pipeline does not: {check['mismatches'][:5]}")
        meta["verified"] = check
        meta_path.write_text(json.dumps(meta, indent=2))
        built_now = True
    say(f"# Scale: {args.docs:,} generated documents\n")
    say(f"Machine: {machine}; load average at start {os.getloadavg()[0]:.1f} (other work shares the CPU).\n")
    say(f"## 1. Building the corpus ({'this run' if built_now else 'cached, built ' + meta['built']})\n")
    n, gm = meta["corpus"], meta["groups"]
    imp = gm["import"]
    say(f"{n:,} documents written by the loader, then {gm['reposts']:,} reposts that make {gm['sizes']:,} lineage groups of "
        f"{gm['members']:,} documents ({gm['members'] / meta['docs']:.1%} of the corpus) whose sizes follow a Zipf law: rank r has "
        f"{gm['largest']:,} / r^{gm['exponent']:.2f} members (the exponent that puts {args.group_share:.0%} of the corpus in groups), "
        f"imported with the real `collector import` into the loaded corpus. Their origins are corpus documents; the reposts are on "
        f"{REPOST_SITES:,} other sites, the groups interleaved at random: "
        + ", ".join(f"{v:,} {k}" for k, v in sorted(gm["kinds"].items(), key=lambda kv: -kv[1])) + ".\n")
    say(table(["phase", "wall", "per document"], [
        [f"pool of {meta['workers']}: generate, extract/clean/attribute, batched signatures (CPU: "
         f"generate {meta['cpu_generate']:,.0f} s, the rest {meta['cpu_stages']:,.0f} s); main process: insert "
         f"(CPU {meta['main_cpu_load']:,.0f} s)",
         f"{meta['generate_and_insert_seconds']:,.0f} s", ms(meta["generate_and_insert_seconds"] / n)],
        ["  of which the main process inserting documents", f"{meta['documents_seconds']:,.0f} s", ms(meta["documents_seconds"] / n)],
        [f"  FTS5 index process alongside (CPU {meta['fts_cpu_seconds']:,.0f} s); waited for at the end",
         f"{meta['fts_wait_seconds']:,.0f} s", ms(meta["fts_wait_seconds"] / n)],
        [f"lsh_buckets ({BANDS * n:,} rows, sorted; main CPU of this and the next {meta['main_cpu_finish']:,.0f} s)",
         f"{meta['lsh_buckets_seconds']:,.0f} s", ms(meta["lsh_buckets_seconds"] / n)],
        ["line_sightings", f"{meta['line_sightings_seconds']:,.0f} s", ms(meta["line_sightings_seconds"] / n)],
        ["FTS5 shadow tables copied in, triggers recreated", f"{meta['fts_copy_seconds']:,.0f} s", ms(meta["fts_copy_seconds"] / n)],
        [f"reposts generated ({gm['reposts']:,})", f"{gm['make_seconds']:,.0f} s", ms(gm["make_seconds"] / gm["reposts"])],
        [f"reposts imported: `collector import` (CPU {imp['cpu']:,.0f} s; {imp['summary']['new_links']:,} links made or changed)",
         f"{imp['wall']:,.0f} s", ms(imp["wall"] / gm["reposts"])],
        ["**total**", f"**{meta['seconds']:,.0f} s**", ms(meta["seconds"] / meta["docs"])],
    ]))
    st = gm["stored"]
    say(f"\nStored, as the links table has them: {st['groups']:,} groups of {st['members']:,} documents, the largest "
        f"{st['largest']:,} members, {st['at_least_100']} of 100 or more; links by relation "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(st["relations"].items())) + "; by evidence "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(st["evidence"].items(), key=lambda kv: -kv[1])) + ".\n")
    say("The link stage while the reposts were imported, by the size of the group each joined (its origin and the reposts "
        "of its story imported before it; the hook's timer around each `LinkPipeline` call; one process, "
        "the corpus growing from the loader's size):\n")
    say(table(["group joined", "reposts", "median wall", "p90 wall", "max wall", "median CPU"],
              [[label, imp["by_size"][label]["n"], ms(imp["by_size"][label]["wall_median"]), ms(imp["by_size"][label]["wall_p90"]),
                ms(imp["by_size"][label]["wall_max"]), ms(imp["by_size"][label]["cpu_median"])]
               for _, _, label in STRATA if label in imp["by_size"]]))
    v = meta["verified"]
    integrity = (f"; FTS5 'integrity-check' of the whole index passed ({v['fts_integrity_seconds']:.0f} s)"
                 if v.get("fts_integrity_seconds") is not None else "")
    say(f"\nDatabase file {mb(meta['bytes'])}. The loader's rows checked against the real `collector import` of "
        f"{v['sample']} of the documents (at build{'' if built_now else ' and again in this run, with the code as it is now'}): "
        f"no difference in {', '.join(v['compared'])}{integrity}.\n")

    # 2. linking new documents
    repeats = 1 if args.keep else max(1, args.repeat)
    jsonl = OUT / f"scale-{args.docs}-new.jsonl"
    groups = json.loads(groups_path(args.docs, ".json").read_text())
    new = make_new(big, args.new, args.seed, jsonl, groups, meta["corpus"])
    small = OUT / f"scale-{args.docs}-small.db"
    small_base = OUT / f"scale-{args.docs}-small-base.db"
    small_made = build_small(small_base, new, groups_path(args.docs, ".jsonl"))
    joined_urls = [u for g in new["joined"] for u in g["urls"]]
    same_groups = group_links(small_base, joined_urls) == group_links(big, joined_urls)
    target = big if args.keep else OUT / f"scale-{args.docs}-scratch.db"
    runs: dict[str, list[dict]] = {"small": [], "big": []}
    copy_seconds, small_build = [], []
    for r in range(repeats):  # (a) and (b) at the same time, so both see the same load (run_pair)
        small_build.append(copy_db(small_base, small))
        if not args.keep:
            copy_seconds.append(copy_db(big, target))
        a, b = run_pair((small, jsonl, OUT / f"scale-timings-small-{r}.json"),
                        (target, jsonl, OUT / f"scale-timings-big-{r}.json"), swap=r % 2 == 1)
        runs["small"].append(a)
        runs["big"].append(b)
    # (c) the same import when lsh_recent already holds all but the last 1,000 of the
    # documents a merge waits for: the slowest state of the recent table, and the import
    # that ends with the merge (timed on its own by the hook)
    pending = max(0, RECENT_DOCUMENTS - args.new)
    full = None
    if not args.keep and pending:
        copy_db(big, target)
        filled = fill_recent(target, pending, args.seed)
        copy_db(small_base, small)
        full_small, full = run_pair((small, jsonl, OUT / "scale-timings-small-full.json"),
                                    (target, jsonl, OUT / "scale-timings-full.json"), swap=False)
        full["filled"] = filled
        full["paired"] = full_small
    pairs = list(zip(runs["small"], runs["big"]))
    loop = lambda r: r["summary"]["seconds"]  # noqa: E731
    # the pair that ran under the least load shows where the time goes
    best_small, best_big = min(pairs, key=lambda p: loop(p[0]) + loop(p[1]))
    say(f"## 2. Linking {args.new:,} new documents ({new['kinds']['fresh']} fresh, {new['kinds']['copy']} copies, "
        f"{new['kinds']['excerpt']} excerpts, {new['kinds']['duplicate']} same-site duplicates)\n")
    say(f"`collector --db DB --config configs import {jsonl.name} --json`, a new process each time, same file; (a) and (b) "
        f"run at the same time, one on each core (swapped every other pair), {repeats} pairs; ratios are taken within each "
        f"pair, and their median reported. {new['joining']} of the copies are of members of stored groups, as many into each size of "
        f"group, the rest of stored singletons. (a) a database of what the copies need: the {len(new['originals'])} originals "
        f"they come from or that lead the {len(new['joined'])} groups they join, and those groups' {small_made['reposts']:,} reposts "
        f"imported from the same lines as in (b) ({small_made['docs']:,} documents, built in {small_made['seconds']:.0f} s, copied "
        f"for each run in {min(small_build):.1f} s; the groups' links "
        f"{'identical in (a) and (b)' if same_groups else '**differ between (a) and (b)**'}, ids aside); (b) {new['docs_in_db']:,} documents "
        f"({'in place, --keep' if args.keep else f'a scratch copy, cp --reflink=auto and sync in {min(copy_seconds):.0f} s'}). "
        "\"import loop\" is the CLI's own `seconds` (reading, stages, commits); the process also starts Python and "
        "closes the database.\n")
    rows = []
    for key, label in (("small", "(a) originals and joined groups"), ("big", f"(b) {new['docs_in_db']:,} documents")):
        for i, r in enumerate(runs[key]):
            sm = r["summary"]
            rows.append([f"{label}, run {i + 1}", f"{r['wall']:.2f} s", f"{sm['seconds']:.2f} s", f"{sm['documents_per_second']:.0f}",
                         f"{r['cpu']:.2f} s", sm["new"], sm["new_links"], mb(r["maxrss_bytes"]), mb(r["read_bytes"]),
                         mb(r["written_bytes"]), f"{r['load'][0]:.1f}"])
    for i, (a, b) in enumerate(pairs):
        rows.append([f"(b) / (a), pair {i + 1}", f"{b['wall'] / a['wall']:.2f}×", f"{loop(b) / loop(a):.2f}×", "",
                     f"{b['cpu'] / a['cpu']:.2f}×", "", "", "", "", "", ""])
    ratio_run = statistics.median(loop(b) / loop(a) for a, b in pairs)
    ratio_wall = statistics.median(b["wall"] / a["wall"] for a, b in pairs)
    ratio_cpu = statistics.median(b["cpu"] / a["cpu"] for a, b in pairs)
    rows.append(["**(b) / (a)**, median of the pairs", f"**{ratio_wall:.2f}×**", f"**{ratio_run:.2f}×**", "", f"**{ratio_cpu:.2f}×**",
                 "", "", "", "", "", ""])
    say(table(["database", "process wall", "import loop", "documents/s", "CPU (user+sys)", "new", "new links", "peak RSS",
               "read", "written", "load avg"], rows))
    costs, by_how, ratio_groups = cost_by_group(new, runs)
    say("\nThe link stage per new document (the hook's timer around each `LinkPipeline` call; per document the median over "
        "the pairs, then the median over the documents of a class), by the size of the stored group it joins:\n")
    say(table(["joins a group of", "documents", "wall (a)", "wall (b)", "(b) / (a)", "CPU (a)", "CPU (b)", "(b) / (a)",
               "max wall (b)"], costs))
    say("\nThe copies that join groups of 100 or more, by what they copy (a document crediting a repost, not the origin, "
        "makes the linker decide the group again from all its members and relate every member again, `Linker._rebuild`):\n")
    say(table(["copy", "documents", "wall (a)", "wall (b)", "CPU (a)", "CPU (b)", "max wall (b)"], by_how))
    ta, tb = best_small["timings"], best_big["timings"]
    keys = sorted(set(ta["wall"]) | set(tb["wall"]), key=lambda k: -tb["wall"].get(k, 0))
    rows = []
    for k in keys:
        wa, wb = ta["wall"].get(k, 0.0), tb["wall"].get(k, 0.0)
        ca, cb = ta["cpu"].get(k, 0.0), tb["cpu"].get(k, 0.0)
        if max(wa, wb) < 0.02:
            continue
        rows.append([f"`{k}`", tb["calls"].get(k, 0), f"{wa:.2f} s", f"{wb:.2f} s", f"{wb - wa:+.2f} s",
                     f"{ca:.2f} s", f"{cb:.2f} s", f"{cb - ca:+.2f} s", f"{(wb - cb) - (wa - ca):+.2f} s"])
    say("\nWhere the time goes, in the pair that ran under the least load (the hook's timers; store and LSH calls are nested inside the stages, "
        "`store:commit` inside `store:save_document`). CPU is the thread's CPU time: wall minus CPU is waiting, for the "
        "disk or for a core.\n")
    say(table(["timer", "calls", "wall (a)", "wall (b)", "Δ wall", "CPU (a)", "CPU (b)", "Δ CPU", "Δ waiting"], rows))
    say("")
    if full is not None:
        merge = full["timings"]["wall"].get("store:merge_index", 0.0)
        full_loop = loop(full)
        ratio_full = (full_loop - merge) / loop(full["paired"])
        say(f"### (c) The same import with the recent table nearly full, and the merge\n")
        say(f"`lsh_recent` first given the rows of {pending:,} documents (random keys, as real ones are; written in "
            f"{full['filled']:.0f} s), so this import brings it to `COLLECTOR_LSH_RECENT_DOCUMENTS` ({RECENT_DOCUMENTS:,}) "
            "and ends by merging it into `lsh_buckets`.\n")
        say(table(["measure", "wall", "per new document", "× (a)"], [
            ["import loop, without the merge", f"{full_loop - merge:.2f} s", ms((full_loop - merge) / args.new),
             f"{ratio_full:.2f}× (a) run alongside"],
            [f"the merge: {RECENT_DOCUMENTS * BANDS:,} rows into {BANDS * new['docs_in_db']:,}", f"{merge:.1f} s",
             ms(merge / RECENT_DOCUMENTS) + " (each of the merged)", ""],
            ["process: wall / CPU / written", f"{full['wall']:.1f} s / {full['cpu']:.1f} s / {mb(full['written_bytes'])}", "", ""],
        ]))
        amortised = statistics.median((loop(b) + merge * args.new / RECENT_DOCUMENTS) / loop(a) for a, b in pairs)
        say(f"\nAmortised over the {RECENT_DOCUMENTS:,} documents a merge serves, linking 1,000 documents at this size "
            f"costs {amortised:.2f}× (a): run (b) plus 1/{RECENT_DOCUMENTS // args.new} of the merge.\n")

    # 3. first link in a new process
    singles = new["singles"]
    plain = run_cli(target, singles[0])
    hooked = run_cli(target, singles[1], OUT / "scale-timings-single.json")
    profiled = run_cli(target, singles[3], extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    imports = import_times(profiled["stderr"])
    ev = hooked["timings"]["events"]
    t0 = hooked["spawned"]
    opened = [store_open(target) for _ in range(3)]
    first_big = tb["events"]["LinkPipeline_first_start"] - best_big["spawned"]
    say("## 3. First link in a new process (one copy of a stored document)\n")
    say(table(["measure", "wall", "CPU"], [
        ["`collector import` of one copy, whole process", f"{plain['wall']:.2f} s", f"{plain['cpu']:.2f} s"],
        ["  hooked run: spawn → `Store()` called (Python, imports, CLI)", f"{ev['store_open_start'] - t0:.2f} s", ""],
        ["  hooked run: `Store()` open in the CLI", f"{ev['store_open_end'] - ev['store_open_start']:.3f} s", ""],
        ["  hooked run: **spawn → linking starts** (first `LinkPipeline` call)", f"**{ev['LinkPipeline_first_start'] - t0:.2f} s**", ""],
        ["  hooked run: linking the document", f"{ev['LinkPipeline_first_end'] - ev['LinkPipeline_first_start']:.3f} s", ""],
        ["  hooked run: spawn → exit", f"{hooked['timings']['exit'] - t0:.2f} s", f"{hooked['cpu']:.2f} s"],
        ["  the 1,000-document run (b): spawn → linking starts", f"{first_big:.2f} s", ""],
        ["`Store(path)` alone in a new process: `import collector.store`", f"{opened[0]['import']:.2f} s", ""],
        ["`Store(path)` alone in a new process: open (3 processes)", ", ".join(f"{o['open'] * 1000:.0f} ms" for o in opened), ""],
    ]))
    say("\nImports of that process (`-X importtime`, cumulative, nested): "
        + ", ".join(f"{k} {imports[k]:.2f} s" for k in IMPORTS if k in imports) + ".\n")

    # 4. LSH query latency
    q = query_latency(target, args.seed, args.queries)
    say(f"## 4. LSH query at {q['docs']:,} documents (`SQLiteLSH.query`, {BANDS} bands × {ROWS} rows)\n")
    rows = [[d["label"], d["n"], ms(d["p50"]), ms(d["p99"]), ms(d["max"]), f"{d['mean_candidates']:.3f}", d["max_candidates"],
             d["with_candidates"], d["not_itself"] if d["label"].startswith("stored") else ""] for d in q["rows"]]
    say(table(["queries", "n", "p50", "p99", "max", "candidates/query (other than itself)", "max", "queries with any",
               "stored, not finding itself (a later member of a big group: buckets are read 16 rows deep)"], rows))
    for name, plan in q["plan"].items():
        say(f"\nQuery plan of {name}: {'; '.join(sorted(set(plan)))}" + ("\n" if name == list(q["plan"])[-1] else ""))

    # 4b. statement-level costs
    if args.diagnose and not args.keep:  # (it writes thousands of documents: not into the cached corpus)
        diag_big = diagnose(target, VARIANTS, args.seed, args.diagnose)
        diag_small = diagnose(small, VARIANTS[:1], args.seed, args.diagnose)
        say(f"### Storing a document, statement by statement ({args.diagnose:,} new documents per line, "
            "as `Store._save` and `SQLiteLSH.add` issue them; a savepoint per document)\n")
        rows = []
        for where, d in [("(a) originals only", diag_small[0])] + [(f"(b) {q['docs']:,}", d) for d in diag_big]:
            n_ = d["n"]
            total = d["documents"] + d["lsh"] + d["commit"]
            rows.append([where, d["label"], ms(d["documents"] / n_), ms(d["lsh"] / n_), ms(d["commit"] / n_), ms(total / n_),
                         f"{d['written'] / n_ / 1024:,.0f} KB"])
        say(table(["database", "variant", "row + FTS5", "64 LSH rows", "COMMIT (WAL, checkpoint)", "total", "written"], rows))
        say("")

    # 5. bytes per document
    sizes = db_bytes(big)
    nd = sizes["docs"]
    say(f"## 5. Database bytes per document ({nd:,} documents, {sizes['method']}, file {mb(sizes['file'])})\n")
    rows = [[k, mb(v), f"{v / nd:,.0f}", f"{v / sizes['file']:.1%}"] for k, v in sizes["groups"].items()]
    rows.append(["**total (file)**", f"**{mb(sizes['file'])}**", f"**{sizes['file'] / nd:,.0f}**", ""])
    say(table(["part", "size", "bytes/document", "share"], rows))
    say(f"\n(The texts themselves, UTF-8: {meta['text_bytes'] / meta['docs']:,.0f} bytes/document. B-trees: "
        + ", ".join(f"{k} {mb(v)}" for k, v in sorted(sizes["objects"].items(), key=lambda kv: -kv[1]) if v > 2**20)
        + f". dbstat took {sizes['seconds']:.0f} s.)\n")

    # targets
    rss = max(r["maxrss_bytes"] for r in [*runs["small"], *runs["big"], plain, hooked, *([full] if full else [])])
    first = ev["LinkPipeline_first_start"] - t0
    same_links = {r["summary"]["new_links"] for r in [*runs["small"], *runs["big"]]}
    say("## Targets\n")
    say(table(["target", "measured", "met"], [
        ["linking 1,000 into N ≤ 1.5 × linking them into the originals only (import loop, median of the pairs)", f"{ratio_run:.2f}×",
         "yes" if ratio_run <= 1.5 else "**no**"],
        ["  the same, process wall / process CPU", f"{ratio_wall:.2f}× / {ratio_cpu:.2f}×",
         "yes" if max(ratio_wall, ratio_cpu) <= 1.5 else "**no**"],
        *([["per-copy link stage: joining a group of 1,000+ / of 2-9, (b) wall / CPU",
            f"{ratio_groups[0]:.2f}× / {ratio_groups[1]:.2f}×", "yes" if max(ratio_groups) <= 1.5 else "**no**"]]
          if ratio_groups else []),
        ["  (a) holds the groups (b) holds: their links identical, ids aside", "yes" if same_groups else "no",
         "yes" if same_groups else "**no**"],
        ["  the same links made both ways", " / ".join(str(r["summary"]["new_links"]) for r in [*runs["small"], *runs["big"]]),
         "yes" if len(same_links) == 1 else "**no**"],
        *([["  (c) with the recent table nearly full (import loop without its merge)",
            f"{ratio_full:.2f}×", "yes" if ratio_full <= 1.5 else "**no**"],
           ["  amortised: (b) plus its share of a merge",
            f"{amortised:.2f}×", "yes" if amortised <= 1.5 else "**no**"]] if full is not None else []),
        ["first import starts linking within 2 s (wall)", f"{first:.2f} s", "yes" if first <= 2 else "**no**"],
        ["no full index rebuild on open", f"`Store()` {min(o['open'] for o in opened) * 1000:.0f} ms", "yes"],
        ["resident memory < 2 GB (peak RSS of any import)", mb(rss), "yes" if rss < 2 * 2**30 else "**no**"],
    ]))
    say(f"\nWhole bench: {time.perf_counter() - started_all:,.0f} s; load average at end {os.getloadavg()[0]:.1f}.")
    (OUT / f"scale-{args.docs}-report.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
