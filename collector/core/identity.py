"""Which URL a document is: same-site canonical links, checked against the text.

A page whose canonical link (or ``og:url``) names another URL of its own site says it is
that URL: an ``m.`` edition, an ``/amp`` page, a ``?output=print`` view. It is stored under
the URL it names, its own URL kept as an alias (``url_aliases.kind = 'canonical'``), so the
clean URL is the document and the origin of its group, whichever variant came first.

Canonicals are evidence, not orders. Many sites point every page's canonical at the home
page or a section, or copy a template's canonical onto every article. So:

- a canonical naming the site's home page folds nothing;
- a canonical naming a stored document folds the page into it only when their texts are
  the same article (``same_article``, on the MinHash signatures the fingerprint stage
  made): a variant adds an alias to the stored document and changes nothing else;
- a canonical naming a URL no document has yet is taken, unless other pages already
  named it with other texts (a template's canonical);
- a document that was placed at a URL by another page's canonical, when a different
  article shows up there (the page at that URL itself, or another page naming it), goes
  back to its own URL: the canonical was wrong, and both articles stay.

Every wrong canonical is reported, once per site per run (``Identity.notices``). A canonical
naming another site is not this module's business: it is a claim (``pipelines.attribute``).
"""

from __future__ import annotations

import logging
from typing import Protocol
from urllib.parse import urlsplit

from .sites import host_of
from .urls import canonical_url, same_site

logger = logging.getLogger(__name__)

#: Two texts are one article when this share of the smaller one's shingles is in the larger
#: (estimated from the signatures) and neither is over twice the other: an AMP page or a
#: print view loses a caption or a related-links box, an excerpt loses half the article.
SAME_ARTICLE_CONTAINMENT = 0.8
SAME_ARTICLE_SIZE_RATIO = 0.5


def same_article(sig_a, count_a: int, sig_b, count_b: int) -> bool:
    if not count_a or not count_b:
        return False
    small, large = sorted((count_a, count_b))
    if small < SAME_ARTICLE_SIZE_RATIO * large:
        return False
    jaccard = sig_a.jaccard(sig_b)
    shared = jaccard * (count_a + count_b) / (1 + jaccard)
    return shared / small >= SAME_ARTICLE_CONTAINMENT


def _is_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


class UrlDirectory(Protocol):
    """What identity reads and changes in the store (``store.documents`` provides it)."""

    def url_row(self, url: str) -> tuple[int, int] | None:
        """(id, shingle count) of the document stored at ``url``."""

    def named_by_canonical(self, target: str, own: str) -> list[tuple[int, int]]:
        """(id, shingle count) of a few other documents whose canonical link is ``target``."""

    def placed_by_canonical(self, doc_id: int) -> bool:
        """Whether the document was stored under a URL its canonical link gave it."""

    def move_back(self, doc_id: int) -> None:
        """Store the document under the URL it was fetched at again."""

    def signature(self, doc_id: int): ...


class Identity:
    """Decides, in the store stage, the URL an item is stored under (see the module doc)."""

    def __init__(self, directory: UrlDirectory, sites, notices: list | None = None):
        self.directory = directory
        self.sites = sites
        self.warned: set[str] = set()
        self.notices: list[str] = notices if notices is not None else []

    def place(self, item) -> tuple[int, str] | None:
        """Run inside the document's savepoint: rename the item to the URL it is, moving a
        wrongly placed document back first; (id, 'variant') when the item is a variant of a
        stored document (nothing more is stored), else None (store the item)."""
        own = item.get("url")
        target = canonical_url(item.get("canonical_url") or "")
        if not host_of(own):
            return None
        if not host_of(target) or target == own or not same_site(own, target, self.sites):
            self._check_own_url(item, own)
            return None
        if self.directory.url_row(own):
            return None  # a stored document keeps its URL (stored before its canonical said otherwise)
        if _is_home(target):
            self.warn(item, own, target, "names the home page")
            return None
        found = self.directory.url_row(target)
        if found is not None:
            if self._same(item, found[0], found[1]):
                item["url"] = target
                item.setdefault("url_aliases", []).append(own)
                return found[0], "variant"
            self.warn(item, own, target, "names a page with another article")
            self.directory.move_back(found[0])
            return None
        if self._claimed_by_others(item, target, own):
            self.warn(item, own, target, "is named by pages with other articles")
            return None
        item["url"] = target
        item.setdefault("url_aliases", []).append(own)
        return None

    def _check_own_url(self, item, url: str) -> None:
        """A page at its own URL, where another page's canonical placed a different article:
        that document goes back to its own URL."""
        found = self.directory.url_row(url)
        if found is None or not self.directory.placed_by_canonical(found[0]) or self._same(item, found[0], found[1]):
            return
        self.warn(item, url, url, "was given to another article")
        self.directory.move_back(found[0])

    def _same(self, item, doc_id: int, shingles: int) -> bool:
        if item.get("signature") is None:
            return False
        return same_article(item["signature"], item.get("shingle_count") or 0, self.directory.signature(doc_id), shingles)

    def _claimed_by_others(self, item, target: str, own: str) -> bool:
        rows = self.directory.named_by_canonical(target, own)
        return any(not self._same(item, doc_id, shingles) for doc_id, shingles in rows)

    def warn(self, item, url: str, target: str, why: str) -> None:
        site = item.get("site") or host_of(url) or "?"
        if site in self.warned:
            return
        self.warned.add(site)
        message = (f"{site}: canonical link {target} {why}: not followed for {url} "
                   "(pages stay their own documents; reported once per site)")
        self.notices.append(message)
        logger.info("%s", message)  # the run's summary prints it
