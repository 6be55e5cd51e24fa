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
import sqlite3
from urllib.parse import urlsplit

from .core.sites import host_of
from .core.urls import canonical_url, same_site

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


class Identity:
    """Decides, in the store stage, the URL an item is stored under (see the module doc)."""

    def __init__(self, store, sites, notices: list | None = None):
        self.store = store
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
        if self.store.conn.execute("SELECT 1 FROM documents WHERE url = ?", (own,)).fetchone():
            return None  # a stored document keeps its URL (stored before its canonical said otherwise)
        if _is_home(target):
            self.warn(item, own, target, "names the home page")
            return None
        found = self.store.conn.execute("SELECT id, shingles FROM documents WHERE url = ?", (target,)).fetchone()
        if found is not None:
            if self._same(item, found[0], found[1]):
                item["url"] = target
                item.setdefault("url_aliases", []).append(own)
                return found[0], "variant"
            self.warn(item, own, target, "names a page with another article")
            self._move_back(found[0])
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
        found = self.store.conn.execute("SELECT id, shingles FROM documents WHERE url = ?", (url,)).fetchone()
        if found is None or not self._placed_by_canonical(found[0]) or self._same(item, found[0], found[1]):
            return
        self.warn(item, url, url, "was given to another article")
        self._move_back(found[0])

    def _same(self, item, doc_id: int, shingles: int) -> bool:
        if item.get("signature") is None:
            return False
        return same_article(item["signature"], item.get("shingle_count") or 0, self.store.signature(doc_id), shingles)

    def _placed_by_canonical(self, doc_id: int) -> bool:
        row = self.store.conn.execute(
            "SELECT 1 FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' LIMIT 1", (doc_id,)).fetchone()
        return row is not None

    def _claimed_by_others(self, item, target: str, own: str) -> bool:
        rows = self.store.conn.execute(
            "SELECT id, shingles FROM documents WHERE canonical_url = ? AND url != ? LIMIT 20", (target, own)).fetchall()
        return any(not self._same(item, doc_id, shingles) for doc_id, shingles in rows)

    def _move_back(self, doc_id: int) -> None:
        """A document placed by a canonical goes back to the URL it was fetched at."""
        row = self.store.conn.execute(
            "SELECT alias FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' ORDER BY rowid LIMIT 1", (doc_id,)).fetchone()
        if row is None:
            return
        if self.store.conn.execute("SELECT 1 FROM documents WHERE url = ?", (row[0],)).fetchone():
            return  # its own URL is a document already (cannot happen through this module)
        self.store.conn.execute("DELETE FROM url_aliases WHERE alias = ?", (row[0],))
        self.store._index_new()  # the update trigger finds the document in the full-text index
        self.store.conn.execute("UPDATE documents SET url = ? WHERE id = ?", (row[0], doc_id))
        self.store.generation += 1  # the linker's groups hold the old URL

    def warn(self, item, url: str, target: str, why: str) -> None:
        site = item.get("site") or host_of(url) or "?"
        if site in self.warned:
            return
        self.warned.add(site)
        message = (f"{site}: canonical link {target} {why}: not followed for {url} "
                   "(pages stay their own documents; reported once per site)")
        self.notices.append(message)
        logger.info("%s", message)  # the run's summary prints it


# --- the migration to one URL identity (schema.m010a_url_identity) -----------------------------

def migrate_urls(conn: sqlite3.Connection) -> None:
    """Every stored URL in its canonical form. Two documents whose URLs become one are one
    page fetched twice: the later one's claims, links and aliases move to the kept one, its
    URL becomes an alias, and it goes. Claimed and canonical URLs are rewritten too, so the
    claims keep finding the documents they name."""
    docs = conn.execute("SELECT id, url FROM documents ORDER BY id").fetchall()
    taken = {url: doc_id for doc_id, url in docs}
    new_urls = {canonical_url(url) for _, url in docs}
    for alias, doc_id in conn.execute("SELECT alias, doc_id FROM url_aliases").fetchall():
        new = canonical_url(alias)
        if new != alias:  # an alias is the URL as requested: now in its canonical form
            conn.execute("DELETE FROM url_aliases WHERE alias = ?", (alias,))
            if new not in new_urls:
                conn.execute("INSERT OR IGNORE INTO url_aliases (alias, doc_id) VALUES (?, ?)", (new, doc_id))
    for doc_id, url in docs:
        new = canonical_url(url)
        if new == url:
            continue
        keeper = taken.get(new)
        if keeper is None:
            conn.execute("UPDATE documents SET url = ? WHERE id = ?", (new, doc_id))
            del taken[url]
            taken[new] = doc_id
        else:
            _merge(conn, doc_id, keeper)
            del taken[url]
        conn.execute("INSERT OR REPLACE INTO url_aliases (alias, doc_id, kind) VALUES (?, ?, 'variant')",
                     (url, taken[new]))
    for table, column, key in (("documents", "canonical_url", "id"), ("claims", "claimed_url", "id")):
        for row_id, value in conn.execute(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall():
            if canonical_url(value) != value:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (canonical_url(value), row_id))


def _merge(conn: sqlite3.Connection, gone: int, kept: int) -> None:
    conn.execute("UPDATE claims SET doc_id = ? WHERE doc_id = ?", (kept, gone))
    conn.execute("DELETE FROM links WHERE (copy_id = ? AND origin_id = ?) OR (copy_id = ? AND origin_id = ?)",
                 (gone, kept, kept, gone))
    conn.execute("UPDATE links SET origin_id = ? WHERE origin_id = ?", (kept, gone))
    if conn.execute("SELECT 1 FROM links WHERE copy_id = ?", (kept,)).fetchone() is None:
        conn.execute("UPDATE links SET copy_id = ? WHERE copy_id = ?", (kept, gone))
    conn.execute("DELETE FROM links WHERE copy_id = ?", (gone,))  # the kept one has its own origin
    conn.execute("UPDATE url_aliases SET doc_id = ? WHERE doc_id = ?", (kept, gone))
    for table in ("lsh_buckets", "lsh_recent", "line_sightings"):
        conn.execute(f"DELETE FROM {table} WHERE doc_id = ?", (gone,))
    conn.execute("DELETE FROM documents WHERE id = ?", (gone,))
