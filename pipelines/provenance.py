"""Provenance: where the document's raw input is (``raw_ref``) and the rules it was made with.

Written in the document's own transaction, so a document never exists without them. The
crawl's items bring their archive record (``collector.crawl.archive``); an imported item's
reference is its file, record or line, from its ``source``.
"""

from __future__ import annotations

import json

from collector.core.contracts import ProvenanceLog
from collector.core.document import source_ref
from collector.core.rules import Rules

from .stage import Stage


class ProvenancePipeline(Stage):
    def __init__(self, log: ProvenanceLog, rules: Rules):
        self.log, self.rules = log, rules
        self.known: dict[str, str] = {}  # hash -> its rules as JSON

    @classmethod
    def from_context(cls, context):
        return cls(context.store.provenance, Rules(context.sites, context.settings.get("COLLECTOR_EXTRACTION")))

    def process(self, item):
        ref = item.get("raw_ref") or source_ref(item.get("source"))
        digest = self.rules.hash(item["site"])
        if digest not in self.known:
            self.known[digest] = json.dumps(self.rules.of(item["site"]), sort_keys=True, ensure_ascii=False)
        # Every time, not once: a document rolled back takes its writes with it.
        self.log.record(item["doc_id"], ref, digest, item["site"], self.known[digest])
        return item
