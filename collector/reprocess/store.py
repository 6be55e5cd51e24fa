"""The store while stored documents are re-made: told which document each item re-makes,
it updates that document in place and takes its lineage group apart first; the former
group's other members are linked again after the link stage (``RelinkFormerGroup``)."""

from __future__ import annotations

import json
from typing import Callable

from collector.core.fingerprint import signature_bytes
from collector.core.similarity import Text
from pipelines.link import Linker
from pipelines.stage import Stage

from ..storage import Store
from ..storage.documents import DocumentStore


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


class ReprocessStore(Store):
    """The store, told which stored document each item re-makes (by its content hash)."""

    documents_class = ReprocessDocuments

    def __init__(self, *args, **kwargs):
        self.targets: dict[str, int] = {}  # content hash -> id of the document it re-makes
        self.former: dict[int, set[int]] = {}  # document -> its former group's other members
        self.current: int | None = None
        self.forced: int | None = None
        self.on_unchanged: Callable[[int, dict], None] = lambda doc_id, item: None
        super().__init__(*args, **kwargs)
        self._track_links()

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
            marks = ",".join("?" * len(members))
            self.conn.execute(f"DELETE FROM links WHERE copy_id IN ({marks})", list(members))
            self.generation += 1  # the linker forgets the groups it read: this one is gone
        return members - {doc_id}

    # --- links added, removed, changed ------------------------------------------------------
    def _track_links(self) -> None:
        # Each copy's link as it was before the run first touched it, inserted only where none
        # is recorded yet: not with "OR IGNORE", which an outer INSERT OR REPLACE overrides
        # inside a trigger. Before an insert, since INSERT OR REPLACE deletes the old row
        # without firing a DELETE trigger.
        unseen = "NOT EXISTS (SELECT 1 FROM links_before WHERE copy_id = {})"
        self.conn.executescript(
            f"""
            CREATE TEMP TABLE IF NOT EXISTS links_before (copy_id INTEGER PRIMARY KEY, origin_id INTEGER, relation TEXT);
            CREATE TEMP TRIGGER IF NOT EXISTS links_before_delete AFTER DELETE ON main.links BEGIN
                INSERT INTO links_before SELECT old.copy_id, old.origin_id, old.relation WHERE {unseen.format("old.copy_id")};
            END;
            CREATE TEMP TRIGGER IF NOT EXISTS links_before_update AFTER UPDATE ON main.links BEGIN
                INSERT INTO links_before SELECT old.copy_id, old.origin_id, old.relation WHERE {unseen.format("old.copy_id")};
            END;
            CREATE TEMP TRIGGER IF NOT EXISTS links_before_insert BEFORE INSERT ON main.links BEGIN
                INSERT INTO links_before SELECT copy_id, origin_id, relation FROM main.links
                    WHERE copy_id = new.copy_id AND {unseen.format("new.copy_id")};
                INSERT INTO links_before SELECT new.copy_id, NULL, NULL WHERE {unseen.format("new.copy_id")};
            END;
            """
        )

    def link_changes(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0}
        for before, relation, after, now in self.conn.execute(
            "SELECT b.origin_id, b.relation, l.origin_id, l.relation FROM temp.links_before b"
            " LEFT JOIN main.links l ON l.copy_id = b.copy_id"
        ):
            if before is None and after is not None:
                counts["added"] += 1
            elif before is not None and after is None:
                counts["removed"] += 1
            elif before is not None and (before, relation) != (after, now):
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
