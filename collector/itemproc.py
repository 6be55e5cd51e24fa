"""The crawl's ITEM_PROCESSOR: Scrapy's pipeline manager, made safe for the store and able
to extract in worker processes.

1. A stage that fails on a document after the store stage wrote it: the document's writes
   are undone (``Store.abort_document``), as ``collector.ingest.run_items`` does in an
   import. The stages are synchronous, so the failure reaches this manager before any other
   item enters the store; Scrapy's ``item_error`` signal would come too late for that (its
   handlers run as tasks, after other items may have been stored).

2. Items are prepared by ``collector.driver`` as an import's are (one URL identity, HTML
   defused); the URLs that redirected to a stored document, and a variant's own URL, are
   written with it (``url_aliases``), so the next crawl knows them (``SkipStoredMiddleware``)
   and does not fetch them again.

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

from .context import Context
from .dbfile import explain
from .driver import AlreadyStored, lineage_fields, prepare, remember_urls

logger = logging.getLogger(__name__)


class DocumentPipelines(ItemPipelineManager):
    def __init__(self, *middlewares, crawler=None):
        super().__init__(*middlewares, crawler=crawler)
        self.pool: ProcessPoolExecutor | None = None
        workers = crawler.settings.getint("COLLECTOR_EXTRACT_PROCESSES") if crawler is not None else 0
        if workers > 0:
            if is_asyncio_available():
                self.pool = ExtractWorkers.join(Context.for_crawler(crawler), workers)
            else:
                logger.warning("COLLECTOR_EXTRACT_PROCESSES needs the asyncio reactor: extracting in process")

    async def process_item_async(self, item):
        context = Context.for_crawler(self.crawler)
        if "fatal" in context.__dict__:  # the crawl is stopping: no more waits
            raise self._stop_crawling(context, context.__dict__["fatal"], item)
        try:
            item = prepare(item)
            if self.pool is not None and item.get("html") and not item.get("text"):
                extracted = await asyncio.wrap_future(self.pool.submit(extract_fields, dict(item)))
                for key in [k for k in item.keys() if k not in extracted]:
                    del item[key]
                item.update(extracted)
            item = await super().process_item_async(item)
            store = Context.for_crawler(self.crawler).store
            # In the document's own transaction: its aliases are committed with it.
            remember_urls(item, store)
            if item.get("status") in ("unchanged", "variant"):
                raise AlreadyStored(f"{item.get('url')}: {item['status']}")
            lineage_fields(item, store)
            return item
        except AlreadyStored:
            raise
        except Exception as exc:
            context = Context.for_crawler(self.crawler)
            fatal = explain(context.settings.get("COLLECTOR_DB"), exc)
            if fatal is not None:
                raise self._stop_crawling(context, fatal, item) from exc
            if hasattr(item, "get") and item.get("doc_id") is not None:
                context.store.abort_document()
            raise

    def _stop_crawling(self, context: Context, fatal, item) -> DropItem:
        stop_for_database(context, fatal, self.crawler)
        return DropItem(f"{item.get('url') if hasattr(item, 'get') else item}: not stored: the database cannot be written")

    async def close_spider_async(self) -> None:
        try:
            await super().close_spider_async()
        finally:
            if self.pool is not None:
                ExtractWorkers.leave(Context.for_crawler(self.crawler))
                self.pool = None


def stop_for_database(context: Context, fatal, crawler, stop: bool = True) -> None:
    """A database that cannot be written (damaged, read-only, locked past the deadline)
    stops every crawl of the process, said once; ``run_crawl`` raises the error when they closed."""
    context.store.rollback()
    if "fatal" not in context.__dict__:
        context.__dict__["fatal"] = fatal
        logger.error("%s", fatal)
    if stop:
        for each in context.__dict__.setdefault("crawlers", [crawler]):
            if each.crawling:
                deferred_from_coro(each.stop_async())


def guarded(crawler, write) -> None:
    """``write()`` to the store from a signal handler: a database failure stops the crawl in
    one line instead of a traceback per handler."""
    context = Context.for_crawler(crawler)
    if "fatal" in context.__dict__:
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
    """One pool of extraction processes per crawl process: the crawlers of ``collector
    crawl`` (one per site) share their Context, and with it the pool; the last to close
    shuts it down."""

    @staticmethod
    def join(context: Context, workers: int, start_method: str = "spawn") -> ProcessPoolExecutor:
        shared = context.__dict__.get("extract_workers")
        if shared is None:
            settings = {k: context.settings.get(k) for k in ("COLLECTOR_CONFIG", "COLLECTOR_DB")}
            pool = ProcessPoolExecutor(
                workers,
                # A crawl spawns: its process holds a reactor and sockets. An import may fork
                # (much faster to start); the workers never touch the inherited connection.
                mp_context=multiprocessing.get_context(start_method),
                initializer=_start_worker,
                initargs=(settings,),
            )
            shared = context.__dict__["extract_workers"] = [pool, 0]
        shared[1] += 1
        return shared[0]

    @staticmethod
    def leave(context: Context) -> None:
        shared = context.__dict__.get("extract_workers")
        if shared is None:
            return
        shared[1] -= 1
        if shared[1] <= 0:
            shared[0].shutdown(wait=True, cancel_futures=True)
            del context.__dict__["extract_workers"]


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
    context.__dict__["store"] = _NoContent()
    context.sites  # load the configs once
    _stage = ExtractPipeline(context)


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
    from collector.core.document import Document

    item = Document(**fields)
    return dict(_stage.process(item))
