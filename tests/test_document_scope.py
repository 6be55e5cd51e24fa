"""``with store.document():``: one document's writes kept together or undone together.

The scope the drivers open around the stage chain (``collector.ingest``, ``collector.itemproc``):
its savepoint is opened at the document's first write, released at the end of the block,
rolled back (with the LSH rows the store holds, the full-text list and the per-batch caches)
when the block raises; a full batch is committed when the next document begins.
"""

from __future__ import annotations

import pytest
from backends import can_write_now, fts_count, fts_ids, other_connection
from scrapy.exceptions import DropItem
from textgen import article

from collector.core.fingerprint import fingerprint
from collector.storage import Store, open_store


class Failed(Exception):
    """A stage failing on the document in progress."""


def _item(i: int, url: str | None = None, word: str | None = None) -> dict:
    text = "\n".join(article(i)[1]) + (f"\n{word}" if word else "")
    signature, count = fingerprint(text)
    return {"url": url or f"https://a.example/{i}", "site": "a", "text": text, "content_hash": f"h{i}-{word}",
            "shingle_count": count, "signature": signature,
            "claims": [{"kind": "attribution", "claimed_name": "Other", "evidence": f"Read more at Other {i}"}]}


@pytest.fixture
def store(db_url):
    # every test here runs on SQLite and on PostgreSQL (conftest's db_url)
    store = open_store(db_url, batch_size=2, hold_seconds=60)
    yield store
    store.rollback()
    store.conn.close()


def _other(store: Store):
    return other_connection(store)


def _count(conn, table: str, where: str = "true") -> int:
    return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def _write_everything(store: Store, i: int, word: str | None = None) -> int:
    """What the stages write for one document: its row, claims, links, sightings, chrome,
    aliases and provenance."""
    doc_id, status = store.documents.save(_item(i, word=word))
    assert status in ("new", "updated")
    store.chrome.record_sightings("a", doc_id, i, [1000 + i, 7])
    store.chrome.learn("a", f"learned line {i}", 3)
    store.crawl.add_url_aliases(doc_id, [f"https://a.example/redirect/{i}"])
    store.provenance.record(doc_id, f"file.txt#line={i}", f"rules{i}", "a", "{}")
    if doc_id > 1:
        store.lineage.write_links([{"copy_id": doc_id, "origin_id": 1, "relation": "copy", "similarity": 0.9,
                                    "containment": 0.9, "evidence": "{}"}])
    return doc_id


def _trace(conn, doc_id: int) -> list[int]:
    return [_count(conn, "documents", f"id = {doc_id}"), _count(conn, "claims", f"doc_id = {doc_id}"),
            _count(conn, "line_sightings", f"doc_id = {doc_id}"), _count(conn, "url_aliases", f"doc_id = {doc_id}"),
            _count(conn, "raw_inputs", f"doc_id = {doc_id}"), _count(conn, "links", f"copy_id = {doc_id}")]


def test_the_lock_is_taken_at_the_first_write_not_when_the_document_begins(store):
    other = _other(store)
    with store.document():
        assert store.documents.has_content("nothing") is False  # reads take no lock
        assert not store.conn.in_transaction
        assert can_write_now(other)  # another writer can still write meanwhile
        store.documents.save(_item(1))
        assert store.conn.in_transaction
        assert not can_write_now(other)
    assert store.documents_started == 1


def test_a_full_batch_is_committed_when_the_next_document_writes(store):
    other = _other(store)
    for i in (1, 2):
        with store.document():
            _write_everything(store, i)
    assert _count(other, "documents") == 0  # two documents: the batch is full, not yet committed
    with store.document():
        assert _count(other, "documents") == 0  # the next document has not written yet
        _write_everything(store, 3)
        assert _count(other, "documents") == 2  # its first write committed the full batch
    store.commit()
    assert _count(other, "documents") == 3 and fts_count(other) == 3


