"""The store: the one writer of the SQLite database, one object per job.

``Store`` is the transaction (``collector.storage.writer``: the lock, batches, the
``document()`` scope) and composes what the stages use, named as the contracts in
``collector.core.contracts`` name them:

- ``store.documents``: the documents table and its full-text index (``DocumentStore``);
- ``store.lsh``: the LSH index (``CandidateIndex``);
- ``store.lineage``: claims and links (``LineageStore``);
- ``store.chrome``: line sightings and learned chrome (``ChromeMemory``);
- ``store.crawl``: runs, feed validators, URL aliases, sites (``UrlAliases`` and the crawl's own);
- ``store.provenance``: raw inputs and rule sets (``ProvenanceLog``).

Everything a document brings (its row, its LSH rows, claims, links, chrome learned from it)
is written in the batch's transaction, inside the document's savepoint, so a kill loses at
most the open batch and never leaves half a document; the same import run again redoes
exactly what was lost. What the store holds for the open batch (LSH rows held back, new
documents not yet in the full-text index, per-batch caches) follows the transaction: written
before COMMIT, taken back with a document or batch that is undone, forgotten when another
writer may have committed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from . import params
from .chrome import ChromeMemory
from .crawlstate import CrawlState
from .dbfile import QUICK_CHECK_SECONDS
from .documents import DocumentStore
from .lineage import LineageStore
from .lsh import RECENT_DOCUMENTS, LSHIndex
from .provenance import ProvenanceLog
from .writer import HOLD_SECONDS, LOCK_TIMEOUT, Writer


class Store(Writer):
    documents_class = DocumentStore  # collector.reprocess.store swaps in its own
    # One class per job: the PostgreSQL store (collector.storage.postgres) names its own.
    lsh_class, lineage_class, chrome_class = LSHIndex, LineageStore, ChromeMemory
    crawl_class, provenance_class = CrawlState, ProvenanceLog

    def __init__(self, path: str | Path, batch_size: int = 1000, recent_documents: int = RECENT_DOCUMENTS,
                 old_tokens: bool = False, hold_seconds: float = HOLD_SECONDS, lock_timeout: float = LOCK_TIMEOUT,
                 quick_check_seconds: float = QUICK_CHECK_SECONDS, lock_log: str | None = None):
        self.recent_documents = max(0, recent_documents)
        super().__init__(path, batch_size, hold_seconds, lock_timeout, quick_check_seconds, lock_log)
        self.lsh = self.lsh_class(self.conn)
        self.documents = self.documents_class(self, self.lsh)
        self.lineage = self.lineage_class(self)
        self.chrome = self.chrome_class(self, self.documents)
        self.crawl = self.crawl_class(self, self.documents)
        self.provenance = self.provenance_class(self)
        self._set_up(old_tokens)

    def _set_up(self, old_tokens: bool) -> None:
        """Create or migrate the schema; check the fingerprint parameters."""
        try:
            params.set_up(self, self.documents, old_tokens)
        except sqlite3.Error as exc:
            raise self.unusable(exc) from exc

    # --- what the batch holds follows the transaction (``Writer``'s hooks) ----------------
    def _batch_started(self) -> None:
        # what other writers committed since the last batch is seen from now on
        self.documents.forget()
        self.chrome.forget()

    def _before_commit(self) -> None:
        self.lsh.flush()
        self.documents.index_new()

    def _savepoint_opened(self) -> object:
        self.lsh.savepoint()
        return list(self.documents.unindexed)

    def _savepoint_released(self, outermost: bool) -> None:
        self.lsh.release(all_of_them=outermost)

    def _savepoint_undone(self, mark: object) -> None:
        self.lsh.rollback_savepoint()
        # whatever was indexed inside the savepoint is undone with it
        self.documents.unindexed = mark
        self.documents.forget()
        self.chrome.forget()
        self.provenance.forget()

    def _rolled_back(self) -> None:
        self.lsh.rollback()
        self.documents.unindexed = []
        self.documents.forget()
        self.chrome.forget()
        self.provenance.forget()

    # --- upkeep ---------------------------------------------------------------------------
    def merge_index(self, force: bool = False) -> int:
        """Merge the recent LSH rows into the big index once there are enough of them (or
        now, ``force``); one transaction per band, so an interrupted merge keeps the bands it
        moved and loses nothing. Returns the rows moved."""
        self.commit()
        if not force and self.lsh.recent_documents() < self.recent_documents:
            return 0
        moved = 0
        for band in range(self.lsh.b):
            self.begin()
            moved += self.lsh.merge(band)
            self.commit()
        self.checkpoint()  # the merge's pages, back in the file
        return moved

    def sync_sites(self, sites) -> None:
        """The configured sites in the ``sites`` table (see ``CrawlState.sync_sites``)."""
        self.crawl.sync_sites(sites)

    def save_fingerprint_params(self) -> None:
        params.save(self)
