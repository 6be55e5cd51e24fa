"""Fingerprint stored documents again after the tokenizer changed (``collector refingerprint``).

Only documents in a script written without spaces get other shingles from the character
tokenizer (``collector.core.fingerprint.SPACELESS``); each gets its new signature, LSH rows and
links, in batches, so an interrupted run is simply run again.
"""

from __future__ import annotations

from pipelines.link import Linker

from .core.fingerprint import minhash
from .core.similarity import Text
from .core.sites import Sites
from .storage import open_store


def refingerprint(db_path: str, sites: Sites, options: dict | None = None) -> dict:
    """``options``: the store's settings (``collector.context.store_options``)."""
    store = open_store(db_path, old_tokens=True, **(options or {}))
    try:
        store.sync_sites(sites)
        linker = Linker(store.documents, store.lsh, store.lineage, store, sites)
        ids = store.documents.spaceless()
        links = 0
        for start in range(0, len(ids), store.batch_size):
            chunk = ids[start : start + store.batch_size]
            docs = store.documents.rows(chunk)
            claims = store.lineage.claims_of(chunk)
            for doc_id in chunk:
                doc = docs[doc_id]
                text = Text.of(doc["text"])
                signature = minhash(text.shingles)
                store.documents.replace_text(doc_id, doc["text"], _chrome(doc["chrome"]), signature, len(text.shingles), doc["title"])
                links += linker.link(doc_id, signature, text, bool(claims[doc_id]))
            store.commit()
        store.save_fingerprint_params()
        return {"documents": len(ids), "links": links}
    finally:
        store.close()


def _chrome(value: str) -> list[str]:
    import json

    return json.loads(value or "[]")
