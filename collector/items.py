"""The one item every source yields: spiders and importers alike."""

import base64

import scrapy


def _signature_text(minhash) -> str | None:
    """A signature in a feed export (when FEED_EXPORT_FIELDS asks for it): its stored bytes,
    base64 (JSON has no bytes, and a MinHash object is no JSON value)."""
    from pipelines.fingerprint import signature_bytes

    return base64.b64encode(signature_bytes(minhash)).decode("ascii") if minhash is not None else None


class Article(scrapy.Item):
    # Filled by the source (spider or importer).
    url = scrapy.Field()          # where the article lives (file:// URI for local files without one)
    source = scrapy.Field()       # "spider:NAME" or the file path (plus record/line) it came from
    site = scrapy.Field()         # site config key, when the source knows it
    html = scrapy.Field()         # page HTML, for the extract stage
    text = scrapy.Field()         # plain text (dumps, JSONL); extract leaves it alone
    title = scrapy.Field()
    author = scrapy.Field()
    published = scrapy.Field()    # as the source gives it; ISO-8601 after extract (collector.dates)
    published_raw = scrapy.Field()  # a published value that is not a readable date, kept as written
    page_published = scrapy.Field() # the page's own date (trafilatura), used when the source gives none
    fetched = scrapy.Field()      # ISO-8601 UTC
    redirected_from = scrapy.Field()  # crawls: URLs that redirected to ``url`` (remembered as aliases)
    listed_published = scrapy.Field() # crawls: the date the feed entry or sitemap URL gave, as written
    listed_from = scrapy.Field()      # crawls: "feed" or "sitemap", where listed_published comes from
    followed = scrapy.Field()     # crawls: a page reached by link-following (stored only if an article)
    first_line_is_title = scrapy.Field()  # plain-text dumps: title is the first non-chrome line
    raw_ref = scrapy.Field()      # where the raw input is kept (collector.archive): archive record or file
    # Filled by the stages.
    canonical_url = scrapy.Field()  # the page's canonical link, else its og:url
    published_from = scrapy.Field() # where ``published`` came from: page, source, feed or sitemap
    url_aliases = scrapy.Field()  # other URLs of the document (the page's own, when its canonical is taken)
    sitename = scrapy.Field()     # site name as the page states it
    language = scrapy.Field()
    content_hash = scrapy.Field() # of the raw input: unchanged input is not processed again
    chrome = scrapy.Field()       # list of stripped lines
    claims = scrapy.Field()       # list of dicts: claimed_site, claimed_name, claimed_url, evidence
    signature = scrapy.Field(serializer=_signature_text)  # datasketch MinHash
    shingle_count = scrapy.Field()
    shingles = scrapy.Field()     # the shingle set (sorted unique uint64 hashes), for the link stage
    doc_id = scrapy.Field()       # set by the store stage
    new_links = scrapy.Field()    # links this document added (set by the link stage)
    status = scrapy.Field()       # "new", "updated", "unchanged" or "variant" (set by the store stage)
    # Set after the stages in a crawl, for feed exports (-O, FEEDS, Scrapyd's items feed).
    origin_id = scrapy.Field()    # the origin of the document's group (itself when it is the origin)
    origin_url = scrapy.Field()
    relation = scrapy.Field()     # duplicate | copy | excerpt, or None for an origin
