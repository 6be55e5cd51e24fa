"""Attribution claims (pipelines/attribute.py): the phrasings a republished article uses to
name its source, the lines that only look like them, and canonical links as claims."""

from __future__ import annotations

import pytest

from collector.core.document import Document
from collector.core.sites import Site, Sites
from pipelines.attribute import MAX_CLAIM_LINE, canonical_claim, parse_claim

SITES = Sites([
    Site("zerohedge", "Zero Hedge", domains=("zerohedge.com",), aliases=("ZeroHedge", "ZH", "Tyler Durden's Zero Hedge")),
    Site("russia-insider", "Russia Insider", domains=("russia-insider.com",), aliases=("RI",)),
    Site("ledger", "The Daily Ledger", domains=("dailyledger.example", "ledger-news.example")),
])

# line -> (claimed site, claimed name, claimed URL)
PHRASINGS = {
    "Originally appeared at Zero Hedge": ("zerohedge", "Zero Hedge", None),
    "This article originally appeared on ZeroHedge": ("zerohedge", "ZeroHedge", None),
    "This article was first published by Russia Insider.": ("russia-insider", "Russia Insider", None),
    "This story has been originally published by RI": ("russia-insider", "RI", None),
    "First published in The Daily Ledger on 3 March 2026": ("ledger", "The Daily Ledger", None),
    "This op-ed first ran in The Harbour Gazette": (None, "The Harbour Gazette", None),
    "The post Harbour tolls rise appeared first on Zero Hedge.": ("zerohedge", "Zero Hedge", None),
    "Source: Zero Hedge": ("zerohedge", "Zero Hedge", None),
    "« Source : Zero Hedge »": ("zerohedge", "Zero Hedge", None),
    "Source: ZeroHedge.com": ("zerohedge", "ZeroHedge.com", "https://zerohedge.com/"),
    "Source: Zero Hedge Staff": ("zerohedge", "Zero Hedge Staff", None),  # the longest known prefix
    "Source: harbourgazette.example.org": (None, "harbourgazette.example.org", "https://harbourgazette.example.org/"),
    "Republished with kind permission of Russia Insider": ("russia-insider", "Russia Insider", None),
    "Reprinted from The Daily Ledger, with thanks": ("ledger", "The Daily Ledger", None),
    "This article is syndicated from The Daily Ledger": ("ledger", "The Daily Ledger", None),
    "Cross-posted from Zero Hedge": ("zerohedge", "Zero Hedge", None),
    "Courtesy of Zero Hedge": ("zerohedge", "Zero Hedge", None),
    "Via Zero Hedge": ("zerohedge", "Zero Hedge", None),
    "via: www.russia-insider.com/en/story/1.": ("russia-insider", "www.russia-insider.com", "https://www.russia-insider.com/en/story/1"),
    "*Originally appeared at Tyler Durden's Zero Hedge*": ("zerohedge", "Tyler Durden's Zero Hedge", None),
    "Keep reading this story on The Daily Ledger": ("ledger", "The Daily Ledger", None),
    "Read the full article at zerohedge.com": ("zerohedge", "zerohedge.com", "https://zerohedge.com/"),
    "Read more: https://ledger-news.example/a": ("ledger", "ledger-news.example", "https://ledger-news.example/a"),
    # the URL as it is stored: tracking parameters and the fragment go, the host is kept
    "Continue reading at https://www.zerohedge.com/news/x?utm_source=rss#comments":
        ("zerohedge", "www.zerohedge.com", "https://www.zerohedge.com/news/x"),
    "This article was originally published by The Conversation, read the original": (None, "The Conversation", None),
}


@pytest.mark.parametrize("line", PHRASINGS)
def test_phrasings_name_the_source(line):
    found = parse_claim(line, SITES)
    assert found is not None, line
    assert (found["claimed_site"], found["claimed_name"], found["claimed_url"]) == PHRASINGS[line]
    assert found["kind"] == "attribution" and found["evidence"] == line


NOT_CLAIMS = [
    "Source: here",
    "Read more below",
    "Read more at this link",
    "Via our website",
    "The council originally published the plan in 2019, and the harbour board approved it.",
    "Residents first appeared at the meeting on Tuesday",
    "Sources say the mayor will resign",
    "Originally appeared at " + "a very long name " * 15,  # a paragraph, not a claim
    "",
]


@pytest.mark.parametrize("line", NOT_CLAIMS)
def test_lines_that_only_look_like_claims(line):
    assert parse_claim(line, SITES) is None


def test_a_long_line_is_a_claim_only_when_a_long_url_makes_it_long():
    url = "https://www.zerohedge.com/news/" + "a-very-long-slug-" * 14
    line = f"Originally appeared at Zero Hedge: {url}"
    assert len(line) > MAX_CLAIM_LINE and parse_claim(line, SITES)["claimed_site"] == "zerohedge"


# Known gaps: strict, so the test says when the code learns them.

@pytest.mark.parametrize("line", ["Publié initialement sur Zero Hedge", "Quelle: Zero Hedge", "Fuente: Zero Hedge",
                                  "Источник: Zero Hedge"])
