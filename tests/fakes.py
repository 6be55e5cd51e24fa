"""In-memory stores that keep the contracts of ``collector.core.contracts``, for unit tests.

One class per protocol, each as small as the protocol, holding plain dicts; ``FakeStore``
bundles one of each the way the SQLite store does (``store.documents``, ``store.chrome``...)
and gives them one transaction (``with store.document():`` undoes a failed document's
writes). ``tests/unit/test_fakes.py`` checks every fake against its protocol's methods.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import numpy as np

from collector.core.document import Claim, Document, Link, Status


class FakeDocumentStore:
    """``DocumentStore`` (and ``ContentIndex``): documents by id, found by URL and content hash."""

    def __init__(self):
        self.docs: dict[int, dict] = {}
        self.saved = 0

    def add(self, **row) -> int:
        """A stored document (a test's fixture): url, site, text...; returns its id."""
        doc_id = row.pop("id", None) or max(self.docs, default=0) + 1
        self.docs[doc_id] = {"id": doc_id, "title": None, "chrome": "[]", "signature": None, "shingle_count": 0,
                             "content_hash": None, "canonical_url": None, "sitename": None, "published": None,
                             "fetched": None, **row}
        return doc_id

    def has_content(self, content_hash: str) -> bool:
        return any(d["content_hash"] == content_hash for d in self.docs.values())

    def url_with_content(self, content_hash: str) -> str | None:
        return next((d["url"] for d in self.docs.values() if d["content_hash"] == content_hash), None)

    def find_url(self, url: str) -> tuple[int, str] | None:
        return next(((i, d["url"]) for i, d in self.docs.items() if d["url"] == url), None)

    def save(self, item: Document, place=None) -> tuple[int, str]:
        self.saved += 1
        placed = place(item) if place else None
        if placed is not None:
            return placed
        found = self.find_url(item["url"])
        row = {k: item.get(k) for k in ("url", "site", "text", "title", "content_hash", "canonical_url", "sitename",
                                        "published", "fetched")}
        if found is None:
            return self.add(**row), Status.NEW
        doc_id = found[0]
        if self.docs[doc_id]["content_hash"] == item.get("content_hash"):
            return doc_id, Status.UNCHANGED
        self.docs[doc_id].update(row)
        return doc_id, Status.UPDATED

    def replace_text(self, doc_id: int, text: str, chrome: list[str], minhash, shingle_count: int, title: str | None) -> None:
        import json

        self.docs[doc_id].update(text=text, chrome=json.dumps(chrome), signature=minhash, shingle_count=shingle_count,
                                 title=title)

    def rows(self, ids) -> dict[int, dict]:
        return {i: dict(self.docs[i]) for i in ids if i in self.docs}

    def metadata(self, ids) -> dict[int, dict]:
        keys = ("id", "url", "site", "sitename", "canonical_url", "published", "fetched")
        return {i: {k: self.docs[i].get(k) for k in keys} for i in ids if i in self.docs}

    def signatures(self, ids) -> dict[int, bytes]:
        from collector.core.fingerprint import signature_bytes

        return {i: signature_bytes(self.docs[i]["signature"]) for i in ids if self.docs.get(i, {}).get("signature") is not None}

    def texts(self, ids) -> list[tuple[int, str]]:
        return [(i, self.docs[i]["text"]) for i in ids if i in self.docs]

    def sketches(self, ids):
        return {i: (self.docs[i]["signature"].hashvalues, self.docs[i]["shingle_count"])
                for i in ids if self.docs.get(i, {}).get("signature") is not None}


class FakeCandidateIndex:
    """``CandidateIndex``: banded signatures in a dict, as the LSH table keeps them."""

    def __init__(self, bands: int = 64):
        self.bands = bands
        self.keys: dict[tuple, set[int]] = {}

    def _band_keys(self, minhash) -> list[tuple]:
        values = np.asarray(minhash.hashvalues)
        rows = len(values) // self.bands
        return [(b, values[b * rows:(b + 1) * rows].tobytes()) for b in range(self.bands)]

    def insert(self, doc_id: int, minhash) -> None:
        for key in self._band_keys(minhash):
            self.keys.setdefault(key, set()).add(doc_id)

    def candidates(self, minhash, min_hits: int | None = None) -> dict[int, int]:
        hits: dict[int, int] = {}
        for key in self._band_keys(minhash):
            for doc_id in self.keys.get(key, ()):
                hits[doc_id] = hits.get(doc_id, 0) + 1
        return {d: n for d, n in hits.items() if n >= (2 if min_hits is None else min_hits)}


class FakeLineageStore:
    """``LineageStore``: claims per document and links per copy."""

    def __init__(self):
        self.claims: dict[int, list[Claim]] = {}
        self.links: dict[int, Link] = {}

    def claims_of(self, ids) -> dict[int, list[Claim]]:
        return {i: list(self.claims.get(i, [])) for i in ids}

    def claim_partners(self, doc_id: int) -> set[int]:
        urls = {d: c["claimed_url"] for d, cs in self.claims.items() for c in cs if c.get("claimed_url")}
        return {d for d in urls if d != doc_id}

    def group_of(self, doc_id: int) -> set[int]:
        origin = self.links[doc_id]["origin_id"] if doc_id in self.links else doc_id
        return {origin} | {c for c, link in self.links.items() if link["origin_id"] == origin}

    def links_of(self, ids) -> dict[int, Link]:
        return {i: self.links[i] for i in ids if i in self.links}

    def write_links(self, rows: list[Link], drop=()) -> None:
        for doc_id in drop:
            self.links.pop(doc_id, None)
        for row in rows:
            self.links[row["copy_id"]] = row

    def origin_of(self, doc_id: int):
        link = self.links.get(doc_id)
        return None if link is None else (link["origin_id"], f"#{link['origin_id']}", link["relation"])


class FakeFreshness:
    """``Freshness``: a generation this writer bumps, a data version another writer bumps."""

    def __init__(self):
        self.generation = 0
        self.version = 0

    def data_version(self) -> int:
        return self.version


class FakeChromeMemory:
    """``ChromeMemory``: sightings (site, line hash) -> {document id: article key}, learned lines per site.

    A site's document count is the number of its documents in ``documents`` when given (as
    the store counts its documents table), else the documents sighted."""

    def __init__(self, documents: FakeDocumentStore | None = None):
        self.documents = documents
        self.sightings: dict[tuple[str, int], dict[int, int]] = {}
        self.lines: dict[str, dict[str, int]] = {}  # site -> learned line -> documents it was seen in

    def learned(self, site: str) -> set[str]:
        return set(self.lines.get(site, {}))

    def record_sightings(self, site: str, doc_id: int, article_key: int, line_hashes) -> None:
        for h in line_hashes:
            self.sightings.setdefault((site, h), {}).setdefault(doc_id, article_key)

    def sighting_counts(self, site: str, line_hashes) -> dict[int, int]:
        """In how many different articles (article keys) each line was seen."""
        return {h: len(set(self.sightings[(site, h)].values())) for h in line_hashes if (site, h) in self.sightings}

    def site_document_count(self, site: str) -> int:
        if self.documents is not None:
            return sum(1 for d in self.documents.docs.values() if d["site"] == site)
        return len({d for (s, _), docs in self.sightings.items() if s == site for d in docs})

    def documents_with_line(self, site: str, line_hash: int) -> list[int]:
        return sorted(self.sightings.get((site, line_hash), {}))

    def learn(self, site: str, line: str, documents: int) -> None:
        self.lines.setdefault(site, {}).setdefault(line, documents)


class FakeUrlAliases:
    """``UrlAliases``: other URLs of stored documents."""

    def __init__(self, documents: FakeDocumentStore | None = None):
        self.documents = documents
        self.aliases: dict[str, int] = {}

    def add_url_aliases(self, doc_id: int, aliases: dict[str, str]) -> None:
        for url in aliases:
            self.aliases.setdefault(url, doc_id)

    def alias_of(self, url: str) -> int | None:
        return self.aliases.get(url)

    def knows_url(self, url: str) -> bool:
        return url in self.aliases or (self.documents is not None and self.documents.find_url(url) is not None)


class FakeProvenanceLog:
    """``ProvenanceLog``: what each document was made from and with."""

    def __init__(self):
        self.records: dict[int, dict] = {}

    def record(self, doc_id: int, raw_ref: str | None, rules_hash: str, site: str, rules_json: str) -> None:
        self.records[doc_id] = {"raw_ref": raw_ref, "rules_hash": rules_hash, "site": site, "rules_json": rules_json}


class FakeStore:
    """One fake per protocol, and ``Transactions`` over all of them: a document's writes are
    kept or undone together; ``commit`` makes the batch permanent, ``rollback`` undoes it."""

    def __init__(self):
        self.documents = FakeDocumentStore()
        self.lsh = FakeCandidateIndex()
        self.lineage = FakeLineageStore()
        self.freshness = FakeFreshness()
        self.chrome = FakeChromeMemory(self.documents)
        self.aliases = FakeUrlAliases(self.documents)
        self.provenance = FakeProvenanceLog()
        self.commits = 0
        self._committed = self._state()

    def _parts(self):
        return (self.documents, self.lsh, self.lineage, self.chrome, self.aliases, self.provenance)

    def _state(self) -> list[dict]:
        return [copy.deepcopy({k: v for k, v in vars(p).items() if k != "documents"}) for p in self._parts()]

    def _restore(self, state: list[dict]) -> None:
        for part, saved in zip(self._parts(), state):
            vars(part).update(copy.deepcopy(saved))
        self.freshness.generation += 1  # what a reader holds may be stale now

    @contextmanager
    def document(self):
        before = self._state()
        try:
            yield
        except BaseException:
            self._restore(before)
            raise

    def commit(self) -> None:
        self.commits += 1
        self._committed = self._state()

    def rollback(self) -> None:
        self._restore(self._committed)


class FakeCrawlState:
    """The crawl's bookkeeping the middlewares and extensions read and write (no protocol
    names it yet): validators of feeds and sitemaps read in full, and the runs."""

    def __init__(self):
        self.validators: dict[str, dict] = {}
        self.runs: dict[int, dict] = {}

    def start_run(self, site: str, started: str | None = None) -> int:
        run_id = len(self.runs) + 1
        self.runs[run_id] = {"site": site, "status": "running"}
        return run_id

    def note_worker(self, run_id: int, worker: str) -> None:
        self.runs[run_id]["worker"] = worker

    def finish_run(self, run_id: int, status: str, exit_status: int | None, pages_fetched: int | None = None,
                   new_documents: int | None = None, errors: int | None = None, error_kinds: dict | None = None,
                   ended: str | None = None) -> None:
        self.runs[run_id].update(status=status, exit_status=exit_status, pages_fetched=pages_fetched,
                                 new_documents=new_documents, errors=errors, error_kinds=error_kinds)

    def source_validators(self, url: str) -> dict | None:
        return self.validators.get(url)

    def save_source_validators(self, rows: list[dict]) -> None:
        for row in rows:
            self.validators[row["url"]] = {k: row[k] for k in ("kind", "etag", "last_modified")}
