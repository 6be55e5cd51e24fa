"""Attribution: each common phrasing becomes a claim resolved to a site; prose does not."""

import pytest

from collector.core.sites import Sites
from pipelines.attribute import canonical_claim, parse_claim


@pytest.fixture
def sites(config_dir):
    return Sites.load(config_dir)


@pytest.mark.parametrize(
    "line, site",
    [
        ("Originally appeared at Zero Hedge", "zerohedge"),
        ("Originally appeared on ZeroHedge.", "zerohedge"),
        ("This article originally appeared in The Daily Ledger.", "dailyledger"),
        ("This article was first published by The Daily Ledger on 4 March 2026.", "dailyledger"),
        ("This story was first published at Harbour Watch", "harbourwatch"),
        ("First published in the Daily Ledger", "dailyledger"),
        ("Source: Zero Hedge", "zerohedge"),
        ("SOURCE: zerohedge.com", "zerohedge"),
        ("Republished with permission from Harbour Watch", "harbourwatch"),
        ("Republished from The Daily Ledger", "dailyledger"),
        ("Reprinted with kind permission of Morning Wire.", "morningwire"),
        ("Cross-posted from Coastal Digest", "coastaldigest"),
        ("via Zero Hedge", "zerohedge"),
        ("Via: Morning Wire", "morningwire"),
        ("Continue reading at The Daily Ledger", "dailyledger"),
        ("Continue reading this article on Zero Hedge", "zerohedge"),
        ("Read more at Daily Ledger", "dailyledger"),
        ("Read the full story at Morning Wire", "morningwire"),
        ("(Read more at https://www.zerohedge.com/news/2015-10-28/some-story)", "zerohedge"),
        ("The post Ferry times change appeared first on Coastal Digest.", "coastaldigest"),
        ("Courtesy of Harbour Watch", "harbourwatch"),
    ],
)
def test_phrasings_resolve_to_sites(sites, line, site):
    claim = parse_claim(line, sites)
    assert claim is not None, line
    assert claim["claimed_site"] == site
    assert claim["kind"] == "attribution"
    assert claim["evidence"] == line


def test_unresolved_names_are_kept_as_claims(sites):
    claim = parse_claim("Source: The Valley Courier", sites)
    assert claim["claimed_site"] is None
    assert claim["claimed_name"] == "The Valley Courier"


def test_urls_are_kept_and_resolve_by_domain(sites):
    claim = parse_claim("Originally appeared at https://zerohedge.com/news/2015/iraq", sites)
    assert claim["claimed_url"] == "https://zerohedge.com/news/2015/iraq"
    assert claim["claimed_site"] == "zerohedge"


@pytest.mark.parametrize(
    "line",
    [
        # prose that mentions a source is article text, not a claim
        "Rather than paraphrase ourselves, we include our summary of what is going on, originally published here:",
        "Originally published here:",
        "Source: here",
        "The minister said the figures came via a leaked memo that three newspapers had seen and that he had not denied in any of his statements to parliament last week.",
        "Read more:",
        "Via",
        "Published in 2015 the report found that the harbour had silted up.",
    ],
)
def test_prose_is_not_a_claim(sites, line):
    assert parse_claim(line, sites) is None


def test_cross_site_canonical_is_a_claim(sites):
    item = {"url": "https://harbourwatch.example/x", "canonical_url": "https://dailyledger.example/y", "site": "harbourwatch"}
    claim = canonical_claim(item, sites)
    assert claim["kind"] == "canonical" and claim["claimed_site"] == "dailyledger"
    same = {"url": "https://dailyledger.example/x?utm=1", "canonical_url": "https://dailyledger.example/x", "site": "dailyledger"}
    assert canonical_claim(same, sites) is None
