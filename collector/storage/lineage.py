"""Claims and links (``store.lineage``): what makes the lineage groups.

A copy has one link, to its origin; a duplicate (the same article at another URL of one
site) links to that site's first copy, so links are at most two deep.
"""

from __future__ import annotations

from typing import Iterable

from .documents import rows_by_id
from .writer import Writer

_LINK_COLUMNS = ("copy_id", "origin_id", "relation", "similarity", "containment", "evidence")


class LineageStore:
    def __init__(self, writer: Writer):
        self._writer = writer
        self.conn = writer.conn

    def claims_of(self, ids: Iterable[int]) -> dict[int, list[dict]]:
        ids = list(ids)
        out: dict[int, list[dict]] = {i: [] for i in ids}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        cur = self.conn.execute(
            "SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims"
            f" WHERE doc_id IN ({marks}) ORDER BY id", ids)
        cols = [c[0] for c in cur.description]
        for r in cur:
            out[r[0]].append(dict(zip(cols, r)))
        return out

    def claim_partners(self, doc_id: int) -> set[int]:
        """Documents tied to this one by a claim naming a URL: the ones it claims to come
        from, and the ones claiming to come from it (a late-arriving original)."""
        row = self.conn.execute("SELECT url, canonical_url FROM documents WHERE id = ?", (doc_id,)).fetchone()
        own = [u for u in row if u]
        claimed = [r[0] for r in self.conn.execute(
            "SELECT claimed_url FROM claims WHERE doc_id = ? AND claimed_url IS NOT NULL", (doc_id,))]
        found: set[int] = set()
        if claimed:
            marks = ",".join("?" * len(claimed))
            found.update(r[0] for r in self.conn.execute(
                f"SELECT id FROM documents WHERE url IN ({marks}) OR canonical_url IN ({marks})", claimed + claimed))
        marks = ",".join("?" * len(own))
        found.update(r[0] for r in self.conn.execute(
            f"SELECT doc_id FROM claims WHERE claimed_url IN ({marks})", own))
        found.discard(doc_id)
        return found

    def group_of(self, doc_id: int) -> set[int]:
        """The document's lineage group: its origin and everything linked to it.

        Read under the write lock (``begin``): another writer may be linking into the same
        group, and a merge must see its committed links, not an older snapshot of them.
        """
        self._writer.begin()
        root = doc_id
        for _ in range(3):
            row = self.conn.execute("SELECT origin_id FROM links WHERE copy_id = ?", (root,)).fetchone()
            if row is None:
                break
            root = row[0]
        members, frontier = {root, doc_id}, [root]
        while frontier:
            marks = ",".join("?" * len(frontier))
            found = [r[0] for r in self.conn.execute(f"SELECT copy_id FROM links WHERE origin_id IN ({marks})", frontier)]
            frontier = [d for d in found if d not in members]
            members.update(frontier)
        return members

    def links_of(self, ids: Iterable[int]) -> dict[int, dict]:
        sql = f"SELECT {', '.join(_LINK_COLUMNS)} FROM links WHERE copy_id IN ({{marks}})"
        return {row[0]: dict(zip(_LINK_COLUMNS, row)) for row in rows_by_id(self.conn, sql, ids)}

    #: One link per copy: a new one replaces the copy's old one.
    upsert_link = ("INSERT OR REPLACE INTO links (copy_id, origin_id, relation, similarity, containment, evidence)"
                   " VALUES (:copy_id, :origin_id, :relation, :similarity, :containment, :evidence)")

    def write_links(self, rows: list[dict], drop: Iterable[int] = ()) -> None:
        """Write these links (one per copy, replacing its old one) and remove the links of
        ``drop`` (documents that became an origin)."""
        drop = list(drop)
        if not rows and not drop:
            return
        self._writer.write()
        self.conn.executemany("DELETE FROM links WHERE copy_id = ?", [(d,) for d in drop])
        self.conn.executemany(self.upsert_link, rows)

    def origin_of(self, doc_id: int) -> tuple[int, str, str | None] | None:
        """(origin id, origin url, relation) of a copy; None for a document without a link."""
        return self.conn.execute(
            "SELECT l.origin_id, d.url, l.relation FROM links l JOIN documents d ON d.id = l.origin_id"
            " WHERE l.copy_id = ?", (doc_id,)).fetchone()
