"""How alike two documents are, and how one relates to the other: the rules the linker
applies to a pair, on their shingle sets and figures (``collector.core.fingerprint``)."""

from __future__ import annotations

import numpy as np

from .fingerprint import numbers_of, shingles_of, word_bytes

#: A pair is linked when this share of the smaller document's shingles is in the larger.
#: Independently written articles on one story share under 10% of their 5-word shingles;
#: a repost with light edits keeps over 80%; 0.7 leaves room for edits on both sides.
CONTAINMENT_MIN = 0.7
#: A copy shorter than this share of its origin (in shingles) is an ``excerpt`` (a truncated
#: repost, a third of the text and "read more"), otherwise a ``copy`` (whole, small edits).
EXCERPT_MAX_SIZE = 0.7
#: Two documents of one site this similar are one article at two URLs: a ``duplicate``.
DUPLICATE_MIN_JACCARD = 0.8
#: The signature-estimated containment a candidate needs before its text is read. The
#: estimate's standard error is about 0.05 at 128 permutations near J=0.3 (an excerpt), so a
#: true link at containment 0.7 falls below 0.45 only by a >5-sigma error.
ESTIMATE_MIN = 0.45
#: Below this many shingles (about 12 words) containment means nothing: a caption, a stub.
MIN_SHINGLES = 8


#: Documents made from one template (press releases, weather and market reports from one
#: generator) share most of their words and differ in their figures; a copy keeps its
#: original's figures, an excerpt a part of them. So two documents that both hold at least
#: ``FIGURES_MIN`` distinct tokens with a digit are related only if at least ``FIGURES_SHARE``
#: of the smaller one's are in the other (measured: bench/lineage_families.py, ``traps``).
FIGURES_MIN = 3
FIGURES_SHARE = 0.5


class Text:
    """What linking compares of a document: its shingle set, and its figures, worked out
    from the text only when a pair is verified (most documents never are)."""

    __slots__ = ("shingles", "_text", "_numbers")

    def __init__(self, shingles: np.ndarray, text: str | None = None, numbers: np.ndarray | None = None):
        self.shingles = shingles
        self._text = text
        self._numbers = numbers

    @classmethod
    def of(cls, text: str) -> "Text":
        """From a stored text, read to be compared: both at once, from one tokenization."""
        tokens = word_bytes(text)
        return cls(shingles_of(tokens), numbers=numbers_of(tokens))

    @property
    def numbers(self) -> np.ndarray:
        if self._numbers is None:
            self._numbers = numbers_of(word_bytes(self._text or ""))
            self._text = None
        return self._numbers


def figures_agree(a: Text, b: Text) -> bool:
    small, large = (a, b) if len(a.shingles) <= len(b.shingles) else (b, a)
    if len(small.numbers) < FIGURES_MIN or len(large.numbers) < FIGURES_MIN:
        return True
    return overlap(small.numbers, large.numbers) >= FIGURES_SHARE * len(small.numbers)


def related(copy: Text, origin: Text, same_site: bool) -> tuple[str, float, float] | None:
    """``relate`` on the shingle sets, for documents whose figures agree."""
    if not figures_agree(copy, origin):
        return None
    return relate(copy.shingles, origin.shingles, same_site)


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Shingles two sets (sorted unique hash arrays) share: each of the smaller looked up in
    the larger by binary search, cheaper than intersecting (which sorts both again)."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return 0
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    return int(np.count_nonzero(b[at] == a))


def relate(copy: np.ndarray, origin: np.ndarray, same_site: bool) -> tuple[str, float, float] | None:
    """(relation, Jaccard, containment of the copy in the origin), or None if unrelated."""
    if len(copy) < MIN_SHINGLES or len(origin) < MIN_SHINGLES:
        return None
    inter = overlap(copy, origin)
    if not inter:
        return None
    jaccard = inter / (len(copy) + len(origin) - inter)
    contained = inter / len(copy)     # how much of the copy comes from the origin
    coverage = inter / len(origin)    # how much of the origin the copy carries
    if max(contained, coverage) < CONTAINMENT_MIN:
        return None
    if same_site and jaccard >= DUPLICATE_MIN_JACCARD:
        return "duplicate", jaccard, contained
    return _copy_or_excerpt(copy, origin), jaccard, contained


def _copy_or_excerpt(copy: np.ndarray, origin: np.ndarray) -> str:
    # Judged on length, not on the shingles covered: a short copy with a few words changed
    # covers less of its origin than its length says, and is still a copy.
    return "excerpt" if len(copy) < EXCERPT_MAX_SIZE * len(origin) else "copy"


def loose_relation(copy: np.ndarray, origin: np.ndarray) -> tuple[str, float, float]:
    """The relation of a member that joined through another copy, not like the origin itself."""
    inter = overlap(copy, origin)
    return _copy_or_excerpt(copy, origin), inter / (len(copy) + len(origin) - inter or 1), inter / (len(copy) or 1)


def link_row(copy_id: int, origin_id: int, related, evidence: str) -> dict:
    relation, jaccard, contained = related
    return {
        "copy_id": copy_id,
        "origin_id": origin_id,
        "relation": relation,
        "similarity": round(jaccard, 4),
        "containment": round(contained, 4),
        "evidence": evidence,
    }
