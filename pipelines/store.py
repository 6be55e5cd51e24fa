"""Store: write the document, its LSH buckets and its claims (see ``collector.storage``), under
the URL it is (``collector.core.identity``: same-site canonical links, checked on the text).

One run writes a URL once. Two inputs that name one URL (two saved copies of a page with
one og:url, a JSON Lines record repeating another's url) would overwrite each other, and
every re-run would report them "updated": the first is kept, each later one is dropped
with both sources named.
"""

from __future__ import annotations

import hashlib

from scrapy.exceptions import DropItem

from collector.core.contracts import DocumentStore
from collector.core.document import Status
from collector.core.identity import Identity
from collector.core.sites import host_of

from .stage import Stage


class StorePipeline(Stage):
    def __init__(self, documents: DocumentStore, identity: Identity, merge_index=lambda: None):
        self.documents, self.identity, self.merge_index = documents, identity, merge_index
        self.sources: dict[bytes, str] = {}  # URL digest -> the input that brought it first

    @classmethod
    def from_context(cls, context):
        # Identity's notices (a site's wrong canonicals) end up in the run's summary.
        store = context.store
        return cls(store.documents, Identity(store.documents, context.sites, context.notices), store.merge_index)

    def process_item(self, item):
        if item.get("status") == Status.UNCHANGED:  # stored already: its URL is taken all the same
            # (a saved page's own URL, its og:url, is known only from the stored document)
            url = item.get("url") if host_of(item.get("url")) else self.documents.url_with_content(item["content_hash"])
            if url:
                self._first_with(url, item)
            return item
        return self.process(item)

    def process(self, item):
        # The URL the input names, before ``Identity.place`` moves it to its canonical: two
        # inputs placed at one canonical URL are the identity's to sort out (variants).
        self._first_with(item["url"], item)
        item["doc_id"], item["status"] = self.documents.save(item, place=self.identity.place)
        return item

    def _first_with(self, url: str, item) -> None:
        source = str(item.get("source") or url)
        first = self.sources.setdefault(hashlib.blake2b(url.encode(), digest_size=12).digest(), source)
        if first != source:
            raise DropItem(f"{source}: not stored: {first} has the same URL ({url}) and was kept")

    def close_spider(self):
        # The end of a run: the time to merge the recent LSH rows, when there are enough.
        self.merge_index()
