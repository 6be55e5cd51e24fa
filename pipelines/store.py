"""Store: write the document, its LSH buckets and its claims (see ``collector.store``)."""

from __future__ import annotations

from .stage import Stage


class StorePipeline(Stage):
    def process(self, item):
        item["doc_id"], item["status"] = self.context.store.save_document(item)
        return item

    def close_spider(self):
        # The end of a run: the time to merge the recent LSH rows, when there are enough.
        self.context.store.merge_index()