@pytest.mark.parametrize("error", [Failed("a stage failed"), DropItem("no article"), KeyboardInterrupt()])
def test_a_block_that_raises_undoes_all_the_documents_writes(store, error):
    kept = None
    with store.document():
        kept = _write_everything(store, 1, word="keptword")
    generation = store.generation
    with pytest.raises(type(error)), store.document():
        gone = _write_everything(store, 2, word="gonewordx")
        assert "learned line 2" in store.chrome.learned("a")
        assert store.chrome.site_document_count("a") == 2
        raise error
    assert store.generation > generation  # the linker's groups may hold what was undone
    assert _trace(store.conn, gone) == [0, 0, 0, 0, 0, 0] and _trace(store.conn, kept)[:5] == [1, 1, 2, 1, 1]
    assert store.chrome.learned("a") == {"learned line 1"}  # the caches forgot what was undone
    assert store.chrome.site_document_count("a") == 1
    assert not store.lsh.candidates(_item(2, word="gonewordx")["signature"])  # its held rows are gone
    assert list(store.lsh.candidates(_item(1, word="keptword")["signature"])) == [kept]
    store.commit()
    assert fts_ids(store.conn, "gonewordx", "keptword") == [kept]
    assert _count(store.conn, "lsh_recent", f"doc_id = {gone}") == 0


def test_a_failed_update_brings_the_stored_version_back(store):
    with store.document():
        doc_id = store.documents.save(_item(1, word="firstversion"))[0]
    store.commit()
    first = _item(1, word="firstversion")["signature"]
    with pytest.raises(Failed), store.document():
        assert store.documents.save(_item(2, url="https://a.example/1", word="secondversion")) == (doc_id, "updated")
        raise Failed
    assert store.documents.find_url("https://a.example/1") == (doc_id, "h1-firstversion")
    assert list(store.lsh.candidates(first)) == [doc_id]
    assert not store.lsh.candidates(_item(2, word="secondversion")["signature"])
    store.commit()
    assert fts_ids(store.conn, "firstversion") == [doc_id]
    assert fts_ids(store.conn, "secondversion") == []


def test_an_inner_block_that_raises_undoes_its_own_writes_only(store):
    with store.document():
        outer = store.documents.save(_item(1))[0]
        with pytest.raises(Failed), store.document():
            store.chrome.learn("a", "inner line", 3)
            store.crawl.add_url_aliases(outer, ["https://a.example/inner"])
            raise Failed
        store.crawl.add_url_aliases(outer, ["https://a.example/after"])
        with store.document():  # an inner block that ends well: its writes stay with the outer's
            store.chrome.learn("a", "kept inner line", 3)
    aliases = {r[0] for r in store.conn.execute("SELECT alias FROM url_aliases")}
    assert aliases == {"https://a.example/after"}
    assert store.chrome.learned("a") == {"kept inner line"}
    assert store.documents_started == 1  # one document, however many blocks
    store.commit()
    assert _count(store.conn, "documents") == 1 and list(store.lsh.candidates(_item(1)["signature"])) == [outer]


def test_an_outer_failure_undoes_what_inner_blocks_kept(store):
    with pytest.raises(Failed), store.document():
        doc_id = store.documents.save(_item(1))[0]
        with store.document():
            store.documents.save(_item(2))  # a save inside the document is not a document of its own
            store.lsh.flush()  # rows written early are taken back by the database, and not held again
        raise Failed
    assert _count(store.conn, "documents") == 0 and _count(store.conn, "lsh_recent") == 0
    assert not store.lsh.candidates(_item(1)["signature"]) and not store.lsh.candidates(_item(2)["signature"])
    store.commit()
    assert _count(store.conn, "lsh_recent") == 0 and doc_id


def test_a_save_outside_a_block_is_a_document_of_its_own(store):
    store.documents.save(_item(1))
    store.documents.save(_item(2))
    assert store.documents_started == 2 and not store.in_document()
    other = _other(store)
    store.documents.save(_item(3))  # the third: the batch of two is committed first
    assert _count(other, "documents") == 2


def test_a_commit_inside_a_document_keeps_what_it_wrote_so_far(store):
    # a crawl's feed validators are saved (and the batch committed) between two writes
    with pytest.raises(Failed), store.document():
        doc_id = store.documents.save(_item(1))[0]
        store.crawl.save_source_validators([{"url": "https://a.example/feed", "site": "a", "kind": "rss",
                                              "etag": None, "last_modified": None}])
        store.crawl.add_url_aliases(doc_id, ["https://a.example/later"])
        raise Failed
    other = _other(store)
    assert _count(other, "documents") == 1 and _count(other, "source_validators") == 1
    assert _count(store.conn, "url_aliases") == 0  # written after the commit: undone
    assert store.documents_started == 1
    store.commit()
    assert store.lsh.candidates(_item(1)["signature"]) == {doc_id: 64}


