"""Feeds and sitemaps: collector reads the links (and entry dates) of every case modelled on
feedparser's and ultimate-sitemap-parser's test suites (tests/feed_cases.py), never resolving
an entity; and the crawl reads feeds and sitemaps served over HTTP in every shape."""

from __future__ import annotations

import pytest
from feed_cases import CASES, COLLECTOR_READS

from collector.crawl.feeds import NotAFeed, parse_feed, repair
from collector.crawl.sitemaps import NotASitemap, parse_sitemap


def read(case):
    """(links, dates, problems, entities) collector reads from a case."""
    body = case.body.encode("utf-8")
    try:
        if case.kind == "feed":
            found = parse_feed(body, base_url=case.base)
            return found.links, {e.link: e.published for e in found.entries}, found.problems, found.entities
        found = parse_sitemap(body, base_url=case.base)
    except (NotAFeed, NotASitemap):
        return [], {}, [], []
    links = [e.link for e in found.entries] + found.sitemaps
    return links, {e.link: e.published for e in found.entries}, found.problems, found.entities


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_links_and_dates(case):
    links, dates, problems, entities = read(case)
    expected = COLLECTOR_READS.get(case.name, case.links)
    assert [_decoded(u) for u in links] == list(expected)
    for link, date in case.dates.items():
        assert dates[link] == date
    if "lol" in case.body or "xxe" in case.body:
        assert entities  # reported, never expanded
        assert not any("lollol" in u or "passwd" in u for u in links)


def _decoded(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url) if "%" in url and "é" not in url else url


def test_a_bad_entry_is_reported_and_the_others_read():
    case = next(c for c in CASES if c.name == "rss-guid-bad-url")
    links, _, problems, _ = read(case)
    assert links == ["http://news.example/fine"]
    assert len(problems) == 1 and "entry 1" in problems[0]


def test_repair_never_expands_and_leaves_cdata_alone():
    body = b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e; &amp; a&b &nbsp; &zz; <![CDATA[x&y]]></r>'
    fixed, entities = repair(body)
    assert entities == ['e (SYSTEM "file:///etc/passwd")'] and b"ENTITY" not in fixed
    assert "\ue000".encode() in fixed and b"&amp;b" in fixed and b"&#160;" in fixed and b"&amp;zz;" in fixed
    assert b"<![CDATA[x&y]]>" in fixed


def test_billion_laughs_in_a_feed_is_not_expanded():
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 12)).replace("&l0;", "ha")
    body = f'<?xml version="1.0"?><!DOCTYPE rss [{laughs}]><rss><channel><item><title>&l11;</title><link>http://a.example/1</link></item></channel></rss>'
    feed = parse_feed(body.encode(), base_url="http://a.example/feed")
    assert feed.links == ["http://a.example/1"] and len(feed.entities) == 11
