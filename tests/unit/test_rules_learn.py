"""Chrome learning (pipelines/learn.py): its thresholds, decided by the real stage over an
in-memory ChromeMemory and DocumentStore (tests/fakes.py), no settings, no SQLite file."""

from __future__ import annotations

import random

import pytest
from fakes import FakeStore
from textgen import sentence

from collector.core.document import Document
from pipelines.learn import (
    LEARN_MAX_CHARS,
    LEARN_MIN_CHARS,
    LEARN_MIN_DOCUMENTS,
    LEARN_MIN_SHARE,
    LearnChromePipeline,
    article_key,
    line_hash,
)

BANNER = "Support independent news: become a member today"


class _Linker:
    """Records what the stage asks to re-link (the real one is tested with the store)."""

    def __init__(self, lineage):
        self.lineage = lineage
        self.linked = []

    def link(self, doc_id, signature, shingles, has_claims) -> int:
        self.linked.append(doc_id)
        return 1


def stage(fakes: FakeStore) -> LearnChromePipeline:
    return LearnChromePipeline(fakes.chrome, fakes.documents, _Linker(fakes.lineage))


def story(seed: int, extra=()) -> str:
    rng = random.Random(seed)
    return "\n".join([*extra, *(sentence(rng) for _ in range(4))])


def run(learn, fakes: FakeStore, site: str, text: str, **fields) -> Document:
    """A document as the store stage leaves it (saved, with an id), then the learn stage."""
    doc_id = fakes.documents.add(url=f"https://{site}.example/{len(fakes.documents.docs)}", site=site, text=text,
                                 title=fields.get("title"))
    return learn.process_item(Document(url=f"https://{site}.example/x", site=site, text=text, doc_id=doc_id, **fields))


def test_the_thresholds():
    assert (LEARN_MIN_DOCUMENTS, LEARN_MIN_SHARE, LEARN_MIN_CHARS, LEARN_MAX_CHARS) == (3, 0.15, 8, 300)


def test_a_line_in_three_articles_of_a_small_site_is_learned_and_stripped_everywhere():
    fakes = FakeStore()
    learn = stage(fakes)
    for seed in range(2):
        item = run(learn, fakes, "ledger", story(seed, [BANNER]))
        assert BANNER in item["text"] and fakes.chrome.learned("ledger") == set()
    third = run(learn, fakes, "ledger", story(2, [BANNER]))
    assert fakes.chrome.learned("ledger") == {BANNER}
    assert BANNER not in third["text"] and third["new_links"] == 3
    assert all(BANNER not in d["text"] and BANNER in d["chrome"] for d in fakes.documents.docs.values())
    assert sorted(learn.linker.linked) == sorted(fakes.documents.docs)


def test_on_a_big_site_a_line_needs_its_share_of_the_documents():
    fakes = FakeStore()
    learn = stage(fakes)
    for seed in range(100, 140):  # 40 documents without the line
        fakes.documents.add(url=f"https://big.example/{seed}", site="big", text=story(seed))
    needed = 8  # the first n with n >= 15% of the site's 40 + n documents (7 < 7.05, 8 >= 7.2)
    for n in range(1, needed):
        run(learn, fakes, "big", story(n, ["A quote two or three stories repeat"]))
        assert fakes.chrome.learned("big") == set(), n
    run(learn, fakes, "big", story(needed, ["A quote two or three stories repeat"]))
    assert fakes.chrome.learned("big") == {"A quote two or three stories repeat"}


def test_one_article_at_several_urls_teaches_nothing():
    fakes = FakeStore()
    learn = stage(fakes)
    text = story(7)
    for n in range(5):  # re-titled, same body: one article key
        run(learn, fakes, "ledger", text + f"\nUpdated {n}")
    assert fakes.chrome.learned("ledger") == set()
    assert article_key(text.split("\n")) == article_key((text + "\nother").split("\n"))


def test_lines_too_short_or_too_long_are_never_counted():
    fakes = FakeStore()
    learn = stage(fakes)
    short, long = "Share it", "x" * (LEARN_MAX_CHARS + 1)
    for seed in range(4):
        run(learn, fakes, "ledger", story(seed, ["Share", long]))
    assert fakes.chrome.learned("ledger") == set()
    assert (("ledger", line_hash("Share")) not in fakes.chrome.sightings
            and ("ledger", line_hash(long)) not in fakes.chrome.sightings)
    assert len(short) == LEARN_MIN_CHARS


def test_a_dumps_banner_taken_for_its_title_is_counted_and_the_title_moves_on():
    fakes = FakeStore()
    learn = stage(fakes)
    items = [run(learn, fakes, "ledger", story(seed), title=BANNER, first_line_is_title=True) for seed in range(3)]
    assert fakes.chrome.learned("ledger") == {BANNER}
    first = fakes.documents.docs[items[0]["doc_id"]]
    assert first["title"] != BANNER and first["title"] == story(0).split("\n")[0]


def test_sites_are_counted_apart():
    fakes = FakeStore()
    learn = stage(fakes)
    for seed, site in enumerate(["a", "b", "c", "a", "b"]):
        run(learn, fakes, site, story(seed, [BANNER]))
    assert all(fakes.chrome.learned(s) == set() for s in "abc")


@pytest.mark.parametrize("lines, expected", [([], 0), (["short", "the longest line of all"], line_hash("the longest line of all"))])
def test_article_key_is_the_longest_line_casefolded(lines, expected):
    assert article_key(lines) == expected
    assert article_key([line.upper() for line in lines]) == expected
