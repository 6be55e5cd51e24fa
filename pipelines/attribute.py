"""Attribute: find provenance claims, the evidence an origin is decided from.

A claim is a short line in one of the common phrasings ("Originally appeared at X",
"This article was first published by X", "Source: X", "Republished with permission from X",
"via X", "Read more at X", ...) or a canonical link to another site. The line is
provenance, not article text: it moves from ``text`` to the ``claims`` table. Names resolve
to sites through the configs' ``aliases`` and ``domains``; a name that resolves to no site is
kept as a claim all the same, and matched against stored documents' site names later.
"""

from __future__ import annotations

import re

from collector.core.sites import Sites, host_of, name_key
from collector.core.urls import canonical_url, same_site

from .clean import split_lines
from .stage import Stage

#: Longer lines are sentences of the article that merely mention a source.
MAX_CLAIM_LINE = 200
#: A name longer than this is a clause, not a publication's name.
MAX_NAME_WORDS = 8

_ARTICLE = r"(?:(?:this|the) (?:article|story|post|piece|report|column|op-ed|commentary|essay|interview|analysis) )"
#: "Source: X" in the languages news is republished in (the colon may be full-width, or
#: follow a space, as French writes it).
_SOURCE_LABELS = ("source|article source|original source|quelle|erstveröffentlichung|fuente|fonte|bron|źródło|zdroj|forrás|kilde|källa|"
                  "lähde|kaynak|πηγή|источник|первоисточник|оригинал|джерело|izvor|sursa|nguồn|sumber|"
                  "المصدر|מקור|出典|出处|出處|来源|來源|原文|元記事|출처")
#: "Originally published at X" in French, Spanish, Portuguese, Italian, German, Dutch,
#: Russian, Ukrainian and Polish.
_ORIGINALLY = (
    r"(?:publié|paru|diffusé) (?:initialement|originellement|d'abord|pour la première fois)"
    r"|(?:publicado|publicada) (?:originalmente|por primera vez|pela primeira vez)"
    r"|(?:pubblicato|pubblicata) (?:originariamente|originalmente|per la prima volta)"
    r"|(?:zuerst|ursprünglich|erstmals) (?:erschienen|veröffentlicht|publiziert)"
    r"|(?:oorspronkelijk|eerder|eerst) (?:gepubliceerd|verschenen)"
    r"|(?:первоначально|впервые|изначально) (?:опубликовано|опубликована|опубликован|вышла|вышло)"
    r"|(?:вперше|спочатку) (?:опубліковано|опублікована)"
    r"|(?:pierwotnie|oryginalnie) (?:opublikowano|opublikowany|ukazał się)"
)
_ORIGINALLY_AT = r"(?:sur|dans|par|chez|en|em|no|na|por|su|da|bei|auf|in|im|von|op|door|на|в|у|w|na)"
_PHRASES = [
    # Originally appeared at X / This article was first published by X / First published in X
    rf"^{_ARTICLE}?(?:was |has been |is |had )?(?:originally|first) (?:appeared|published|posted|ran|run|printed)"
    r"(?: originally| first)? (?:at|on|in|by|with|over at):?\s+(?P<name>.+)$",
    rf"^{_ARTICLE}(?:was |has been |is )?(?:appeared|published|posted|ran)(?: originally| first)? (?:at|on|in|by):?\s+(?P<name>.+)$",
    # WordPress feeds: "The post TITLE appeared first on X."
    r"^the post .+ appeared first on (?P<name>.+)$",
    rf"^(?:{_SOURCE_LABELS})\s*[:：]\s*(?P<label>)(?P<name>.+)$",
    rf"^(?:{_ORIGINALLY})\s*(?:{_ORIGINALLY_AT})?\s*:?\s+(?P<name>.+)$",
    # Republished (with permission) from X / Reprinted from X / Cross-posted from X
    r"^(?:this (?:article|story|post) (?:is |was )?)?(?:re-?published|reprinted|re-?posted|cross-?posted|syndicated)"
    r"(?: here)?(?: with(?: kind)? permission)? (?:from|by|of|courtesy of) (?P<name>.+)$",
    r"^(?:article |story |republished )?courtesy of (?P<name>.+)$",
    r"^via:?\s+(?P<label>)(?P<name>.+)$",
    # Continue reading at X / Read more at X / Read the full article at X
    r"^(?:continue|keep) reading(?: (?:this|the) (?:article|story))?(?: at| on| in)? (?P<name>.+)$",
    r"^read (?:more|the (?:full|whole|complete|rest of the|original) (?:article|story|piece|report))"
    r"(?: at| on| in)?:? (?P<name>.+)$",
]
PHRASES = [re.compile(p, re.IGNORECASE) for p in _PHRASES]

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$", re.IGNORECASE)
_BRACKETS = re.compile(r"^[\[(«\"“*_-]+\s*|\s*[\])»\"”*_]+$")
# Words that end a name: "Zero Hedge on 3 March", "Zero Hedge, 3 March", "X - read it here"
_NAME_END = re.compile(r"\s+(?:on|at|in|under|dated|-|–|—|\|)\s+|[,;|(]|\s[–—-]\s|:\s|\.\s")
_NOT_NAMES = {"here", "this", "the", "our", "us", "this site", "this website", "our website", "our site",
              "the following", "below", "above", "it", "them", "link", "this link", "the link", "original", ""}


