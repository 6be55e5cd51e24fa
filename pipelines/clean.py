"""Clean: strip site chrome from the article text, keeping what was stripped.

A line is chrome when the site's config names it (``chrome.lines``), matches one of the
site's ``chrome.patterns``, or was learned to repeat across the site's documents
(``pipelines.learn``). The site is decided here too, since chrome rules are per site.
"""

from __future__ import annotations

from collector.sites import Site, host_of, normalize_line

from .stage import Stage


def split_lines(text: str) -> list[str]:
    """Non-empty lines, whitespace normalised as ``normalize_line`` does (str.split is the
    fast path: it splits on every Unicode space, the no-break space included)."""
    return [line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line]


def is_chrome(line: str, site: Site | None, learned: set[str]) -> bool:
    if line in learned:
        return True
    if site is None:
        return False
    return line in site.chrome.lines or any(p.search(line) for p in site.chrome.patterns)


def strip_chrome(lines: list[str], site: Site | None, learned: set[str]) -> tuple[list[str], list[str]]:
    kept, chrome = [], []
    for line in lines:
        (chrome if is_chrome(line, site, learned) else kept).append(line)
    return kept, chrome


def local_site_key(url: str | None) -> str:
    """The site key of a document no config claims: its host, or 'local' for files."""
    return host_of(url) or "local"


class CleanPipeline(Stage):
    def process(self, item):
        sites = self.context.sites
        lines = split_lines(item["text"])
        site = (
            sites.get(item.get("site"))
            or sites.for_url(item.get("url"))
            or (None if host_of(item.get("url")) else sites.recognise(lines))
        )
        item["site"] = site.key if site else (item.get("site") or local_site_key(item.get("url")))
        learned = self.context.store.learned_chrome(item["site"])
        kept, chrome = strip_chrome(lines, site, learned)
        title = normalize_line(item.get("title") or "")
        if kept and (kept[0] == title or (item.get("first_line_is_title") and not title)):
            # A dump's first non-chrome line is its title, not body text.
            item["title"] = item.get("title") or kept[0]
            kept.pop(0)
        item["text"] = "\n".join(kept)
        item["chrome"] = (item.get("chrome") or []) + chrome
        return item
