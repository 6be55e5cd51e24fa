"""Lineage groups in the stored corpus, and the new documents linked into it.

A wire story is reposted by hundreds of sites: the stored corpus holds groups whose sizes
follow a Zipf law. Their origins are corpus documents (written by the loader); every other
member is imported with the real `collector import` into the loaded corpus, so the links,
claims and LSH rows of the groups are the pipeline's own, nothing imitated."""

from __future__ import annotations

import collections
import itertools
import json
import re
import sqlite3
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from bench.common.report import ms
from bench.scale.generate import COPY_SHARE, SITES, Generator, generator, iso, jsonl_line, site_weights
from bench.scale.loader import build_from_records
from bench.scale.runs import run_cli
from pipelines.extract import content_hash


GROUP_SHARE = 0.15        # of --docs: members of lineage groups (origins included)
LARGEST = 1250            # members of the largest group
REPOST_SITES = 2000       # sites that repost (repost17, https://repost17.example/N)
EXCERPT_SHARE = 0.25      # of reposts: the first third and "read more"
CHAIN_SHARE = 0.05        # of reposts: copies of another repost, not of the origin
DUPLICATE_SHARE = 0.03    # of reposts: the same text at another URL of a reposting site
#: Sizes of the groups the new documents join, for the per-copy cost: (smallest, largest, label).
STRATA = [(1, 1, "none (copies of a stored singleton)"), (2, 9, "2-9"), (10, 99, "10-99"), (100, 999, "100-999"),
          (1000, 10**9, "1,000 and more")]


def stratum(size: int) -> str:
    return next(label for lo, hi, label in STRATA if lo <= size <= hi)


