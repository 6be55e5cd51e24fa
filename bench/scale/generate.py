"""The generated corpus: articles of invented words (``bench/corpusgen.py``), each with the
vocabulary index of its words, and their signatures computed from those words."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np

from bench.corpusgen import Generator
from collector.core.fingerprint import NUM_PERM, fingerprint, minhash, shingle_hashes, shingles_of

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



#: Documents whose signature is also computed by ``fingerprint(text)`` and compared.
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
            "word_ids": word_ids,  # the vocabulary index of each word of the text, in order
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
    """``article_with_ids`` still draws what ``Generator.article`` draws."""
    a, b = Generator.__new__(Generator), Generator.__new__(Generator)
    for g in (a, b):
        g.vocab, g.cdf, g.rng = gen.vocab, gen.cdf, np.random.default_rng(12345)
    for _ in range(n):
        title, paras, ids = article_with_ids(a)
        assert (title, paras) == b.article(), "article_with_ids no longer follows corpusgen.Generator.article"
        assert " ".join(paras).lower().replace(".", "").split() == gen.vocab[ids].tolist()


def jsonl_line(rec: dict) -> str:
    return json.dumps({k: rec[k] for k in ("url", "site", "title", "published", "fetched", "text")}, ensure_ascii=False)


def fresh_records(gen: Generator, key: list[int], first_id: int, n: int) -> list[dict]:
    gen.rng = np.random.default_rng(key)
    sites = gen.rng.choice(SITES, size=n, p=site_weights())
    out = []
    for i in range(n):
        doc_id = first_id + i
        title, paragraphs, word_ids = article_with_ids(gen)
        published = datetime(2026, 2, 1, tzinfo=timezone.utc) + timedelta(minutes=i)
        out.append({"id": doc_id, "url": f"https://site{sites[i]}.example/{doc_id}", "site": f"site{sites[i]}", "title": title,
                    "published": iso(published), "fetched": iso(published + timedelta(hours=1)),
                    "text": "\n".join(paragraphs), "word_ids": word_ids})
    return out


_VOCAB_BYTES: dict[int, list[bytes]] = {}


def vocab_bytes(vocab: np.ndarray) -> list[bytes]:
    key = id(vocab)
    if key not in _VOCAB_BYTES:
        _VOCAB_BYTES[key] = [w.encode("utf-8") for w in vocab.tolist()]
    return _VOCAB_BYTES[key]


def signatures(texts: list[str], word_ids: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """(signature values (n, NUM_PERM) uint32, shingle counts): ``fingerprint(text)`` of each
    text. A generated text's tokens are its vocabulary words (lower case, no punctuation), so
    its shingles come from them without tokenising the text (``shingles_of``); None: the text
    is tokenised. Every CHECK_EVERY-th document is compared with ``fingerprint(text)``, and
    ``verify`` compares the rows with the real pipeline's."""
    words = vocab_bytes(generator().vocab)
    values = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
    counts = np.zeros(len(texts), dtype=np.int64)
    for i, (text, ids) in enumerate(zip(texts, word_ids)):
        hashes = shingles_of([words[j] for j in ids.tolist()]) if ids is not None else shingle_hashes(text)
        values[i], counts[i] = minhash(hashes).hashvalues, len(hashes)
        if i % CHECK_EVERY == 0:
            m, c = fingerprint(text)
            if c != counts[i] or not np.array_equal(np.asarray(m.hashvalues, dtype=np.uint32), values[i]):
                raise AssertionError(f"the signature from the vocabulary differs from fingerprint(text) for document {i}")
    return values, counts
