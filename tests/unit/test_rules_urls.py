"""URL canonicalisation (collector.core.urls): what goes, what stays, and that the result is
the very URL Scrapy requests."""

from __future__ import annotations

import random

import pytest
from scrapy import Request

from collector.core.urls import canonical_url, same_site, site_host
from collector.core.sites import Site, Sites

CASES = {
    # scheme and host lower-cased, default port, fragment and trackers gone, the rest in order
    "HTTPS://WWW.Example.COM:443/Path/A?utm_source=x&id=3&fbclid=1#frag": "https://www.example.com/Path/A?id=3",
    "http://example.com:8080/a": "http://example.com:8080/a",
    "http://example.com:80/a": "http://example.com/a",
    "https://example.com": "https://example.com/",
    "https://example.com/a?": "https://example.com/a",
    "  https://example.com/a  ": "https://example.com/a",
    # a channel-naming parameter goes only when its value is a channel
    "https://example.com/a?ref=rss": "https://example.com/a",
    "https://example.com/a?Ref=RSS&ITM_campaign=z": "https://example.com/a",
    "https://example.com/a?ref=v2": "https://example.com/a?ref=v2",
    "https://example.com/a?source=3&from=newsletter": "https://example.com/a?source=3",
    "https://example.com/a?source_id=4&cid=12": "https://example.com/a?source_id=4&cid=12",
    # parameter order and repetitions are the site's
    "https://example.com/a?b=2&a=1": "https://example.com/a?b=2&a=1",
    "https://example.com/a?x=1&x=2&utm_medium=3&x=3": "https://example.com/a?x=1&x=2&x=3",
    # as Scrapy's Request encodes: IDNA host, percent-encoded path, existing escapes kept
    "https://bücher.example/straße mit leerzeichen": "https://xn--bcher-kva.example/stra%C3%9Fe%20mit%20leerzeichen",
    "https://example.com/%7Euser/": "https://example.com/%7Euser/",
    "https://user:pw@example.com/a": "https://user:pw@example.com/a",
    "https://[::1]:8080/a": "https://[::1]:8080/a",
    # not web URLs: as given
    "file:///tmp/a.txt#line=7": "file:///tmp/a.txt#line=7",
    "mailto:someone@example.com": "mailto:someone@example.com",
    "not a url": "not a url",
    "https://example.com:99999/x": "https://example.com:99999/x",
}


@pytest.mark.parametrize("url", CASES)
def test_canonical_url(url):
    assert canonical_url(url) == CASES[url]


def _random_url(rng: random.Random) -> str:
    host = rng.choice(["Example.COM", "www.example.org", "m.news.example", "bücher.example", "例え.jp", "example.com:8443"])
    path = "/".join(rng.choice(["a", "B", "straße", "two words", "%7Euser", "x.html", "ü", ""]) for _ in range(rng.randint(0, 3)))
    params = [rng.choice(["id=3", "utm_source=rss", "ref=rss", "ref=v2", "page=2", "q=a b", "fbclid=XYZ", "x=", "ä=ö", "gclid=1"])
              for _ in range(rng.randint(0, 4))]
    return (f"{rng.choice(['http', 'https', 'HTTPS'])}://{host}/{path}" + ("?" + "&".join(params) if params else "")
            + rng.choice(["", "#top", "#"]))


@pytest.mark.parametrize("seed", range(3))
def test_canonical_urls_are_what_scrapy_requests_and_stable(seed):
    rng = random.Random(seed)
    for _ in range(300):
        url = canonical_url(_random_url(rng))
        assert Request(url).url == url          # requesting it asks for exactly the stored URL
        assert canonical_url(url) == url        # and canonicalising again changes nothing
        assert "utm_" not in url and "fbclid" not in url and "#" not in url


def test_site_host_drops_edition_prefixes_but_keeps_a_bare_domain():
    assert site_host("https://m.example.com/x") == "example.com"
    assert site_host("https://www2.example.com") == "example.com"
    assert site_host("https://amp.news.example.co.uk") == "news.example.co.uk"
    assert site_host("https://m.com") == "m.com"
    assert site_host("https://example.com:8443/") == "example.com:8443"
    assert site_host("file:///tmp/x") is None and site_host(None) is None


def test_same_site_by_config_else_by_host():
    sites = Sites([Site("ledger", "The Daily Ledger", domains=("dailyledger.example", "ledger-news.example"))])
    assert same_site("https://dailyledger.example/a", "https://ledger-news.example/b", sites)
    assert not same_site("https://dailyledger.example/a", "https://harbour.example/b", sites)
    assert same_site("https://m.harbour.example/a", "https://www.harbour.example/b", sites)
    assert not same_site("https://harbour.example/a", "https://harbour.example:8080/b")
    assert not same_site("file:///a", "file:///a")
