"""The one path every item takes, imported or crawled: prepared the same way, then run
through the stages ``ITEM_PIPELINES`` names, built the same way.

- ``prepare``: the item's URLs in their one identity (``collector.core.urls.canonical_url``),
  and its HTML defused (a DOCTYPE's internal subset, where entity bombs and external
  entities live, dropped before any parser sees the page).
- ``build_stages``: Scrapy's ``build_component_list`` over ``ITEM_PIPELINES`` (with its
  ``_BASE``), so a stage set to ``None`` is off for ``collector import`` exactly as for a
  crawl, and the order is the crawl's.
- ``remember_urls``: after the store stage, the URLs that name the stored document
  without being its URL (redirects, same-site canonical variants) become its aliases.
- ``Chain``: all of that for one item, inside the store's document scope: the document's
  writes are all kept or all undone, whatever stage fails.

An import runs its items through a ``Chain`` (``collector.ingest.run_items``); a crawl's
item processor (``collector.itemproc.DocumentPipelines``) runs each item through a
``Chain`` of the stages Scrapy built: one loop body for both.
"""

from __future__ import annotations


from scrapy.exceptions import DropItem
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from .core.document import Document
from .core.text import defuse
from .core.urls import canonical_url
from .storage import explain

def prepare(item):
    """The item as every stage expects it, whatever its source."""
    if item.get("url"):
        item["url"] = canonical_url(item["url"])
    if item.get("redirected_from"):
        item["redirected_from"] = sorted({canonical_url(u) for u in item["redirected_from"]} - {item.get("url")})
    if item.get("html"):
        item["html"] = defuse(item["html"])
    return item


def stage_classes(settings) -> list:
    """The stage classes of ``ITEM_PIPELINES`` (and ``ITEM_PIPELINES_BASE``), in order; a
    stage set to ``None`` is left out."""
    paths = build_component_list(settings.get_component_priority_dict_with_base("ITEM_PIPELINES"))
    return [load_object(path) if isinstance(path, str) else path for path in paths]


def build_stages(context) -> list:
    return [cls.from_context(context) for cls in stage_classes(context.settings)]


class Chain:
    """The stages over one item, in the store's document scope."""

    def __init__(self, stages: list, store):
        self.stages, self.store = stages, store

    def process(self, item: Document) -> Document:
        """The item through every stage; raises what a stage raises (``DropItem`` for input
        that is no document), the document's writes undone, or a ``StoreError`` naming the
        item when the database itself cannot be written (locked, damaged, read-only)."""
        try:
            item = prepare(item)
            with self.store.document():
                for stage in self.stages:
                    item = stage.process_item(item)
                remember_urls(item, self.store.crawl)  # in the document's transaction
            return item
        except DropItem:
            raise
        except Exception as exc:
            fatal = explain(self.store.path, exc)
            if fatal is not None:
                raise type(fatal)(f"{item.get('source') or item.get('url')}: not stored: {fatal}") from exc
            raise

    def close(self) -> None:
        for stage in self.stages:
            stage.close_spider()


class AlreadyStored(DropItem):
    """A crawled page that stored nothing new (unchanged, or another URL of a stored
    document): counted by the crawl's report, not exported (-O, FEEDS), not a fault."""

    def __init__(self, message: str):
        super().__init__(message, log_level="DEBUG")


def lineage_fields(item, lineage) -> None:
    """The document's place in its group, for feed exports: origin_id, origin_url, relation."""
    doc_id = item.get("doc_id")
    if doc_id is None:
        return
    row = lineage.origin_of(doc_id)
    item["origin_id"], item["origin_url"], item["relation"] = row if row else (doc_id, item.get("url"), None)


def remember_urls(item, aliases_of) -> None:
    """Write the URLs that name the stored document as its aliases (in its transaction)."""
    doc_id = item.get("doc_id")
    if doc_id is None:
        return
    aliases = {u: "redirect" for u in item.get("redirected_from") or ()}
    for url in item.get("url_aliases") or ():
        aliases.setdefault(url, "canonical")
    aliases.pop(item.get("url"), None)
    if aliases:
        aliases_of.add_url_aliases(doc_id, aliases)
