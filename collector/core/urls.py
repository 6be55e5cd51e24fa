"""One URL identity: the URL a document is stored under, whatever brought it in.

Every importer and every spider names documents through ``canonical_url`` (the driver,
``collector.driver.prepare``, applies it to every item; the spider and the skip-stored
check apply it before a request is made), so a page imported from a WARC and the same
page crawled from a feed are one document.

Built on w3lib, Scrapy's own URL library: ``safe_url_string`` percent-encodes a URL exactly
as a Scrapy ``Request`` does, so an imported URL with a space or a non-ASCII path is the
very string a crawl requests and stores. w3lib's ``canonicalize_url`` is not used: it sorts
the parameters, and ``?b=2&a=1`` is then no longer the URL the site published (some sites
route on parameter order); nor is ``url_query_cleaner``, which decides by name alone and
cannot drop ``ref=rss`` while keeping ``ref=v2``. Parameters are filtered here, one by one,
in their order, repeated ones too. courlan's tracker
regex was the other candidate; it is searched unanchored (any parameter whose name contains
``source``, ``ref``, ``session``, ``uid`` or ``cid`` goes: ``?source_id=4``, ``?cid=12``
name pages), and courlan sorts parameters too. Its anchored prefixes are in
``TRACKING_PARAMS`` below.

What goes: tracking parameters (``TRACKING_PARAMS``, and ``ref=rss``-style parameters
whose value names a channel, ``CHANNEL_PARAMS``), the fragment, an empty query, the
default port; scheme and host are lower-cased. What stays: the path as it is, and every
other parameter in its order. Variants that are other URLs of the same page (``m.`` hosts,
``/amp``, ``?output=print``) are not guessed from the URL: the page's canonical link says
so, and the store checks it against the text (``collector.core.identity``).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import safe_url_string

#: Parameters that say how a reader arrived, not which page it is: campaign tags, click ids
#: of ad and social platforms, mailing-list and analytics ids (with courlan's anchored
#: prefixes: itm_, mtm_, pk_, oly_, vero_, mkt_, ml_, ga_, gs_, ads_).
TRACKING_PARAMS = re.compile(
    r"^(?:(?:utm|itm|mtm|pk|piwik|matomo|oly|vero|mkt|ml|ga|gs|ads?|mc|hsa|stm)_\w*"
    r"|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|ysclid|twclid|ttclid|li_fat_id|igshid|igsh"
    r"|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|__hs[a-z]+|hsctatracking|mkt_tok|oly_anon_id|oly_enc_id"
    r"|rb_clickid|s_cid|ncid|cmpid|ocid|ref_src|ref_url|at_medium|at_campaign|at_custom\d*|sr_share"
    r"|wt\.mc_id|wt\.tsrc|cvid|spm|share_source|smid|sh|soc_src|soc_trk|__twitter_impression"
    r"|trk|trkcampaign|sc_campaign|sc_channel|sc_content|sc_medium|sc_outcome|sc_geo|sc_country)$",
    re.IGNORECASE,
)
#: Parameters that name a page on some sites (``?ref=v2`` of a repository, ``?source=3``)
#: and the channel a reader came through on others: dropped only when the value is a channel.
CHANNEL_PARAMS = {"ref", "src", "source", "from", "via", "cmp", "share", "feed", "channel", "partner"}
CHANNELS = re.compile(
    r"^(?:rss\w*|atom|feeds?|feedburner|twitter|tw|x|facebook|fb|linkedin|li|email|e-?mail\w*|newsletter\w*"
    r"|nl|social|share\w*|sharebar|whatsapp|wa|telegram|tg|reddit|flipboard|smartnews|push|hp|homepage"
    r"|home|frontpage|google\w*|gnews|news_?google|yahoo|msn|bing|app|ios|android|amp|mobile|web|widget"
    r"|related|recirc|outbrain|taboola|sidebar|footer|header|nav|menu|search|direct|copy|copylink)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _name_value(pair: str) -> tuple[str, str]:
    name, _, value = pair.partition("=")
    return name, value


def _is_tracker(name: str, value: str) -> bool:
    name = name.strip()
    if TRACKING_PARAMS.match(name):
        return True
    return name.lower() in CHANNEL_PARAMS and bool(CHANNELS.match(value.strip()))


@functools.lru_cache(maxsize=65536)  # a crawled URL is asked about 3-4 times on its way
def canonical_url(url: str) -> str:
    """The URL a web page is stored under, and checked against before it is requested.

    Not a web URL (``file:`` URIs of local files, ``mailto:``, garbage): returned as given,
    so a file's ``#line=7`` is kept.
    """
    if not isinstance(url, str):
        return url
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    try:
        url = safe_url_string(url)  # as Scrapy's Request does: IDNA host, percent-encoding
    except (ValueError, UnicodeError):
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _is_tracker(*_name_value(pair)))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


#: Host prefixes that name another edition of the same site, not another site.
_EDITION = re.compile(r"^(?:www\d?|m|mobile|amp|touch|wap)\.")


def site_host(url: str | None) -> str | None:
    """The URL's host without edition prefixes (``www.``, ``m.``, ``amp.``): what makes two
    URLs one site's when no site config says so."""
    try:
        parts = urlsplit(url or "")
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not host:
        return None
    while _EDITION.match(host) and host.count(".") >= 2:
        host = _EDITION.sub("", host, count=1)
    return f"{host}:{port}" if port and port != _DEFAULT_PORTS[parts.scheme.lower()] else host


def same_site(a: str | None, b: str | None, sites=None) -> bool:
    """Are two web URLs one site's? By the site configs' domains when one knows either URL,
    else by host (``m.`` and ``www.`` editions are the same host)."""
    if sites is not None:
        first, second = sites.for_url(a), sites.for_url(b)
        if first is not None or second is not None:
            return first is not None and second is not None and first.key == second.key
    host = site_host(a)
    return host is not None and host == site_host(b)
