"""``collector link-worker``: the one linker of distributed mode (docs/postgresql.md, "The inbox").

Crawl nodes hand extracted documents to the inbox (``collector.storage.postgres.inbox``); the
link-worker takes them in batches and runs the stages after extract (clean, attribute,
fingerprint, store, link, learn) through the import's driver: the same ``Chain`` over the
stages ``ITEM_PIPELINES`` names, in which the extract stage passes an extracted document on
(it keeps its text, as it does for an item a worker process extracted).

One batch is one transaction of the store: ``FOR UPDATE SKIP LOCKED`` takes up to
COLLECTOR_LINK_BATCH rows, their documents, links, claims and aliases are written, the rows
deleted, and all of it committed at once. A kill at any point loses the open batch only, and
its rows are taken again by the next run: each item is stored exactly once. A crawled page's
archive records, made on the node, are appended to this machine's archive (``SiteArchives``:
COLLECTOR_ARCHIVE, as a crawl's) before its document is stored, which keeps where
(``raw_ref``); a batch a kill rolls back leaves its records in the files, referenced by
nothing, and they are appended again with the batch's next try. Two link-workers
never take the same rows (they also take turns at the store's writer lock).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from typing import Callable

from .context import Context
from .core.document import Document, Status
from .core.errors import StoreError
from .driver import Chain, build_stages
from .ingest import process_one
from .storage import is_postgres, redacted
from .storage.archive import SiteArchives, records_problem
from .summary import Summary

logger = logging.getLogger(__name__)


class LinkWorker:
    def __init__(self, context: Context, on_problem: Callable[[str], None] = lambda message: None):
        self.context, self.on_problem = context, on_problem
        if not is_postgres(context.settings.get("COLLECTOR_DB")):
            raise StoreError(f"link-worker: {redacted(str(context.settings.get('COLLECTOR_DB')))} is not PostgreSQL:"
                             " the inbox lives in the PostgreSQL store (--db postgresql://...)")
        self.store = store = context.open_store()
        # One batch, one transaction: the store commits when the batch is done, never before.
        store.batch_size, store.hold_seconds = 2**62, float("inf")
        self.chain = Chain(build_stages(context), store)
        self.archives = SiteArchives(context.settings)  # the nodes' page records, kept here
        self.dropping_records = False  # archiving is off here, and a node sent records
        self.limit = max(1, context.settings.getint("COLLECTOR_LINK_BATCH"))
        self.summary = Summary()
        self.stopping = False

    def run(self, once: bool = False, poll: float | None = None) -> Summary:
        """Batches until the inbox is empty (``once``) or until SIGTERM (between batches)."""
        from .storage.postgres import inbox

        poll = self.context.settings.getfloat("COLLECTOR_LINK_POLL") if poll is None else poll
        linger = self.context.settings.getfloat("COLLECTOR_LINK_LINGER")
        started = time.perf_counter()
        previous = self._on_sigterm()
        try:
            while not self.stopping:
                taken = self.batch(inbox)
                if taken == 0:
                    if once:
                        break
                    self._sleep(poll)
                elif taken < self.limit and not once:
                    # The nodes are sending slower than this worker stores: let their items
                    # gather, so a batch's fixed costs (the lock, the inbox's take and delete,
                    # the LSH rows' flush) are shared by more documents (docs/postgresql.md).
                    self._sleep(linger)
            self.chain.close()
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        finally:
            self.archives.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self.summary.seconds = time.perf_counter() - started
            self.summary.notices = list(self.context.notices)
        return self.summary

    def batch(self, inbox) -> int:
        """One batch in one transaction; the items taken (0: the inbox is empty)."""
        store = self.store
        store.begin()  # the writer's lock first: the rows are then taken by one linker at a time
        taken = inbox.take(store.conn, self.limit)
        if not taken:
            store.rollback()
            return 0
        new_by_run = Counter(row.run_id for row in taken if self.link(row) and row.run_id)
        inbox.credit_runs(store.conn, new_by_run)
        inbox.delete(store.conn, [row.id for row in taken])
        store.commit()
        self.summary.batches += 1
        store.merge_index()  # the recent LSH rows, once there are enough of them
        return len(taken)

    def link(self, row) -> bool:
        """One inbox row through the stages; whether its document was new."""
        fields = row.item
        damage = records_problem(row.records) if row.records else None
        if damage:  # the document is stored all the same, without its raw page
            self.on_problem(f"{fields.get('url')}: the page's archive records from the crawl node are damaged ({damage});"
                            " stored without its raw page")
        elif row.records:  # archived before the document is stored: committed with it, or orphaned
            fields["raw_ref"] = self.archives.append(fields.get("site"), row.records)
            if fields["raw_ref"] is None and not self.dropping_records:
                self.dropping_records = True  # said once, at once (a link-worker runs for days)
                notice = ("COLLECTOR_ARCHIVE_ENABLED is off for the link-worker: the crawl nodes' raw pages are"
                          " not kept (documents are stored without raw_ref; turn it on to keep them)")
                logger.warning(notice)
                self.context.notices.append(notice)
        done = process_one(self.chain, Document(**fields), self.summary, self.on_problem)
        return done is not None and done.get("status") == Status.NEW

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))

    def _on_sigterm(self):
        """SIGTERM asks to stop after the batch in progress (in the main thread, where signals arrive)."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def on_term(signum, frame):
            self.stopping = True

        return signal.signal(signal.SIGTERM, on_term)


def link_inbox(context: Context, once: bool = False, on_problem: Callable[[str], None] = lambda message: None) -> Summary:
    return LinkWorker(context, on_problem).run(once=once)
