"""Reading the lineage back: the library functions behind ``collector lineage`` and ``stats``.

They only read, through plain SQL over the tables and views a user can query too.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlite_utils import Database


def find_document(db: Database, url_or_id: str) -> dict | None:
    """A document by id, URL, canonical URL, or the path of an imported file."""
    keys = [url_or_id]
    if url_or_id.isdigit():
        row = next(db.query("SELECT * FROM documents WHERE id = ?", [int(url_or_id)]), None)
        if row:
            return row
    path = Path(url_or_id)
    if path.exists():
        keys.append(path.resolve().as_uri())
    keys.append(url_or_id.rstrip("/") if url_or_id.endswith("/") else url_or_id + "/")
    for key in keys:
        for column in ("url", "canonical_url", "source"):
            row = next(db.query(f"SELECT * FROM documents WHERE {column} = ? ORDER BY id LIMIT 1", [key]), None)
            if row:
                return row
    return None


def _summary(row: dict) -> dict:
    return {
        "id": row["id"],
        "url": row["url"],
        "site": row["site"],
        "title": row["title"],
        "published": row["published"],
        "fetched": row["fetched"],
        "chrome": json.loads(row["chrome"] or "[]"),
    }


def claims(db: Database, doc_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT kind, claimed_site, claimed_name, claimed_url, evidence FROM claims WHERE doc_id = ? ORDER BY id",
            [doc_id],
        )
    )


def lineage(db: Database, url_or_id: str) -> dict | None:
    """The document's group: its origin, and every copy with its relation, similarity,
    evidence and claims. ``copies`` is flat; each names the document it links to
    (``origin_id``): the origin, or for a duplicate the same site's first copy."""
    doc = find_document(db, url_or_id)
    if doc is None:
        return None
    root = doc["id"]
    for _ in range(3):
        up = next(db.query("SELECT origin_id FROM links WHERE copy_id = ?", [root]), None)
        if up is None:
            break
        root = up["origin_id"]
    origin = next(db.query("SELECT * FROM documents WHERE id = ?", [root]))
    copies, frontier, seen = [], [root], {root}
    while frontier:
        marks = ",".join("?" * len(frontier))
        found = list(
            db.query(
                "SELECT l.origin_id, l.relation, l.similarity, l.containment, l.evidence, d.* FROM links l"
                f" JOIN documents d ON d.id = l.copy_id WHERE l.origin_id IN ({marks})"
                " ORDER BY d.published IS NULL, d.published, d.fetched, d.id",
                frontier,
            )
        )
        frontier = []
        for row in found:
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            frontier.append(row["id"])
            copies.append(
                {
                    **_summary(row),
                    "origin_id": row["origin_id"],
                    "relation": row["relation"],
                    "similarity": row["similarity"],
                    "containment": row["containment"],
                    "evidence": row["evidence"],
                    "claims": claims(db, row["id"]),
                }
            )
    # Every copy of the origin carries the decision; the origin shows it once.
    direct = [c for c in copies if c["origin_id"] == root]
    evidence = direct[0]["evidence"].split("; related to")[0] if direct else None
    return {
        "query": doc["id"],
        "origin": {**_summary(origin), "claims": claims(db, root), "evidence": evidence},
        "copies": copies,
    }


def stats(db: Database, top: int = 5) -> dict:
    sites = list(
        db.query(
            "SELECT d.site, coalesce(s.name, d.site) AS name, count(*) AS documents FROM documents d"
            " LEFT JOIN sites s ON s.key = d.site GROUP BY d.site, s.name ORDER BY documents DESC, d.site"
        )
    )
    relations = {r["relation"]: r["n"] for r in db.query("SELECT relation, count(*) AS n FROM links GROUP BY relation")}
    chrome: dict[str, list] = {}
    for row in db.query("SELECT site, line, documents FROM site_chrome"):
        lines = chrome.setdefault(row["site"], [])
        if len(lines) < top:
            lines.append({"line": row["line"], "documents": row["documents"]})
    learned = {r["site"]: r["n"] for r in db.query("SELECT site, count(*) AS n FROM chrome_lines GROUP BY site")}
    claims_total = next(db.query("SELECT count(*) AS n FROM claims"))["n"]
    pending = next(
        db.query(
            "SELECT count(*) AS n FROM claims c WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.copy_id = c.doc_id)"
        )
    )["n"]
    out = {
        "documents": sum(s["documents"] for s in sites),
        "sites": sites,
        "links": relations,
        "claims": claims_total,
        "claims_without_origin": pending,
        "chrome": chrome,
        "learned_chrome_lines": learned,
    }
    if db["runs"].exists():
        out["runs"] = list(db.query("SELECT * FROM runs ORDER BY id DESC LIMIT 10"))
    return out