def repost_text(gen: Generator, rec: dict, kind: str) -> str:
    """The text of a repost of ``rec``: ``copy``, one word in fifty replaced and half the time a
    line crediting ``rec``'s URL; ``excerpt``, the first third and "Read more at" its URL;
    ``duplicate``, the same text."""
    paragraphs = rec["text"].split("\n")
    if kind == "copy":
        words = [p.split(" ") for p in paragraphs]
        where = [(i, j) for i, p in enumerate(words) for j in range(1, len(p) - 1)]
        for k in gen.rng.choice(len(where), size=max(1, len(where) // 50), replace=False):
            i, j = where[k]
            words[i][j] = gen.words(1)[0]
        paragraphs = [" ".join(p) for p in words]
        if gen.rng.random() < 0.5:
            paragraphs.append(f"This article originally appeared at {rec['url']}")
    elif kind == "excerpt":
        paragraphs = paragraphs[: max(1, len(paragraphs) // 3)] + [f"Read more at {rec['url']}"]
    return "\n".join(paragraphs)


def group_sizes(docs: int, share: float, largest: int) -> tuple[list[int], float]:
    """Members (origin included) of each group, largest first: rank r has ``largest / r**a``,
    down to groups of two, with the exponent ``a`` that puts ``share`` of ``docs`` in groups
    (with a = 1 the groups would hold only ~12,000 documents whatever the corpus size)."""
    largest = max(2, min(largest, int(share * docs) // 4))

    def sizes(a: float) -> np.ndarray:
        ranks = np.arange(1, int((largest / 1.5) ** (1 / a)) + 1, dtype=float)
        out = np.rint(largest / ranks ** a).astype(np.int64)
        return out[out >= 2]

    lo, hi = 0.5, 6.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sizes(mid).sum() > share * docs else (lo, mid)
    return sizes(hi).tolist(), hi


def rows_where(conn: sqlite3.Connection, column: str, values) -> dict:
    cols = ("id", "url", "site", "title", "published", "fetched", "text", "content_hash")
    values, found = list(values), {}
    for lo in range(0, len(values), 500):
        part = values[lo:lo + 500]
        for row in conn.execute(f"SELECT {', '.join(cols)} FROM documents WHERE {column} IN ({','.join('?' * len(part))})", part):
            rec = dict(zip(cols, row))
            found[rec[column]] = rec
    return found


def make_groups(db: Path, sizes: list[int], corpus: int, seed: int, jsonl: Path) -> tuple[list[dict], list[int]]:
    """Reposts making each of ``sizes`` a group around a corpus document (JSONL, the groups
    interleaved at random, as reposts of many stories arrive); returns the groups: rank, size,
    origin, members' URLs in the JSONL's order, and each line's group (``lines``)."""
    rng = np.random.default_rng([seed, 20])
    origin_ids = [int(i) for i in rng.choice(np.arange(1, corpus + 1), size=len(sizes), replace=False)]
    conn = sqlite3.connect(db)
    origins = rows_where(conn, "id", origin_ids)
    conn.close()
    gen = generator()
    gen.rng = np.random.default_rng([seed, 21])
    number = itertools.count(10**9)
    groups, lines = [], []
    for rank, (size, origin_id) in enumerate(zip(sizes, origin_ids), 1):
        origin = origins[origin_id]
        members, sites = [origin], itertools.cycle(gen.rng.permutation(REPOST_SITES).tolist())
        kinds = collections.Counter()
        for _ in range(size - 1):
            roll = gen.rng.random()
            if len(members) > 1 and roll < DUPLICATE_SHARE + CHAIN_SHARE:
                source = members[1 + int(gen.rng.integers(len(members) - 1))]
                kind = "duplicate" if roll < DUPLICATE_SHARE else "copy"
                label, hours = f"{kind} of a repost", 12
            else:
                source, kind = origin, "excerpt" if gen.rng.random() < EXCERPT_SHARE else "copy"
                label, hours = f"{kind} of the origin", 48
            site = source["site"] if kind == "duplicate" else f"repost{next(sites)}"
            published = datetime.fromisoformat(source["published"]) + timedelta(minutes=int(gen.rng.integers(5, 60 * hours)))
            rec = {"url": f"https://{site}.example/{next(number)}", "site": site, "title": source["title"],
                   "published": iso(published), "fetched": iso(published + timedelta(hours=1)),
                   "text": repost_text(gen, source, kind)}
            members.append(rec)
            lines.append((rank, rec["url"], jsonl_line(rec)))
            kinds[label] += 1
        groups.append({"rank": rank, "size": size, "origin_id": origin_id, "origin_url": origin["url"],
                       "urls": [m["url"] for m in members[1:]], "kinds": dict(kinds)})
    order = rng.permutation(len(lines)).tolist()
    with jsonl.open("w", encoding="utf-8") as fh:
        for i in order:
            fh.write(lines[i][2] + "\n")
    by_rank = {g["rank"]: g for g in groups}
    for g in groups:
        g["urls"] = []
    for i in order:  # reposts in the order they are imported
        by_rank[lines[i][0]]["urls"].append(lines[i][1])
    return groups, [lines[i][0] for i in order]


def import_groups(db: Path, jsonl: Path, ranks: list[int], timings: Path | None = None) -> dict:
    """``collector import`` of the groups' reposts into ``db``; the link stage's cost for each,
    by the size of the group it joined (the reposts of its group imported before it, and the
    origin)."""
    run = run_cli(db, jsonl, timings)
    if timings is None:
        return {"summary": run["summary"], "wall": run["wall"], "cpu": run["cpu"]}
    seen, size_at = collections.Counter(), []
    for rank in ranks:
        seen[rank] += 1
        size_at.append(seen[rank])  # joins a group of the origin and seen[rank] - 1 reposts
    costs = collections.defaultdict(list)
    items = run["timings"].get("items", [])
    for (url, wall, cpu, _), size in zip(items, size_at):
        costs[stratum(size)].append((wall, cpu))
    return {"summary": run["summary"], "wall": run["wall"], "cpu": run["cpu"], "items": len(items),
            "by_size": {k: {"n": len(v), "wall_median": statistics.median(w for w, _ in v),
                            "cpu_median": statistics.median(c for _, c in v),
                            "wall_p90": float(np.percentile([w for w, _ in v], 90)), "wall_max": max(w for w, _ in v)}
                        for k, v in costs.items()}}


def stored_groups(db: Path) -> dict:
    """Groups as the links table holds them: count, largest, members (origins included)."""
    conn = sqlite3.connect(db)
    sizes = [r[0] + 1 for r in conn.execute(
        "SELECT count(*) FROM links l1 LEFT JOIN links l2 ON l2.copy_id = l1.origin_id "
        "GROUP BY coalesce(l2.origin_id, l1.origin_id)")]
    relations = dict(conn.execute("SELECT relation, count(*) FROM links GROUP BY relation"))
    evidence = collections.Counter()
    for text, count in conn.execute("SELECT evidence, count(*) FROM links GROUP BY 1"):
        evidence[re.sub(r" of \S+$", " of a site", text.split(":", 1)[0])] += count
    conn.close()
    return {"groups": len(sizes), "largest": max(sizes, default=0), "members": sum(sizes), "relations": relations,
            "evidence": evidence, "at_least_100": sum(1 for s in sizes if s >= 100)}


def group_links(db: Path, urls: list[str]) -> dict[str, tuple]:
    """The links of these documents by URL: origin URL, relation, figures, evidence (with the
    ids it quotes blanked: they differ between databases)."""
    conn = sqlite3.connect(db)
    out = {}
    for lo in range(0, len(urls), 500):
        part = urls[lo:lo + 500]
        for row in conn.execute(
                "SELECT c.url, o.url, l.relation, l.similarity, l.containment, l.evidence FROM links l "
                "JOIN documents c ON c.id = l.copy_id JOIN documents o ON o.id = l.origin_id "
                f"WHERE c.url IN ({','.join('?' * len(part))})", part):
            out[row[0]] = (*row[1:5], re.sub(r"#\d+", "#", row[5]))
    conn.close()
    return out


# --- the new documents ----------------------------------------------------------------------------

def pick_joins(groups: list[dict], copies: int, rng) -> list[tuple[dict, str]]:
    """Three quarters of the copies join stored groups, as many into each size of group:
    (group, URL of the member copied: the origin half the time, else a repost)."""
    strata = [(lo, hi) for lo, hi, _ in STRATA[1:] if any(lo <= g["size"] <= hi for g in groups)]
    per_stratum = copies * 3 // 4 // len(strata) if strata else 0
    joins = []
    for lo, hi in strata:
        pool = [g for g in groups if lo <= g["size"] <= hi]
        for _ in range(per_stratum):
            g = pool[int(rng.integers(len(pool)))]
            copied = g["origin_url"] if rng.random() < 0.5 else g["urls"][int(rng.integers(len(g["urls"])))]
            joins.append((g, copied))
    return joins


def make_new(big: Path, new: int, seed: int, jsonl: Path, groups: list[dict], corpus: int, extra: int = 4) -> dict:
    """--new documents (JSONL): fresh articles, and copies (``COPY_SHARE``), a quarter of them of
    stored singletons, the rest of members of stored groups, as many into each size of group
    (``STRATA``); and ``extra`` single copies of singletons for the first-link runs."""
    conn = sqlite3.connect(big)
    n_docs, base = conn.execute("SELECT count(*), max(id) FROM documents").fetchone()
    rng = np.random.default_rng([seed, 9, base])
    copies = int(round(new * COPY_SHARE))
    joins = pick_joins(groups, copies, rng)
    in_groups = {g["origin_id"] for g in groups}
    candidates = [int(i) for i in rng.choice(np.arange(1, corpus + 1), size=2 * (copies + extra), replace=False)]
    originals = [i for i in candidates if i not in in_groups][: copies - len(joins) + extra]
    found = rows_where(conn, "id", originals)
    by_url = rows_where(conn, "url", {u for _, u in joins})
    joined = sorted({g["rank"] for g, _ in joins})
    group_origins = rows_where(conn, "id", [g["origin_id"] for g in groups if g["rank"] in joined])
    conn.close()
    for rec in [*found.values(), *group_origins.values()]:  # (reposts are stored as the clean stage left them)
        assert content_hash(rec["url"], rec["text"], rec["title"]) == rec["content_hash"], "stored text is not the input text"
    gen = generator()
    gen.rng = np.random.default_rng([seed, 10, base])
    number = itertools.count(base + 1)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def fresh(i):
        title, paragraphs = gen.article()
        site = int(gen.rng.choice(SITES, p=site_weights()))
        n = next(number)
        return {"url": f"https://site{site}.example/{n}", "site": f"site{site}", "title": title,
                "published": iso(start + timedelta(minutes=i)), "fetched": iso(start + timedelta(minutes=i, hours=1)),
                "text": "\n".join(paragraphs), "kind": "fresh", "joins": 0}

    def copy_of(rec, kind, joins=1):
        site = rec["site"]
        if kind != "duplicate":
            others = [s for s in range(SITES) if f"site{s}" != site]
            site = f"site{int(gen.rng.choice(others))}"
        published = datetime.fromisoformat(rec["published"]) + timedelta(hours=3)
        n = next(number)
        return {"url": f"https://{site}.example/{n}", "site": site, "title": rec["title"], "published": iso(published),
                "fetched": iso(published + timedelta(hours=1)), "text": repost_text(gen, rec, kind), "kind": kind,
                "original": rec["id"], "joins": joins}

    kinds = ["copy", "excerpt", "copy", "excerpt", "duplicate"]
    items = []
    for i, (g, url) in enumerate(joins):
        item = copy_of(by_url[url], kinds[i % len(kinds)], g["size"])
        credits = item["text"].rsplit("\n", 1)[-1].endswith(url)  # "originally appeared at" / "Read more at" it
        item["how"] = (f"{item['kind']} of {'the origin' if url == g['origin_url'] else 'a repost'}"
                       + (", crediting it" if credits else ""))
        items.append(item)
    items += [copy_of(found[o], kinds[i % len(kinds)]) for i, o in enumerate(originals[: copies - len(joins)])]
    items += [fresh(i) for i in range(new - len(items))]
    order = rng.permutation(len(items))
    items = [items[i] for i in order]
    jsonl.write_text("".join(jsonl_line(r) + "\n" for r in items), encoding="utf-8")
    singles = []
    for i, o in enumerate(originals[copies - len(joins):]):
        single = jsonl.with_name(f"{jsonl.stem}-single{i}.jsonl")
        single.write_text(jsonl_line(copy_of(found[o], "copy")) + "\n", encoding="utf-8")
        singles.append(single)
    return {"docs_in_db": n_docs, "singles": singles, "items": {r["url"]: r for r in items},
            # what (a) holds: the originals of the singletons copied, and the groups joined
            "originals": [found[o] for o in originals[: copies - len(joins)]] + list(group_origins.values()),
            "joined": [g for g in groups if g["rank"] in joined],
            "kinds": {k: sum(1 for r in items if r["kind"] == k) for k in ("fresh", "copy", "excerpt", "duplicate")},
            "joining": len(joins)}


def build_small(path: Path, new: dict, groups_jsonl: Path) -> dict:
    """(a): the originals of the singletons the new documents copy, and every group they join,
    its reposts imported with the real CLI as into the big database (same lines, same order)."""
    started = time.perf_counter()
    build_from_records(path, new["originals"])
    urls = {u for g in new["joined"] for u in g["urls"]}
    part = path.with_name(path.stem + "-groups.jsonl")
    with groups_jsonl.open(encoding="utf-8") as src, part.open("w", encoding="utf-8") as dst:
        for line in src:
            if json.loads(line)["url"] in urls:
                dst.write(line)
    run = run_cli(path, part)
    return {"seconds": time.perf_counter() - started, "reposts": run["summary"]["new"], "docs": len(new["originals"]) + run["summary"]["new"]}


def cost_by_group(new: dict, runs: dict) -> tuple[list, list, tuple | None]:
    """Rows of the link stage's cost per new document by the size of the group it joins, and
    by what it copies (groups of 100 or more); and (b)'s median ratio, wall and CPU, of
    joining a group of 1,000 or more to joining one of 2-9."""
    def per_doc(key):
        times = collections.defaultdict(list)
        for r in runs[key]:
            for url, wall, cpu, _ in r["timings"].get("items", []):
                times[url].append((wall, cpu))
        return {u: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for u, v in times.items()}

    a, b = per_doc("small"), per_doc("big")
    median = statistics.median
    classes, hows = collections.defaultdict(list), collections.defaultdict(list)
    for url, item in new["items"].items():
        if url not in a or url not in b:
            continue
        classes["fresh (nothing like it stored)" if item["kind"] == "fresh" else stratum(item["joins"])].append(url)
        if item["joins"] >= 100:
            hows[item["how"]].append(url)
    rows, medians = [], {}
    for label in ["fresh (nothing like it stored)", *[label for _, _, label in STRATA]]:
        urls = classes.get(label)
        if not urls:
            continue
        wa, wb = median(a[u][0] for u in urls), median(b[u][0] for u in urls)
        ca, cb = median(a[u][1] for u in urls), median(b[u][1] for u in urls)
        medians[label] = (wb, cb)
        rows.append([label, len(urls), ms(wa), ms(wb), f"{wb / wa:.2f}×", ms(ca), ms(cb), f"{cb / ca:.2f}×",
                     ms(max(b[u][0] for u in urls))])
    how_rows = [[how, len(urls), ms(median(a[u][0] for u in urls)), ms(median(b[u][0] for u in urls)),
                 ms(median(a[u][1] for u in urls)), ms(median(b[u][1] for u in urls)), ms(max(b[u][0] for u in urls))]
                for how, urls in sorted(hows.items())]
    big, small = medians.get(STRATA[-1][2]), medians.get(STRATA[1][2])
    ratio = (big[0] / small[0], big[1] / small[1]) if big and small else None
    return rows, how_rows, ratio


