"""Store: write the document, its LSH buckets and its claims (see ``collector.store``), under
the URL it is (``collector.identity``: same-site canonical links, checked on the text)."""

from __future__ import annotations

from collector.identity import Identity

from .stage import Stage


class StorePipeline(Stage):
    def __init__(self, context):
        super().__init__(context)
        # Its notices (a site's wrong canonicals) end up in the import's or crawl's summary.
        self.identity = Identity(context.store, context.sites, context.notices)

    def process(self, item):
        item["doc_id"], item["status"] = self.context.store.save_document(item, place=self.identity.place)
        return item

    def close_spider(self):
        # The end of a run: the time to merge the recent LSH rows, when there are enough.
        self.context.store.merge_index()
