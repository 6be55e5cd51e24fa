"""Running items through the pipeline stages outside a crawl: the library face of ``import``.

The stages are the ones ``ITEM_PIPELINES`` names, built in its order, so an import runs the
very code a crawl runs.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from scrapy.exceptions import DropItem
from scrapy.utils.misc import load_object

from .context import Context
from .importers import Problem, read_paths


@dataclass
class Summary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    new_links: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.new + self.updated

    @property
    def per_second(self) -> float:
        done = self.imported + self.unchanged
        return done / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "new_links": self.new_links,
            "seconds": round(self.seconds, 3),
            "documents_per_second": round(self.per_second, 1),
        }


def build_stages(context: Context) -> list:
    order = context.settings.getdict("ITEM_PIPELINES")
    classes = [load_object(path) for path, _ in sorted(order.items(), key=lambda kv: kv[1]) if _ is not None]
    return [cls.from_context(context) for cls in classes]


class Interrupted(Exception):
    """SIGTERM during an import: handled like Ctrl-C."""


def run_items(
    items: Iterable,
    context: Context,
    on_problem: Callable[[str], None] = lambda message: None,
    on_item: Callable[[object], None] = lambda item: None,
) -> Summary:
    """Process every item (or ``Problem``) of ``items``; report problems, never stop on one.

    Interrupted (Ctrl-C, SIGTERM), the open batch is rolled back and the interruption
    re-raised: what was committed is complete, and running the same input again finishes it.
    """
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
            try:
                for stage in stages:
                    item = stage.process_item(item)
            except DropItem as exc:
                if item.get("doc_id") is not None:
                    store.abort_document()
                problem(str(exc))
            except (KeyboardInterrupt, Interrupted):
                raise
            except Exception as exc:  # one bad document must not stop the import
                if item.get("doc_id") is not None:
                    store.abort_document()
                problem(f"{item.get('source') or item.get('url')}: {type(exc).__name__}: {exc}")
            else:
                status = item.get("status")
                if status == "new":
                    summary.new += 1
                elif status == "updated":
                    summary.updated += 1
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
    return summary


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def import_paths(paths, context: Context, site: str | None = None, **callbacks) -> Summary:
    if site and context.sites.get(site) is None and context.sites:
        raise ValueError(f"--site {site!r}: no such site config (known: {', '.join(sorted(context.sites.by_key))})")
    return run_items(read_paths(paths, site), context, **callbacks)
