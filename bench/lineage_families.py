"""Lineage under stress: families of syndication cases built from the real article bodies
in ../shared/corpus, each scored on its own (pair precision and recall, origin accuracy),
and the cost of linking as a group grows.

    .venv/bin/python bench/lineage_families.py [--seed N] [--copies 1000] [--zipf-docs 20000]
                                              [--families big,zipf,scripts,dates,traps,cost]

Every generator is seeded and draws its bodies, edits, sites and dates at random, so a new
seed makes cases no one has looked at. Families:

- ``big``: one story and ``--copies`` lightly edited copies on as many sites (banners,
  credits, a word in 50 changed, some cut to an excerpt), dates in random formats.
- ``zipf``: ``--zipf-docs`` documents whose group sizes follow a Zipf law (the largest over
  1,000 at 100,000 documents), the rest unrelated.
- ``scripts``: the fundus Japanese, Chinese, Korean, Arabic, Russian, Ukrainian and Turkish
  pages, each with a copy (2% of characters dropped) and a 40% excerpt on other sites.
- ``dates``: groups whose members' dates are written in ten formats; the origin is the
  earliest instant, which string order gets wrong.
- ``traps``: distinct articles that share a template (press releases, weather and market
  reports from one generator) and pairs quoting the same long statement: none may link.
- ``cost``: CPU and wall time of the link stage per copy at group size 10 and 1,000, and
  of 4 groups of 100 against 400 unrelated documents of the same lengths, in one run.

Writes a table to stdout and bench/out/lineage_families.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import corpus  # noqa: E402
from bench.common.paths import CONFIGS  # noqa: E402
from bench.common.report import Report  # noqa: E402
from bench.common.timing import StageTimer  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.ingest import run_items  # noqa: E402
from collector.core.document import Document  # noqa: E402
from collector.core.fingerprint import has_spaceless  # noqa: E402
from collector.core.urls import canonical_url  # noqa: E402


# --- real bodies ------------------------------------------------------------------------------

def fundus_rows() -> list[dict]:
    return corpus.fundus_rows()


def english_bodies(min_words: int = 250) -> list[str]:
    return corpus.bodies(min_words, countries=("us", "uk", "ca", "za", "au"))


def sentences(bodies: list[str]) -> list[str]:
    out = []
    for body in bodies:
        out += [s.strip() + "." for s in body.replace("\n", " ").split(". ") if len(s.split()) > 6]
    return out


# --- edits a republisher makes ----------------------------------------------------------------

BANNERS = ["Support {site} - Go Ad-Free!", "Subscribe to {site} for daily news", "This story first ran elsewhere",
           "Share this article", "Follow {site} on social media"]
FORMATS = [
    lambda t: t.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    lambda t: t.isoformat(),
    lambda t: t.strftime("%Y-%m-%d %H:%M"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    lambda t: str(int(t.timestamp())),
    lambda t: str(int(t.timestamp() * 1000)),
    lambda t: t.astimezone(timezone(timedelta(hours=-5))).strftime("%a, %d %b %Y %H:%M:%S -0500"),
    lambda t: t.astimezone(timezone(timedelta(hours=9))).isoformat(),
    lambda t: t.strftime("%Y-%m-%dT%H:%M"),
]


def edit(rng: random.Random, text: str, change: float = 0.02) -> str:
    words = text.split(" ")
    for _ in range(int(len(words) * change)):
        words[rng.randrange(len(words))] = rng.choice(["said", "reported", "today", "officials", "new"])
    return " ".join(words)


def repost(rng, body: str, site: str, origin_name: str, excerpt: bool, credit_share: float = 0.3) -> str:
    paras = [p for p in body.split("\n") if p.strip()]
    if excerpt:
        paras = paras[: max(2, len(paras) // 3)]
    text = edit(rng, "\n".join(paras))
    top = [rng.choice(BANNERS).format(site=site)] if rng.random() < 0.5 else []
    credit = [f"Originally appeared at {origin_name}"] if rng.random() < credit_share else []
    return "\n".join(top + [text] + credit)


class Case:
    """Generated documents with their truth: group key and whether each is the origin."""

    def __init__(self):
        self.items: list[Document] = []
        self.truth: dict[str, tuple[str, bool]] = {}

    def add(self, url, text, group, is_origin, published=None, fetched=None, title=None):
        url = canonical_url(url)  # the identity collector stores it under
        self.items.append(Document(url=url, source=url, text=text, title=title or text.split("\n")[0][:80],
                                  published=published, fetched=fetched or "2026-03-20T00:00:00+00:00"))
        self.truth[url] = (group, is_origin)


def story(case: Case, rng, body: str, key: str, copies: int, start: datetime, excerpt_share=0.2, credit_share=0.3):
    origin_time = start
    case.add(f"https://origin-{key}.example/story", body, key, True,
             published=rng.choice(FORMATS)(origin_time), title=f"Story {key}")
    for i in range(copies):
        when = origin_time + timedelta(minutes=rng.randrange(5, 60 * 48))
        site = f"site{i}-{key}"
        text = repost(rng, body, site, f"origin-{key}.example", rng.random() < excerpt_share, credit_share)
        case.add(f"https://{site}.example/{rng.randrange(10**6)}", text, key, False, published=rng.choice(FORMATS)(when))


def family_big(rng, copies: int) -> Case:
    case = Case()
    story(case, rng, rng.choice(english_bodies(500)), "big", copies, datetime(2026, 3, 4, 7, 30, tzinfo=timezone.utc))
    rng.shuffle(case.items)
    return case


def family_zipf(rng, total: int) -> Case:
    case, bodies = Case(), english_bodies(250)
    pool = sentences(bodies)
    size, rank = 0, 1
    largest = max(2, total // 90)
    while size < total // 3:
        copies = max(1, int(largest / rank))
        story(case, rng, "\n".join(rng.sample(pool, 25)), f"z{rank}", copies,
              datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=rank))
        size += copies + 1
        rank += 1
    for i in range(total - size):
        case.add(f"https://lone{i % 500}.example/{i}", "\n".join(rng.sample(pool, 25)), f"lone{i}", True)
    rng.shuffle(case.items)
    return case


def family_merge(rng, copies: int) -> Case:
    """Two wire stories of ``copies`` copies each, then a round-up carrying both: the two
    big groups merge into one (imported last, so the merge is measured on its own)."""
    case = Case()
    # Two stories of about one length: a round-up is found from both only when each is a fair
    # share of it (LSH finds Jaccard similarity; a short story in a long round-up is not found).
    bodies = sorted(english_bodies(500), key=lambda b: len(b.split()))
    i = rng.randrange(len(bodies) - 1)
    a, b = bodies[i], bodies[i + 1]
    # no credits: two credited origins would be decided by their counts of credits
    story(case, rng, a, "ma", copies, datetime(2026, 3, 4, 8, tzinfo=timezone.utc), excerpt_share=0.0, credit_share=0.0)
    story(case, rng, b, "mb", copies, datetime(2026, 3, 4, 6, tzinfo=timezone.utc), excerpt_share=0.0, credit_share=0.0)
    case.add("https://roundup.example/both", a + "\n" + b, "merged", False, published="2026-03-06T00:00:00+00:00")
    for url, (key, is_origin) in list(case.truth.items()):  # one group, its origin the earlier story's
        case.truth[url] = ("merged", url == canonical_url("https://origin-mb.example/story"))
    return case


def family_scripts(rng) -> Case:
    case = Case()
    for row in fundus_rows():
        if row["country"] not in ("jp", "cn", "kr", "lb", "ru", "ua", "tr") or len(row["body_text"]) < 200:
            continue
        body, key = row["body_text"], row["publisher"]
        case.add(row["url"], body, key, True, published="2025-01-01T08:00:00+00:00")
        if has_spaceless(body):  # written without spaces: 2% of the characters dropped
            dropped = "".join(c for c in body if rng.random() > 0.02)
        else:  # elsewhere a word in 50 changed
            dropped = edit(rng, body)
        start = rng.randrange(0, int(len(body) * 0.6))
        case.add(f"https://copy-{key}.example/a", dropped, key, False, published="2025-01-01T10:00:00+00:00")
        case.add(f"https://excerpt-{key}.example/a", body[start : start + int(len(body) * 0.4)], key, False,
                 published="2025-01-01T11:00:00+00:00")
    return case


def family_dates(rng, groups: int = 30) -> Case:
    case = Case()
    for g, body in enumerate(rng.sample(english_bodies(300), groups)):
        base = datetime(2026, 3, rng.randrange(1, 28), rng.randrange(0, 24), tzinfo=timezone.utc)
        for i, fmt in enumerate(rng.sample(FORMATS, 10)):
            when = base + timedelta(minutes=37 * i + rng.randrange(0, 30))
            text = body if i == 0 else edit(rng, body)
            case.add(f"https://d{i}.example/{g}", text, f"d{g}", i == 0, published=fmt(when))
    rng.shuffle(case.items)
    return case


def family_traps(rng, n: int = 120) -> Case:
    """Distinct documents that share most of their words: press releases and weather and
    market reports filled in from one template (their figures and names differ), and
    articles of different prose quoting one long statement."""
    case = Case()
    pool = sentences(english_bodies(250))
    cities = ["Oslo", "Lyon", "Porto", "Graz", "Turin", "Leeds", "Cork", "Ghent", "Bergen", "Malmo"]
    statement = ("We are deeply saddened by the events of this week and we stand with every family affected. "
                 "Our teams are working around the clock with local authorities to understand what happened, "
                 "and we will share what we learn as soon as we can. Nothing matters more to us than safety.")
    for i in range(n):
        kind = i % 4
        city = rng.choice(cities)
        f = [rng.randrange(2, 999) for _ in range(8)]
        if kind == 0:
            text = (f"{city} Metals Group today announced results for the quarter ended March {f[0] % 28 + 1}, 2026. "
                    f"Revenue rose {f[1] % 40} percent to {f[2]} million euros, and earnings per share were {f[3] / 100:.2f}. "
                    f"The company shipped {f[4]} thousand tonnes and expects full-year sales of {f[5]} million. "
                    f"About {city} Metals Group: {city} Metals Group is a leading supplier of industrial alloys with "
                    f"operations in twelve countries and {f[6]} employees. Forward-looking statements in this release "
                    "involve risks and uncertainties that could cause actual results to differ materially. "
                    f"For more information contact investor relations at extension {f[7]}.")
        elif kind == 1:
            text = (f"Weather for {city} on March {f[0] % 28 + 1}: highs of {f[1] % 35} degrees and lows of {f[2] % 15} degrees. "
                    f"Winds from the {rng.choice(['north', 'south', 'east', 'west'])} at {f[3] % 60} kilometres an hour. "
                    f"Chance of rain {f[4] % 100} percent. This forecast is generated automatically from national weather "
                    f"service data and updated hourly. Sunrise at 6:{f[5] % 60:02d} and sunset at 19:{f[6] % 60:02d}. "
                    f"Pollen count {f[7]}, air quality index {f[0]}.")
        elif kind == 2:
            text = (f"Markets in {city} closed {rng.choice(['higher', 'lower'])} on March {f[0] % 28 + 1}. The main index "
                    f"moved {f[1] / 100:.2f} percent to {f[2] * 10} points, while the currency traded at {f[3] / 1000:.3f} "
                    f"against the euro. Turnover was {f[4]} million shares. Ten-year bond yields stood at {f[5] / 100:.2f} "
                    "percent. This report is generated automatically from exchange data and may be delayed. "
                    f"Gainers outnumbered decliners {f[6]} to {f[7]}.")
        else:
            around = rng.sample(pool, 6)
            text = "\n".join(around[:3] + [f"The company said: {statement}"] + around[3:])
        case.add(f"https://trap{i % 7}.example/{i}", text, f"trap{i}", True)
    return case


# --- scoring ----------------------------------------------------------------------------------

def import_case(case: Case, db: Path, batch: int = 1000) -> float:
    context = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(CONFIGS), "COLLECTOR_BATCH_SIZE": batch})
    started = time.perf_counter()
    run_items(list(case.items), context)
    context.close()
    return time.perf_counter() - started


def predicted(db: Path) -> tuple[dict[str, str], dict[str, str]]:
    """URL -> group (its origin's URL), and URL -> origin URL, from the stored links."""
    import sqlite3

    conn = sqlite3.connect(db)
    url = dict(conn.execute("SELECT id, url FROM documents"))
    parent = dict(conn.execute("SELECT copy_id, origin_id FROM links"))

    def root(d):
        while d in parent:
            d = parent[d]
        return d

    group = {url[d]: url[root(d)] for d in url}
    return group, group


def score(case: Case, db: Path) -> dict:
    group, origin = predicted(db)
    cells, pred_sizes, true_sizes = Counter(), Counter(), Counter()
    for url, (key, _) in case.truth.items():
        if url in group:
            cells[(group[url], key)] += 1
            pred_sizes[group[url]] += 1
            true_sizes[key] += 1
    pairs = lambda n: n * (n - 1) // 2  # noqa: E731
    tp = sum(pairs(n) for n in cells.values())
    pred, true = sum(pairs(n) for n in pred_sizes.values()), sum(pairs(n) for n in true_sizes.values())
    truth_origin = {key: url for url, (key, is_origin) in case.truth.items() if is_origin}
    members = defaultdict(list)
    for url, (key, _) in case.truth.items():
        if url in origin:
            members[key].append(origin[url])
    grouped = [k for k, v in members.items() if len(v) > 1]
    right = sum(1 for k in grouped if Counter(members[k]).most_common(1)[0][0] == truth_origin.get(k))
    return {"documents": len(group), "precision": tp / pred if pred else 1.0, "recall": tp / true if true else 1.0,
            "origin": right / len(grouped) if grouped else 1.0, "groups": len(grouped)}


def merge_cost(case: Case, tmp: Path) -> str:
    """Time and peak memory of the one link that merges the two big groups."""
    import resource

    costs, last = [], case.items[-1]
    case.items = case.items[:-1]
    import_case(case, tmp / "merge2.db")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    case.items = [last]
    started = time.perf_counter()
    costs = link_costs(case, tmp / "merge2.db")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (f"| (merge of two groups of {(len(case.truth) - 1) // 2:,}: the round-up's link stage {costs[0][0]:.2f} s CPU,"
            f" import {wall:.2f} s, peak RSS {before / 1024:.0f} -> {after / 1024:.0f} MB) | | | | | | |")


# --- cost as groups grow ----------------------------------------------------------------------

def link_costs(case: Case, db: Path) -> list[tuple[float, float]]:
    """(CPU s, wall s) of the link stage for each document, in import order."""
    from pipelines.link import LinkPipeline

    timer = StageTimer(cpu_clock=time.process_time)
    undo = timer.wrap(LinkPipeline, "process", "link", each=True)
    try:
        import_case(case, db)
    finally:
        undo()
    return timer.each["link"]


def family_cost(rng, tmp: Path) -> list[dict]:
    """Per-copy cost of the link stage when the group has ~10 and ~1,000 members: medians
    over three stories (each copy linked once, so medians keep a stray pause out)."""
    import statistics

    at10, at1000 = [], []
    for run in range(3):
        body = rng.choice(english_bodies(500))
        case = Case()
        story(case, rng, body, f"cost{run}", 1010, datetime(2026, 3, 4, tzinfo=timezone.utc), excerpt_share=0.0)
        costs = link_costs(case, tmp / f"cost{run}.db")  # copy i is linked into a group of i + 1
        at10 += costs[6:16]
        at1000 += costs[990:1000]
    median = statistics.median
    rows = [{"measure": "link stage per copy, group of 6-15 (median)", "cpu_ms": 1000 * median([c for c, _ in at10]),
             "wall_ms": 1000 * median([w for _, w in at10])},
            {"measure": "link stage per copy, group of 990-999 (median)", "cpu_ms": 1000 * median([c for c, _ in at1000]),
             "wall_ms": 1000 * median([w for _, w in at1000])}]
    rows.append({"measure": "ratio 1,000 / 10", "cpu_ms": rows[1]["cpu_ms"] / rows[0]["cpu_ms"],
                 "wall_ms": rows[1]["wall_ms"] / rows[0]["wall_ms"]})
    grouped, lone = Case(), Case()
    bodies = english_bodies(500)
    for g in range(4):
        story(grouped, rng, bodies[g], f"g{g}", 99, datetime(2026, 3, 4, tzinfo=timezone.utc))
    pool = sentences(bodies)
    for item in grouped.items:  # unrelated documents of the same lengths
        words = len(item["text"].split())
        text, count = [], 0
        while count < words:
            text.append(rng.choice(pool))
            count += len(text[-1].split())
        lone.add(item["url"].replace("https://", "https://lone-"), "\n".join(text), item["url"], True)
    cpu = {}
    for name, case_ in (("4 groups of 100", grouped), ("400 unrelated", lone)):
        started = time.process_time()
        import_case(case_, tmp / f"{name}.db")
        cpu[name] = time.process_time() - started
    rows.append({"measure": "import CPU s: 4 groups of 100", "cpu_ms": 1000 * cpu["4 groups of 100"], "wall_ms": float("nan")})
    rows.append({"measure": "import CPU s: 400 unrelated", "cpu_ms": 1000 * cpu["400 unrelated"], "wall_ms": float("nan")})
    rows.append({"measure": "ratio grouped / unrelated", "cpu_ms": cpu["4 groups of 100"] / cpu["400 unrelated"], "wall_ms": float("nan")})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--zipf-docs", type=int, default=20_000)
    parser.add_argument("--merge-copies", type=int, default=5000, help="copies of each of the two merged stories")
    parser.add_argument("--families", default="big,zipf,scripts,dates,traps,cost,merge")
    args = parser.parse_args(argv)
    corpus.require(corpus.fundus_dir, corpus.zyte_dir)
    wanted = args.families.split(",")
    lines = [f"# Lineage families (seed {args.seed})", "", "| family | documents | groups | pair precision | pair recall | origin accuracy | import s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    builders = {"big": lambda r: family_big(r, args.copies), "zipf": lambda r: family_zipf(r, args.zipf_docs),
                "merge": lambda r: family_merge(r, args.merge_copies),
                "scripts": family_scripts, "dates": family_dates, "traps": family_traps}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in [w for w in wanted if w in builders]:
            case = builders[name](random.Random(f"{args.seed}-{name}"))
            seconds = import_case(case, tmp / f"{name}.db")
            if name == "merge":
                lines.append(merge_cost(case, tmp))
                print(lines[-1], flush=True)
            s = score(case, tmp / f"{name}.db")
            lines.append(f"| {name} | {s['documents']} | {s['groups']} | {s['precision']:.4f} | {s['recall']:.4f} | {s['origin']:.4f} | {seconds:.1f} |")
            print(lines[-1], flush=True)
        if "cost" in wanted:
            lines += ["", "| cost | CPU ms | wall ms |", "|---|---:|---:|"]
            for row in family_cost(random.Random(f"{args.seed}-cost"), tmp):
                lines.append(f"| {row['measure']} | {row['cpu_ms']:.2f} | {row['wall_ms']:.2f} |")
    with Report("lineage_families"):
        print("\n".join(lines))


if __name__ == "__main__":
    main()
