"""The fictional sites: publishers and reposters, their chrome, configs and input formats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class SiteSpec:
    key: str
    name: str
    domain: str | None                      # None: no URL (plain-text dumps)
    aliases: list[str]
    role: str                               # "origin" or "repost"
    formats: dict[str, float]               # format -> weight
    configured: bool = True                 # False: no YAML at all (site key is the host)
    cfg_lines: list[str] = field(default_factory=list)
    cfg_patterns: list[str] = field(default_factory=list)
    cfg_xpaths: list[str] = field(default_factory=list)
    top: list[list[str]] = field(default_factory=list)      # chrome at the top: one list of variants per slot
    bottom: list[list[str]] = field(default_factory=list)   # chrome at the bottom (same)
    html_div: str | None = None             # an HTML block (class=pp-donate) the config's xpath drops
    url: str = "{domain}/{y}/{m}/{d}/{slug}"
    dup_url: str = "{domain}/print/{y}/{m}/{d}/{slug}"
    excerpt_rate: float = 0.12
    attr_rate: float = 0.6
    canonical_rate: float = 0.0
    undated_rate: float = 0.12
    site_flag: bool = False                 # imported with --site KEY (text dumps nothing recognises)

    def config_yaml(self) -> str:
        doc = {
            "name": self.name,
            "domains": [self.domain] if self.domain else [],
            "aliases": self.aliases,
            "feeds": [], "sitemaps": [], "start_urls": [], "follow": [], "articles": [],
            "schedule": "0 */6 * * *",
            "chrome": {"lines": self.cfg_lines, "patterns": self.cfg_patterns, "xpaths": self.cfg_xpaths},
        }
        return json.dumps(doc, ensure_ascii=False, indent=2)  # JSON is YAML


def make_sites() -> dict[str, SiteSpec]:
    return {s.key: s for s in original_publishers() + reposting_sites()}


def original_publishers() -> list[SiteSpec]:
    return [
        SiteSpec(
            "dailyledger", "The Daily Ledger", "dailyledger.example", ["Daily Ledger", "DailyLedger"], "origin",
            {"html": 0.5, "warc": 0.3, "html.gz": 0.2},
            # unconfigured share prompt inside the article container, on every page: learned
            bottom=[["Enjoyed this story? Share it with a friend and subscribe to The Daily Ledger."]],
        ),
        SiteSpec(
            "northerncourier", "Northern Courier", "www.northerncourier.example", ["The Courier", "NorthernCourier"], "origin",
            {"jsonl-text": 0.6, "jsonl-html": 0.4},
            cfg_lines=["Northern Courier — trusted local news since 1921"],
            top=[["Northern Courier — trusted local news since 1921"]],
            url="{domain}/news/{slug}-{id}", dup_url="{domain}/amp/news/{slug}-{id}",
        ),
        SiteSpec(
            # no config at all: documents get the host as site key, claims name it "Harbor Times"
            "harbortimes.example", "Harbor Times", "harbortimes.example", [], "origin",
            {"html": 1.0}, configured=False,
            top=[["Harbor Times subscribers get unlimited access to every story. Subscribe now."]],
            url="{domain}/stories/{id}/{slug}", dup_url="{domain}/stories/{id}/{slug}/amp",
        ),
    ]


def reposting_sites() -> list[SiteSpec]:
    return [
        SiteSpec(  # the seed's shape: configured banner top and bottom, configured comment rules
            "libertybulletin", "Liberty Bulletin", None, ["LibertyBulletin", "The Bulletin"], "repost",
            {"txt": 0.7, "txt.gz": 0.3},
            cfg_lines=["Support Liberty Bulletin - Go Ad-Free!"], cfg_patterns=["^Our commenting rules:"],
            top=[["Support Liberty Bulletin - Go Ad-Free!"]],
            bottom=[["Support Liberty Bulletin - Go Ad-Free!"],
                    ["Our commenting rules: Say what you like, but no personal attacks, no spam and no trolling. Full policy on our About page."]],
            attr_rate=0.75,
        ),
        SiteSpec(  # unconfigured donation banner at the top of every page: learned
            "gridreport", "The Grid Report", "gridreport.example", ["Grid Report", "GridReport"], "repost",
            {"html": 0.6, "html.gz": 0.4},
            top=[["Grid Report is reader-funded. Donate five dollars a month to keep us independent."]],
            url="{domain}/{y}/{m}/{slug}/", canonical_rate=0.3,
        ),
        SiteSpec(  # unconfigured newsletter line and comment policy at the bottom: learned
            "echodaily", "Echo Daily", "echodaily.example", ["EchoDaily", "Echo"], "repost",
            {"jsonl-text": 0.7, "jsonl-text.gz": 0.3},
            bottom=[["Get the Echo Daily newsletter: the day's news in five minutes, every morning."],
                    ["Comments are moderated. Keep it civil and on topic."]],
            url="{domain}/a/{id}",
        ),
        SiteSpec(  # configured line plus a configured XPath for a donation box (WARC)
            "patriotpulse", "Patriot Pulse", "patriotpulse.example", ["PatriotPulse", "The Pulse"], "repost",
            {"warc": 1.0},
            cfg_lines=["Patriot Pulse relies on readers like you. Chip in today."],
            cfg_xpaths=["//div[@class='pp-donate']"],
            bottom=[["Patriot Pulse relies on readers like you. Chip in today."]],
            html_div="Help us fight censorship: become a Patriot Pulse member for three dollars a month.",
            url="{domain}/news/{slug}", canonical_rate=0.2,
        ),
        SiteSpec(  # an aggregator of excerpts: configured share prompt, unconfigured curation line
            "worlddigest", "World Digest", "worlddigest.example", ["WorldDigest"], "repost",
            {"jsonl-html": 1.0},
            cfg_patterns=["^Share this article"],
            top=[["World Digest curates the best reporting from around the web."]],
            bottom=[["Share this article with your friends"]],
            url="{domain}/digest/{y}-{m}-{d}/{slug}", excerpt_rate=0.7, canonical_rate=0.5,
        ),
        SiteSpec(  # text dumps imported with --site; a rotating donation banner (3 variants)
            "commonsvoice", "Commons Voice", None, ["CommonsVoice"], "repost",
            {"txt": 1.0}, site_flag=True,
            # a fixed unconfigured line above the title, and a banner that rotates (3 variants) below
            top=[["Commons Voice — people-powered news, free for everyone"]],
            bottom=[["Commons Voice is free because readers pay for it. Give what you can today.",
                     "Commons Voice needs 500 new supporters this month. Will you be one of them?",
                     "No billionaire owns Commons Voice. Our readers do. Become a supporter."]],
        ),
        SiteSpec(  # clean pages with a canonical link to the original, attribution less often
            "frontierpost", "Frontier Post", "frontierpost.example", ["FrontierPost"], "repost",
            {"html": 1.0},
            url="{domain}/article/{id}-{slug}", canonical_rate=0.85, attr_rate=0.4,
        ),
        SiteSpec(  # configured banner and footer plus one unconfigured line; reposts "via" other reposts
            "metrowire", "Metro Wire", "metrowire.example", ["MetroWire", "The Wire"], "repost",
            {"jsonl-text": 0.6, "jsonl-html": 0.4},
            cfg_lines=["Metro Wire — news that moves."], cfg_patterns=["^Comments are closed"],
            top=[["Metro Wire — news that moves."]],
            # the unconfigured line rotates among 3 variants: each is on about a third of the pages
            bottom=[["Follow Metro Wire on Mastodon, Bluesky and Threads for breaking updates.",
                     "Metro Wire is free to read. Tell a friend who would like it.",
                     "Got a tip for Metro Wire? Write to tips at metrowire dot example."],
                    ["Comments are closed on wire stories."]],
            url="{domain}/wire/{slug}",
        ),
    ]


ATTRIBUTION = [
    "Originally appeared at {X}",
    "This article was first published by {X}",
    "Source: {X}",
    "Republished with permission from {X}",
    "via {X}",
    "This story originally appeared on {X}.",
    "Reprinted with permission from {X}.",
    "First published in {X}",
    "The post {T} appeared first on {X}.",
]
READ_MORE = ["Read more at {X}", "Continue reading at {X}", "Read the full article at {X}", "Read the full story on {X}"]
RETITLE = ["WATCH: {t}", "{t} (report)", "Opinion: {t}", "{t} | Analysis", "REVEALED: {t}"]


