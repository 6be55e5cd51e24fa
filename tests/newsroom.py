"""Local news sites that republish each other, for the Scrapyd dispatch tests and bench.

``Newsroom(root, sites=4, articles=10)`` starts one ``SiteServer`` per site on 127.0.0.1:
each site has ``articles`` stories of its own and reposts the first ``reposts`` stories of
the site before it (the last line names where it originally appeared), all listed by one
RSS feed; its config is written under ``root/configs``. ``contents(db)`` is what a
database holds of them (documents, links, claims), by URL, free of row ids and fetch times,
so two runs can be compared whatever order they stored the documents in.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sites_server import SiteServer, article_page, rss, site_config, story

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


def contents(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        urls = dict(conn.execute("SELECT id, url FROM documents"))
        documents = sorted(conn.execute(
            "SELECT url, site, title, author, published, text, chrome, canonical_url, sitename, language, content_hash, words, shingles"
            " FROM documents"))
        def named(evidence: str) -> str:  # the evidence names documents by id: by URL instead
            return re.sub(r"#(\d+)", lambda m: urls.get(int(m.group(1)), m.group(0)), evidence)

        links = sorted((urls[c], urls[o], rel, round(sim, 6), round(cont, 6), named(ev))
                       for c, o, rel, sim, cont, ev in conn.execute(
                           "SELECT copy_id, origin_id, relation, similarity, containment, evidence FROM links"))
        claims = sorted((urls[d], kind, site, name, url, ev) for d, kind, site, name, url, ev in conn.execute(
            "SELECT doc_id, kind, claimed_site, claimed_name, claimed_url, evidence FROM claims"))
        return {"documents": documents, "links": links, "claims": claims}
    finally:
        conn.close()
