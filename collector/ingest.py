"""Running items through the pipeline stages outside a crawl: the library face of ``import``.

Items are prepared and the stages built by ``collector.driver``, as in a crawl: the stages
``ITEM_PIPELINES`` names (``None`` turns one off), in its order, so an import runs the very
code a crawl runs.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from collections import deque
from concurrent.futures import Future
from typing import Callable, Iterable, Iterator

from scrapy.exceptions import DropItem

from pipelines.extract import item_hash

from .context import Context
from .dbfile import explain
from .driver import build_stages, prepare, remember_urls
from .importers import Problem, read_paths
from .core.document import Document
from .core.errors import Interrupted  # noqa: F401  (raised here; defined with every error)


@dataclass
class Summary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    variants: int = 0   # another URL of a stored document (its canonical): an alias added
    skipped: int = 0
    new_links: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.new + self.updated

    @property
    def per_second(self) -> float:
        done = self.imported + self.unchanged + self.variants
        return done / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "variants": self.variants,
            "skipped": self.skipped,
            "new_links": self.new_links,
            "seconds": round(self.seconds, 3),
            "documents_per_second": round(self.per_second, 1),
        }



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
                if seen_html > POOL_AFTER_PAGES and not context.store.has_content(item["content_hash"]):
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
    if workers > 1:
        items = extracted_in_workers(items, context, workers)
    stages = build_stages(context)
    store = context.store
    summary = Summary()
    started = time.perf_counter()

    def problem(message: str) -> None:
        summary.skipped += 1
        summary.problems.append(message)
        on_problem(message)

    def on_term(signum, frame):
        raise Interrupted("terminated")

    previous = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    try:
        for item in items:
            if isinstance(item, Problem):
                problem(str(item))
                on_item(item)
                continue
            if isinstance(item, Future):
                try:
                    item = Document(**item.result())
                except DropItem as exc:
                    problem(str(exc))
                    on_item(None)
                    continue
                except Exception as exc:  # a worker that died or failed on one page
                    problem(f"extraction failed: {type(exc).__name__}: {exc}")
                    on_item(None)
                    continue
            try:
                item = prepare(item)
                for stage in stages:
                    item = stage.process_item(item)
                remember_urls(item, store)
            except DropItem as exc:
                if item.get("doc_id") is not None:
                    store.abort_document()
                problem(str(exc))
            except (KeyboardInterrupt, Interrupted):
                raise
            except Exception as exc:  # one bad document must not stop the import...
                fatal = explain(store.path, exc)
                if fatal is not None:  # ...but a locked, damaged or read-only database does
                    raise type(fatal)(f"{item.get('source') or item.get('url')}: not stored: {fatal}") from exc
                if item.get("doc_id") is not None:
                    store.abort_document()
                problem(f"{item.get('source') or item.get('url')}: {type(exc).__name__}: {exc}")
            else:
                status = item.get("status")
                if status == "new":
                    summary.new += 1
                elif status == "updated":
                    summary.updated += 1
                elif status == "variant":
                    summary.variants += 1
                else:
                    summary.unchanged += 1
                summary.new_links += item.get("new_links") or 0
            on_item(item)
        for stage in stages:
            stage.close_spider()
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


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def import_paths(paths, context: Context, site: str | None = None, **options) -> Summary:
    if site and context.sites.get(site) is None and context.sites:
        raise ValueError(f"--site {site!r}: no such site config (known: {', '.join(sorted(context.sites.by_key))})")
    return run_items(read_paths(paths, site), context, **options)