def test_phrasings_in_other_languages(line):
    assert parse_claim(line, SITES)["claimed_site"] == "zerohedge"



def test_a_colon_after_the_preposition():
    assert parse_claim("Originally published at: Zero Hedge", SITES)["claimed_site"] == "zerohedge"



@pytest.mark.parametrize("line", ["Via the harbour road, the lorries will take longer",
                                  "Source: according to three councillors who spoke to us on condition that we do not name them"])
def test_sentences_that_start_like_a_claim(line):
    assert parse_claim(line, SITES) is None


# --- canonical links ----------------------------------------------------------------------------

def doc(url, canonical, site=None) -> Document:
    return Document(url=url, canonical_url=canonical, site=site)


def test_a_canonical_link_to_another_configured_site_is_a_claim():
    found = canonical_claim(doc("https://russia-insider.com/a", "https://www.zerohedge.com/a", "russia-insider"), SITES)
    assert found == {"kind": "canonical", "claimed_site": "zerohedge", "claimed_name": "Zero Hedge",
                     "claimed_url": "https://www.zerohedge.com/a",
                     "evidence": '<link rel="canonical" href="https://www.zerohedge.com/a">'}


def test_a_canonical_link_to_an_unknown_host_names_the_host():
    found = canonical_claim(doc("https://russia-insider.com/a", "https://harbour.example/a", "russia-insider"), SITES)
    assert (found["claimed_site"], found["claimed_name"]) == (None, "harbour.example")


@pytest.mark.parametrize("url, canonical, site", [
    ("https://zerohedge.com/a", "https://zerohedge.com/b", "zerohedge"),            # same host
    ("https://m.harbour.example/a", "https://www.harbour.example/a", None),        # an edition of one host
    ("https://dailyledger.example/a", "https://ledger-news.example/a", "ledger"),   # two domains of one site
    ("https://zerohedge.com/a", None, "zerohedge"),                                 # no canonical link
    ("file:///tmp/page.html", "https://harbour.example/a", None),                  # a saved page of an unknown site
])
def test_canonical_links_that_claim_nothing(url, canonical, site):
    assert canonical_claim(doc(url, canonical, site), SITES) is None


def test_a_saved_page_of_a_known_site_with_a_canonical_link_elsewhere_claims():
    found = canonical_claim(doc("file:///tmp/page.html", "https://zerohedge.com/a", "russia-insider"), SITES)
    assert found["claimed_site"] == "zerohedge"


# --- the stage: claims leave the text, a site naming itself claims nothing ------------------------

def test_the_stage_moves_claims_out_of_the_text():
    from pipelines.attribute import AttributePipeline

    stage = AttributePipeline(SITES)
    item = Document(url="https://zerohedge.com/a", site="zerohedge", canonical_url="https://dailyledger.example/a",
                    text="Source: Zero Hedge\nThe harbour board approved the tolls.\nOriginally appeared at Russia Insider")
    stage.process_item(item)
    assert item["text"] == "Source: Zero Hedge\nThe harbour board approved the tolls."
    assert [(c["kind"], c["claimed_site"]) for c in item["claims"]] == [("attribution", "russia-insider"), ("canonical", "ledger")]


@pytest.mark.parametrize("line", [
    "Source : Zero Hedge", "Quelle: Zero Hedge", "Erstveröffentlichung: zerohedge.com", "Zuerst erschienen bei Zero Hedge",
    "Ursprünglich veröffentlicht auf Zero Hedge", "Publié initialement sur Zero Hedge", "Paru d'abord dans Zero Hedge",
    "Fuente: Zero Hedge", "Publicado originalmente en Zero Hedge", "Publicada por primera vez en Zero Hedge",
    "Publicado originalmente no Zero Hedge", "Fonte: Zero Hedge", "Pubblicato originariamente su Zero Hedge",
    "Bron: Zero Hedge", "Oorspronkelijk gepubliceerd op Zero Hedge", "Źródło: Zero Hedge", "Kaynak: Zero Hedge",
    "Источник: Zero Hedge", "Первоначально опубликовано на Zero Hedge", "Впервые опубликовано в Zero Hedge",
    "Джерело: Zero Hedge", "出典：Zero Hedge", "来源：Zero Hedge", "來源: Zero Hedge", "출처: Zero Hedge",
    "المصدر: Zero Hedge", "Originally published at: Zero Hedge",
])
def test_the_phrasings_of_many_languages_name_the_source(line):
    assert parse_claim(line, SITES)["claimed_site"] == "zerohedge"


@pytest.mark.parametrize("line", [
    "Publicado en 2019 por el ayuntamiento", "Publicado el 3 de marzo de 2026", "Quelle: eigene Recherche",
    "Source: the author's own calculations", "Fuente: elaboración propia", "Via the ring road the trip takes longer",
    "Источник: собственные расчёты",
])
def test_lines_that_start_like_a_claim_in_other_languages_are_text(line):
    assert parse_claim(line, SITES) is None


def test_a_known_site_named_in_lower_case_is_still_a_claim():
    assert parse_claim("via zero hedge", SITES)["claimed_site"] == "zerohedge"
