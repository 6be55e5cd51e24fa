"""Learn chrome: a line that repeats across many of a site's articles is the site's, not the
article's (a donation banner, a newsletter box, a share prompt), even if no config names it.

The rule: a line of ``LEARN_MIN_CHARS``..``LEARN_MAX_CHARS`` characters is chrome once it was
seen in at least ``LEARN_MIN_DOCUMENTS`` different articles of the site, and in at least
``LEARN_MIN_SHARE`` of the site's documents. Articles are told apart by their longest line
(``article_key``), so one article stored at several URLs does not teach its own sentences;
the count keeps a sentence that two articles happen to quote from being taken for chrome;
the share keeps a quote that a few of a big site's articles repeat (a slogan) from it too.
The share is low enough (15%) for a banner that rotates among several variants, each on a
fraction of the pages: chrome is on a large part of a site's pages by nature, a quote is not.

When a line is learned, the site's earlier documents that carry it are cleaned again,
re-fingerprinted and re-linked, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json

from collector.core.contracts import ChromeMemory, DocumentStore
from collector.core.fingerprint import minhash
from collector.core.similarity import Text
from collector.core.sites import normalize_line

from .clean import split_lines
from .link import Linker
from .stage import Stage

LEARN_MIN_DOCUMENTS = 3
LEARN_MIN_SHARE = 0.15
#: Shorter lines ("Share", "Photo") are dropped by extraction or harmless; longer ones are
#: paragraphs of prose, which sites do not repeat as chrome.
LEARN_MIN_CHARS = 8
LEARN_MAX_CHARS = 300


def line_hash(line: str) -> int:
    return int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def article_key(lines: list[str]) -> int:
    """Which article a document is, for counting: its longest line, a paragraph of the
    article itself (chrome lines are short). One article at several URLs has one key, even
    re-titled; a dump whose first line (its "title") is a banner does not make all of a
    site's articles one."""
    return line_hash(max(lines, key=len).casefold()) if lines else 0


class LearnChromePipeline(Stage):
    def __init__(self, chrome: ChromeMemory, documents: DocumentStore, linker: Linker):
        self.chrome, self.documents, self.linker = chrome, documents, linker

    @classmethod
    def from_context(cls, context):
        return cls(context.store.chrome, context.store.documents, Linker.shared(context))

    def process(self, item):
        memory, site = self.chrome, item["site"]
        all_lines = item.get("lines") or split_lines(item["text"])
        candidates = list(all_lines)
        if item.get("first_line_is_title") and item.get("title"):
            # A dump's "title" is only its first line: it may be a banner, so it is counted too.
            candidates.append(normalize_line(item["title"]))
        lines = {line_hash(line): line for line in candidates if LEARN_MIN_CHARS <= len(line) <= LEARN_MAX_CHARS}
        if not lines:
            return item
        memory.record_sightings(site, item["doc_id"], article_key(all_lines), lines)
        counts = memory.sighting_counts(site, lines)
        if max(counts.values(), default=0) < LEARN_MIN_DOCUMENTS:
            return item  # the usual case, decided without counting the site's documents
        needed = max(LEARN_MIN_DOCUMENTS, LEARN_MIN_SHARE * memory.site_document_count(site))
        learned = {h: lines[h] for h, n in counts.items() if n >= needed}
        if not learned:
            return item
        for h, line in learned.items():
            memory.learn(site, line, counts[h])
        affected = set()
        for h in learned:
            affected.update(memory.documents_with_line(site, h))
        new_links = self.reclean(site, affected)
        item["text"] = self.documents.rows([item["doc_id"]])[item["doc_id"]]["text"]
        item["lines"] = None  # the text changed: its lines are split again where needed
        item["new_links"] = (item.get("new_links") or 0) + new_links
        return item

    def reclean(self, site: str, doc_ids) -> int:
        """Strip the site's learned chrome from stored documents, then re-link them."""
        chrome_lines = self.chrome.learned(site)
        changed = []
        for doc_id, doc in self.documents.rows(doc_ids).items():
            lines = split_lines(doc["text"])
            kept = [line for line in lines if line not in chrome_lines]
            stripped = [line for line in lines if line in chrome_lines]
            title = doc["title"]
            if title and normalize_line(title) in chrome_lines and kept:
                # A dump stored before its banner was known took the banner for its title:
                # the title is the first line that is not chrome, as the clean stage says.
                stripped.insert(0, title)
                title = kept.pop(0)
            if not stripped:
                continue
            text = "\n".join(kept)
            shingles = Text.of(text)
            signature = minhash(shingles.shingles)
            self.documents.replace_text(doc_id, text, json.loads(doc["chrome"]) + stripped, signature, len(shingles.shingles), title)
            changed.append((doc_id, signature, shingles))
        claims = self.linker.lineage.claims_of([doc_id for doc_id, _, _ in changed])
        return sum(self.linker.link(doc_id, signature, shingles, bool(claims[doc_id]))
                   for doc_id, signature, shingles in changed)
