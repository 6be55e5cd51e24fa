"""The generated corpus: articles of invented words (``bench/corpusgen.py``), the same in every
process, and their signatures."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np

from bench.corpusgen import Generator
from collector.core.fingerprint import NUM_PERM, fingerprint

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



#: Every CHECK_EVERY-th document goes through the genuine extract, clean and attribute stages.
CHECK_EVERY = 100
_GENERATOR: list[Generator] = []


def generator() -> Generator:
    """The one generator of this process (its vocabulary is costly; forked workers inherit it).
    Every user sets its ``rng`` before drawing."""
    if not _GENERATOR:
        _GENERATOR.append(make_generator())
    return _GENERATOR[0]


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
    out = []
    for i, doc_id in enumerate(range(start + 1, stop + 1)):
        title, paragraphs = gen.article()
        published = EPOCH + timedelta(minutes=5 * doc_id)
        out.append({
            "id": doc_id,
            "url": f"https://site{sites[i]}.example/{doc_id}",
            "site": f"site{sites[i]}",
            "title": title,
            "published": iso(published),
            "fetched": iso(published + timedelta(hours=2)),
            "text": "\n".join(paragraphs),
        })
    return out


def jsonl_line(rec: dict) -> str:
    return json.dumps({k: rec[k] for k in ("url", "site", "title", "published", "fetched", "text")}, ensure_ascii=False)


def fresh_records(gen: Generator, key: list[int], first_id: int, n: int) -> list[dict]:
    gen.rng = np.random.default_rng(key)
    sites = gen.rng.choice(SITES, size=n, p=site_weights())
    out = []
    for i in range(n):
        doc_id = first_id + i
        title, paragraphs = gen.article()
        published = datetime(2026, 2, 1, tzinfo=timezone.utc) + timedelta(minutes=i)
        out.append({"id": doc_id, "url": f"https://site{sites[i]}.example/{doc_id}", "site": f"site{sites[i]}", "title": title,
                    "published": iso(published), "fetched": iso(published + timedelta(hours=1)),
                    "text": "\n".join(paragraphs)})
    return out


def signatures(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(signature values (n, NUM_PERM) uint32, shingle counts): ``fingerprint(text)`` of each
    text, as the fingerprint stage computes them (about 0.2 ms a document here)."""
    values = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
    counts = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        m, counts[i] = fingerprint(text)
        values[i] = m.hashvalues
    return values, counts
