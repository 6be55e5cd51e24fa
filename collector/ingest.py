"""Running items through the pipeline stages outside a crawl: the library face of ``import``.

Items are prepared and the stages built by ``collector.driver``, as in a crawl: the stages
``ITEM_PIPELINES`` names (``None`` turns one off), in its order, so an import runs the very
code a crawl runs.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Callable, Iterable, Iterator

from scrapy.exceptions import DropItem

from .context import Context
from .core.document import Document, item_hash
from .core.errors import Interrupted, StoreError
from .driver import Chain, build_stages, prepare
from .importers import Problem, read_paths
from .summary import Summary


#: HTML pages extracted in this process before a pool of workers is started.
POOL_AFTER_PAGES = 8


def extracted_in_workers(items: Iterable, context: Context, workers: int) -> Iterator:
    """The same items, in the same order, their HTML extracted by ``workers`` processes.

    Extraction (trafilatura) is most of an HTML document's cost and needs nothing from the
    store, so it runs ahead in a pool (the crawl's, ``collector.itemproc``); everything after
    it, and every write, stays in this process in input order, so the database ends up
    exactly as a one-process import leaves it. Yields items, ``Problem``s, and futures of
    extracted items (whose ``result()`` raises ``DropItem`` for a page with no article).
    Input already stored unchanged is not sent to the pool.
    """
    from .itemproc import ExtractWorkers, extract_fields

    pool = None
    pending: deque = deque()
    seen_html = 0
    try:
        for item in items:
            if isinstance(item, Document):
                item = prepare(item)
            if isinstance(item, Document) and item.get("html"):
                item.setdefault("content_hash", item_hash(item))
                seen_html += 1
                # A few pages are quicker done here than a pool is started.
                if seen_html > POOL_AFTER_PAGES and not context.store.documents.has_content(item["content_hash"]):
                    if pool is None:
                        pool = ExtractWorkers.join(context, workers, start_method="fork")
                    item = pool.submit(extract_fields, dict(item))
            pending.append(item)
            # A bounded window: the pool stays busy while memory holds a few pages only.
            while len(pending) > 4 * workers:
                yield pending.popleft()
        while pending:
            yield pending.popleft()
    finally:
        for future in pending:
            if isinstance(future, Future):
                future.cancel()
        if pool is not None:
            ExtractWorkers.leave(context)


def run_items(
    items: Iterable,
    context: Context,
    on_problem: Callable[[str], None] = lambda message: None,
    on_item: Callable[[object], None] = lambda item: None,
    workers: int = 1,
) -> Summary:
    """Process every item (or ``Problem``) of ``items``; report problems, never stop on one.

    With ``workers`` > 1, HTML is extracted in that many processes (``extracted_in_workers``).
    Interrupted (Ctrl-C, SIGTERM), the open batch is rolled back and the interruption
    re-raised: what was committed is complete, and running the same input again finishes it.
    A problem of the database itself (locked past COLLECTOR_LOCK_TIMEOUT, damaged, read-only)
    stops the run the same way, as a ``StoreError`` naming the document not stored.
    """
    store = context.open_store()
    if workers > 1:
        items = extracted_in_workers(items, context, workers)
    chain = Chain(build_stages(context), store)
    summary = Summary()
    started = time.perf_counter()
    previous = _on_sigterm()
    try:
        for given in items:
            item = _document_of(given, summary, on_problem)
            if item is not None:
                process_one(chain, item, summary, on_problem)
            on_item(item if item is not None or not isinstance(given, Problem) else given)
        chain.close()
        store.commit()
    except BaseException:
        store.rollback()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        summary.seconds = time.perf_counter() - started
        summary.notices = list(context.notices)
    return summary


def _document_of(item, summary: Summary, on_problem) -> Document | None:
    """The document an input brings: a ``Problem`` is reported, a worker's future awaited."""
    problem = None
    if isinstance(item, Problem):
        problem = str(item)
    elif isinstance(item, Future):
        try:
            return Document(**item.result())
        except DropItem as exc:
            problem = str(exc)
        except Exception as exc:  # a worker that died or failed on one page
            problem = f"extraction failed: {type(exc).__name__}: {exc}"
    else:
        return item
    summary.problem(problem)
    on_problem(problem)
    return None


def process_one(chain: Chain, item: Document, summary: Summary, on_problem) -> Document | None:
    """One document through the chain, which it returns as the stages left it (None if it
    failed); its failure is a problem of the run, not its end (but for the database's own
    failures, which ``Chain`` raises as ``StoreError``)."""
    try:
        item = chain.process(item)
    except DropItem as exc:
        message = str(exc)
    except (KeyboardInterrupt, Interrupted, StoreError):
        raise
    except Exception as exc:  # one bad document must not stop the import
        message = f"{item.get('source') or item.get('url')}: {type(exc).__name__}: {exc}"
    else:
        summary.count(item)
        return item
    summary.problem(message)
    on_problem(message)
    return None


def _on_sigterm():
    """SIGTERM interrupts like Ctrl-C (in the main thread, where signals arrive)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_term(signum, frame):
        raise Interrupted("terminated")

    return signal.signal(signal.SIGTERM, on_term)


def import_paths(paths, context: Context, site: str | None = None, **options) -> Summary:
    if site and context.sites.get(site) is None and context.sites:
        raise ValueError(f"--site {site!r}: no such site config (known: {', '.join(sorted(context.sites.by_key))})")
    return run_items(read_paths(paths, site), context, **options)