def _clean_line(line: str) -> str:
    return _BRACKETS.sub("", line.strip()).strip()


def _clean_name(raw: str) -> str:
    name = _NAME_END.split(raw, maxsplit=1)[0]
    return name.strip(" .!:;\"'“”‘’*_[]()").strip()


def _runs_on(name: str) -> bool:
    """Whether what follows "Source:" or "via" reads as a sentence, not a name: a name
    starts with a capital (its "the" aside) where the script has capitals."""
    words = name.split(maxsplit=1)
    if len(words) > 1 and words[0].casefold() == "the":
        name = words[1]
    return name[:1].islower()


def parse_claim(line: str, sites: Sites) -> dict | None:
    """The claim a line makes, or None. ``line`` is one normalised line of text."""
    if len(line) > MAX_CLAIM_LINE:  # a paragraph, not a claim, unless a long URL makes it long
        low = line.lower()
        if ("http" not in low and "www." not in low) or len(_URL.sub("", line)) > MAX_CLAIM_LINE:
            return None
    text = _clean_line(line)
    for phrase in PHRASES:
        match = phrase.match(text)
        if not match:
            continue
        raw = match.group("name")
        url_match = _URL.search(raw)
        url = None
        if url_match:
            url = url_match.group(0).rstrip(".,;:")
            if not url.lower().startswith("http"):
                url = "https://" + url
            url = canonical_url(url)  # the URL the named document is stored under
        name = _clean_name(_URL.sub("", raw)) if url else _clean_name(raw)
        if not url and _DOMAIN.match(name):
            url = f"https://{name.lower()}/"
        if not url and (name.casefold() in _NOT_NAMES or len(name.split()) > MAX_NAME_WORDS or not name_key(name)):
            return None
        site = (sites.for_url(url) if url else None) or (sites.for_name(name) if name else None)
        if site is None and name:
            # "Zero Hedge on October 29" already cut; try shorter word prefixes as a last resort.
            words = name.split()
            for n in range(len(words) - 1, 0, -1):
                site = sites.for_name(" ".join(words[:n]))
                if site:
                    break
        if site is None and not url and match.groupdict().get("label") is not None and _runs_on(name):
            return None  # "Via the harbour road, ...", "Source: according to ...": a sentence
        return {
            "kind": "attribution",
            "claimed_site": site.key if site else None,
            "claimed_name": name or (host_of(url) if url else None),
            "claimed_url": url,
            "evidence": line,
        }
    return None


def canonical_claim(item, sites: Sites) -> dict | None:
    """A canonical link to another site is a claim that the page there is the original (one
    to the same site names the page itself: ``collector.core.identity``)."""
    canonical, url = item.get("canonical_url"), item.get("url")
    chost, uhost = host_of(canonical), host_of(url)
    if not chost or chost == uhost or (uhost and same_site(url, canonical, sites)):
        return None
    target = sites.for_url(canonical)
    if target is not None and target.key == item.get("site"):
        return None
    if not uhost and sites.get(item.get("site")) is None:
        return None  # a saved page of an unknown site: its canonical link may well be its own
    return {
        "kind": "canonical",
        "claimed_site": target.key if target else None,
        "claimed_name": target.name if target else chost,
        "claimed_url": canonical,
        "evidence": f'<link rel="canonical" href="{canonical}">',
    }


class AttributePipeline(Stage):
    def __init__(self, sites: Sites):
        self.sites = sites

    @classmethod
    def from_context(cls, context):
        return cls(context.sites)

    def process(self, item):
        sites = self.sites
        kept, claims = [], []
        for line in item.get("lines") or split_lines(item["text"]):
            claim = parse_claim(line, sites)
            if claim is None:
                kept.append(line)
            elif claim["claimed_site"] is not None and claim["claimed_site"] == item.get("site"):
                kept.append(line)  # a site naming itself ("Source: Zero Hedge" on Zero Hedge) claims nothing
            else:
                claims.append(claim)
        canonical = canonical_claim(item, sites)
        if canonical:
            claims.append(canonical)
        item["lines"] = kept
        item["text"] = "\n".join(kept)
        item["claims"] = claims
        return item
