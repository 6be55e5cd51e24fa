"""RSS and Atom feeds to article URLs, parsed so that a hostile feed can do no harm.

The parser never resolves entities (no XXE: ``<!ENTITY x SYSTEM "file:///etc/passwd">``
stays an unresolved reference, and no billion-laughs expansion), never touches the network
(no external DTD), and keeps libxml2's limits on (``huge_tree`` off). A feed that declares
entities is reported all the same (``Feed.entities``), and a link that uses one is dropped.

RSS 2.0 ``item/link`` (or a permalink ``guid``), RSS 1.0 (RDF) ``item/link``, Atom
``entry/link[@rel=alternate]``, and FeedBurner's ``origLink``, whatever their namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from .sites import host_of


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,  # XXE and entity expansion: references stay references
        no_network=True,         # no DTD or entity fetched over the network
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,         # libxml2's size and depth limits stay on
        recover=True,            # a sloppy feed still gives its links
        remove_comments=True,
        remove_pis=True,
    )


@dataclass
class Feed:
    kind: str                                   # "rss", "rdf" or "atom"
    links: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)  # declared entities, as declared


class NotAFeed(ValueError):
    pass


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _uses_entity(element) -> bool:
    return any(isinstance(node, etree._Entity) for node in element.iter())


def _text(element) -> str | None:
    if element is None or _uses_entity(element):
        return None
    value = "".join(element.itertext()).strip()
    return value or None


def _entry_link(entry, kind: str) -> str | None:
    children = [c for c in entry if isinstance(c.tag, str)]
    for child in children:
        if _local(child.tag) == "origlink":
            return _text(child)
    if kind == "atom":
        best = None
        for child in children:
            if _local(child.tag) != "link" or _uses_entity(child):
                continue
            rel = (child.get("rel") or "alternate").lower()
            kind_attr = (child.get("type") or "text/html").lower()
            if rel == "alternate" and "html" in kind_attr:
                return child.get("href")
            if rel == "alternate" and best is None:
                best = child.get("href")
        return best
    for child in children:
        if _local(child.tag) == "link":
            link = _text(child)
            if link:
                return link
    for child in children:
        if _local(child.tag) == "guid" and (child.get("isPermaLink") or "true").lower() == "true":
            return _text(child)
    return None


def parse_feed(body: bytes, base_url: str | None = None) -> Feed:
    """The feed's article links (absolute, http(s), in feed order, no repeats)."""
    if not body or not body.strip():
        raise NotAFeed("empty")
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise NotAFeed(f"not XML ({exc})") from exc
    if root is None:
        raise NotAFeed("not XML")
    name = _local(root.tag)
    if name == "rss":
        kind, entry_tag = "rss", "item"
    elif name == "rdf":
        kind, entry_tag = "rdf", "item"
    elif name == "feed":
        kind, entry_tag = "atom", "entry"
    else:
        raise NotAFeed(f"not RSS or Atom (root element <{name or root.tag}>)")
    feed = Feed(kind)
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        for entity in dtd.iterentities():
            where = entity.system_url or entity.content or ""
            feed.entities.append(f"{entity.name} ({'SYSTEM ' if entity.system_url else ''}{where!r})")
    seen = set()
    for entry in root.iter():
        if _local(entry.tag) != entry_tag:
            continue
        link = _entry_link(entry, kind)
        if not link:
            continue
        link = urljoin(base_url or "", link.strip())
        if host_of(link) and link not in seen:
            seen.add(link)
            feed.links.append(link)
    return feed
