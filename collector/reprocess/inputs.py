"""Each queued document's raw input, read again as the item its source made."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..core.document import Document, item_hash, source_ref
from ..driver import prepare
from ..importers import Problem
from ..raw import RawMissing, RawRef, archived_article, imported_article
from .store import ReprocessStore

#: Queue entries read at a time.
CHUNK = 500


def raw_article(row: dict, sites, base: Path) -> Document:
    """The item the document's source made: from its raw input, with what the document keeps
    of it (source, fetch time; its site when a config names it)."""
    ref_text = row["raw_ref"] or source_ref(row["source"])
    if not ref_text:
        raise RawMissing("no raw input recorded (crawled with the archive off, or before it was kept)")
    ref = RawRef.parse(ref_text, base)
    site = row["site"] if sites.get(row["site"]) else None
    if ref.offset is not None:
        item = archived_article(ref, source=row["source"], site=site)
    else:
        item = imported_article(ref)
        item["source"] = row["source"]
        item["site"] = item.get("site") or site
    item["fetched"] = row["fetched"]
    item["raw_ref"] = ref_text
    item = prepare(item)  # as the import path does before the stages (URL, HTML)
    item["content_hash"] = item_hash(item)
    if item["content_hash"] != row["content_hash"]:
        raise RawMissing(f"{ref_text}: not the input the document was made from (its content hash differs)")
    return item


def queued_items(store: ReprocessStore, sites, base: Path) -> Iterator[Document | Problem]:
    last = 0
    while True:
        ids = [r[0] for r in store.conn.execute(
            "SELECT doc_id FROM reprocess_queue WHERE doc_id > ? ORDER BY doc_id LIMIT ?", (last, CHUNK))]
        if not ids:
            return
        last = ids[-1]
        marks = ",".join("?" * len(ids))
        cur = store.conn.execute(
            f"SELECT d.id, d.url, d.site, d.source, d.fetched, d.content_hash, r.raw_ref FROM documents d"
            f" LEFT JOIN raw_inputs r ON r.doc_id = d.id WHERE d.id IN ({marks}) ORDER BY d.id", ids)
        cols = [c[0] for c in cur.description]
        for row in [dict(zip(cols, r)) for r in cur]:
            try:
                item = raw_article(row, sites, base)
            except RawMissing as exc:
                yield Problem(f"#{row['id']} {row['url']}", f"{exc}; the document is kept as it was")
                continue
            store.targets[item["content_hash"]] = row["id"]
            yield item
