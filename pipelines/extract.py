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

import hashlib
import logging
import re
from datetime import datetime, timezone

import trafilatura
from lxml import etree
from scrapy.exceptions import DropItem
from trafilatura.utils import load_html

from collector.dates import normalize_date
from collector.sites import host_of, name_key

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
    """``published`` as ISO-8601 (``collector.dates``): the source's own value (a JSONL field,
    a WARC's or a feed's date) when it has one, else the page's metadata. A value that is
    not a readable date is kept in ``published_raw``, said once, and never compared."""
    raw = item.get("published")
    page = item.pop("page_published", None)
    value = normalize_date(raw, item.get("language")) if raw not in (None, "") else None
    if value is None and raw not in (None, ""):
        item["published_raw"] = str(raw)
        logger.warning("%s: published %r is not a date collector can read; stored as NULL, the value kept in"
                       " published_raw", item.get("source") or item.get("url"), raw)
    item["published"] = value or normalize_date(iso_date(page) or page, item.get("language"))
    fetched = normalize_date(item.get("fetched"))  # a JSONL field or a WARC-Date, as written
    if fetched is None:
        fetched = datetime.now(timezone.utc).isoformat(timespec="seconds")
    elif len(fetched) == 10:  # a day: its start, the earliest it can mean
        fetched += "T00:00:00+00:00"
    item["fetched"] = fetched


def content_hash(*parts: str | None) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def item_hash(item) -> str:
    """What makes an input the same input again: its web URL, content and given title (a
    local file's path is not part of it: the same page saved twice is one input)."""
    url = item.get("url") if host_of(item.get("url")) else None
    return content_hash(url, item.get("html") or item.get("text"), item.get("title"))


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


class ExtractPipeline(Stage):
    def __init__(self, context):
        super().__init__(context)
        self.mode = context.settings.get("COLLECTOR_EXTRACTION") or EXTRACTION_MODES[0]
        if self.mode not in EXTRACTION_MODES:
            raise ValueError(f"COLLECTOR_EXTRACTION: {self.mode!r} is not one of {', '.join(EXTRACTION_MODES)}")

    def process(self, item):
        if not item.get("fetched"):
            item["fetched"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        html = item.get("html")
        item.setdefault("content_hash", item_hash(item))
        if self.context.store.has_content(item["content_hash"]):
            item["status"] = "unchanged"
            item.pop("html", None)
            return item
        if html and not item.get("text"):
            self.extract(item, html)
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
        site = self.context.sites.get(item.get("site")) or self.context.sites.for_url(item.get("url"))
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
        item["text"] = doc.text or ""
        item["title"] = item.get("title") or doc.title
        item["author"] = item.get("author") or doc.author
        item["page_published"] = doc.date
        item["sitename"] = item.get("sitename") or doc.sitename
        item["language"] = doc.language
        canonical = _first_url(tree, "link[@rel='canonical']/@href")
        item["canonical_url"] = canonical
        if not host_of(url):
            item["url"] = self.saved_page_url(item, tree, canonical) or url

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
        sites = self.context.sites
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


def _first_url(tree, path: str) -> str | None:
    """The first web URL that ``path`` (``link[@rel='canonical']/@href``) selects in the
    page: looked for in the head first, where pages put it and a search is short, then in
    the whole page (a stray tag can make a parser close the head early)."""
    head = tree.find("head")
    for scope, xpath in ((head, f".//{path}"), (tree, f"//{path}")):
        if scope is None:
            continue
        for value in scope.xpath(xpath):
            value = str(value).strip()
            if host_of(value):
                return value
    return None
