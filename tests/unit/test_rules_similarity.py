"""How two documents relate (collector.core.similarity): the thresholds at their edges, on
shingle sets built exactly, and on fictional texts."""

from __future__ import annotations

import random

import numpy as np
import pytest
from textgen import article

from collector.core.fingerprint import shingle_hashes
from collector.core.similarity import (
    CONTAINMENT_MIN,
    DUPLICATE_MIN_JACCARD,
    EXCERPT_MAX_SIZE,
    FIGURES_MIN,
    MIN_SHINGLES,
    Text,
    figures_agree,
    overlap,
    related,
    relate,
)


def ids(start: int, stop: int) -> np.ndarray:
    """A shingle set: sorted unique uint64 hashes (these stand for shingles start..stop-1)."""
    return np.arange(start, stop, dtype=np.uint64)


def text(seed: int, paragraphs: int = 6) -> str:
    title, body = article(seed, paragraphs)
    return "\n".join([title, *body])


# --- the thresholds, exactly ---------------------------------------------------------------

def test_containment_threshold_is_inclusive():
    assert CONTAINMENT_MIN == 0.7
    relation, jaccard, contained = relate(ids(0, 100), ids(30, 130), same_site=False)  # 70 of 100 shared
    assert relation == "copy" and contained == pytest.approx(0.7) and jaccard == pytest.approx(70 / 130)
    assert relate(ids(0, 100), ids(31, 131), same_site=False) is None  # 69 of 100


def test_a_short_origin_inside_a_long_copy_is_related_by_coverage():
    # The copy adds a long preface: little of it comes from the origin, all of the origin is in it.
    relation, _, contained = relate(ids(0, 300), ids(200, 300), same_site=False)
    assert relation == "copy" and contained == pytest.approx(1 / 3)


def test_excerpt_or_copy_is_decided_on_length():
    assert EXCERPT_MAX_SIZE == 0.7
    assert relate(ids(0, 69), ids(0, 100), same_site=False)[0] == "excerpt"
    assert relate(ids(0, 70), ids(0, 100), same_site=False)[0] == "copy"


def test_duplicate_needs_the_same_site_and_a_jaccard_of_0_8():
    assert DUPLICATE_MIN_JACCARD == 0.8
    assert relate(ids(0, 100), ids(0, 125), same_site=True)[0] == "duplicate"   # J = 100/125 = 0.8
    assert relate(ids(0, 100), ids(0, 126), same_site=True)[0] == "copy"        # J < 0.8
    assert relate(ids(0, 100), ids(0, 100), same_site=False)[0] == "copy"       # another site: a copy


def test_too_short_to_mean_anything():
    assert relate(ids(0, MIN_SHINGLES - 1), ids(0, MIN_SHINGLES - 1), same_site=True) is None
    assert relate(ids(0, MIN_SHINGLES), ids(0, MIN_SHINGLES), same_site=True)[0] == "duplicate"
    assert relate(ids(0, 50), ids(100, 150), same_site=False) is None  # nothing shared


@pytest.mark.parametrize("seed", range(5))
def test_overlap_counts_the_intersection(seed):
    rng = np.random.default_rng(seed)
    a = np.unique(rng.integers(0, 5000, size=rng.integers(0, 800), dtype=np.uint64))
    b = np.unique(rng.integers(0, 5000, size=rng.integers(0, 800), dtype=np.uint64))
    assert overlap(a, b) == overlap(b, a) == len(np.intersect1d(a, b))


# --- on texts -----------------------------------------------------------------------------------

def test_a_repost_with_a_banner_and_a_footer_is_a_copy():
    original = text(1)
    repost = "Support us - go ad-free!\n" + original + "\nOur commenting rules: be kind."
    relation, _, contained = relate(shingle_hashes(repost), shingle_hashes(original), same_site=False)
    assert relation == "copy" and contained > 0.9


def test_light_edits_keep_a_copy_a_copy():
    rng = random.Random(3)
    words = text(2).split()
    for at in rng.sample(range(len(words)), len(words) // 40):  # one word in 40 changed
        words[at] = "edited"
    assert relate(shingle_hashes(" ".join(words)), shingle_hashes(text(2)), same_site=False)[0] == "copy"


def test_the_first_third_and_read_more_is_an_excerpt():
    original = text(4, paragraphs=9)
    part = "\n".join(original.split("\n")[:4]) + "\nRead more at The Daily Ledger"
    assert relate(shingle_hashes(part), shingle_hashes(original), same_site=False)[0] == "excerpt"


def test_independent_articles_are_unrelated():
    assert all(relate(shingle_hashes(text(s)), shingle_hashes(text(s + 100)), same_site=True) is None for s in range(5))


# --- figures ------------------------------------------------------------------------------------

REPORT = ("Market report for the harbour exchange. Cod sold at {0} a crate, haddock at {1}, "
          "mackerel at {2} and herring at {3}, against {4} last week; landings were {5} tonnes, "
          "the harbour master said, and the next auction opens at the usual hour on the quay.")


def test_template_reports_with_other_figures_are_not_copies():
    a = Text.of(REPORT.format(12, 31, 7, 5, 11, 420))
    b = Text.of(REPORT.format(14, 29, 8, 6, 12, 380))
    assert not figures_agree(a, b)
    assert related(a, b, same_site=True) is None


def test_a_copy_keeps_its_figures():
    a = Text.of(REPORT.format(12, 31, 7, 5, 11, 420))
    b = Text.of("Via the Harbour Gazette. " + REPORT.format(12, 31, 7, 5, 11, 420))
    assert figures_agree(a, b) and related(b, a, same_site=False)[0] == "copy"


def test_few_figures_are_no_evidence():
    a = Text.of(text(5))
    few = Text(shingle_hashes("in 2025 and 2026"), numbers=np.array([1, 2], dtype=np.uint32))
    assert FIGURES_MIN == 3 and figures_agree(few, a) and figures_agree(a, few)


def test_figures_are_read_lazily_from_the_text():
    lazy = Text(shingle_hashes(REPORT.format(1, 2, 3, 4, 5, 6)), text=REPORT.format(1, 2, 3, 4, 5, 6))
    assert len(lazy.numbers) == 6
