"""Extract: HTML to article text and metadata with trafilatura.

Items that arrive with ``text`` (plain-text dumps, JSONL) keep it; metadata the source
already had (title, date) wins over what trafilatura guesses.

How trafilatura is asked (``COLLECTOR_EXTRACTION``), measured by bench/extraction.py on the
Zyte, trafilatura and fundus benchmarks with the stored text scored:

- ``precision-unless-short`` (default): ``favor_precision``, which leaves out more link
  lists, teasers and captions; when that text is short (under ``SHORT_TEXT`` characters),
  the standard extraction too, whose text is kept if the precise one has less than
  ``KEEP_SHARE`` of it: precision mode sometimes cuts a short article to its lede. Best on
  all three sets at once; the second pass runs on about a quarter of the pages.
- ``precision``: ``favor_precision`` alone: best on Zyte, loses recall on the others.
- ``standard``: trafilatura's default, one pass.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

import trafilatura
from lxml import etree
from scrapy.exceptions import DropItem
from trafilatura.utils import load_html

from collector.core.dates import normalize_date
from collector.core.contracts import ContentIndex
from collector.core.document import content_hash, item_hash  # noqa: F401  (content_hash: this module's API too)
from collector.core.errors import ConfigError
from collector.core.sites import Sites, host_of, name_key
from collector.core.urls import canonical_url

from .stage import Stage

logger = logging.getLogger(__name__)

#: Fewer letters and digits than this is a page's leftover ("Home", "Page not found"), not
#: an article. Counted in characters, not words: Chinese and Japanese have no spaces.
MIN_CHARS = 25
_WORD_CHAR = re.compile(r"\w")

EXTRACTION_MODES = ("precision-unless-short", "precision", "standard")
#: Precise texts shorter than this are checked against the standard extraction.
SHORT_TEXT = 2000
#: The standard text replaces a precise one that has less than this share of its length.
KEEP_SHARE = 0.9

# htmldate returns days unless asked for a full format; copies are often hours apart.
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def date_params() -> dict:
    return {
        "original_date": True,
        # The extensive search takes any year in the body ("since 1996") for a date, and a
        # wrong early date would win "earliest published"; no date is better than that.
        "extensive_search": False,
        "outputformat": DATE_FORMAT,
        # A date in the URL has no time of day: use it only when the page states none.
        "deferred_url_extractor": True,
        "max_date": datetime.now().strftime("%Y-%m-%d"),
    }


_MIDNIGHT = re.compile(r"^(\d{4}-\d\d-\d\d)T00:00:00$")
_ZONE = re.compile(r"([+-]\d\d)(\d\d)$")


def iso_date(value: str | None) -> str | None:
    """ISO-8601 with a colon in the zone; a bare midnight is a day without a time."""
    if not value:
        return None
    value = value.strip()
    day = _MIDNIGHT.match(value)
    if day:
        return day.group(1)
    value = _ZONE.sub(r"\1:\2", value)
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value


def settle_published(item) -> None:
    """``published`` as ISO-8601 (``collector.core.dates``), and where it came from
    (``published_from``): the source's own value (a JSONL field) when it has one ('source'),
    else the page's metadata ('page'), else the date of the feed entry or sitemap URL that
    listed the page ('feed', 'sitemap'). A value that is not a readable date is kept in
    ``published_raw``, said once, and never compared."""
    if item.get("published_from") and item.get("published"):
        return  # settled already (extracted in a worker process, then passed through here)
    raw = item.get("published")
    page = item.pop("page_published", None)
    value = normalize_date(raw, item.get("language")) if raw not in (None, "") else None
    if value is None and raw not in (None, ""):
        item["published_raw"] = str(raw)
        logger.warning("%s: published %r is not a date collector can read; stored as NULL, the value kept in"
                       " published_raw", item.get("source") or item.get("url"), raw)
    origin = "source" if value else None
    if value is None and page:
        value, origin = normalize_date(iso_date(page) or page, item.get("language")), "page"
    listed = item.get("listed_published")
    if value is None and listed:
        value, origin = normalize_date(listed, item.get("language")), item.get("listed_from") or "feed"
    item["published"] = value
    item["published_from"] = origin if value else None
    fetched = normalize_date(item.get("fetched"))  # a JSONL field or a WARC-Date, as written
    if fetched is None:
        fetched = datetime.now(timezone.utc).isoformat(timespec="seconds")
    elif len(fetched) == 10:  # a day: its start, the earliest it can mean
        fetched += "T00:00:00+00:00"
    item["fetched"] = fetched


def extract_document(tree, url: str | None, mode: str = EXTRACTION_MODES[0]):
    """trafilatura's document (text and metadata) of a parsed page, as ``mode`` asks."""
    options = dict(
        url=url,
        with_metadata=True,
        include_comments=False,  # reader comments are not the article
        include_tables=True,
        date_extraction_params=date_params(),
    )
    if mode == "standard":
        return trafilatura.bare_extraction(tree, **options)
    precise = trafilatura.bare_extraction(tree, favor_precision=True, **options)
    if mode == "precision" or (precise is not None and len(precise.text or "") >= SHORT_TEXT):
        return precise
    if precise is None:
        return trafilatura.bare_extraction(tree, **options)
    standard = trafilatura.bare_extraction(tree, **{**options, "with_metadata": False})
    if standard is not None and len(precise.text or "") < KEEP_SHARE * len(standard.text or ""):
        precise.text = standard.text  # the metadata is the same either way
    return precise


