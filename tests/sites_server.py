"""Real HTTP servers on 127.0.0.1 for crawl tests and the crawl benchmark.

A ``SiteServer`` serves a table of routes (body, Content-Type, status, extra headers, a
delay) from a thread, counts hits per path (query strings ignored), records the status of
every answer, and answers conditional requests (ETag / Last-Modified) for routes that
carry validators. The pages are fictional (``textgen``) unless a test reads others in.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from textgen import article

LAST_MODIFIED = "Wed, 04 Mar 2026 09:00:00 GMT"


@dataclass
class Route:
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    validators: bool = False  # answer with ETag/Last-Modified, and 304 when they match
    length: bool = True       # send Content-Length (else the body ends when the connection closes)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a client that hangs up (a cancelled download, a killed crawler) is no error here


class SiteServer:
    def __init__(self, name: str):
        self.name = name
        self.routes: dict[str, Route] = {}
        self.hits: Counter = Counter()
        self.answers: list[tuple[str, int]] = []  # (path, status) of every answer
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    # --- content ------------------------------------------------------------------------
    def add(self, path: str, body: bytes | str = b"", **kwargs) -> str:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **kwargs)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- serving ------------------------------------------------------------------------
    def start(self) -> "SiteServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = urlsplit(self.path).path
                with server.lock:
                    server.hits[path] += 1
                route = server.routes.get(path)
                if route is None:
                    self._answer(path, 404, b"<html><body><p>not found</p></body></html>", "text/html", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                headers = dict(route.headers)
                if route.validators:
                    etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                    headers["ETag"] = etag
                    headers["Last-Modified"] = LAST_MODIFIED
                    if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                        self._answer(path, 304, b"", None, headers)
                        return
                self._answer(path, route.status, route.body, route.content_type, headers, route.length)

            def _answer(self, path, status, body, content_type, headers, length=True):
                with server.lock:
                    server.answers.append((path, status))
                try:
                    self.send_response(status)
                    if content_type:
                        self.send_header("Content-Type", content_type)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if status != 304 and length:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler hung up (a cancelled download): that is the point

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def statuses(self, path: str) -> list[int]:
        with self.lock:
            return [status for p, status in self.answers if p == path]


# --- pages and documents ------------------------------------------------------------------

def article_page(title: str, paragraphs: list[str], *, site_name: str, published: str, author: str = "Staff reporter",
                 top: tuple[str, ...] = (), bottom: tuple[str, ...] = (), canonical: str | None = None,
                 charset: str | None = "utf-8", nav: tuple[tuple[str, str], ...] = ()) -> str:
    """An HTML news page: navigation, a header, the article with its byline and date, a footer."""
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    menu = "".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for href, text in nav)
    body = "\n".join(f"<p>{escape(p)}</p>" for p in (*top, *paragraphs, *bottom))
    return f"""<!DOCTYPE html>
