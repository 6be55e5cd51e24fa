"""The LSH index in SQLite and PostgreSQL: datasketch's banding, stored, and the trade its parameters make."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from conftest import CORPUS, REPO, needs_shared
from textgen import article

from backends import postgres

from collector.storage import open_store
from collector.storage.lsh import BANDS, BUCKET_READ_MAX, MIN_BAND_HITS, ROWS, LSHIndex
from collector.storage.schema import migrate
from collector.core.fingerprint import NUM_PERM, fingerprint, minhash, shingle_hashes, word_bytes, words
from collector.core.similarity import relate


def _lsh(path=":memory:"):
    conn = sqlite3.connect(path, isolation_level=None)
    from sqlite_utils import Database

    migrate(Database(conn))
    return LSHIndex(conn)


def test_band_keys_are_datasketchs_own():
    # the bands datasketch's own MinHashLSH makes of the signature, each key read as one int64
    from datasketch import MinHashLSH

    lsh = _lsh()
    m, _ = fingerprint("\n".join(article(1)[1]))
    ref = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    theirs = [(band, int.from_bytes(ref._H(m.hashvalues[start:end]), "big", signed=True))
              for band, (start, end) in enumerate(ref.hashranges)]
    assert lsh.band_keys(m) == theirs
    assert (lsh.b, lsh.r) == (ref.b, ref.r) == (BANDS, ROWS) and BANDS * ROWS <= NUM_PERM


# Every kind of character the byte tokenizer must treat as the \w+ regex does: non-breaking
# and ideographic spaces, dashes, combining marks (Devanagari, the dot casefold adds to
# Turkish I), letters of several scripts, digits, superscripts (NFKC), ligatures, "ß"
# (casefold), underscores, zero-width characters, emoji, a lone surrogate.
_TRICKY = (
    "Mayor\u00a0O’Neill—re-elected: “never again”… İstanbul’s STRASSE/straße "
    "हिन्दी समाचार, 東京\u3000ニュース; عربي ١٢٣ x² ﬁnance snake_case __init__ "
    "a\u200bb c\u200dd 👍🏽 ǅemal Ωmega 3½ naïve cafe\u0301 \udcff end_"
)


def test_byte_tokens_are_the_regex_words():
    for text in (_TRICKY, "", "   ", "_", "—", "\n".join(article(3)[1])):
        assert [w.decode("utf-8") for w in word_bytes(text)] == words(text)


@needs_shared(CORPUS)
def test_byte_tokens_are_the_regex_words_on_real_articles():
    import gzip
    import json

    truth = json.loads(gzip.decompress((CORPUS / "extraction" / "scrapinghub-aeb" / "ground-truth.json.gz").read_bytes()))
    texts = [entry["articleBody"] for entry in truth.values() if entry.get("articleBody")]
    assert len(texts) > 100
    for text in texts:
        assert [w.decode("utf-8") for w in word_bytes(text)] == words(text)


def test_signature_is_datasketchs_one_shingle_at_a_time():
    # the whole array handed to update_batch at once gives what datasketch computes from one
    # update per shingle, with its own hashing of the same 32-bit values
    from datasketch import MinHash

    from collector.core.fingerprint import NUM_PERM, SCHEME, SEED

    hashes = shingle_hashes("\n".join(article(2)[1]))
    assert len(hashes) > 100 and np.all(np.diff(hashes.astype(np.float64)) > 0)
    theirs = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=lambda v: v)
    for value in (hashes >> np.uint64(32)).astype(np.uint32).tolist():
        theirs.update(value)
    assert np.array_equal(minhash(hashes).hashvalues, theirs.hashvalues)


def test_index_persists_and_forgets(db_url):
    store = open_store(db_url)
    lsh = store.lsh
    m, _ = fingerprint("\n".join(article(2)[1]))
    store.begin()
    lsh.add(7, m)
    assert lsh.query(m) == [7]  # held back until flushed, and found meanwhile
    store.commit()
    store.close()
    again = open_store(db_url)  # a new process would see the same rows
    assert again.lsh.query(m) == [7]
    again.begin()
    again.lsh.discard(7, m)
    assert again.lsh.query(m) == []
    again.close()


def test_a_bucket_of_many_copies_is_read_capped(db_url):
    """The copies of a big story share buckets: once a query finds one holding more than
    BUCKET_READ_MAX documents, it reads the first BUCKET_READ_MAX of each such bucket."""
    store = open_store(db_url)
    m, _ = fingerprint("\n".join(article(3)[1]))
    store.begin()
    for doc_id in range(1, 5 * BUCKET_READ_MAX + 1):
        store.lsh.add(doc_id, m)
    store.commit()
    assert store.lsh.candidates(m) == {d: BANDS for d in range(1, 5 * BUCKET_READ_MAX + 1)}  # found all, learned they are big
    assert store.lsh.candidates(m) == {d: BANDS for d in range(1, BUCKET_READ_MAX + 1)}  # then read capped, earliest first
    store.close()


class Failed(Exception):
    """A stage failing on the document in progress."""


def _stored(i: int, text: str, url: str | None = None) -> dict:
    signature, count = fingerprint(text)
    return {"url": url or f"https://a.example/{i}", "site": "a", "text": text, "content_hash": f"h{i}",
            "shingle_count": count, "signature": signature}


def test_a_batchs_rows_are_held_found_taken_back_and_written_in_key_order(db_url):
    store = open_store(db_url)
    texts = {i: "\n".join(article(i)[1]) for i in range(1, 7)}
    sig = {i: fingerprint(t)[0] for i, t in texts.items()}
    table = lambda: store.conn.execute("SELECT band, bucket, doc_id FROM lsh_recent ORDER BY band, bucket, doc_id").fetchall()  # noqa: E731

    save, candidates = store.documents.save, store.lsh.candidates
    a = save(_stored(1, texts[1]))[0]
    b = save(_stored(2, texts[2]))[0]
    assert table() == [] and sorted(candidates(sig[1])) == [a]  # held, and found
    copy = save(_stored(7, texts[1], url="https://a.example/copy"))[0]  # the same buckets
    assert sorted(candidates(sig[1])) == [a, copy]
    # a document replaced within the batch leaves only its new rows
    assert save(_stored(3, texts[3], url="https://a.example/2")) == (b, "updated")
    assert sorted(candidates(sig[2])) == [] and sorted(candidates(sig[3])) == [b]
    # a document that fails takes its rows back with it
    with pytest.raises(Failed), store.document():
        failed = save(_stored(4, texts[4]))[0]
        raise Failed
    assert sorted(candidates(sig[4])) == []
    # rows flushed early (a reader that needs them in the table) by a document that then
    # fails: the database takes them back, and they are held again
    with pytest.raises(Failed), store.document():
        save(_stored(5, texts[5]))
        store.lsh.flush()
        assert len(table()) == 4 * BANDS  # a, b, the copy and the document in progress
        raise Failed
    assert sorted(candidates(sig[1])) == [a, copy] and sorted(candidates(sig[5])) == []
    store.commit()
    expected = sorted((band, bucket, doc) for doc, i in ((a, 1), (b, 3), (copy, 1)) for band, bucket in store.lsh.band_keys(sig[i]))
    assert table() == expected and failed not in {row[2] for row in table()}
    # an interrupted batch keeps nothing it held
    save(_stored(6, texts[6]))
    store.rollback()
    assert sorted(candidates(sig[6])) == [] and table() == expected


def test_an_update_taken_back_restores_the_held_rows(db_url):
    store = open_store(db_url)
    first, second = "\n".join(article(8)[1]), "\n".join(article(9)[1])
    a = store.documents.save(_stored(8, first))[0]
    with pytest.raises(Failed), store.document():
        assert store.documents.save(_stored(9, second, url="https://a.example/8")) == (a, "updated")
        raise Failed  # the update fails: the first text and its rows are back
    assert sorted(store.lsh.candidates(fingerprint(first)[0])) == [a] and sorted(store.lsh.candidates(fingerprint(second)[0])) == []
    store.commit()
    assert store.conn.execute("SELECT count(*) FROM lsh_recent WHERE doc_id = ?", (a,)).fetchone()[0] == BANDS


def test_a_flush_that_fails_writes_nothing_and_keeps_the_rows_held(db_url, monkeypatch):
    import collector.storage.lsh

    monkeypatch.setattr(collector.storage.lsh, "_FLUSH_ROWS", BANDS)  # one statement per band
    store = open_store(db_url)
    texts = {i: "\n".join(article(i)[1]) for i in (11, 12)}
    ids = {i: store.documents.save(_stored(i, t))[0] for i, t in texts.items()}
    # the last band's rows fail (a full disk, say), after the others went through
    if postgres(store):
        store.conn.execute("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS"
                           " $$BEGIN RAISE EXCEPTION 'database or disk is full'; END$$")
        store.conn.execute("CREATE TRIGGER full_disk BEFORE INSERT ON lsh_recent FOR EACH ROW WHEN (NEW.band = 63)"
                           " EXECUTE FUNCTION disk_full()")
    else:
        store.conn.execute("CREATE TEMP TRIGGER full_disk BEFORE INSERT ON lsh_recent WHEN NEW.band = 63"
                           " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(store.db_errors, match="disk is full"):
        store.commit()
    assert store.conn.execute("SELECT count(*) FROM lsh_recent").fetchone()[0] == 0
    assert all(sorted(store.lsh.candidates(fingerprint(t)[0])) == [ids[i]] for i, t in texts.items())
    store.conn.execute("DROP TRIGGER full_disk" + (" ON lsh_recent" if postgres(store) else ""))
    store.commit()  # tried again: every row once
    assert store.conn.execute("SELECT count(*), count(DISTINCT doc_id) FROM lsh_recent").fetchone() == (2 * BANDS, 2)


def test_recent_rows_merge_into_the_index_and_answer_the_same(db_url):
    store = open_store(db_url, recent_documents=3)
    sigs = {i: fingerprint("\n".join(article(i)[1]))[0] for i in range(1, 6)}
    store.begin()
    for i in (1, 2):
        store.lsh.add(i, sigs[i])
    assert store.merge_index() == 0  # two documents wait: fewer than 3
    store.begin()
    store.lsh.add(3, sigs[3])
    before = {i: sorted(store.lsh.candidates(sigs[i], 1)) for i in sigs}
    assert store.merge_index() == 3 * BANDS
    count = lambda t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
    assert (count("lsh_recent"), count("lsh_buckets")) == (0, 3 * BANDS)
    store.begin()
    store.lsh.add(4, sigs[4])  # one in each table now: both are read, neither counted twice
    assert {i: sorted(store.lsh.candidates(sigs[i], 1)) for i in (1, 2, 3)} == {i: before[i] for i in (1, 2, 3)}
    assert sorted(store.lsh.candidates(sigs[4], BANDS)) == [4] and sorted(store.lsh.candidates(sigs[1], BANDS)) == [1]
    store.lsh.discard(1, sigs[1])  # forgetting reaches the merged rows
    store.lsh.discard(4, sigs[4])  # and the recent ones
    assert 1 not in sorted(store.lsh.candidates(sigs[1], 1)) and 4 not in sorted(store.lsh.candidates(sigs[4], 1))
    assert store.merge_index(force=True) == 0 and count("lsh_index") == 2 * BANDS
    # a merge cut short (killed after its first bands) is still due, and finishes
    store.begin()
    for i in (1, 4, 5):
        store.lsh.add(i, sigs[i])
    store.lsh.merge(0)
    store.commit()
    assert store.merge_index() == 3 * (BANDS - 1) and count("lsh_recent") == 0
    assert {i: sorted(store.lsh.candidates(sigs[i], BANDS)) for i in (1, 4, 5)} == {1: [1], 4: [4], 5: [5]}
    store.close()


def _subset(hashes: np.ndarray, share: float, rng) -> np.ndarray:
    return np.sort(rng.choice(hashes, int(len(hashes) * share), replace=False))


def test_excerpts_are_found_and_chance_pairs_are_not():
    """The trade of 64 bands of 2 with two collisions required: sets at J ~ 0.33 (an excerpt
    of a third) are found nearly always; sets at J ~ 0.05 (same-beat stock phrases) rarely."""
    rng = np.random.default_rng(0)
    lsh = _lsh()
    found_excerpts = found_chance = 0
    trials = 60
    for i in range(trials):
        full = rng.integers(0, 2**63, 900, dtype=np.uint64)
        full = np.unique(full)
        excerpt = _subset(full, 1 / 3, rng)                    # J = 1/3, containment 1
        chance = np.unique(np.concatenate([_subset(full, 0.1, rng), rng.integers(0, 2**63, 900, dtype=np.uint64)]))
        lsh.add(3 * i, minhash(full))
        found_excerpts += 3 * i in lsh.query(minhash(excerpt))
        found_chance += 3 * i in lsh.query(minhash(chance))
    assert found_excerpts >= trials * 0.95
    assert found_chance <= trials * 0.15
    assert MIN_BAND_HITS == 2


def test_relate_thresholds():
    base = shingle_hashes("\n".join(article(3)[1]))
    rng = np.random.default_rng(1)
    assert relate(base, base, True)[0] == "duplicate"
    assert relate(base, base, False)[0] == "copy"
    assert relate(_subset(base, 0.3, rng), base, False)[0] == "excerpt"
    assert relate(_subset(base, 0.85, rng), base, False)[0] == "copy"
    unrelated = shingle_hashes("\n".join(article(4)[1]))
    assert relate(unrelated, base, False) is None
    assert relate(base[:5], base, False) is None  # too short to mean anything


def test_start_up_does_not_load_scipy_integrate_yet_datasketch_can():
    code = (
        "import sys, collector.cli, collector.storage; assert 'scipy.integrate' not in sys.modules\n"
        "from datasketch import MinHashLSH; print(MinHashLSH(threshold=0.5, num_perm=128).b)"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 1  # datasketch's optimiser ran, on the real scipy


_FAULTS = """
import resource, sys
sys.path.insert(0, "tests")
from textgen import article
from pipelines import _malloc
from collector.core.fingerprint import fingerprint
texts = ["\\n".join(article(i)[1]) * 3 for i in range(150)]
if sys.argv[1] == "tuned":
    assert _malloc.tune()
fingerprint(texts[0])
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for text in texts:
    fingerprint(text)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / len(texts))
"""


def test_fingerprinting_does_not_fault_pages_in_for_every_document():
    import platform
    import subprocess
    import sys

    import pytest

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the malloc thresholds are glibc's")
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    faults = {mode: float(subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True,
                                         check=True, cwd=REPO, env=env).stdout)
              for mode in ("default", "tuned")}
    assert faults["tuned"] < 3, faults  # glibc 2.36 here: ~100 a document by default, 0.02 tuned