def test_a_batch_rolled_back_inside_a_document_leaves_nothing_held(store):
    with store.document():
        store.documents.save(_item(1))
    with pytest.raises(Failed), store.document():
        store.documents.save(_item(2))
        store.rollback()  # the run stops: a database that cannot be written
        raise Failed
    assert _count(store.conn, "documents") == 0 and not store.lsh.candidates(_item(1)["signature"])
    with store.document():
        store.documents.save(_item(3))  # the store goes on from a clean batch
    store.commit()
    assert _count(store.conn, "documents") == 1 and fts_count(store.conn) == 1


def test_an_error_that_ended_the_transaction_drops_the_batch_cleanly(store):
    with store.document():
        store.documents.save(_item(1))
    with pytest.raises(Failed), store.document():
        store.documents.save(_item(2))
        store.conn.execute("ROLLBACK")  # as the database does itself on a full disk or an I/O error
        raise Failed
    assert not store.conn.in_transaction and not store.lsh.candidates(_item(1)["signature"])
    store.documents.save(_item(3))
    store.commit()
    assert _count(store.conn, "documents") == 1 and fts_count(store.conn) == 1


def test_blocks_must_nest(store):
    first, second = store.document(), store.document()
    first.__enter__()
    second.__enter__()
    with pytest.raises(RuntimeError, match="nest"):
        first.__exit__(None, None, None)


def test_a_document_undone_after_a_commit_is_not_taken_off_the_next_batch(store):
    # batch_size 2: the count of the open batch stays right, so the batch still commits at 2
    with pytest.raises(Failed), store.document():
        store.documents.save(_item(1))
        store.commit()  # the crawl's idle commit, say
        store.chrome.learn("a", "line", 3)
        raise Failed
    other = _other(store)
    for i in (2, 3):
        with store.document():
            store.documents.save(_item(i))
    assert _count(other, "documents") == 1  # documents 2 and 3 are the open batch
    with store.document():
        store.documents.save(_item(4))
    assert _count(other, "documents") == 3


def test_rows_of_more_documents_than_one_statement_takes(tmp_path):
    """``documents.rows`` reads any number of ids (a chrome line learned on a big site)."""
    import sqlite3

    from collector.storage import Store

    store = Store(tmp_path / "many.db")
    limit = store.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    ids = list(range(1, limit + 50))
    assert store.documents.rows(ids) == {}
    store.close()


def test_a_failing_last_write_undoes_its_own_document_only(store):
    # The PostgreSQL store sends a write whose result nobody reads (provenance) with the next
    # statement, or when the document ends: its error must still undo this document alone.
    with store.document():
        kept = _write_everything(store, 1)
    with pytest.raises(store.db_errors), store.document():
        gone = store.documents.save(_item(2))[0]
        store.provenance.record(gone + 1000, "file.txt#line=2", "rules2", "a", "{}")  # no such document
    with store.document():
        third = _write_everything(store, 3)
    store.commit()
    assert store.documents.find_url("https://a.example/2") is None  # (SQLite may give its id to the next one)
    assert _trace(store.conn, kept)[:5] == [1, 1, 2, 1, 1] and _trace(store.conn, third)[:5] == [1, 1, 2, 1, 1]
    assert [_count(store.conn, t) for t in ("documents", "claims", "raw_inputs")] == [2, 2, 2]
    assert _count(store.conn, "rule_sets", "hash = 'rules2'") == 0


def test_writes_held_when_a_block_raises_are_undone_and_the_outer_ones_kept(store):
    with store.document():
        outer = store.documents.save(_item(1))[0]
        store.provenance.record(outer, "file.txt#line=1", "rules1", "a", "{}")  # the outer document's
        with pytest.raises(DropItem), store.document():
            store.provenance.record(store.documents.save(_item(2))[0], "file.txt#line=2", "rules2", "a", "{}")
            raise DropItem("no article")
    with pytest.raises(Failed), store.document():
        store.provenance.record(store.documents.save(_item(3))[0], "file.txt#line=3", "rules3", "a", "{}")
        raise Failed
    store.commit()
    assert [store.documents.find_url(f"https://a.example/{i}") is not None for i in (1, 2, 3)] == [True, False, False]
    assert _count(store.conn, "raw_inputs") == 1 and _count(store.conn, "raw_inputs", f"doc_id = {outer}") == 1
    assert _count(store.conn, "rule_sets") == 1
