"""Building the set: the corpus texts, and the originals, duplicates, reposts and distractors made of them."""

from __future__ import annotations

import collections
import random
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lxml import html as lhtml

from bench.common import corpus
from bench.devset.sites import ATTRIBUTION, READ_MORE, RETITLE, SiteSpec, make_sites
from bench.devset.text import norm_line, sentences, shingles, slugify, split_paragraphs, words


@dataclass
class Text:
    cid: str
    title: str
    paragraphs: list[str]
    url: str

    @property
    def tokens(self) -> int:
        return len(words("\n".join(self.paragraphs)))


def load_corpus() -> list[Text]:
    """Fundus' bodies (manifest order), then Zyte's (by key), each with its title."""
    corpus.require(corpus.fundus_dir, corpus.zyte_dir)
    texts = []
    for row in corpus.fundus_rows():
        texts.append(Text(f"fundus:{row['publisher']}", norm_line(row.get("title") or ""), split_paragraphs(row["body_text"]), row["url"]))
    for page in corpus.zyte_pages():
        paras = split_paragraphs(page.truth["articleBody"])
        title = page_title(page.data)
        if not title and paras:
            title = " ".join(paras[0].split()[:8])
        texts.append(Text(f"aeb:{page.key[:12]}", title, paras, page.truth.get("url") or ""))
    return texts


def page_title(data: bytes) -> str:
    """og:title, else <title>; "" for a page lxml cannot parse (the body's first words serve)."""
    try:
        tree = lhtml.fromstring(data.decode("utf-8", "replace"))
        found = tree.xpath("//meta[@property='og:title']/@content") or tree.xpath("//title/text()")
        return norm_line(found[0]) if found else ""
    except Exception:  # noqa: BLE001 - lxml raises several kinds on a broken page
        return ""


@dataclass
class Doc:
    key: str
    site: str
    role: str                 # origin | duplicate | repost | distractor
    group: str | None
    origin_key: str | None
    relation: str | None      # origin | duplicate | copy | excerpt | None (distractor)
    fmt: str
    run: str                  # folder the file goes to: run1, run1-site, run2, run2-site, run3
    url: str | None
    title: str
    published: str | None     # ISO-8601 as written (None: no date on the page)
    published_utc: str | None
    body: list[str]           # the article as this document publishes it
    chrome: list[str] = field(default_factory=list)          # inserted chrome lines
    template: list[str] = field(default_factory=list)        # template chrome (nav, footer) of HTML
    attribution: list[str] = field(default_factory=list)     # attribution lines
    attr_top: bool = False
    canonical: str | None = None
    og_url: bool = True
    transforms: list[str] = field(default_factory=list)
    cid: str = ""
    source: str | None = None   # what documents.source will say (set when written)
    fetched: str | None = None  # WARC-Date for WARC records
    claim_target: str | None = None  # key of the document an attribution points at


