"""Learn chrome: a line that repeats across many of a site's articles is the site's, not the
article's (a donation banner, a newsletter box, a share prompt), even if no config names it.

The rule: a line of ``LEARN_MIN_CHARS``..``LEARN_MAX_CHARS`` characters is chrome once it was
seen in at least ``LEARN_MIN_DOCUMENTS`` differently titled documents of the site, and in at
least ``LEARN_MIN_SHARE`` of the site's documents. Counting titles, not documents, keeps one
article stored at two URLs from teaching its own sentences; the count keeps a sentence
that two articles happen to quote from being taken for chrome; the share keeps a quote that
a handful of a big site's articles repeat (a politician's slogan) from it too, since chrome
is on a large part of a site's pages by nature.

When a line is learned, the site's earlier documents that carry it are cleaned again,
re-fingerprinted and re-linked, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json

from .clean import split_lines
from .fingerprint import fingerprint
from .link import Linker
from .stage import Stage

LEARN_MIN_DOCUMENTS = 3
LEARN_MIN_SHARE = 0.3
#: Shorter lines ("Share", "Photo") are dropped by extraction or harmless; longer ones are
#: paragraphs of prose, which sites do not repeat as chrome.
LEARN_MIN_CHARS = 8
LEARN_MAX_CHARS = 300


def line_hash(line: str) -> int:
    return int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def title_key(title: str | None, doc_id: int) -> int:
    # Untitled documents each count once: there is no title to tell them apart by.
    return line_hash((title or f"\0untitled {doc_id}").casefold().strip())


class LearnChromePipeline(Stage):
    def __init__(self, context):
        super().__init__(context)
        self.linker = Linker(context.store, context.sites)

    def process(self, item):
        store, site = self.context.store, item["site"]
        lines = {line_hash(line): line for line in split_lines(item["text"]) if LEARN_MIN_CHARS <= len(line) <= LEARN_MAX_CHARS}
        if not lines:
            return item
        store.record_sightings(site, item["doc_id"], title_key(item.get("title"), item["doc_id"]), lines)
        counts = store.sighting_counts(site, lines)
        needed = max(LEARN_MIN_DOCUMENTS, LEARN_MIN_SHARE * store.site_document_count(site))
        learned = {h: lines[h] for h, n in counts.items() if n >= needed}
        if not learned:
            return item
        for h, line in learned.items():
            store.learn_chrome(site, line, counts[h])
        affected = set()
        for h in learned:
            affected.update(store.documents_with_line(site, h))
        new_links = self.reclean(site, affected)
        item["text"] = store.documents([item["doc_id"]])[item["doc_id"]]["text"]
        item["new_links"] = (item.get("new_links") or 0) + new_links
        return item

    def reclean(self, site: str, doc_ids) -> int:
        """Strip the site's learned chrome from stored documents, then re-link them."""
        store = self.context.store
        chrome_lines = store.learned_chrome(site)
        changed = []
        for doc_id, doc in store.documents(doc_ids).items():
            lines = split_lines(doc["text"])
            kept = [line for line in lines if line not in chrome_lines]
            if len(kept) == len(lines):
                continue
            stripped = [line for line in lines if line in chrome_lines]
            text = "\n".join(kept)
            signature, shingle_count = fingerprint(text)
            store.replace_text(doc_id, text, json.loads(doc["chrome"]) + stripped, signature, shingle_count)
            changed.append((doc_id, signature))
        return sum(self.linker.link(doc_id, signature) for doc_id, signature in changed)
