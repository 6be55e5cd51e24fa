"""Inbox: a crawl node's last stage (distributed mode, COLLECTOR_INBOX).

A node runs the extract stage only (``NODE_ITEM_PIPELINES_BASE``); this stage hands each
extracted document to the inbox in PostgreSQL, where ``collector link-worker`` runs the rest of
the stages (clean, attribute, fingerprint, store, link, learn) through the same driver and
stores it. Documents the store already holds unchanged are handed over too (their URL
aliases are written by the linker, as a one-process crawl writes them).
"""

from __future__ import annotations

from collections.abc import Mapping

from collector.core.contracts import Inbox

from .stage import Stage

#: The status of a document handed to the inbox (counted as "queued" in a run's summary).
QUEUED = "queued"


class InboxPipeline(Stage):
    def __init__(self, inbox: Inbox, run_ids: Mapping[str, int]):
        self.inbox = inbox
        self.run_ids = run_ids  # site -> its crawl's runs.id (RunRecord fills it as crawls open)

    @classmethod
    def from_context(cls, context):
        return cls(context.open_inbox(), context.shared("run_ids", dict))

    def process_item(self, item):
        return self.process(item)  # stored unchanged or not, the linker decides

    def process(self, item):
        self.inbox.put(item, self.run_ids.get(item.get("site")))
        item["raw_record"] = None  # handed over with it: the node keeps no copy
        if item.get("status") is None:
            item["status"] = QUEUED
        return item
