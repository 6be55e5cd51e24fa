"""Provenance: where the document's raw input is (``raw_ref``) and the rules it was made with.

Written in the document's own transaction, so a document never exists without them. The
crawl's items bring their archive record (``collector.archive``); an imported item's
reference is its file, record or line, from its ``source``.
"""

from __future__ import annotations

import json

from collector.raw import source_ref
from collector.rules import Rules
from collector.store import utcnow

from .stage import Stage


class ProvenancePipeline(Stage):
    def __init__(self, context):
        super().__init__(context)
        self.rules = Rules(context.sites, context.settings)
        self.known: dict[str, str] = {}  # hash -> its rules as JSON

    def process(self, item):
        ref = item.get("raw_ref") or source_ref(item.get("source"))
        record_provenance(self.context.store, item["doc_id"], ref, self.rule_set(item["site"]))
        return item

    def rule_set(self, site: str) -> str:
        digest = self.rules.hash(site)
        if digest not in self.known:
            self.known[digest] = json.dumps(self.rules.of(site), sort_keys=True, ensure_ascii=False)
        # Every time, not once: a document rolled back takes its writes with it.
        self.context.store.conn.execute(
            "INSERT OR IGNORE INTO rule_sets (hash, site, rules, first_used) VALUES (?, ?, ?, ?)",
            (digest, site, self.known[digest], utcnow()))
        return digest

def record_provenance(store, doc_id: int, raw_ref: str | None, rules_hash: str) -> None:
    store.conn.execute(
        "INSERT INTO raw_inputs (doc_id, raw_ref, rules_hash, processed) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(doc_id) DO UPDATE SET raw_ref = coalesce(excluded.raw_ref, raw_ref),"
        " rules_hash = excluded.rules_hash, processed = excluded.processed",
        (doc_id, raw_ref, rules_hash, utcnow()))
