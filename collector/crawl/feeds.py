"""RSS and Atom feeds to article URLs and dates, read tolerantly and safely.

Safe: no entity is ever resolved (no XXE: ``<!ENTITY x SYSTEM "file:///etc/passwd">`` is
never read, and no billion-laughs expansion): a DOCTYPE's declarations are taken out before
parsing (``repair``) and every reference to them marked, the parser never touches the
network (no external DTD) and keeps libxml2's limits on (``huge_tree`` off). A feed that
declares entities is reported all the same (``Feed.entities``), and a link that uses one is
dropped; the other entries are read.

Tolerant, as feeds are written: before parsing, outside CDATA sections, a bare ``&`` (the
``?id=2&page=1`` of a hand-made feed) becomes ``&amp;``, and a reference to an entity the
feed does not declare becomes the character HTML names by it (``&nbsp;``, ``&eacute;``: a fixed
table, no expansion) or, unknown, literal text. An entry whose link cannot be read is
reported (``Feed.problems``) and skipped; the others are read. libxml2's recovery reads what
a truncated feed has.

Links: RSS 0.9x/2.0 ``item/link`` (or a permalink ``guid``, which is one unless it says
``isPermaLink="false"``), an ``atom:link`` inside an RSS item, RSS 1.0 (RDF) ``item/link`` or
``rdf:about``, Atom ``entry/link`` with ``rel="alternate"`` (the default) given as ``href`` or
as text, and FeedBurner's ``origLink``, whatever their namespaces; relative links are
resolved against ``xml:base`` (entry, feed) and the feed's URL. Dates: the entry's
``pubDate``, ``published``, ``dc:date``, ``issued``, ``created``, else ``updated`` /
``modified``, as written (``collector.core.dates``, where present, normalises them later).
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from ..core.sites import host_of


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
class Entry:
    link: str
    published: str | None = None


@dataclass
class Feed:
    kind: str                                   # "rss", "rdf" or "atom"
    entries: list[Entry] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)  # declared entities, as declared
    problems: list[str] = field(default_factory=list)  # entries skipped, and why

    @property
    def links(self) -> list[str]:
        return [e.link for e in self.entries]


class NotAFeed(ValueError):
    pass


# --- repairing what feeds get wrong, without resolving anything --------------------------------

_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)
_AMP = re.compile(rb"&(?:(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};)|([A-Za-z_][\w.-]{0,31});)?")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_SUBSET = re.compile(rb"<!DOCTYPE\s[^\[>]*\[(.*?)\]\s*>", re.IGNORECASE | re.DOTALL)
_DECLARATION = re.compile(rb"<!ENTITY\s+(%\s*)?([A-Za-z_][\w.-]*)\s+(?:(SYSTEM|PUBLIC)\s+)?(.*?)\s*>", re.DOTALL)
#: Put where a declared entity was referred to: text holding it is not read (a link that
#: used an entity is dropped). A private-use character: valid XML, never in a real link.
ENTITY_USED = "\ue000"


def repair(body: bytes) -> tuple[bytes, list[str]]:
    """The body as a tolerant reader wants it, and the entities it declared (as declared).

    A DOCTYPE's internal subset is removed, so no parser ever sees an entity declaration
    (libxml2 otherwise stops at the first billion-laughs reference, losing every entry after
    it); a reference to a declared entity becomes ``ENTITY_USED``. A bare ``&`` is escaped;
    a reference to an undeclared entity becomes the HTML character of that name (a fixed
    table) or literal text. CDATA sections are left as they are. Nothing is ever expanded."""
    entities, declared = [], set()
    subset = _SUBSET.search(body[:65536])
    if subset:
        for percent, name, external, value in _DECLARATION.findall(subset.group(1)):
            declared.add(name)
            where = value.decode("utf-8", "replace").strip()
            entities.append(f"{name.decode('ascii', 'replace')} ({external.decode() + ' ' if external else ''}{where})")
        body = body[: subset.start()] + body[subset.end():]

    def fix(match: re.Match) -> bytes:
        if match.group(1):
            return match.group(0)
        name = match.group(2)
        if name is None:
            return b"&amp;"
        if name in _XML_ENTITIES:
            return match.group(0)
        if name in declared:
            return ENTITY_USED.encode("utf-8")
        code = html.entities.name2codepoint.get(name.decode("ascii", "replace"))
        return b"&#%d;" % code if code else b"&amp;" + name + b";"

    if b"&" not in body:
        return body, entities
    parts = _CDATA.split(body)
    return b"".join(part if part.startswith(b"<![CDATA[") else _AMP.sub(fix, part) for part in parts), entities


# --- reading -----------------------------------------------------------------------------------

def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _uses_entity(element) -> bool:
    return any(isinstance(node, etree._Entity) or ENTITY_USED in (node.text or "") or ENTITY_USED in (node.tail or "")
               or any(ENTITY_USED in v for v in node.attrib.values())
               for node in element.iter() if not isinstance(node, etree._Comment))


def _text(element) -> str | None:
    if element is None or _uses_entity(element):
        return None
    value = "".join(element.itertext()).strip()
    return value or None


def _resolve(element, link: str | None, base_url: str | None) -> str | None:
    """The link made absolute against xml:base (lxml's ``base``: the element's and its
    ancestors' xml:base over the document's URL) and the feed's URL."""
    if not link:
        return None
    base = element.base or base_url or ""
    return urljoin(base, link.strip())  # ValueError on a broken URL: the caller reports it


