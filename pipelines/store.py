"""Store: write the document, its LSH buckets and its claims (see ``collector.store``), under
the URL it is (``collector.identity``: same-site canonical links, checked on the text).

One run writes a URL once. Two inputs that name one URL (two saved copies of a page with
one og:url, a JSON Lines record repeating another's url) would overwrite each other, and
every re-run would report them "updated": the first is kept, each later one is dropped
with both sources named.
"""

from __future__ import annotations

import hashlib

from scrapy.exceptions import DropItem

from collector.identity import Identity
from collector.core.sites import host_of

from .stage import Stage


class StorePipeline(Stage):
    def __init__(self, context):
        super().__init__(context)
        # Its notices (a site's wrong canonicals) end up in the import's or crawl's summary.
        self.identity = Identity(context.store, context.sites, context.notices)
        self.sources: dict[bytes, str] = {}  # URL digest -> the input that brought it first

    def process_item(self, item):
        if item.get("status") == "unchanged":  # stored already: its URL is taken all the same
            # (a saved page's own URL, its og:url, is known only from the stored document)
            url = item.get("url") if host_of(item.get("url")) else self.context.store.url_with_content(item["content_hash"])
            if url:
                self._first_with(url, item)
            return item
        return self.process(item)

    def process(self, item):
        # The URL the input names, before ``Identity.place`` moves it to its canonical: two
        # inputs placed at one canonical URL are the identity's to sort out (variants).
        self._first_with(item["url"], item)
        item["doc_id"], item["status"] = self.context.store.save_document(item, place=self.identity.place)
        return item

    def _first_with(self, url: str, item) -> None:
        source = str(item.get("source") or url)
        first = self.sources.setdefault(hashlib.blake2b(url.encode(), digest_size=12).digest(), source)
        if first != source:
            raise DropItem(f"{source}: not stored: {first} has the same URL ({url}) and was kept")

    def close_spider(self):
        # The end of a run: the time to merge the recent LSH rows, when there are enough.
        self.context.store.merge_index()
