"""The fakes keep the contracts: every protocol method, with the protocol's parameters, and
a document's writes undone together."""

from __future__ import annotations

import inspect

import pytest
from fakes import (
    FakeCandidateIndex,
    FakeChromeMemory,
    FakeDocumentStore,
    FakeFreshness,
    FakeLineageStore,
    FakeProvenanceLog,
    FakeStore,
    FakeUrlAliases,
)

from collector.core import contracts
from collector.core.document import Document, Status

PAIRS = [(contracts.ContentIndex, FakeDocumentStore), (contracts.DocumentStore, FakeDocumentStore),
         (contracts.CandidateIndex, FakeCandidateIndex), (contracts.LineageStore, FakeLineageStore),
         (contracts.Freshness, FakeFreshness), (contracts.ChromeMemory, FakeChromeMemory),
         (contracts.UrlAliases, FakeUrlAliases), (contracts.ProvenanceLog, FakeProvenanceLog),
         (contracts.Transactions, FakeStore)]


def protocol_methods(protocol) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for klass in protocol.__mro__ if klass not in (object,) and klass.__module__ == contracts.__name__
            for name, member in vars(klass).items() if callable(member) and not name.startswith("_")}


@pytest.mark.parametrize("protocol, fake", PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_each_fake_has_its_protocols_methods_and_parameters(protocol, fake):
    methods = protocol_methods(protocol)
    assert methods, protocol
    for name, signature in methods.items():
        assert hasattr(fake, name), f"{fake.__name__} lacks {name}"
        assert list(inspect.signature(getattr(fake, name)).parameters) == list(signature.parameters), name


def test_fresh_attributes_of_the_freshness_protocol():
    assert isinstance(FakeFreshness().generation, int)


def test_a_failed_document_leaves_nothing_and_rollback_undoes_the_batch():
    store = FakeStore()
    with store.document():
        kept = store.documents.add(url="https://a.example/1", site="a", text="one")
    store.commit()
    with pytest.raises(RuntimeError):
        with store.document():
            store.documents.add(url="https://a.example/2", site="a", text="two")
            store.chrome.record_sightings("a", 2, 7, [11])
            raise RuntimeError("stage failed")
    assert list(store.documents.docs) == [kept] and store.chrome.sightings == {}
    with store.document():
        store.documents.add(url="https://a.example/3", site="a", text="three")
    store.rollback()
    assert list(store.documents.docs) == [kept] and store.freshness.generation == 2


def test_saving_the_same_input_again_is_unchanged():
    docs = FakeDocumentStore()
    item = Document(url="https://a.example/1", site="a", text="x", content_hash="h1")
    first = docs.save(item)
    assert first[1] == Status.NEW and docs.save(item) == (first[0], Status.UNCHANGED)
    item["content_hash"] = "h2"
    assert docs.save(item) == (first[0], Status.UPDATED) and docs.has_content("h2")
