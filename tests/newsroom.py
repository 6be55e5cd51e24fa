"""Local news sites that republish each other, for the Scrapyd dispatch tests and bench.

``Newsroom(root, sites=4, articles=10)`` starts one ``SiteServer`` per site on 127.0.0.1:
each site has ``articles`` stories of its own and reposts the first ``reposts`` stories of
the site before it (the last line names where it originally appeared), all listed by one
RSS feed; its config is written under ``root/configs``. ``ServedPages(root, pages, sites=4)``
serves pages read in from elsewhere (the shared corpora's real HTML) the same way, dealt
round-robin over the sites, each listing its pages in one sitemap. ``contents(db)`` is what a
database (a SQLite file or a PostgreSQL URL) holds of them (documents, links, claims), by URL,
free of row ids and fetch times, so two runs can be compared whatever order or backend they
stored the documents in.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import rows
from sites_server import SiteServer, article_page, rss, site_config, story, urlset

NAMES = ["Harbour News", "Coastal Reposts", "Ridge Courier", "Valley Ledger", "Delta Post", "Summit Daily"]


def site_name(k: int) -> str:
    return NAMES[k] if k < len(NAMES) else f"Town {k} Gazette"


class Newsroom:
    def __init__(self, root: Path, sites: int = 4, articles: int = 10, reposts: int = 2, delay: float = 0.0, seed: int = 0):
        self.config = root / "configs"
        self.servers: dict[str, SiteServer] = {}
        for k in range(sites):
            key = f"news{k}"
            server = self.servers[key] = SiteServer(key).start()
            name = site_name(k)
            links = []
            for j in range(articles):
                title, paragraphs = story(seed * 100_000 + k * 1000 + j)
                links.append(server.add(f"/{k}/story-{j}", article_page(title, paragraphs, site_name=name,
                             published=f"2026-03-{1 + j % 27:02d}T08:00:00+00:00"), delay=delay))
            if k > 0:
                for j in range(min(reposts, articles)):
                    title, paragraphs = story(seed * 100_000 + (k - 1) * 1000 + j)
                    links.append(server.add(f"/{k}/repost-{j}", article_page(
                        title, paragraphs, site_name=name, published=f"2026-03-{1 + j % 27:02d}T20:00:00+00:00",
                        bottom=(f"Originally appeared at {site_name(k - 1)}.",)), delay=delay))
            server.add("/feed.xml", rss(name, links), content_type="application/rss+xml")
            server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
            site_config(self.config, key, name=name, domains=[server.host], feeds=[server.url("/feed.xml")])
        self.pages = sum(len(s.routes) - 2 for s in self.servers.values())  # articles, not feeds or robots.txt

    def add_unreachable(self, key: str = "gone") -> str:
        """A site whose feed is on a port nothing listens on: its crawl fetches nothing and fails."""
        from scrapyd_nodes import free_port

        port = free_port()
        site_config(self.config, key, name="Gone Gazette", domains=[f"127.0.0.1:{port}"], feeds=[f"http://127.0.0.1:{port}/feed.xml"])
        return key

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


class ServedPages:
    """``pages`` (raw HTML bytes, served as they are: each page's own ``<meta charset>`` decides
    its encoding) dealt round-robin over ``sites`` local sites, each with a sitemap and robots.txt."""

    def __init__(self, root: Path, pages: list[bytes], sites: int = 4):
        self.config = root / "configs"
        self.servers = [SiteServer(f"pages{k}").start() for k in range(sites)]
        links: list[list[str]] = [[] for _ in self.servers]
        for n, page in enumerate(pages):
            k = n % sites
            links[k].append(self.servers[k].add(f"/{k}/page-{n}.html", page, content_type="text/html"))
        for k, server in enumerate(self.servers):
            server.add("/sitemap.xml", urlset(links[k]), content_type="application/xml")
            server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
            site_config(self.config, f"pages{k}", name=f"Served Pages {k}", domains=[server.host],
                        sitemaps=[server.url("/sitemap.xml")])
        self.pages = len(pages)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def contents(db) -> dict:
    """Documents, links and claims by URL, on either backend (evidence names documents by URL)."""
    urls = {r["id"]: r["url"] for r in rows(db, "SELECT id, url FROM documents")}

    def named(evidence: str) -> str:
        return re.sub(r"#(\d+)", lambda m: urls.get(int(m.group(1)), m.group(0)), evidence or "")

    documents = sorted(tuple(r.values()) for r in rows(
        db, "SELECT url, site, title, author, published, text, chrome, canonical_url, sitename, language, content_hash,"
            " words, shingles FROM documents"))
    links = sorted((urls[r["copy_id"]], urls[r["origin_id"]], r["relation"], round(r["similarity"], 6),
                    round(r["containment"], 6), named(r["evidence"]))
                   for r in rows(db, "SELECT copy_id, origin_id, relation, similarity, containment, evidence FROM links"))
    claims = sorted((urls[r["doc_id"]], *list(r.values())[1:]) for r in rows(
        db, "SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims"))
    return {"documents": documents, "links": links, "claims": claims}
