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

An import runs the stages in ``collector.ingest.run_items``; a crawl in Scrapy's
``ItemPipelineManager`` (``collector.itemproc.DocumentPipelines``); both call these.
"""

from __future__ import annotations

import re

from scrapy.exceptions import DropItem
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from .core.urls import canonical_url

#: A DOCTYPE with an internal subset declares entities ("billion laughs", external files).
#: HTML has no use for them: the subset is dropped before any parser sees the page.
_DTD_SUBSET = re.compile(r"<!DOCTYPE\s[^\[>]*\[.*?\]\s*>", re.IGNORECASE | re.DOTALL)


def defuse(html: str) -> str:
    head = html[:65536]
    if "<!" not in head or not _DTD_SUBSET.search(head):
        return html
    return _DTD_SUBSET.sub("<!DOCTYPE html>", head, count=1) + html[65536:]


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


class AlreadyStored(DropItem):
    """A crawled page that stored nothing new (unchanged, or another URL of a stored
    document): counted by the crawl's report, not exported (-O, FEEDS), not a fault."""

    def __init__(self, message: str):
        super().__init__(message, log_level="DEBUG")


def lineage_fields(item, store) -> None:
    """The document's place in its group, for feed exports: origin_id, origin_url, relation."""
    doc_id = item.get("doc_id")
    if doc_id is None:
        return
    row = store.conn.execute(
        "SELECT l.origin_id, d.url, l.relation FROM links l JOIN documents d ON d.id = l.origin_id WHERE l.copy_id = ?",
        (doc_id,)).fetchone()
    item["origin_id"], item["origin_url"], item["relation"] = row if row else (doc_id, item.get("url"), None)


def remember_urls(item, store) -> None:
    """Write the URLs that name the stored document as its aliases (in its transaction)."""
    doc_id = item.get("doc_id")
    if doc_id is None:
        return
    aliases = {u: "redirect" for u in item.get("redirected_from") or ()}
    for url in item.get("url_aliases") or ():
        aliases.setdefault(url, "canonical")
    aliases.pop(item.get("url"), None)
    if aliases:
        store.add_url_aliases(doc_id, aliases)
