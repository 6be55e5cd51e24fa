"""Re-processing: the stages run again on stored documents' raw inputs, with today's rules.

``collector reprocess`` reads each chosen document's raw input (its archive record, or the
imported file, record or line: ``collector.crawl.archive``), checks it is the input the document
was made from (its content hash), and sends it through the import path
(``collector.ingest.run_items``): the same stages, in the same order, as a crawl or an
import. The store is a ``ReprocessStore``, which knows which document each item is for:

- a document whose text, chrome, claims, title, dates and signature come out the same is
  left alone (only its rules hash is brought up to date);
- a changed one is updated in place (same id; its LSH rows, claims and full-text entry
  replaced), after its lineage group is taken apart: the link stage then links it where it
  belongs now, and ``RelinkFormerGroup`` links its former group's other members again, so a
  copy that no longer matches loses its link and the origin is decided again.

Which documents: by default those whose rules changed since they were processed
(``collector.core.rules``), or all (``everything``), narrowed by site and fetch date. The choice
is written to ``reprocess_queue`` first; each batch's commit removes the documents it
finished, so a kill loses at most a batch and the same command, run again, continues the
queue (and nothing is done twice). Links added, removed and changed are counted by
temporary triggers on ``links``: whatever changed them (link stage, relinking, chrome
learned meanwhile).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from collector.core.fingerprint import signature_bytes
from collector.core.similarity import Text
from pipelines.link import Linker
from pipelines.stage import Stage

from .crawl.archive import db_folder
from .raw import RawMissing, RawRef, archived_article, forget_files, imported_article
from .context import Context, store_options
from .driver import prepare
from .importers import Problem
from .core.document import Document, item_hash, source_ref
from .core.rules import Rules, what_changed
from .storage import Store
from .storage.documents import DocumentStore

#: Queue entries read at a time.
CHUNK = 500


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


# --- choosing documents -------------------------------------------------------------------

def _stale(conn, rules: Rules, sites=()) -> list[tuple[str, str, dict | None]]:
    """(hash, site, its rules) of the rule sets that are not their site's today: a handful of
    rows, whatever the corpus' size."""
    out = []
    for digest, site, text in conn.execute("SELECT hash, site, rules FROM rule_sets ORDER BY site, first_used"):
        if rules.hash(site) != digest and (not sites or site in sites):
            out.append((digest, site, json.loads(text)))
    return out


def _unrecorded(conn, sites=()) -> dict[str, int]:
    """Documents per site with no rules recorded (stored before rule hashes were kept)."""
    total = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    if total == conn.execute("SELECT count(*) FROM raw_inputs").fetchone()[0]:
        return {}  # the usual case, told by two counts of small indexes
    where = f"AND site IN ({','.join('?' * len(sites))})" if sites else ""
    return dict(conn.execute(
        f"SELECT site, count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM raw_inputs r WHERE r.doc_id = d.id)"
        f" {where} GROUP BY site", list(sites)))


def rules_report(conn, rules: Rules, sites=()) -> list[dict]:
    """Per site whose documents were processed with other rules than today's: how many of
    its documents, and what differs. Read through ``rule_sets`` and the index on
    ``raw_inputs.rules_hash``: its cost follows the documents concerned."""
    found: dict[str, dict] = {}
    for digest, site, old in _stale(conn, rules, sites):
        n = conn.execute("SELECT count(*) FROM raw_inputs WHERE rules_hash = ?", (digest,)).fetchone()[0]
        if n:
            entry = found.setdefault(site, {"site": site, "stale": 0, "changed": []})
            entry["stale"] += n
            entry["changed"] += [c for c in what_changed(old, rules.of(site)) if c not in entry["changed"]]
    for site, n in _unrecorded(conn, sites).items():
        entry = found.setdefault(site, {"site": site, "stale": 0, "changed": []})
        entry["stale"] += n
        entry["changed"] += [c for c in what_changed(None, rules.of(site)) if c not in entry["changed"]]
    for site, entry in found.items():
        entry["documents"] = conn.execute("SELECT count(*) FROM documents WHERE site = ?", (site,)).fetchone()[0]
    return [found[site] for site in sorted(found)]


def rules_lines(report: list[dict], each: int = 5) -> list[str]:
    """The rules report in a few lines: sites with the same change together (a new alias
    changes every site's rules at once)."""
    by_change: dict[tuple, list[dict]] = {}
    for entry in report:
        by_change.setdefault(tuple(entry["changed"]), []).append(entry)
    lines = []
    for changed, entries in by_change.items():
        why = "; ".join(changed)
        if len(entries) <= each:
            lines += [f"rules changed: {e['site']}: {e['stale']} of {e['documents']} documents ({why})" for e in entries]
        else:
            named = ", ".join(e["site"] for e in entries[:each])
            lines.append(f"rules changed: {len(entries)} sites ({named}, ...): {sum(e['stale'] for e in entries)} documents ({why})")
    return lines


