"""A lineage group read for display: the origin and every copy, without their texts.

Plain SQL over ``links`` and ``documents`` on a sqlite3 connection (Datasette's read-only
one, or the report's) or a PostgreSQL ``Reader`` (the same statements), so a 1,000-member group costs one recursive query; texts, chrome and
claims are read only for the documents a page shows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from collector.core.dates import parse_time

MAX_DEPTH = 10  # links form a tree a few levels deep; the cap guards against a cycle

MEMBERS_SQL = """
WITH RECURSIVE members(id, depth) AS (
    SELECT CAST(? AS BIGINT), 0
    UNION ALL SELECT l.copy_id, m.depth + 1 FROM links l JOIN members m ON l.origin_id = m.id
    WHERE m.depth < ?)
SELECT d.id, d.url, d.site, d.title, d.published, d.fetched, m.depth,
       l.origin_id, l.relation, l.similarity, l.containment, l.evidence
FROM members m JOIN documents d ON d.id = m.id LEFT JOIN links l ON l.copy_id = d.id AND m.depth > 0
"""


@dataclass
class Member:
    id: int
    url: str
    site: str
    title: str | None
    published: str | None
    fetched: str | None
    depth: int
    origin_id: int | None = None  # the document it copies (None for the group's origin)
    relation: str = "origin"
    similarity: float | None = None
    containment: float | None = None
    evidence: str | None = None
    delay: float | None = None  # seconds from the origin's time to this one's
    undated: bool = False  # no publication date while its origin has one: delay is by fetch time

    @property
    def time(self) -> datetime | None:
        return parse_time(self.published) or parse_time(self.fetched)


@dataclass
class Group:
    query: int  # the document asked for
    origin: Member
    copies: list[Member] = field(default_factory=list)  # by time, then id

    @property
    def members(self) -> list[Member]:
        return [self.origin, *self.copies]

    @property
    def sites(self) -> list[str]:
        """The copying sites, in the order of their first copy."""
        seen: dict[str, None] = {}
        for c in self.copies:
            seen.setdefault(c.site, None)
        return list(seen)

    @property
    def origin_evidence(self) -> str | None:
        """Why the origin is the origin: the decision every direct copy carries."""
        direct = [c for c in self.copies if c.origin_id == self.origin.id and c.evidence]
        return direct[0].evidence.split("; related to")[0] if direct else None


def resolve(conn: sqlite3.Connection, key: str) -> int | None:
    """A document id from an id, a URL or a canonical URL."""
    key = str(key).strip()
    if key.isdigit():
        row = conn.execute("SELECT id FROM documents WHERE id = ?", (int(key),)).fetchone()
        if row:
            return row[0]
    for column in ("url", "canonical_url"):
        row = conn.execute(f"SELECT id FROM documents WHERE {column} = ? ORDER BY id LIMIT 1", (key,)).fetchone()
        if row:
            return row[0]
    return None


def root_of(conn: sqlite3.Connection, doc_id: int) -> int:
    root, seen = doc_id, {doc_id}
    for _ in range(MAX_DEPTH):
        row = conn.execute("SELECT origin_id FROM links WHERE copy_id = ?", (root,)).fetchone()
        if row is None or row[0] in seen:
            break
        root = row[0]
        seen.add(root)
    return root


def load_group(conn: sqlite3.Connection, key: str | int) -> Group | None:
    doc_id = resolve(conn, str(key))
    if doc_id is None:
        return None
    cur = conn.execute(MEMBERS_SQL, (root_of(conn, doc_id), MAX_DEPTH))
    names = [c[0] for c in cur.description]
    members, seen = [], set()
    for row in cur:
        m = Member(**{k: v for k, v in zip(names, row)})
        if m.id not in seen:  # a cycle would bring one back
            seen.add(m.id)
            members.append(m)
    members.sort(key=lambda m: m.depth)
    origin = members[0]
    origin.relation, origin.origin_id = "origin", None
    start = origin.time
    origin_dated = parse_time(origin.published) is not None
    for m in members[1:]:
        m.undated = origin_dated and parse_time(m.published) is None
        if start and m.time:
            m.delay = (m.time - start).total_seconds()
    copies = sorted(members[1:], key=lambda m: (m.delay is None, m.undated, m.delay or 0, m.id))
    return Group(query=doc_id, origin=origin, copies=copies)


def details(conn: sqlite3.Connection, ids) -> dict[int, dict]:
    """Text, stripped chrome and claims of the given documents."""
    ids = sorted(set(ids))
    out: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for doc_id, text, chrome in conn.execute(f"SELECT id, text, chrome FROM documents WHERE id IN ({marks})", chunk):
            out[doc_id] = {"text": text or "", "chrome": json.loads(chrome or "[]"), "claims": []}
        for doc_id, kind, site, name, url, evidence in conn.execute(
            "SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims"
            f" WHERE doc_id IN ({marks}) ORDER BY id", chunk):
            out[doc_id]["claims"].append({"kind": kind, "claimed_site": site, "claimed_name": name,
                                          "claimed_url": url, "evidence": evidence})
    return out


def delay_text(seconds: float | None) -> str:
    """'+3 h 20 min', '+2 d 4 h', '-45 min' (a copy dated before its origin), '?' when unknown."""
    if seconds is None:
        return "?"
    sign = "-" if seconds < 0 else "+"
    s = abs(int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days} d {hours} h" if hours else f"{sign}{days} d"
    if hours:
        return f"{sign}{hours} h {minutes} min" if minutes else f"{sign}{hours} h"
    return f"{sign}{minutes} min" if minutes else f"{sign}{s} s" if s else "same time"
