"""The store while stored documents are re-made: told which document each item re-makes,
it updates that document in place and takes its lineage group apart first; the former
group's other members are linked again after the link stage (``RelinkFormerGroup``).

On either backend: ``ReprocessStore`` is the SQLite ``Store`` with these parts, and
``ReprocessStore.on_postgres()`` the same over ``PgStore`` (its parts' PostgreSQL
statements, this module's behaviour), which ``collector.storage.open_store`` picks for a
``postgresql://`` URL."""

from __future__ import annotations

import json
from typing import Callable

from collector.core.fingerprint import signature_bytes
from collector.core.similarity import Text
from pipelines.link import Linker
from pipelines.stage import Stage

from ..storage import Store
from ..storage.documents import DocumentStore
from ..storage.lineage import LineageStore


class ReprocessDocuments(DocumentStore):
    """The documents, as the stages see them while stored documents are re-made."""

    # The stages ask these; for an item under way, "already stored" is not the answer.
    def has_content(self, content_hash: str) -> bool:
        return False if content_hash in self._writer.targets else super().has_content(content_hash)

    def find_url(self, url: str):
        forced = self._writer.forced
        return (forced, None) if forced is not None else super().find_url(url)

    def save(self, item, place=None) -> tuple[int, str]:
        store: ReprocessStore = self._writer
        doc_id = store.targets.pop(item["content_hash"], None)
        if doc_id is None:
            return super().save(item, place)
        # The document is known: where to place it (``place``, for new input) is not asked.
        store.current = doc_id
        with self._document():
            store.write()
            # The document keeps its URL: which URL names it is not decided again.
            item["url"] = self.conn.execute("SELECT url FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
            if store.same(doc_id, item):
                store.on_unchanged(doc_id, item)
                return doc_id, "unchanged"
            store.former[doc_id] = store.detach_group(doc_id)
            store.forced = doc_id
            try:
                return self.put(item)
            finally:
                store.forced = None


class TrackedLineage(LineageStore):
    """Claims and links, remembering each copy's link as it was before the run first changed
    it (``before``: copy id -> (origin id, relation), or None for no link), so the run can
    count links added, removed and changed whatever changed them (the link stage, relinking,
    a group taken apart). Every write of ``links`` in a run goes through ``write_links`` or
    ``detach_group``; the first touch is read before the write, so a write undone with its
    document leaves the remembered link as it still is."""

    def __init__(self, writer):
        super().__init__(writer)
        self.before: dict[int, tuple[int, str] | None] = {}

    def remember(self, ids) -> None:
        new = [i for i in dict.fromkeys(ids) if i not in self.before]
        if new:
            found = self.links_of(new)
            self.before.update({i: (found[i]["origin_id"], found[i]["relation"]) if i in found else None for i in new})

    def write_links(self, rows: list[dict], drop=()) -> None:
        drop = list(drop)
        self.remember([r["copy_id"] for r in rows] + drop)
        super().write_links(rows, drop)


class ReprocessStore(Store):
    """The store, told which stored document each item re-makes (by its content hash)."""

    documents_class = ReprocessDocuments
    lineage_class = TrackedLineage

    @classmethod
    def on_postgres(cls) -> type:
        """This store over PostgreSQL: the same behaviour, the PostgreSQL parts' statements."""
        from ..storage.postgres.parts import PgDocumentStore, PgLineageStore
        from ..storage.postgres.store import PgStore

        documents = type("PgReprocessDocuments", (ReprocessDocuments, PgDocumentStore), {})
        lineage = type("PgTrackedLineage", (TrackedLineage, PgLineageStore), {})
        return type("PgReprocessStore", (cls, PgStore), {"documents_class": documents, "lineage_class": lineage})

    def __init__(self, *args, **kwargs):
        self.targets: dict[str, int] = {}  # content hash -> id of the document it re-makes
        self.former: dict[int, set[int]] = {}  # document -> its former group's other members
        self.current: int | None = None
        self.forced: int | None = None
        self.on_unchanged: Callable[[int, dict], None] = lambda doc_id, item: None
        super().__init__(*args, **kwargs)

    def commit(self) -> None:
        # Everything before the document under way is finished (stored, left alone, failed).
        if self.current is not None and self.conn.in_transaction:
            self.conn.execute("DELETE FROM reprocess_queue WHERE doc_id < ?", (self.current,))
        super().commit()

    def same(self, doc_id: int, item) -> bool:
        row = self.conn.execute(
            "SELECT url, site, title, author, published, published_raw, published_from, text, chrome, canonical_url,"
            " sitename, language, shingles, signature FROM documents WHERE id = ?", (doc_id,)).fetchone()
        new = (item["url"], item["site"], item.get("title"), item.get("author"), item.get("published"),
               item.get("published_raw"), item.get("published_from") if item.get("published") else None, item["text"],
               json.dumps(item.get("chrome") or [], ensure_ascii=False), item.get("canonical_url"), item.get("sitename"),
               item.get("language"), item["shingle_count"], signature_bytes(item["signature"]))
        if tuple(row) != new:
            return False
        claims = [(c["kind"], c.get("claimed_site"), c.get("claimed_name"), c.get("claimed_url"), c["evidence"])
                  for c in item.get("claims") or []]
        stored = self.conn.execute("SELECT kind, claimed_site, claimed_name, claimed_url, evidence FROM claims"
                                   " WHERE doc_id = ? ORDER BY id", (doc_id,)).fetchall()
        return claims == stored

    def detach_group(self, doc_id: int) -> set[int]:
        """Remove every link of the document's lineage group; the group's other members."""
        members = self.lineage.group_of(doc_id)
        if len(members) > 1:
            self.lineage.remember(members)
            marks = ",".join("?" * len(members))
            self.conn.execute(f"DELETE FROM links WHERE copy_id IN ({marks})", list(members))
            self.generation += 1  # the linker forgets the groups it read: this one is gone
        return members - {doc_id}

    # --- links added, removed, changed ------------------------------------------------------
    def link_changes(self) -> dict[str, int]:
        """Links added, removed and changed by this run (``TrackedLineage.before`` against now)."""
        before = self.lineage.before
        now = self.lineage.links_of(list(before))
        counts = {"added": 0, "removed": 0, "changed": 0}
        for copy_id, old in before.items():
            new = (now[copy_id]["origin_id"], now[copy_id]["relation"]) if copy_id in now else None
            if old is None and new is not None:
                counts["added"] += 1
            elif old is not None and new is None:
                counts["removed"] += 1
            elif old != new:
                counts["changed"] += 1
        return counts


class RelinkFormerGroup(Stage):
    """After the link stage: the other members of a changed document's former group are
    linked again by the run's linker, each as if it had just arrived."""

    def __init__(self, store: "ReprocessStore", linker: Linker):
        self.store, self.linker = store, linker

    @classmethod
    def from_context(cls, context):
        return cls(context.store, Linker.shared(context))

    def process(self, item):
        store = self.store
        former = sorted(store.former.pop(item["doc_id"], ()))
        claims, docs = store.lineage.claims_of(former), store.documents.rows(former)
        for member in former:
            text = Text.of(docs[member]["text"])
            linked = self.linker.link(member, store.documents.signature(member), text, bool(claims[member]))
            item["new_links"] = (item.get("new_links") or 0) + linked
        return item
