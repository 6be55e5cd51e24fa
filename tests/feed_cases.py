"""Feed and sitemap cases modelled on the published test suites of feedparser
(github.com/kurtmckee/feedparser, tests/wellformed, tests/illformed) and
ultimate-sitemap-parser (github.com/GateNLP/ultimate-sitemap-parser, tests/tree).

Each case is our own file (fictional hosts), written after one of the peer's cases: the peer
case it follows, the links the peer reads from such a document (its test's expectation), and
whether the document is well-formed. ``test_feeds.py`` checks collector against every case;
``bench/feed_cases.py`` prints the report (docs/feeds.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str
    peer: str                 # "feedparser" or "usp"
    peer_case: str            # the peer's test file or test function
    kind: str                 # "feed" or "sitemap"
    body: str
    links: tuple[str, ...]    # the links the peer reads (its expectation)
    well_formed: bool = True
    base: str = "http://news.example/feed"
    dates: dict = field(default_factory=dict)  # link -> the entry date collector must carry
    note: str = ""            # where collector deliberately differs from the peer


def _rss(items: str, attrs: str = 'version="2.0"', head: str = "") -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>{head}\n<rss {attrs}><channel><title>T</title>{items}</channel></rss>'


def _atom(entries: str, attrs: str = "") -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"{attrs}><title>T</title>{entries}</feed>'


def _atom03(entries: str, attrs: str = "") -> str:
    return f'<feed version="0.3" xmlns="http://purl.org/atom/ns#"{attrs}>{entries}</feed>'


_URLSET = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{urls}</urlset>'
_NEWS_NS = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _news_url(loc: str, date: str) -> str:
    return (f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Harbour News</news:name>"
            f"<news:language>en</news:language></news:publication><news:publication_date>{date}</news:publication_date>"
            f"<news:title>A story</news:title></news:news></url>")


FEEDPARSER = [
    Case("rss-item-link", "feedparser", "wellformed/rss/item_link", "feed",
         _rss("<item><link>http://news.example/a</link></item>"), ("http://news.example/a",)),
    Case("rss-guid-is-link", "feedparser", "wellformed/rss/item_guid_guidislink", "feed",
         _rss("<item><guid>http://news.example/by-guid</guid></item>"), ("http://news.example/by-guid",)),
    Case("rss-guid-permalink", "feedparser", "wellformed/rss/item_guid_isPermaLink_map_link", "feed",
         _rss('<item><guid isPermaLink="true">http://news.example/permalink</guid></item>'), ("http://news.example/permalink",)),
    Case("rss-guid-does-not-override-link", "feedparser", "wellformed/rss/item_guid_conflict_link", "feed",
         _rss("<item><link>http://news.example/link</link><guid>http://news.example/guid</guid></item>"), ("http://news.example/link",)),
    Case("rss-guid-not-permalink", "feedparser", "wellformed/rss/item_guid_not_permalink_conflict_link", "feed",
         _rss('<item><link>http://news.example/link</link><guid isPermaLink="false">http://news.example/guid</guid></item>'),
         ("http://news.example/link",)),
    Case("rss-guid-not-permalink-not-url", "feedparser", "wellformed/rss/item_guid_not_permalink_not_url", "feed",
         _rss('<item><guid isPermaLink="false">abc-123</guid></item>', attrs='version="2.0" xml:base="http://news.example/"'), ()),
    Case("rss-guid-bad-url", "feedparser", "wellformed/rss/item_guid_isPermaLink_ValueError", "feed",
         _rss('<item><guid isPermaLink="true">http://news.exa[mple/</guid></item><item><link>http://news.example/fine</link></item>',
              attrs='xml:base="http://news.example/"'), ("http://news.example/fine",)),
    Case("rss-image-link-does-not-bleed", "feedparser", "wellformed/rss/item_image_link_conflict", "feed",
         _rss("<item><link>http://news.example/item</link><image><link>http://news.example/imagelink</link></image></item>"),
         ("http://news.example/item",)),
    Case("rss-relative-link-docuri", "feedparser", "wellformed/base/http_item_link_base_docuri", "feed",
         _rss("<item><link>/relative/uri</link></item>"), ("http://news.example/relative/uri",)),
    Case("rss-xml-base", "feedparser", "wellformed/base/entry_content_xml_base_inherit", "feed",
         _rss('<item xml:base="http://other.example/section/"><link>story-1</link></item><item><link>story-2</link></item>',
              attrs='version="2.0" xml:base="http://news.example/parent/"'),
         ("http://other.example/section/story-1", "http://news.example/parent/story-2")),
    Case("rss-dc-date", "feedparser", "wellformed/rss/item_dc_date", "feed",
         _rss("<item><link>http://news.example/dated</link><dc:date>2026-03-04T08:00:00+00:00</dc:date></item>",
              attrs='version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'),
         ("http://news.example/dated",), dates={"http://news.example/dated": "2026-03-04T08:00:00+00:00"}),
    Case("rss-pubdate", "feedparser", "wellformed/rss/item_pubDate", "feed",
         _rss("<item><link>http://news.example/pub</link><pubDate>Wed, 04 Mar 2026 08:00:00 GMT</pubDate></item>"),
         ("http://news.example/pub",), dates={"http://news.example/pub": "Wed, 04 Mar 2026 08:00:00 GMT"}),
    Case("rss-0.91", "feedparser", "wellformed/rss/rss_version_091_netscape", "feed",
         _rss("<item><title>x</title><link>http://news.example/091</link></item>", attrs='version="0.91"'), ("http://news.example/091",)),
    Case("rdf-item-link", "feedparser", "wellformed/rdf/rdf_item_link", "feed",
         '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">'
         '<channel rdf:about="http://news.example/index.rdf"><items><rdf:Seq><rdf:li resource="http://news.example/1"/></rdf:Seq></items></channel>'
         '<item rdf:about="http://news.example/1"><link>http://news.example/1</link></item></rdf:RDF>', ("http://news.example/1",)),
    Case("rss-atom-link-in-item", "feedparser", "wellformed/atom10/entry_link_href (atom:link inside RSS)", "feed",
         _rss('<item><atom:link rel="alternate" href="http://news.example/atom-in-rss"/></item>',
              attrs='version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'), ("http://news.example/atom-in-rss",)),
    Case("feedburner-origlink", "feedparser", "feedburner origLink (FeedBurner namespace)", "feed",
         _rss("<item><link>http://feeds.example/~r/news/~3/abc/</link><feedburner:origLink>http://news.example/original</feedburner:origLink></item>",
              attrs='version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'), ("http://news.example/original",)),
    Case("atom10-link-href", "feedparser", "wellformed/atom10/entry_link_href", "feed",
         _atom('<entry><link rel="alternate" type="text/html" href="http://news.example/a"/></entry>'), ("http://news.example/a",)),
    Case("atom10-link-no-rel", "feedparser", "wellformed/atom10/entry_link_no_rel", "feed",
         _atom('<entry><link type="text/html" href="http://news.example/no-rel"/></entry>'), ("http://news.example/no-rel",)),
    Case("atom10-link-no-type", "feedparser", "wellformed/atom10/entry_link_alternate_map_link_3", "feed",
         _atom('<entry><link rel="alternate" href="http://news.example/alternate"></link>'
               '<link rel="related" type="text/html" href="http://news.example/related"></link>'
               '<link rel="via" type="text/html" href="http://news.example/via"></link></entry>'), ("http://news.example/alternate",)),
    Case("atom10-link-xhtml", "feedparser", "wellformed/atom10/entry_link_multiple", "feed",
         _atom('<entry><link rel="alternate" type="application/xhtml+xml" href="http://news.example/x"/>'
               '<link rel="service.post" type="application/atom+xml" href="http://news.example/post"/></entry>'), ("http://news.example/x",)),
    Case("atom10-link-as-text", "feedparser", "wellformed/atom10/entry_link_no_href_link_priority", "feed",
         _atom('<entry><link rel="alternate" type="text/html">http://news.example/alternate-1</link>'
               '<link rel="enclosure" type="text/html">http://news.example/enclosure</link></entry>'
               '<entry><link rel="enclosure" type="text/html">http://news.example/enclosure-2</link>'
               '<link rel="alternate" type="text/html">http://news.example/alternate-2</link></entry>'),
         ("http://news.example/alternate-1", "http://news.example/alternate-2")),
    Case("atom10-rel-self-only", "feedparser", "wellformed/atom10/entry_link_rel_self", "feed",
         _atom('<entry><link rel="self" type="text/html" href="http://news.example/self"/></entry>'), ()),
    Case("atom10-rel-enclosure-only", "feedparser", "wellformed/atom10/entry_link_rel_enclosure", "feed",
         _atom('<entry><link rel="enclosure" type="audio/mpeg" href="http://news.example/a.mp3"/></entry>'), ()),
    Case("atom10-relative-docuri", "feedparser", "wellformed/base/http_entry_link_base_docuri", "feed",
         _atom('<entry><link rel="alternate" type="text/html" href="/relative/link"/></entry>'), ("http://news.example/relative/link",)),
    Case("atom10-xml-base-feed", "feedparser", "wellformed/base/entry_content_xml_base_inherit_4", "feed",
         _atom('<entry><link href="story.html"/></entry>', attrs=' xml:base="http://news.example/parent/"'),
         ("http://news.example/parent/story.html",)),
    Case("atom10-xml-base-entry", "feedparser", "wellformed/base/entry_title_xml_base", "feed",
         _atom('<entry xml:base="http://news.example/info/"><link href="story.html"/></entry>', attrs=' xml:base="http://news.example/parent/"'),
         ("http://news.example/info/story.html",)),
    Case("atom10-dates", "feedparser", "wellformed/atom10/entry_published / entry_updated", "feed",
         _atom('<entry><link href="http://news.example/p"/><updated>2026-03-05T10:00:00Z</updated><published>2026-03-04T08:00:00Z</published></entry>'
               '<entry><link href="http://news.example/u"/><updated>2026-03-06T10:00:00Z</updated></entry>'),
         ("http://news.example/p", "http://news.example/u"),
         dates={"http://news.example/p": "2026-03-04T08:00:00Z", "http://news.example/u": "2026-03-06T10:00:00Z"}),
    Case("atom03-link", "feedparser", "wellformed/atom/entry_link_href", "feed",
         _atom03('<entry><link rel="alternate" type="text/html" href="http://news.example/03"/></entry>'), ("http://news.example/03",)),
    Case("atom03-link-as-text", "feedparser", "wellformed/atom/entry_link_no_href", "feed",
         _atom03('<entry><link rel="alternate" type="text/html">http://news.example/03-text</link></entry>'), ("http://news.example/03-text",)),
    Case("escaped-ampersand", "feedparser", "illformed/rss_item_link_corrupted_ampersands", "feed",
         _rss("<item><link>http://news.example/get?a=1&amp;b=2</link></item>"), ("http://news.example/get?a=1&b=2",), well_formed=False),
    Case("bare-ampersand", "feedparser", "illformed/rss_item_link_corrupted_ampersands (bare &)", "feed",
         _rss("<item><link>http://news.example/story?id=2&page=1</link></item><item><link>http://news.example/b</link></item>"),
         ("http://news.example/story?id=2&page=1", "http://news.example/b"), well_formed=False),
    Case("undefined-entity", "feedparser", "entities/doesnotexist", "feed",
         _rss("<item><title>testing &doesnotexist; entity&nbsp;here</title><link>http://news.example/ent</link></item>"),
         ("http://news.example/ent",), well_formed=False),
    Case("html-entity-in-link", "feedparser", "entities/160 (&nbsp; and friends)", "feed",
         _rss("<item><link>http://news.example/caf&eacute;</link></item>"), ("http://news.example/café",), well_formed=False),
    Case("strip-doctype", "feedparser", "illformed/always_strip_doctype", "feed",
         '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://site.invalid/">'
         + _rss("<item><link>http://news.example/d</link></item>").split("?>", 1)[1], ("http://news.example/d",), well_formed=False),
    Case("cdata-link", "feedparser", "wellformed/rss/item_link (CDATA)", "feed",
         _rss("<item><link><![CDATA[http://news.example/q?a=1&b=2]]></link></item>"), ("http://news.example/q?a=1&b=2",)),
    Case("truncated-feed", "feedparser", "illformed/rss_incomplete_cdata", "feed",
         _rss("<item><link>http://news.example/whole</link></item>").split("</channel>")[0] + "<item><title><![CD",
         ("http://news.example/whole",), well_formed=False),
    Case("undeclared-namespace", "feedparser", "illformed/undeclared_namespace", "feed",
         _rss("<itunes:subtitle>Foo</itunes:subtitle><item><link>http://news.example/ns</link></item>"), ("http://news.example/ns",),
         well_formed=False),
]

BASE = "http://news.example"

USP = [
    Case("urlset-news", "usp", "test_basic::test_sitemap_tree_for_homepage", "sitemap",
         _URLSET.format(ns=_NEWS_NS, urls=_news_url(f"{BASE}/news/first.html", "2026-03-04T08:00:00+00:00")
                        + _news_url(f"{BASE}/news/second.html", "2026-03-05T09:30:00+01:00")),
         (f"{BASE}/news/first.html", f"{BASE}/news/second.html"), base=f"{BASE}/sitemap_news.xml",
         dates={f"{BASE}/news/first.html": "2026-03-04T08:00:00+00:00", f"{BASE}/news/second.html": "2026-03-05T09:30:00+01:00"}),
    Case("urlset-lastmod", "usp", "test_basic::test_sitemap_tree_for_homepage (pages)", "sitemap",
         _URLSET.format(ns="", urls=f"<url><loc>{BASE}/about.html</loc><lastmod>2026-03-01</lastmod><changefreq>monthly</changefreq>"
                                  f"<priority>0.8</priority></url>"),
         (f"{BASE}/about.html",), base=f"{BASE}/sitemap_pages.xml", dates={f"{BASE}/about.html": "2026-03-01"}),
    Case("index", "usp", "test_basic::test_sitemap_tree_for_homepage (index)", "sitemap",
         '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         f"<sitemap><loc>{BASE}/sitemap_news_1.xml</loc><lastmod>2026-03-04</lastmod></sitemap>"
         f"<sitemap><loc>{BASE}/sitemap_news_2.xml.gz</loc></sitemap></sitemapindex>",
         (f"{BASE}/sitemap_news_1.xml", f"{BASE}/sitemap_news_2.xml.gz"), base=f"{BASE}/sitemap_index.xml"),
    Case("utf8-bom", "usp", "test_edges::test_sitemap_tree_for_homepage_utf8_bom", "sitemap",
         "\ufeff" + _URLSET.format(ns=_NEWS_NS, urls=_news_url(f"{BASE}/news/bom.html", "2026-03-04T08:00:00+00:00")),
         (f"{BASE}/news/bom.html",), base=f"{BASE}/sitemap.xml", dates={f"{BASE}/news/bom.html": "2026-03-04T08:00:00+00:00"}),
    Case("no-namespace", "usp", "test_edges::test_sitemap_no_ns", "sitemap",
         f"<?xml version='1.0' encoding='UTF-8'?><urlset><url><loc>{BASE}/no-ns.html</loc><lastmod>2026-03-02</lastmod>"
         "<random_tag>random_value</random_tag></url></urlset>", (f"{BASE}/no-ns.html",), base=f"{BASE}/sitemap_pages.xml"),
    Case("truncated-missing-close", "usp", "test_edges::test_truncated_sitemap_missing_close_urlset", "sitemap",
         _URLSET.format(ns="", urls="".join(f"<url><loc>{BASE}/page_{i}.html</loc></url>" for i in range(50))).rsplit("</urlset>", 1)[0],
         tuple(f"{BASE}/page_{i}.html" for i in range(50)), well_formed=False, base=f"{BASE}/sitemap.xml"),
    Case("truncated-mid-url", "usp", "test_edges::test_truncated_sitemap_mid_url", "sitemap",
         _URLSET.format(ns="", urls="".join(f"<url><loc>{BASE}/page_{i}.html</loc></url>" for i in range(49))).rsplit("</urlset>", 1)[0]
         + f"<url><loc>{BASE}/page_", tuple(f"{BASE}/page_{i}.html" for i in range(49)), well_formed=False, base=f"{BASE}/sitemap.xml"),
    Case("prematurely-ending", "usp", "test_xml::test_sitemap_tree_for_homepage_prematurely_ending_xml", "sitemap",
         _URLSET.format(ns=_NEWS_NS, urls=_news_url(f"{BASE}/news/first.html", "2026-03-04T08:00:00+00:00")
                        + f"<url><loc>{BASE}/news/second.html</loc><news:news><news:publication><news:name>Harbour"),
         (f"{BASE}/news/first.html",), well_formed=False, base=f"{BASE}/sitemap.xml"),
    Case("plain-text", "usp", "test_plain_text::test_sitemap_tree_for_homepage_plain_text", "sitemap",
         f"\n{BASE}/news/foo.html\n\n\n{BASE}/news/bar.html\n\nSome other stuff which totally doesn't look like an URL\n",
         (f"{BASE}/news/foo.html", f"{BASE}/news/bar.html"), base=f"{BASE}/sitemap_1.txt"),
    Case("rss-as-sitemap", "usp", "test_rss_atom::test_sitemap_tree_for_homepage_rss_atom (RSS)", "sitemap",
         _rss(f"<item><title>First</title><link>{BASE}/news/rss_1.html</link><pubDate>Wed, 04 Mar 2026 08:00:00 GMT</pubDate></item>"
              f"<item><title>Second</title><link>{BASE}/news/rss_2.html</link></item>"),
         (f"{BASE}/news/rss_1.html", f"{BASE}/news/rss_2.html"), base=f"{BASE}/sitemap_rss.xml",
         dates={f"{BASE}/news/rss_1.html": "Wed, 04 Mar 2026 08:00:00 GMT"}),
    Case("atom-as-sitemap", "usp", "test_rss_atom::test_sitemap_tree_for_homepage_rss_atom (Atom 1.0)", "sitemap",
         _atom(f'<entry><title>First</title><link rel="alternate" href="{BASE}/news/atom_1.html"/><updated>2026-03-04T08:00:00Z</updated></entry>'),
         (f"{BASE}/news/atom_1.html",), base=f"{BASE}/sitemap_atom_1_0.xml", dates={f"{BASE}/news/atom_1.html": "2026-03-04T08:00:00Z"}),
    Case("atom03-as-sitemap", "usp", "test_rss_atom::test_sitemap_tree_for_homepage_rss_atom (Atom 0.3)", "sitemap",
         _atom03(f'<entry><title>First</title><link rel="alternate" type="text/html" href="{BASE}/news/atom_0_3.html"/>'
                 "<issued>2026-03-04T08:00:00Z</issued></entry>"),
         (f"{BASE}/news/atom_0_3.html",), base=f"{BASE}/sitemap_atom_0_3.xml", dates={f"{BASE}/news/atom_0_3.html": "2026-03-04T08:00:00Z"}),
    Case("empty-feed-as-sitemap", "usp", "test_rss_atom::test_sitemap_tree_for_homepage_rss_atom_empty", "sitemap",
         _rss(""), (), base=f"{BASE}/sitemap_rss.xml"),
    Case("image-sitemap", "usp", "test_xml_exts::test_xml_image", "sitemap",
         _URLSET.format(ns=' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"',
                        urls=f"<url><loc>{BASE}/img-page.html</loc><image:image><image:loc>{BASE}/a.jpg</image:loc></image:image>"
                             f"<image:image><image:loc>{BASE}/b.jpg</image:loc></image:image></url>"),
         (f"{BASE}/img-page.html",), base=f"{BASE}/sitemap.xml"),
    Case("hreflang", "usp", "test_xml_exts::test_hreflang / test_missing_attrs", "sitemap",
         _URLSET.format(ns=' xmlns:xhtml="http://www.w3.org/1999/xhtml"',
                        urls=f'<url><loc>{BASE}/en/page</loc><xhtml:link rel="alternate" hreflang="fr-FR" href="{BASE}/fr/page"/></url>'
                             f'<url><loc>{BASE}/fr/page</loc><xhtml:link rel="alternate" hreflang="en-GB"/></url>'),
         (f"{BASE}/en/page", f"{BASE}/fr/page"), base=f"{BASE}/sitemap.xml"),
    Case("billion-laughs", "usp", "test_security::test_billion_laughs_attack", "sitemap",
         '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
         + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
         + f']>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{BASE}/page.html</loc></url>'
           f"<url><loc>{BASE}/&lol9;</loc></url></urlset>",
         (), base=f"{BASE}/sitemap.xml",
         note="the peer refuses the whole sitemap; collector expands nothing, reports the entities and reads the plain <loc>"),
]

#: Our own cases beyond the peers' suites: hostile and sloppy documents seen in the wild.
OWN = [
    Case("external-entity", "collector", "XXE: an external entity in a feed", "feed",
         _rss("<item><title>&xxe;</title><link>http://news.example/safe</link></item><item><link>http://news.example/&xxe;</link></item>",
              head='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
         ("http://news.example/safe",), well_formed=True,
         note="the entity is never resolved; the entry whose link uses it is dropped"),
    Case("bare-ampersand-sitemap", "collector", "a bare & in a sitemap <loc>", "sitemap",
         _URLSET.format(ns="", urls=f"<url><loc>{BASE}/story?id=2&page=1</loc></url>"),
         (f"{BASE}/story?id=2&page=1",), well_formed=False, base=f"{BASE}/sitemap.xml",
         note="repaired as in feeds"),
]

#: Cases where collector reads more than the peer on purpose (the note says why): compared
#: against what collector must read instead.
COLLECTOR_READS = {
    "billion-laughs": (f"{BASE}/page.html",),
}

PEER_CASES = FEEDPARSER + USP
CASES = PEER_CASES + OWN
