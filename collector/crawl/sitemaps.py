"""Sitemaps to article URLs and dates, read tolerantly and safely (the feeds' parser rules:
no entity is ever resolved, bare ``&`` repaired, libxml2's limits on).

What counts as a sitemap, as search engines read them:

- XML ``urlset`` (with or without the sitemaps namespace): each ``url``'s own ``loc`` (an
  image sitemap's ``image:loc`` is not a page), dated by ``news:publication_date`` when it
  has one, else ``lastmod``;
- XML ``sitemapindex``: its sitemaps' ``loc``;
- an RSS or Atom feed given as a sitemap: its entries (``collector.crawl.feeds``);
- a plain-text sitemap: one URL a line (lines that are not http(s) URLs are skipped);
- a truncated XML sitemap (a server that cut a long answer short): the URLs before the cut;
  a ``loc`` cut in the middle is left out.

Gzip is undone by the spider before this module sees the body (with a size limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from .feeds import Entry, NotAFeed, _local, _text, feed_kind, read_feed, repair, safe_parser
from ..core.sites import host_of


@dataclass
class Sitemap:
    kind: str                                           # urlset, sitemapindex, rss, rdf, atom, text
    entries: list[Entry] = field(default_factory=list)  # pages, with their dates
    sitemaps: list[str] = field(default_factory=list)   # an index's sitemaps
    entities: list[str] = field(default_factory=list)   # declared entities (never resolved)
    problems: list[str] = field(default_factory=list)


class NotASitemap(ValueError):
    pass


def parse_sitemap(body: bytes, base_url: str | None = None) -> Sitemap:
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise NotASitemap("empty")
    if text.startswith(b"<"):
        return _xml_sitemap(text, base_url)
    return _text_sitemap(text, base_url)


def _text_sitemap(body: bytes, base_url: str | None) -> Sitemap:
    if b"\0" in body[:4096]:
        raise NotASitemap("binary data, not a sitemap")
    sitemap = Sitemap("text")
    seen = set()
    for line in body.decode("utf-8", "replace").splitlines():
        url = line.strip()
        if host_of(url) and url not in seen and " " not in url:
            seen.add(url)
            sitemap.entries.append(Entry(url))
    if not sitemap.entries:
        raise NotASitemap("neither XML nor a list of URLs")
    return sitemap


def _xml_sitemap(body: bytes, base_url: str | None) -> Sitemap:
    parser = safe_parser()
    repaired, entities = repair(body)
    try:
        root = etree.fromstring(repaired, parser, base_url=base_url)
    except etree.XMLSyntaxError as exc:
        raise NotASitemap(f"not XML ({exc})") from exc
    if root is None:
        raise NotASitemap("not XML")
    name = _local(root.tag)
    if feed_kind(root) is not None:
        try:
            feed = read_feed(root, base_url, entities)
        except NotAFeed as exc:
            raise NotASitemap(str(exc)) from exc
        return Sitemap(feed.kind, feed.entries, entities=feed.entities, problems=feed.problems)
    if name not in ("urlset", "sitemapindex"):
        raise NotASitemap(f"not a sitemap (root element <{name or root.tag}>)")
    sitemap = Sitemap(name, entities=entities)
    cut = any(_cuts_last(e) for e in parser.error_log)
    children = [c for c in root if _local(c.tag) in ("url", "sitemap")]
    for number, child in enumerate(children, start=1):
        if cut and number == len(children):
            continue  # the last element of a truncated sitemap may be cut in its middle
        loc = _text(next((c for c in child if _local(c.tag) == "loc"), None))
        if not loc:
            continue
        try:
            url = urljoin(base_url or "", loc)
        except ValueError as exc:
            sitemap.problems.append(f"{name} entry {number}: loc not readable ({exc})")
            continue
        if not host_of(url):
            continue
        if name == "sitemapindex":
            sitemap.sitemaps.append(url)
        else:
            sitemap.entries.append(Entry(url, _page_date(child)))
    return sitemap


def _cuts_last(error) -> bool:
    """Does a parse error say the last <url> or <sitemap> was cut off? A sitemap that only
    lacks its closing </urlset> keeps its last <url>."""
    if error.type_name == "ERR_TAG_NAME_MISMATCH":
        return True
    return error.type_name == "ERR_TAG_NOT_FINISHED" and not re.search(r"in tag (?:urlset|sitemapindex)\b", error.message)


def _page_date(url_element) -> str | None:
    """``news:publication_date`` (when the article was published), else ``lastmod``."""
    lastmod = None
    for child in url_element.iter():
        name = _local(child.tag)
        if name == "publication_date" and _text(child):
            return _text(child)
        if name == "lastmod" and child.getparent() is url_element:
            lastmod = _text(child)
    return lastmod
