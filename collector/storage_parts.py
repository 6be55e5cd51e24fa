"""TEMPORARY (issue 12, until collector/storage/ lands): the store's jobs as the parts the
contracts name, over the one Store class."""

from __future__ import annotations

from contextlib import contextmanager


class _Part:
    def __init__(self, store):
        self._s = store


class Documents(_Part):
    def has_content(self, h): return self._s.has_content(h)
    def url_with_content(self, h): return self._s.url_with_content(h)
    def find_url(self, url): return self._s.find_url(url)
    def has_url(self, url): return self._s.has_url(url)
    def save(self, item, place=None): return self._s.save_document(item, place)
    def replace_text(self, *a): return self._s.replace_text(*a)
    def signature(self, doc_id): return self._s.signature(doc_id)
    def rows(self, ids): return type(self._s).documents(self._s, ids)
    def metadata(self, ids): return self._s.metadata(ids)
    def signatures(self, ids): return self._s.signatures(ids)
    def texts(self, ids): return self._s.texts(ids)
    def sketches(self, ids): return self._s.sketches(ids)

    # identity (core.identity.UrlDirectory)
    def url_row(self, url):
        return self._s.conn.execute("SELECT id, shingles FROM documents WHERE url = ?", (url,)).fetchone()

    def named_by_canonical(self, target, own):
        return self._s.conn.execute(
            "SELECT id, shingles FROM documents WHERE canonical_url = ? AND url != ? LIMIT 20", (target, own)).fetchall()

    def placed_by_canonical(self, doc_id):
        return self._s.conn.execute(
            "SELECT 1 FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' LIMIT 1", (doc_id,)).fetchone() is not None

    def move_back(self, doc_id):
        s = self._s
        row = s.conn.execute(
            "SELECT alias FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' ORDER BY rowid LIMIT 1", (doc_id,)).fetchone()
        if row is None or s.conn.execute("SELECT 1 FROM documents WHERE url = ?", (row[0],)).fetchone():
            return
        s.conn.execute("DELETE FROM url_aliases WHERE alias = ?", (row[0],))
        s._index_new()
        s.conn.execute("UPDATE documents SET url = ? WHERE id = ?", (row[0], doc_id))
        s.generation += 1


class Lineage(_Part):
    def claims_of(self, ids): return self._s.claims_of(ids)
    def claim_partners(self, doc_id): return self._s.claim_partners(doc_id)
    def group_of(self, doc_id): return self._s.group_of(doc_id)
    def links_of(self, ids): return self._s.links_of(ids)
    def write_links(self, rows, drop=()): return self._s.write_links(rows, drop)

    def origin_of(self, doc_id):
        return self._s.conn.execute(
            "SELECT l.origin_id, d.url, l.relation FROM links l JOIN documents d ON d.id = l.origin_id WHERE l.copy_id = ?",
            (doc_id,)).fetchone()


class Chrome(_Part):
    def learned(self, site): return self._s.learned_chrome(site)
    def record_sightings(self, *a): return self._s.record_sightings(*a)
    def sighting_counts(self, *a): return self._s.sighting_counts(*a)
    def site_document_count(self, site): return self._s.site_document_count(site)
    def documents_with_line(self, *a): return self._s.documents_with_line(*a)
    def learn(self, *a): return self._s.learn_chrome(*a)


class Crawl(_Part):
    def add_url_aliases(self, doc_id, aliases): return self._s.add_url_aliases(doc_id, aliases)
    def alias_of(self, url): return self._s.alias_of(url)
    def knows_url(self, url): return self._s.knows_url(url)


class Provenance(_Part):
    def record(self, doc_id, raw_ref, rules_hash, site, rules_json):
        from .store import utcnow

        conn = self._s.conn
        conn.execute("INSERT OR IGNORE INTO rule_sets (hash, site, rules, first_used) VALUES (?, ?, ?, ?)",
                     (rules_hash, site, rules_json, utcnow()))
        conn.execute(
            "INSERT INTO raw_inputs (doc_id, raw_ref, rules_hash, processed) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(doc_id) DO UPDATE SET raw_ref = coalesce(excluded.raw_ref, raw_ref),"
            " rules_hash = excluded.rules_hash, processed = excluded.processed",
            (doc_id, raw_ref, rules_hash, utcnow()))


def attach(store):
    """Hang the parts on the store (``store.documents``...), as collector/storage will have them."""
    if getattr(store, "_parts_attached", False):
        return store
    parts = {"documents": Documents, "lineage": Lineage, "chrome": Chrome, "crawl": Crawl,
             "provenance": Provenance}
    for name, cls in parts.items():
        store.__dict__[name] = cls(store)

    @contextmanager
    def document():
        started = store.documents_started
        try:
            yield
        except BaseException:
            if store.documents_started != started:  # this document wrote: undo it
                store.abort_document()
            raise
    store.__dict__["document"] = document
    store._parts_attached = True
    return store
