"""Text helpers (the tokenisation is the pipeline's: NFKC, casefold, \\w+, 5-word shingles)."""

from __future__ import annotations

import re
import unicodedata


_WORD = re.compile(r"\w+")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
# Scoring only: soft hyphens and zero-width characters are invisible, and extraction drops them
# ("Brenn\xadpunkt" is "Brennpunkt" on the page); they must not count as lost text.
_INVISIBLE = str.maketrans({"\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None})
_SPACE = re.compile(r"\s+")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).translate(_TRANSLATE).casefold())


def shingles(text: str, k: int = 5) -> set[str]:
    tokens = words(text)
    if len(tokens) <= k:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def norm_line(line: str) -> str:
    return _SPACE.sub(" ", line).strip()


def loose(text: str) -> str:
    """Whitespace collapsed and casefolded, for "is this line still in the text" checks."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def split_paragraphs(text: str) -> list[str]:
    return [p for p in (norm_line(x) for x in text.splitlines()) if p]


_SENT = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")


def sentences(par: str) -> list[str]:
    return [s for s in (x.strip() for x in _SENT.split(par)) if s]


def slugify(title: str, fallback: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    return "-".join(slug.split("-")[:8]) or fallback


