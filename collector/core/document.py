"""The one item every source yields, spiders and importers alike, and the records it carries.

``Document`` is a dataclass, which Scrapy accepts as an item (``itemadapter``): feed exports
(``-O``, ``FEEDS``) read its fields, and a field's ``serializer`` sits in its metadata. The
stages read and write it like a mapping (``item["text"]``, ``item.get("site")``), the way
Scrapy items are used, and a field that holds ``None`` counts as not set: it is not in
``keys()``, so ``dict(document)`` holds only what some source or stage filled in.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypedDict

from .sites import host_of


class Status(StrEnum):
    """What the store stage did with a document (a ``str``: it is stored and compared as text)."""

    NEW = "new"              # first stored
    UPDATED = "updated"      # stored before, its input changed
    UNCHANGED = "unchanged"  # stored before from the same input: nothing to do
    VARIANT = "variant"      # another URL of a stored document: an alias added


#: Documents that pass through every later stage untouched.
ALREADY_STORED = (Status.UNCHANGED, Status.VARIANT)


class Claim(TypedDict):
    """A document's statement of where it comes from: a line ("Originally appeared at X") or
    its canonical link. A record, stored as a row of ``claims``."""

    claimed_site: str | None   # the site config key it names, when known
    claimed_name: str | None   # the name as written (or the host)
    claimed_url: str | None
    evidence: str              # the line itself, or "canonical: URL"
    kind: str                  # "attribution" or "canonical"


class Link(TypedDict):
    """One edge of a lineage group, stored as a row of ``links``: the copy, its origin, how."""

    copy_id: int
    origin_id: int
    relation: str        # duplicate | copy | excerpt
    similarity: float    # Jaccard of the shingle sets
    containment: float   # share of the copy's shingles found in the origin
    evidence: str        # why this origin: attribution, canonical link, published, fetched


def _signature_text(minhash) -> str | None:
    """A signature in a feed export (when FEED_EXPORT_FIELDS asks for it): its stored bytes,
    base64 (JSON has no bytes, and a MinHash object is no JSON value)."""
    from .fingerprint import signature_bytes

    return base64.b64encode(signature_bytes(minhash)).decode("ascii") if minhash is not None else None


@dataclass(eq=False)
class Document:
    # Filled by the source (spider or importer).
    url: str | None = None            # where the article lives (file:// URI for local files without one)
    source: str | None = None         # "spider:NAME" or the file path (plus record/line) it came from
    site: str | None = None           # site config key, when the source knows it
    html: str | None = None           # page HTML, for the extract stage
    text: str | None = None           # plain text (dumps, JSONL); extract leaves it alone
    title: str | None = None
    author: str | None = None
    published: str | None = None      # as the source gives it; ISO-8601 after extract (core.dates)
    published_raw: str | None = None  # a published value that is not a readable date, kept as written
    page_published: str | None = None  # the page's own date (trafilatura), used when the source gives none
    fetched: str | None = None        # ISO-8601 UTC
    redirected_from: list[str] | None = None  # crawls: URLs that redirected to ``url`` (kept as aliases)
    listed_published: str | None = None  # crawls: the date the feed entry or sitemap URL gave, as written
    listed_from: str | None = None    # crawls: "feed" or "sitemap", where listed_published comes from
    followed: bool | None = None      # crawls: reached by link-following (stored only if an article)
    first_line_is_title: bool | None = None  # plain-text dumps: title is the first non-chrome line
    raw_ref: str | None = None        # where the raw input is kept (collector.crawl.archive)
    raw_record: bytes | None = None   # distributed mode: the page's archive records (WARC, gzip), carried
    #                                   through the inbox to the link-worker, which archives them (raw_ref)
    # Filled by the stages.
    canonical_url: str | None = None  # the page's canonical link, else its og:url
    published_from: str | None = None  # where ``published`` came from: page, source, feed or sitemap
    url_aliases: list[str] | None = None  # other URLs of the document (its own, when its canonical is taken)
    sitename: str | None = None       # site name as the page states it
    language: str | None = None
    content_hash: str | None = None   # of the raw input: unchanged input is not processed again
    lines: list[str] | None = None    # the cleaned text's lines, split once (clean stage)
    chrome: list[str] | None = None   # stripped lines
    claims: list[Claim] | None = None
    signature: Any = field(default=None, metadata={"serializer": _signature_text})  # datasketch MinHash
    shingle_count: int | None = None
    shingles: Any = None              # the shingle set (sorted unique uint64 hashes), for linking
    doc_id: int | None = None         # set by the store stage
    new_links: int | None = None      # links this document added (link stage)
    status: Status | None = None      # set by the store stage
    # Set after the stages in a crawl, for feed exports (-O, FEEDS, Scrapyd's items feed).
    origin_id: int | None = None      # the origin of the document's group (itself when it is the origin)
    origin_url: str | None = None
    relation: str | None = None       # duplicate | copy | excerpt, or None for an origin

    # --- the mapping face Scrapy items have -------------------------------------------------

    def __getitem__(self, name: str):
        if name not in FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def __setitem__(self, name: str, value) -> None:
        if name not in FIELDS:
            raise KeyError(f"{type(self).__name__} has no field {name!r}")
        setattr(self, name, value)

    def __delitem__(self, name: str) -> None:
        self[name] = None

    def __contains__(self, name: str) -> bool:
        return name in FIELDS and getattr(self, name) is not None

    def get(self, name: str, default=None):
        value = getattr(self, name, None) if name in FIELDS else None
        return default if value is None else value

    def setdefault(self, name: str, default):
        if self.get(name) is None:
            self[name] = default
        return self[name]

    def pop(self, name: str, default=None):
        value = self.get(name, default)
        if name in FIELDS:
            setattr(self, name, None)
        return value

    def update(self, values: dict) -> None:
        for name, value in values.items():
            self[name] = value

    def keys(self) -> list[str]:
        return [name for name in FIELD_ORDER if getattr(self, name) is not None]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


FIELD_ORDER = tuple(f.name for f in fields(Document))
FIELDS = frozenset(FIELD_ORDER)


def source_ref(source: str | None) -> str | None:
    """The raw_ref of an imported item, from its ``source`` ("path", "path record N",
    "path line N"); None for a spider's item (its ref comes from the archive)."""
    if not source or source.startswith("spider:"):
        return None
    match = re.match(r"^(.*) (record|line) (\d+)$", source)
    path, anchor = (match.group(1), f"#{match.group(2)}={match.group(3)}") if match else (source, "")
    return os.path.abspath(path) + anchor


def content_hash(*parts: str | None) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def item_hash(item) -> str:
    """What makes an input the same input again: its web URL, content and given title (a
    local file's path is not part of it: the same page saved twice is one input)."""
    url = item.get("url") if host_of(item.get("url")) else None
    return content_hash(url, item.get("html") or item.get("text"), item.get("title"))