class Builder:
    def __init__(self, seed: int, n: int, out: Path):
        self.rng = random.Random(seed)
        self.n = n
        self.out = out
        self.sites = make_sites()
        self.docs: list[Doc] = []
        self.ids = iter(range(10_000, 99_999))
        self.urls: set[str] = set()
        self.quotes: list[dict] = []
        self.topic_pairs: list[tuple[str, str, int]] = []

    # ---- helpers -------------------------------------------------------------------
    def choose(self, weights: dict):
        keys = list(weights)
        return self.rng.choices(keys, [weights[k] for k in keys])[0]

    def url_for(self, site: SiteSpec, title: str, when: datetime, pattern: str | None = None) -> str | None:
        if site.domain is None:
            return None
        slug = slugify(title, "story")
        url = "https://" + (pattern or site.url).format(
            domain=site.domain, y=f"{when:%Y}", m=f"{when:%m}", d=f"{when:%d}", slug=slug, id=next(self.ids)
        )
        while url in self.urls:  # two titles with one slug: a site never serves two articles at one URL
            url = url.rstrip("/") + f"-{next(self.ids)}"
        self.urls.add(url)
        return url

    def date_text(self, when: datetime, zone_hours: int, day_only: bool = False) -> str:
        local = when.astimezone(timezone(timedelta(hours=zone_hours)))
        return local.strftime("%Y-%m-%d") if day_only else local.isoformat(timespec="seconds")

    def name_form(self, target: Doc) -> str:
        """How a repost names the site it took the article from: name, alias, domain or URL."""
        site = self.sites[target.site]
        forms = [site.name, site.name] + site.aliases[:1]
        if site.domain:
            forms.append(site.domain.removeprefix("www."))
        if target.url and self.rng.random() < 0.2:
            return target.url
        return self.rng.choice(forms)

    def chrome_for(self, site: SiteSpec) -> tuple[list[str], list[str]]:
        top = [self.rng.choice(v) for v in site.top]
        bottom = [self.rng.choice(v) for v in site.bottom]
        return top, bottom

    def pick_run_for_site(self, site: SiteSpec, batch: str) -> str:
        return f"{batch}-site" if site.site_flag else batch

    # ---- transformations ---------------------------------------------------------------
    def light_edit(self, paras: list[str]) -> tuple[list[str], list[str]]:
        paras = list(paras)
        notes = []
        vocab = [w for p in paras for w in p.split() if w.isalpha() and len(w) >= 4]
        changes = self.rng.randint(2, 5)
        for _ in range(changes):
            i = self.rng.randrange(len(paras))
            tokens = paras[i].split()
            spots = [j for j, w in enumerate(tokens) if w.isalpha() and len(w) >= 4]
            if not spots or not vocab:
                continue
            j = self.rng.choice(spots)
            tokens[j] = self.rng.choice(vocab)
            paras[i] = " ".join(tokens)
        notes.append(f"{changes} words changed")
        multi = [i for i, p in enumerate(paras) if len(sentences(p)) >= 2]
        if multi and self.rng.random() < 0.7:
            i = self.rng.choice(multi)
            sents = sentences(paras[i])
            drop = self.rng.randrange(1, len(sents))
            joiner = "" if re.search(r"[。！？]$", sents[0]) else " "
            paras[i] = joiner.join(s for k, s in enumerate(sents) if k != drop)
            notes.append("a sentence dropped")
        else:
            total = len(words("\n".join(paras)))
            small = [i for i, p in enumerate(paras) if i and len(words(p)) <= 0.08 * total]
            if small:
                del paras[self.rng.choice(small)]
                notes.append("a short paragraph dropped")
        return paras, notes

    def truncate(self, paras: list[str]) -> tuple[list[str], str]:
        """The first 30-40% of the article (by words), cut at a sentence end where one is near."""
        total = len(words("\n".join(paras)))
        want = self.rng.uniform(0.3, 0.4) * total
        out, have = [], 0
        for p in paras:
            kept = []
            for s in sentences(p):
                n = len(words(s))
                if have + n > want * 1.25 and have >= want * 0.75:
                    break
                if have + n > want * 1.25:  # one long sentence: cut it by words
                    cut = s.split()[: max(3, int(len(s.split()) * (want - have) / max(n, 1)))]
                    kept.append(" ".join(cut) + " …")
                    have = want
                    break
                kept.append(s)
                have += n
            if kept:
                out.append((" " if not re.search(r"[。！？]", p) else "").join(kept))
            if have >= want * 0.75 and (have >= want or len(kept) < len(sentences(p))):
                break
        share = len(words("\n".join(out))) / max(total, 1)
        return out, f"truncated to {share:.0%}"

    # ---- the set -------------------------------------------------------------------
    def build(self, texts: list[Text]) -> list[Doc]:
        usable = [t for t in texts if t.tokens >= 25 and len(t.paragraphs) >= 1]
        dropped = len(texts) - len(usable)
        self.rng.shuffle(usable)
        good = [t for t in usable if t.tokens >= 60 and sum(len(p) for p in t.paragraphs) >= 400]
        originals = good[: self.n]
        chosen = {t.cid for t in originals}
        distractors = [t for t in usable if t.cid not in chosen]
        print(f"corpus: {len(texts)} texts, {dropped} too short (<25 words) left out; "
              f"{len(originals)} originals, {len(distractors)} distractors", file=sys.stderr)
        self.find_topic_pairs(usable)
        origin_sites = {"dailyledger": 0.45, "northerncourier": 0.35, "harbortimes.example": 0.20}
        repost_sites = [s for s in self.sites.values() if s.role == "repost"]
        base = datetime(2025, 1, 6, tzinfo=timezone.utc)
        for g, text in enumerate(originals):
            gid = f"g{g:03d}"
            site = self.sites[self.choose(origin_sites)]
            when = base + timedelta(minutes=self.rng.randrange(0, 60 * 24 * 600))
            late = self.rng.random() < 0.2
            zone = self.rng.choice([0, -5, 1, 2, 9, -8])
            # origins carry a full timestamp, a few only a day (undated reposts then need claims)
            day_only = self.rng.random() < 0.06
            fmt = self.choose(site.formats)
            top, bottom = self.chrome_for(site)
            origin = Doc(
                key=f"{gid}-o", site=site.key, role="origin", group=gid, origin_key=f"{gid}-o", relation="origin",
                fmt=fmt, run="run3" if late else "run1", url=self.url_for(site, text.title, when),
                title=text.title, published=self.date_text(when, zone, day_only), published_utc=when.isoformat(),
                body=list(text.paragraphs), chrome=top + bottom, cid=text.cid,
                transforms=(["late original (imported last)"] if late else []) + (["day-only date"] if day_only else []),
            )
            origin._top, origin._bottom = top, bottom
            self.docs.append(origin)
            if self.rng.random() < 0.08:  # the same article at a second URL of the origin site
                dwhen = when + timedelta(minutes=self.rng.randrange(10, 90))
                dtop, dbottom = self.chrome_for(site)
                dup = Doc(
                    key=f"{gid}-d", site=site.key, role="duplicate", group=gid, origin_key=origin.key, relation="duplicate",
                    fmt=fmt, run=origin.run if self.rng.random() < 0.5 else "run2",
                    url=self.url_for(site, text.title, when, site.dup_url),
                    title=text.title, published=None if self.rng.random() < 0.3 else self.date_text(dwhen, zone),
                    published_utc=dwhen.isoformat(), body=list(text.paragraphs), chrome=dtop + dbottom, cid=text.cid,
                    transforms=["second URL of the origin site"],
                )
                dup._top, dup._bottom = dtop, dbottom
                self.docs.append(dup)
            k = self.rng.choices([0, 1, 2, 3, 4], [0.12, 0.3, 0.26, 0.19, 0.13])[0]
            reposts = []
            for site_r in self.rng.sample(repost_sites, k):
                reposts.append(self.repost(gid, origin, site_r, text, when, day_only, reposts))
            self.ensure_decidable(origin, reposts)
            self.docs.extend(reposts)
        for i, text in enumerate(distractors):
            self.distractor(i, text, originals)
        return self.docs

    def repost(self, gid, origin: Doc, site: SiteSpec, text: Text, when: datetime, origin_day_only: bool, siblings) -> Doc:
        rng = self.rng
        key = f"{gid}-{site.key.split('.')[0]}"
        transforms = []
        paras = list(text.paragraphs)
        relation = "copy"
        if rng.random() < site.excerpt_rate:
            paras, note = self.truncate(paras)
            relation = "excerpt"
            transforms.append(note)
        elif rng.random() < 0.35:
            paras, notes = self.light_edit(paras)
            transforms += notes
        title = text.title
        if rng.random() < 0.3:
            title = rng.choice(RETITLE).format(t=text.title)
            transforms.append("re-titled")
        fmt = self.choose(site.formats)
        top, bottom = self.chrome_for(site)
        doc = Doc(
            key=key, site=site.key, role="repost", group=gid, origin_key=origin.key, relation=relation, fmt=fmt,
            run=self.pick_run_for_site(site, rng.choice(["run1", "run2"])), url=None, title=title,
            published=None, published_utc=None, body=paras, chrome=top + bottom, cid=text.cid, transforms=transforms,
        )
        doc._top, doc._bottom = top, bottom
        # provenance: an attribution line (always "read more" for an excerpt), a canonical link
        target = origin
        via = [s for s in siblings if s.attribution and s.claim_target == origin.key]
        if site.key == "metrowire" and via and rng.random() < 0.5:
            target = rng.choice(via)   # "via Liberty Bulletin", which itself names the original
            transforms.append(f"attribution to another repost ({target.site}), a chain")
        if relation == "excerpt":
            doc.attribution = [rng.choice(READ_MORE).format(X=self.name_form(target))]
            doc.claim_target = target.key
        elif rng.random() < site.attr_rate or target is not origin:
            line = rng.choice(ATTRIBUTION).format(X=self.name_form(target), T=title)
            doc.attribution = [line]
            doc.claim_target = target.key
            doc.attr_top = rng.random() < 0.5
        if fmt.split(".")[0] in ("html", "warc", "jsonl-html") and rng.random() < site.canonical_rate and origin.url:
            doc.canonical = origin.url
            transforms.append("canonical link to the original")
            if site.key == "frontierpost" and rng.random() < 0.12:
                doc.og_url = False
                transforms.append("no og:url (page URL only from its canonical)")
        has_claim = bool(doc.attribution or doc.canonical)
        # dates: hours after the origin; sometimes none; sometimes before it (then it has a claim)
        zone = rng.choice([0, -5, 1, 2, 9, -4])
        if fmt.startswith("txt") or rng.random() < site.undated_rate:
            rwhen = when + timedelta(minutes=rng.randrange(60, 60 * 36))
            doc.published = None
            transforms.append("no date")
        elif has_claim and rng.random() < 0.15:
            rwhen = when - timedelta(minutes=rng.randrange(60, 60 * 6))
            doc.published = self.date_text(rwhen, zone)
            transforms.append("dated before the origin (claim must win)")
        else:
            rwhen = when + timedelta(minutes=rng.randrange(60, 60 * 36))
            doc.published = self.date_text(rwhen, zone)
        doc.published_utc = rwhen.isoformat()
        doc.url = self.url_for(site, title, rwhen)
        if fmt == "warc":
            doc.fetched = (rwhen + timedelta(hours=rng.randrange(1, 48))).strftime("%Y-%m-%dT%H:%M:%SZ")
        return doc

    def ensure_decidable(self, origin: Doc, reposts: list[Doc]) -> None:
        """Every group's origin must follow from the evidence DESIGN.md orders: a claim, a
        canonical link, or an origin date strictly before every dated copy's day or time."""
        if not reposts or any(r.attribution or r.canonical for r in reposts):
            return
        if "day-only date" in origin.transforms:
            # give the first repost an attribution line so the group is decidable
            r = reposts[0]
            if r.relation == "excerpt":
                return
            r.attribution = [self.rng.choice(ATTRIBUTION).format(X=self.name_form(origin), T=r.title)]
            r.claim_target = origin.key
            r.transforms.append("attribution added (group otherwise undecidable)")

    def distractor(self, i: int, text: Text, originals: list[Text]) -> None:
        site = self.rng.choice(list(self.sites.values()))
        when = datetime(2025, 1, 6, tzinfo=timezone.utc) + timedelta(minutes=self.rng.randrange(0, 60 * 24 * 600))
        paras = list(text.paragraphs)
        transforms = []
        if self.rng.random() < 0.15 and originals:
            # a different article that quotes one sentence of an original: not a copy
            src = self.rng.choice(originals)
            cands = [s for p in src.paragraphs for s in sentences(p) if 12 <= len(words(s)) <= 40]
            if cands:
                quote = self.rng.choice(cands)
                at = self.rng.randrange(1, len(paras) + 1)
                paras.insert(at, f"As another outlet reported: “{quote}”")
                transforms.append(f"quotes one sentence of {src.cid}")
                self.quotes.append({"distractor": f"x{i:03d}", "quoted": src.cid})
        top, bottom = self.chrome_for(site)
        fmt = self.choose(site.formats)
        run = self.pick_run_for_site(site, "run1" if self.rng.random() < 0.7 else "run2")
        doc = Doc(
            key=f"x{i:03d}", site=site.key, role="distractor", group=None, origin_key=None, relation=None, fmt=fmt,
            run=run, url=self.url_for(site, text.title, when), title=text.title,
            published=None if fmt.startswith("txt") else self.date_text(when, 0), published_utc=when.isoformat(),
            body=paras, chrome=top + bottom, cid=text.cid, transforms=transforms,
        )
        doc._top, doc._bottom = top, bottom
        self.docs.append(doc)

    def find_topic_pairs(self, texts: list[Text]) -> None:
        """Different corpus articles that share text (one story told twice, a shared boilerplate)."""
        sets = [(t.cid, shingles("\n".join(t.paragraphs))) for t in texts]
        index = collections.defaultdict(set)
        for n, (_, s) in enumerate(sets):
            for sh in s:
                index[sh].add(n)
        shared = collections.Counter()
        for members in index.values():
            if 1 < len(members) < 6:
                ms = sorted(members)
                for a in range(len(ms)):
                    for b in range(a + 1, len(ms)):
                        shared[(ms[a], ms[b])] += 1
        self.topic_pairs = [(sets[a][0], sets[b][0], n) for (a, b), n in shared.most_common() if n >= 10]


