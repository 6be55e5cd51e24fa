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
queue (and nothing is done twice). Links added, removed and changed are counted from each
copy's link as it was before the run first changed it (``TrackedLineage``): whatever changed
them (link stage, relinking, chrome learned meanwhile). The same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from ..context import Context, store_options
from ..core.rules import Rules
from ..crawl.archive import db_folder
from ..raw import forget_files
from ..storage import open_store
from .inputs import queued_items
from .selection import rules_lines, rules_report, select_documents
from .store import ReprocessStore


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
    stages["collector.reprocess.store.RelinkFormerGroup"] = 650
    settings.set("ITEM_PIPELINES", stages, priority="cmdline")
    out = Context(settings, context.sites)
    url = settings.get("COLLECTOR_DB")
    store = open_store(url, store_class=ReprocessStore, **store_options(settings))
    store.sync_sites(out.sites)
    out.use_store(store)
    return out


def reprocess(context: Context, sites=(), since: str | None = None, everything: bool = False, dry_run: bool = False,
              workers: int = 1, on_problem: Callable[[str], None] = lambda message: None,
              on_item: Callable[[object], None] = lambda item: None) -> ReprocessSummary:
    """Run the stages again on the chosen documents' raw inputs (see the module docstring)."""
    from pipelines.provenance import ProvenancePipeline

    from ..ingest import run_items

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