class NotAnArticle(DropItem):
    """A followed page that is a listing (a section, a tag page, a page of a paginated
    list): its links were followed, the page itself is not stored. Not a fault."""


#: A followed page is a listing when its extracted text has fewer characters of prose than
#: this (prose: lines of 40+ characters that are not the text of one of the page's links;
#: counted in characters, as MIN_CHARS is, for languages written without spaces)...
LISTING_MIN_PROSE_CHARS = 300
#: ...or when at least 3 of its lines are link texts (teaser headlines) and they make this
#: share of its lines...
LISTING_LINK_LINES = 0.4
#: ...or this share of its characters...
LISTING_LINK_SHARE = 0.3
#: ...or when at least 3 of its paragraphs, and this share of them, sit right under a
#: headline link (teasers: precision mode keeps their excerpts and drops the headlines).
LISTING_TEASERS = 0.5


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _headline_before(element) -> bool:
    """Is the element right after a headline link: a sibling (or its parent's sibling) whose
    whole text is one link of 3+ words (``<h2><a>Title</a></h2><p>excerpt</p>``)?"""
    for node in (element, element.getparent()):
        if node is None:
            continue
        before = node.getprevious()
        while before is not None and not isinstance(before.tag, str):
            before = before.getprevious()
        if before is None:
            continue
        links = [a for a in ([before] if before.tag == "a" else before.iter("a"))]
        if len(links) == 1 and len(links[0].text_content().split()) >= 3 \
                and _norm(links[0].text_content()) == _norm(before.text_content()):
            return True
    return False


def listing(text: str, tree) -> str | None:
    """Why a followed page is a listing rather than an article, or None.

    Decided on what trafilatura extracted: a listing's "text" is teasers, headlines that link
    to the articles and short excerpts (or the excerpts alone: precision mode drops the
    headline links), an article's is prose with a few links at most. ``bench/listing.py``
    counts the real articles this takes for listings."""
    anchors = {_norm(a.text_content()) for a in tree.iter("a")}
    anchors.discard("")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    linked = [line for line in lines if line.casefold() in anchors]
    paragraphs = [line for line in lines if len(line) >= 40 and line.casefold() not in anchors]
    prose = sum(map(len, paragraphs))
    if prose < LISTING_MIN_PROSE_CHARS:
        return f"{prose} characters of prose"
    share = sum(map(len, linked)) / max(1, sum(map(len, lines)))
    if len(linked) >= 3 and (len(linked) >= LISTING_LINK_LINES * len(lines) or share >= LISTING_LINK_SHARE):
        return f"{len(linked)} of its {len(lines)} lines are links"
    blocks = {}
    for element in tree.iter("p", "div", "span", "li", "section", "summary", "dd", "td"):
        blocks.setdefault(_norm(element.text_content()), element)
    teasers = sum(1 for line in paragraphs if line.casefold() in blocks and _headline_before(blocks[line.casefold()]))
    if teasers >= 3 and teasers >= LISTING_TEASERS * len(paragraphs):
        return f"{teasers} of its {len(paragraphs)} paragraphs are teasers under headline links"
    return None


