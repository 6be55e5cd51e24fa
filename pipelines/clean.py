"""Clean: strip site chrome from the article text, keeping what was stripped.

A line is chrome when the site's config names it (``chrome.lines``), matches one of the
site's ``chrome.patterns``, was learned to repeat across the site's documents
(``pipelines.learn``), or is the furniture of any site (``configs/chrome.yaml``: "Related:",
share and newsletter prompts; its patterns are tried on short lines only). The site is
decided here too, since chrome rules are per site.
"""

from __future__ import annotations

import re
import unicodedata

from collector.core.contracts import ChromeMemory
from collector.core.sites import Chrome, Site, Sites, host_of, normalize_line

from .stage import Stage


def split_lines(text: str) -> list[str]:
    """Non-empty lines, whitespace normalised as ``normalize_line`` does (str.split is the
    fast path: it splits on every Unicode space, the no-break space included)."""
    return [line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line]


#: Lines longer than this are prose: the generic patterns, written for a site's furniture
#: ("Related: ...", "Follow us on ..."), are not tried on them.
GENERIC_MAX_CHARS = 200


def is_chrome(line: str, site: Site | None, learned: set[str], generic: Chrome | None = None) -> bool:
    if line in learned:
        return True
    if generic is not None and (
        line in generic.lines or (len(line) <= GENERIC_MAX_CHARS and any(p.search(line) for p in generic.patterns))
    ):
        return True
    if site is None:
        return False
    return line in site.chrome.lines or any(p.search(line) for p in site.chrome.patterns)


def strip_chrome(lines: list[str], site: Site | None, learned: set[str],
                 generic: Chrome | None = None) -> tuple[list[str], list[str]]:
    kept, chrome = [], []
    for line in lines:
        (chrome if is_chrome(line, site, learned, generic) else kept).append(line)
    return kept, chrome


#: A title's " | Site" or " - Site" tail, which the headline in the page does not repeat.
_TITLE_TAIL = re.compile(r"\s+[|\-–—:·•]\s+[^|\-–—]{2,40}$")
_WORD = re.compile(r"\w+")
#: The headline is looked for among this many first lines (a kicker or a date may precede it).
TITLE_LINES = 3


def _title_words(line: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(unicodedata.normalize("NFKC", line).casefold()))


def title_line(lines: list[str], title: str) -> int | None:
    """Index of the headline repeated in the text: the first of the first ``TITLE_LINES``
    lines whose words equal the title's (case, punctuation and quote styles aside), or the
    title's without a site-name tail. Extractors keep the headline in the text while the
    title is stored apart; the copy would count as article text (and as shingles)."""
    wanted = {_title_words(title)}
    tail = _TITLE_TAIL.search(title)
    if tail:
        wanted.add(_title_words(title[: tail.start()]))
    wanted.discard(())
    for i, line in enumerate(lines[:TITLE_LINES]):
        if _title_words(line) in wanted:
            return i
    return None


def local_site_key(url: str | None) -> str:
    """The site key of a document no config claims: its host, or 'local' for files."""
    return host_of(url) or "local"


class CleanPipeline(Stage):
    def __init__(self, sites: Sites, chrome: ChromeMemory):
        self.sites, self.chrome = sites, chrome

    @classmethod
    def from_context(cls, context):
        return cls(context.sites, context.store.chrome)

    def process(self, item):
        sites = self.sites
        lines = split_lines(item["text"])
        site = (
            sites.get(item.get("site"))
            or sites.for_url(item.get("url"))
            or (None if host_of(item.get("url")) else sites.recognise(lines))
        )
        item["site"] = site.key if site else (item.get("site") or local_site_key(item.get("url")))
        learned = self.chrome.learned(item["site"])
        kept, chrome = strip_chrome(lines, site, learned, sites.generic)
        title = normalize_line(item.get("title") or "")
        if title:
            headline = title_line(kept, title)
            if headline is not None:
                kept.pop(headline)
        elif kept and item.get("first_line_is_title"):
            # A dump's first non-chrome line is its title, not body text.
            item["title"] = kept.pop(0)
        item["lines"] = kept  # split once: the attribute and learn stages read them
        item["text"] = "\n".join(kept)
        item["chrome"] = (item.get("chrome") or []) + chrome
        return item