def _atom_link(entry, base_url: str | None) -> str | None:
    best = None
    for child in entry:
        if _local(child.tag) != "link" or _uses_entity(child):
            continue
        rel = (child.get("rel") or "alternate").strip().lower()
        if rel != "alternate":
            continue
        href = child.get("href") or _text(child)
        kind = (child.get("type") or "text/html").lower()
        if href and "html" in kind:
            return _resolve(child, href, base_url)
        if href and best is None:
            best = _resolve(child, href, base_url)
    return best


def _rss_link(entry, base_url: str | None) -> str | None:
    children = [c for c in entry if isinstance(c.tag, str)]
    for child in children:  # <link>URL</link>, or an atom:link inside an RSS item
        if _local(child.tag) == "link":
            rel = (child.get("rel") or "alternate").strip().lower()
            href = child.get("href") if child.get("href") is not None else _text(child)
            if href and rel == "alternate":
                return _resolve(child, href, base_url)
    for child in children:
        if _local(child.tag) == "guid" and (child.get("isPermaLink") or "true").strip().lower() == "true":
            guid = _text(child)
            if guid and guid.lower().startswith(("http://", "https://", "/")):
                return _resolve(child, guid, base_url)
    about = next((v for k, v in entry.attrib.items() if _local(k) == "about"), None)
    return _resolve(entry, about, base_url) if about else None


#: Entry dates, most telling first: when it was published, else when it was last changed.
_DATE_TAGS = ("pubdate", "published", "date", "issued", "created", "updated", "modified", "lastbuilddate")


def _entry_date(entry) -> str | None:
    found = {}
    for child in entry:
        name = _local(child.tag)
        if name in _DATE_TAGS and name not in found:
            found[name] = _text(child)
    return next((found[name] for name in _DATE_TAGS if found.get(name)), None)


def _entry(entry, kind: str, base_url: str | None) -> Entry | None:
    for child in entry:
        if _local(child.tag) == "origlink" and _text(child):  # FeedBurner: the publisher's URL
            return Entry(_resolve(child, _text(child), base_url), _entry_date(entry))
    link = _atom_link(entry, base_url) if kind == "atom" else _rss_link(entry, base_url)
    return Entry(link, _entry_date(entry)) if link else None


def parse_feed(body: bytes, base_url: str | None = None) -> Feed:
    """The feed's entries (absolute http(s) links in feed order, no repeats; their dates)."""
    if not body or not body.strip():
        raise NotAFeed("empty")
    repaired, entities = repair(body.lstrip(b"\xef\xbb\xbf \t\r\n"))
    try:
        root = etree.fromstring(repaired, safe_parser(), base_url=base_url)
    except etree.XMLSyntaxError as exc:
        raise NotAFeed(f"not XML ({exc})") from exc
    if root is None:
        raise NotAFeed("not XML")
    return read_feed(root, base_url, entities)


def feed_kind(root) -> tuple[str, str] | None:
    """(kind, entry tag) of a parsed feed's root, or None."""
    return {"rss": ("rss", "item"), "rdf": ("rdf", "item"), "feed": ("atom", "entry"),
            "channel": ("rss", "item")}.get(_local(root.tag))


def read_feed(root, base_url: str | None = None, entities: list[str] | None = None) -> Feed:
    found = feed_kind(root)
    if found is None:
        raise NotAFeed(f"not RSS or Atom (root element <{_local(root.tag) or root.tag}>)")
    kind, entry_tag = found
    feed = Feed(kind, entities=list(entities or []))
    seen = set()
    for number, element in enumerate((e for e in root.iter() if _local(e.tag) == entry_tag), start=1):
        try:
            entry = _entry(element, kind, base_url)
        except ValueError as exc:  # urljoin on a broken URL ("http://example.c[o.test/")
            feed.problems.append(f"entry {number}: link not readable ({exc})")
            continue
        if entry is None or not host_of(entry.link) or entry.link in seen:
            continue
        seen.add(entry.link)
        feed.entries.append(entry)
    return feed
