"""The crawl's ITEM_PROCESSOR: Scrapy's pipeline manager, running each item through the
import's ``Chain``, and able to extract in worker processes.

1. Scrapy builds the stages from ``ITEM_PIPELINES``; each item goes through them in one
   synchronous ``Chain.process``, inside the store's document scope, as in an import: a
   stage that fails on a document after the store stage wrote it leaves no write behind,
   before any other item enters the store (Scrapy's ``item_error`` signal would come too
   late for that: its handlers run as tasks).

2. Items are prepared by ``collector.driver`` as an import's are (one URL identity, HTML
   defused); the URLs that redirected to a stored document, and a variant's own URL, are
   written with it (``url_aliases``), so the next crawl knows them (``SkipStoredMiddleware``)
   and does not fetch them again. A database that cannot be written stops every crawl of the
   run, said once.

3. With COLLECTOR_EXTRACT_PROCESSES > 0, the extract stage runs first in a worker process:
   the genuine ``ExtractPipeline.process`` on a copy of the item, with the site configs and a
   store that knows no content (the has-this-content check is left to the crawl's own store,
   in the chain that follows). The item comes back with its text and metadata, so the extract
   stage in the chain only checks the content hash and passes it on: the very same code makes
   the very same document, while the crawl's process keeps downloading. Trafilatura is
   CPU-bound (most of a document's processing time), and the crawl's process is one thread.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.asyncio import is_asyncio_available

from .core.document import ALREADY_STORED, Document
from .core.errors import StoreError

from .context import Context
from .storage import explain
from .driver import AlreadyStored, Chain, lineage_fields, prepare

logger = logging.getLogger(__name__)


class DocumentPipelines(ItemPipelineManager):
    """Scrapy builds the stages (``ITEM_PIPELINES``, each with ``from_crawler``); each item
    goes through them in a ``Chain``, as in an import."""

    def __init__(self, *middlewares, crawler=None):
        super().__init__(*middlewares, crawler=crawler)
        self.context = Context.for_crawler(crawler)
        self.chain = Chain(list(middlewares), self.context.store)
        self.pool: ProcessPoolExecutor | None = None
        workers = crawler.settings.getint("COLLECTOR_EXTRACT_PROCESSES")
        if workers > 0:
            if is_asyncio_available():
                self.pool = ExtractWorkers.join(self.context, workers)
            else:
                logger.warning("COLLECTOR_EXTRACT_PROCESSES needs the asyncio reactor: extracting in process")

    @classmethod
    def from_crawler(cls, crawler):
        # The stages are built from the run's context: its store opens first.
        Context.for_crawler(crawler).open_store()
        return super().from_crawler(crawler)

    async def process_item_async(self, item):
        context = self.context
        if context.fatal is not None:  # the crawl is stopping: no more waits
            raise self._stop_crawling(context.fatal, item)
        try:
            if self.pool is not None and item.get("html") and not item.get("text"):
                item = prepare(item)
                extracted = await asyncio.wrap_future(self.pool.submit(extract_fields, dict(item)))
                item = Document(**extracted)
            item = self.chain.process(item)
        except StoreError as fatal:  # the database itself: every crawl of the run stops
            raise self._stop_crawling(fatal, item) from fatal
        if item.get("status") in ALREADY_STORED:
            raise AlreadyStored(f"{item.get('url')}: {item['status']}")
        lineage_fields(item, context.store.lineage)
        return item

    def _stop_crawling(self, fatal, item) -> DropItem:
        stop_for_database(self.context, fatal, self.crawler)
        return DropItem(f"{item.get('url') if hasattr(item, 'get') else item}: not stored: the database cannot be written")

    async def close_spider_async(self) -> None:
        try:
            await super().close_spider_async()
        finally:
            if self.pool is not None:
                ExtractWorkers.leave(self.context)
                self.pool = None


def stop_for_database(context: Context, fatal, crawler, stop: bool = True) -> None:
    """A database that cannot be written (damaged, read-only, locked past the deadline)
    stops every crawl of the process, said once; ``run_crawl`` raises the error when they closed."""
    context.store.rollback()
    if context.fatal is None:
        context.fatal = fatal
        logger.error("%s", fatal)
    if stop:
        for each in context.crawlers or [crawler]:
            if each.crawling:
                deferred_from_coro(each.stop_async())


def guarded(crawler, write) -> None:
    """``write()`` to the store from a signal handler: a database failure stops the crawl in
    one line instead of a traceback per handler."""
    context = Context.for_crawler(crawler)
    if context.fatal is not None:
        return
    try:
        write()
    except Exception as exc:
        fatal = explain(context.settings.get("COLLECTOR_DB"), exc)
        if fatal is None:
            raise
        # Not stopped from here (a crawler still opening does not stop cleanly): its first
        # item meets the error and stops every crawl.
        stop_for_database(context, fatal, crawler, stop=False)


class ExtractWorkers:
    """One pool of extraction processes per run: the crawlers of ``collector crawl`` (one
    per site) share their Context, and with it the pool; the last to close shuts it down."""

    @staticmethod
    def join(context: Context, workers: int, start_method: str = "spawn") -> ProcessPoolExecutor:
        def start() -> list:
            settings = {k: context.settings.get(k) for k in ("COLLECTOR_CONFIG", "COLLECTOR_DB", "COLLECTOR_EXTRACTION")}
            pool = ProcessPoolExecutor(
                workers,
                # A crawl spawns: its process holds a reactor and sockets. An import may fork
                # (much faster to start); the workers never touch the inherited connection.
                mp_context=multiprocessing.get_context(start_method),
                initializer=_start_worker,
                initargs=(settings,),
            )
            return [pool, 0]

        shared = context.shared("extract_workers", start)
        shared[1] += 1
        return shared[0]

    @staticmethod
    def leave(context: Context) -> None:
        shared = context.shared("extract_workers", lambda: None)
        if shared is None:
            context.forget("extract_workers")
            return
        shared[1] -= 1
        if shared[1] <= 0:
            shared[0].shutdown(wait=True, cancel_futures=True)
            context.forget("extract_workers")


# --- in the worker processes -----------------------------------------------------------------

class _NoContent:
    """The only store method extraction uses: nothing is known, the crawl's store decides."""

    def has_content(self, content_hash: str) -> bool:
        return False


_stage = None


def _start_worker(settings: dict) -> None:
    global _stage
    import signal

    from pipelines.extract import ExtractPipeline

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle
    _exit_with_parent()
    context = Context(settings)
    _stage = ExtractPipeline(context.sites, _NoContent(), context.settings.get("COLLECTOR_EXTRACTION"))
def _exit_with_parent() -> None:
    """A crawl killed with SIGKILL cannot stop its workers: they stop when they see it gone."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def extract_fields(fields: dict) -> dict:
    item = Document(**fields)
    return dict(_stage.process(item))