<html lang="en"><head>{meta_charset}<title>{escape(title)} | {escape(site_name)}</title>
<meta property="og:site_name" content="{escape(site_name)}">
<meta property="article:published_time" content="{published}">
<meta name="author" content="{escape(author)}">{link}</head>
<body><header><div class="logo">{escape(site_name)}</div><nav><ul>{menu}</ul></nav></header>
<main><article><h1>{escape(title)}</h1>
<p class="byline">By {escape(author)}, <time datetime="{published}">{published}</time></p>
{body}
</article></main>
<footer><p>Copyright {escape(site_name)}. All rights reserved.</p></footer></body></html>"""


def link_page(title: str, links: list[str]) -> str:
    items = "".join(f'<li><a href="{escape(href)}">{escape(href)}</a></li>' for href in links)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body><h1>{escape(title)}</h1><ul>{items}</ul></body></html>"


def rss(title: str, links: list[str], doctype: str = "") -> str:
    items = "".join(f"<item><title>item {i}</title><link>{escape(link)}</link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}<rss version="2.0"><channel><title>{escape(title)}</title>{items}</channel></rss>'


def atom(title: str, links: list[str]) -> str:
    entries = "".join(
        f'<entry><title>entry {i}</title><id>tag:test,2026:{i}</id><link rel="alternate" type="text/html" href="{escape(link)}"/></entry>'
        for i, link in enumerate(links)
    )
    return f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(title)}</title>{entries}</feed>'


def urlset(links: list[str], news: bool = False) -> str:
    if news:
        urls = "".join(
            f"<url><loc>{escape(link)}</loc><news:news><news:publication><news:name>Test</news:name>"
            f"<news:language>en</news:language></news:publication><news:publication_date>2026-03-04T09:00:00+00:00"
            f"</news:publication_date><news:title>story</news:title></news:news></url>"
            for link in links
        )
        ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    else:
        urls = "".join(f"<url><loc>{escape(link)}</loc><lastmod>2026-03-04</lastmod></url>" for link in links)
        ns = ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{urls}</urlset>'


def sitemap_index(links: list[str]) -> str:
    items = "".join(f"<sitemap><loc>{escape(link)}</loc></sitemap>" for link in links)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'


def gz(data: str | bytes) -> bytes:
    return gzip.compress(data.encode("utf-8") if isinstance(data, str) else data, mtime=0)


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(inflated_mb: int = 80) -> bytes:
    """A small gzip file (about 1/1000 of its size) that inflates to ``inflated_mb`` MB of spaces."""
    if inflated_mb not in _BOMBS:
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"<urlset>" + b" " * (1024 * 1024 - 8)
        parts = [z.compress(chunk)] + [z.compress(b" " * (1024 * 1024)) for _ in range(inflated_mb - 1)]
        parts.append(z.flush())
        _BOMBS[inflated_mb] = b"".join(parts)
    return _BOMBS[inflated_mb]


def story(seed: int) -> tuple[str, list[str]]:
    return article(seed)


_ONSETS = ["b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "pr", "r", "s", "st", "t", "tr", "v", "w", "z"]
_NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
_CODAS = ["", "", "n", "r", "s", "l", "m", "t", "nd", "st", "rk"]
_LEXICON_RNG = random.Random(20260304)
#: Two thousand invented words: texts drawn from them share a 5-word run only by chance,
#: as unrelated news articles do (textgen's templates share many, like wire copy).
LEXICON = sorted({
    "".join(_LEXICON_RNG.choice(_ONSETS) + _LEXICON_RNG.choice(_NUCLEI) + _LEXICON_RNG.choice(_CODAS) for _ in range(_LEXICON_RNG.randint(1, 3)))
    for _ in range(2600)
})[:2000]
_GLUE = ["the", "a", "of", "in", "on", "to", "and", "with", "for", "by", "at", "from", "after", "before", "said", "was", "were", "has", "had", "will"]


def prose(seed: int, paragraphs: int = 6, words: int = 70) -> tuple[str, list[str]]:
    """(title, paragraphs) of invented prose: English glue words around invented ones."""
    rng = random.Random(seed)

    def sentence() -> str:
        n = rng.randint(9, 18)
        tokens = [rng.choice(_GLUE) if rng.random() < 0.35 else rng.choice(LEXICON) for _ in range(n)]
        return " ".join(tokens).capitalize() + "."

    body = []
    for _ in range(paragraphs):
        text = []
        while sum(len(t.split()) for t in text) < words:
            text.append(sentence())
        body.append(" ".join(text))
    title = " ".join(rng.choice(LEXICON) for _ in range(rng.randint(4, 8))).capitalize() + f" ({seed})"
    return title, body


def site_config(path, key: str, **fields) -> None:
    """Write ``configs/sites/KEY.yaml`` (YAML is a superset of JSON: values are dumped as JSON)."""
    import json

    lines = [f"{name}: {json.dumps(value)}" for name, value in fields.items() if name != "chrome"]
    if "chrome" in fields:
        lines.append("chrome:")
        lines.extend(f"  {name}: {json.dumps(value)}" for name, value in fields["chrome"].items())
    target = path / "sites" / f"{key}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def slow_site(config, pages: int, seed: int, delay: float = 0.1, validators: bool = False) -> tuple[SiteServer, list[str]]:
    """A started site of ``pages`` invented articles, each answered after ``delay`` seconds and
    listed by one sitemap, its config ``slow`` written under ``config``: for killing a crawl
    midway. Returns the server (stop it) and the article paths."""
    server = SiteServer("slow").start()
    paths = [f"/a/{i}" for i in range(pages)]
    for i, path in enumerate(paths):
        title, paragraphs = prose(seed + i)
        server.add(path, article_page(title, paragraphs, site_name="Slow Times", published="2026-03-04T09:00:00+00:00"),
                   delay=delay)
    server.add("/sitemap.xml", urlset([server.url(p) for p in paths]), content_type="application/xml", validators=validators)
    site_config(config, "slow", name="Slow Times", domains=[server.host], sitemaps=[server.url("/sitemap.xml")])
    return server, paths