def select_documents(conn, rules: Rules, sites=(), since: str | None = None, everything: bool = False) -> list[int]:
    """Ids of the documents to reprocess, in id order (the order they were first stored)."""
    clauses, params = [], []
    if sites:
        clauses.append(f"d.site IN ({','.join('?' * len(sites))})")
        params.extend(sites)
    if since:
        clauses.append("d.fetched >= ?")
        params.append(since)
    where = " AND ".join(clauses) or "1"
    if everything:
        return [r[0] for r in conn.execute(f"SELECT d.id FROM documents d WHERE {where} ORDER BY d.id", params)]
    ids = []
    stale = [digest for digest, _, _ in _stale(conn, rules, sites)]
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        ids += [r[0] for r in conn.execute(
            f"SELECT d.id FROM raw_inputs r JOIN documents d ON d.id = r.doc_id WHERE r.rules_hash IN"
            f" ({','.join('?' * len(chunk))}) AND {where}", chunk + params)]
    if _unrecorded(conn, sites):
        ids += [r[0] for r in conn.execute(
            f"SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM raw_inputs r WHERE r.doc_id = d.id) AND {where}",
            params)]
    return sorted(set(ids))


# --- reading raw inputs -------------------------------------------------------------------

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


# --- the command ----------------------------------------------------------------------------

@dataclass
class ReprocessSummary:
    selected: int = 0
    continued: bool = False   # an interrupted reprocess was finished first
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    links_added: int = 0
    links_removed: int = 0
    links_changed: int = 0
    seconds: float = 0.0
    rules_changed: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}

    def text(self, dry_run: bool = False) -> str:
        lines = rules_lines(self.rules_changed) or ["rules changed: none (every document was processed with today's rules)"]
        if dry_run:
            lines.append(f"would reprocess {self.selected} documents (dry run: nothing written)")
            return "\n".join(lines)
        lines.append(
            f"reprocessed {self.selected} documents{' (finishing an interrupted run)' if self.continued else ''}"
            f" in {self.seconds:.1f} s: changed {self.changed}, unchanged {self.unchanged}, failed {self.failed}; "
            f"links added {self.links_added}, removed {self.links_removed}, changed {self.links_changed}")
        return "\n".join(lines)


def reprocess_context(context: Context) -> Context:
    """The context with a ``ReprocessStore`` and the relinking stage after the link stage."""
    settings = context.settings.copy()
    stages = dict(settings.getdict("ITEM_PIPELINES"))
    stages["collector.reprocess.RelinkFormerGroup"] = 650
    settings.set("ITEM_PIPELINES", stages, priority="cmdline")
    out = Context(settings, context.sites)
    store = ReprocessStore(settings.get("COLLECTOR_DB"), **store_options(settings))
    store.sync_sites(out.sites)
    out.use_store(store)
    return out


def reprocess(context: Context, sites=(), since: str | None = None, everything: bool = False, dry_run: bool = False,
              workers: int = 1, on_problem: Callable[[str], None] = lambda message: None,
              on_item: Callable[[object], None] = lambda item: None) -> ReprocessSummary:
    """Run the stages again on the chosen documents' raw inputs (see the module docstring)."""
    from pipelines.provenance import ProvenancePipeline

    from .ingest import run_items

    context.open_store()
    for key in sites:
        if context.sites.get(key) is None and not context.store.conn.execute(
                "SELECT 1 FROM documents WHERE site = ? LIMIT 1", (key,)).fetchone():
            raise ValueError(f"--site {key}: no such site config and no documents of that site")
    rules = Rules(context.sites, context.settings.get("COLLECTOR_EXTRACTION"))
    summary = ReprocessSummary(rules_changed=rules_report(context.store.conn, rules, sites))
    conn = context.store.conn
    queued = conn.execute("SELECT count(*) FROM reprocess_queue").fetchone()[0]
    if dry_run:
        summary.selected = queued or len(select_documents(conn, rules, sites, since, everything))
        summary.continued = bool(queued)
        return summary
    context.close()
    work = reprocess_context(context)
    store: ReprocessStore = work.store
    try:
        if queued:
            summary.continued = True
        else:
            store.begin()
            store.conn.executemany("INSERT OR IGNORE INTO reprocess_queue VALUES (?)",
                                   [(i,) for i in select_documents(store.conn, rules, sites, since, everything)])
            store.commit()
        summary.selected = store.conn.execute("SELECT count(*) FROM reprocess_queue").fetchone()[0]
        provenance = ProvenancePipeline.from_context(work)

        def unchanged(doc_id: int, item) -> None:
            item["doc_id"] = doc_id
            provenance.process(item)  # today's rules hash: not chosen again

        store.on_unchanged = unchanged
        started = time.perf_counter()
        result = run_items(queued_items(store, work.sites, db_folder(work.settings)), work,
                           on_problem=on_problem, on_item=on_item, workers=workers)
        store.begin()
        store.conn.execute("DELETE FROM reprocess_queue")  # every queued document was tried
        store.commit()
        summary.seconds = time.perf_counter() - started
        summary.changed, summary.unchanged, summary.failed = result.updated + result.new, result.unchanged, result.skipped
        summary.problems = result.problems
        changes = store.link_changes()
        summary.links_added, summary.links_removed, summary.links_changed = changes["added"], changes["removed"], changes["changed"]
    finally:
        forget_files()
        work.close()
    return summary