class ExtractPipeline(Stage):
    def __init__(self, sites: Sites, contents: ContentIndex, mode: str | None = None):
        mode = mode or EXTRACTION_MODES[0]
        if mode not in EXTRACTION_MODES:
            raise ConfigError(f"COLLECTOR_EXTRACTION: {mode!r} is not one of {', '.join(EXTRACTION_MODES)}")
        self.sites, self.contents, self.mode = sites, contents, mode

    @classmethod
    def from_context(cls, context):
        return cls(context.sites, context.store.documents, context.settings.get("COLLECTOR_EXTRACTION"))

    def process(self, item):
        if not item.get("fetched"):
            item["fetched"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        html = item.get("html")
        item.setdefault("content_hash", item_hash(item))
        if self.contents.has_content(item["content_hash"]):
            item["status"] = "unchanged"
            item.pop("html", None)
            return item
        if html and not item.get("text"):
            try:
                self.extract(item, html)
            except DropItem as exc:
                if item.get("followed"):
                    raise NotAnArticle(f"{item.get('url')}: a listing page (no article text)") from exc
                raise
        settle_published(item)
        item["text"] = (item.get("text") or "").strip()
        if len(_WORD_CHAR.findall(item["text"], 0, 4 * MIN_CHARS)) < MIN_CHARS:
            raise DropItem(f"{item.get('source') or item.get('url')}: no article text found")
        item.pop("html", None)  # the raw page is not stored; it has served its purpose
        return item

    def extract(self, item, html: str) -> None:
        tree = load_html(html)
        if tree is None:
            raise DropItem(f"{item.get('source') or item.get('url')}: not parseable as HTML")
        sites = self.sites
        site = sites.get(item.get("site")) or sites.for_url(item.get("url"))
        if site is None and not host_of(item.get("url")):
            # A saved page: its og:url names the page itself, so its site's XPaths apply too.
            site = sites.for_url(_first_url(tree, "meta[@property='og:url']/@content"))
        if site and site.chrome.xpaths:
            for xpath in site.chrome.xpaths:
                try:
                    found = tree.xpath(xpath)
                except etree.XPathError as exc:
                    raise DropItem(f"{site.path}: chrome.xpaths: bad XPath {xpath!r}: {exc}") from exc
                for element in found:
                    if isinstance(element, etree._Element) and element.getparent() is not None:
                        element.getparent().remove(element)
        url = item.get("url")
        doc = extract_document(tree, url if host_of(url) else None, self.mode)
        if doc is None:
            raise DropItem(f"{item.get('source') or url}: no article text found")
        if item.get("followed"):
            why = listing(doc.text or "", tree)
            if why:
                raise NotAnArticle(f"{url}: a listing page ({why})")
        item["text"] = doc.text or ""
        item["title"] = item.get("title") or doc.title
        item["author"] = item.get("author") or doc.author
        item["page_published"] = doc.date
        item["sitename"] = item.get("sitename") or doc.sitename
        item["language"] = doc.language
        canonical = _first_url(tree, "link[@rel='canonical']/@href", url)
        # The canonical link, else og:url: both name the page (``collector.core.identity``).
        item["canonical_url"] = canonical or (_first_url(tree, "meta[@property='og:url']/@content", url) if host_of(url) else None)
        if not host_of(url):
            named = self.saved_page_url(item, tree, canonical)
            item["url"] = canonical_url(named) if named else url

    def saved_page_url(self, item, tree, canonical: str | None) -> str | None:
        """A saved page is named by its own URL: its og:url, which names the page itself; or
        its canonical link, unless the page's own site (from ``--site`` or the site name it
        states) is another one: a syndicating site's canonical link points at the original
        elsewhere, and taking it would overwrite the original's document."""
        own = _first_url(tree, "meta[@property='og:url']/@content")
        if own:
            return own
        if not canonical:
            return None
        sites = self.sites
        site = sites.get(item.get("site")) or (sites.for_name(item["sitename"]) if item.get("sitename") else None)
        if site is not None:
            target = sites.for_url(canonical)
            return canonical if target is not None and target.key == site.key else None
        if item.get("sitename"):
            # "BBC News" at www.bbc.com is the page's own site; "Harbour Watch" at
            # dailyledger.example is a repost pointing at its original.
            return canonical if _names_host(item["sitename"], canonical) else None
        return canonical  # nothing says the page is another site's


def _names_host(sitename: str | None, url: str) -> bool:
    """Whether a stated site name matches the URL's host: a word of the name ("BBC" of
    "BBC News") as the host's registered name ("bbc" of "www.bbc.com")."""
    registered = _registered_name(host_of(url) or "")
    if not sitename or not registered:
        return False
    if " " not in sitename.strip() and "." in sitename:  # trafilatura names a site by its host
        return _registered_name(sitename.strip().lower()) == registered
    words = {name_key(w) for w in sitename.split()} | {name_key(sitename)}
    return registered in words


def _registered_name(host: str) -> str | None:
    """"bbc" of "www.bbc.com" and of "news.bbc.co.uk"."""
    labels = [label for label in host.split(":")[0].split(".") if label not in ("www", "m", "amp")]
    if len(labels) < 2:
        return None
    second_level = len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL
    return (labels[-3] if second_level else labels[-2]).replace("-", "")


_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go", "gv", "nic"}


def _first_url(tree, path: str, base: str | None = None) -> str | None:
    """The first web URL that ``path`` (``link[@rel='canonical']/@href``) selects in the
    page, made absolute against ``base`` when that is a web URL: looked for in the head
    first, where pages put it and a search is short, then in the whole page (a stray tag can
    make a parser close the head early)."""
    head = tree.find("head")
    base = base if host_of(base) else None
    for scope, xpath in ((head, f".//{path}"), (tree, f"//{path}")):
        if scope is None:
            continue
        for value in scope.xpath(xpath):
            value = str(value).strip()
            if base and value and not host_of(value):
                try:
                    value = urljoin(base, value)
                except ValueError:
                    continue
            if host_of(value):
                return value
    return None
