"""Failure analysis of the development set: each kind of failure by cause, with examples."""

from __future__ import annotations

import collections
import importlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.devset.build import Doc
from bench.devset.runs import Prediction
from bench.devset.scoring import cut, left_over, whole_page
from bench.devset.sites import SiteSpec
from bench.devset.text import loose, norm_line, shingles, split_paragraphs

#: The thresholds the analysis explains failures with, where the code under test keeps them.
THRESHOLDS = {"containment_min": ("collector.core.similarity", "CONTAINMENT_MIN"),
              "min_shingles": ("collector.core.similarity", "MIN_SHINGLES"),
              "estimate_min": ("collector.core.similarity", "ESTIMATE_MIN"), "bands": ("collector.storage.lsh", "BANDS"),
              "rows_per_band": ("collector.storage.lsh", "ROWS"), "min_band_hits": ("collector.storage.lsh", "MIN_BAND_HITS")}
#: What an older build (``--code``) without one of them is taken to use; the report says so.
ASSUMED = {"containment_min": 0.7, "min_shingles": 8, "estimate_min": 0.0, "bands": 64, "rows_per_band": 2, "min_band_hits": 1}


@dataclass
class Thresholds:
    containment_min: float
    min_shingles: int
    estimate_min: float
    bands: int
    rows_per_band: int
    min_band_hits: int
    assumed: list[str]


def thresholds(code: Path) -> Thresholds:
    """Only the thresholds come from the code under test (it is refactored often); the
    shingles and the containment rule are this script's own, as DESIGN.md states them."""
    sys.path.insert(0, str(code))
    found, assumed = {}, []
    for name, (module, attribute) in THRESHOLDS.items():
        try:
            found[name] = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):  # an older build keeps it elsewhere: said in the report
            found[name] = ASSUMED[name]
            assumed.append(f"{module}.{attribute} (taken as {ASSUMED[name]})")
    return Thresholds(**found, assumed=assumed)


class Analysis:
    """What every section reads: the truth, the scores, the prediction and the database."""

    def __init__(self, docs: list[Doc], ours: dict, pred: Prediction, db: dict, sites: dict[str, SiteSpec],
                 samples: int, code: Path):
        self.docs, self.ours, self.pred, self.db, self.sites, self.samples = docs, ours, pred, db, sites, samples
        self.thresholds = thresholds(code)
        self.by_key = {d.key: d for d in docs}
        self.key_of = {v: k for k, v in pred.node.items() if v is not None}
        self.rows, self.links, self.claims = db["rows"], db["links"], db["claims"]
        self.sig = {}

    def label(self, key):
        d = self.by_key[key]
        return f"{key} [{d.site} {d.fmt} {d.role}]"

    def signature(self, i):
        if i not in self.sig:
            blob, count = self.db["conn"].execute("SELECT signature, shingles FROM documents WHERE id = ?", (i,)).fetchone()
            self.sig[i] = (np.frombuffer(blob, dtype=np.uint32), count)
        return self.sig[i]

    def pair_facts(self, a, b):
        t, rows = self.thresholds, self.rows
        ta, tb = shingles(rows[a]["text"]), shingles(rows[b]["text"])
        inter = len(ta & tb)
        small = min(len(ta), len(tb))
        contained = inter / max(1, small)
        (sa, na), (sb, nb) = self.signature(a), self.signature(b)
        r = t.rows_per_band
        hits = int(sum((sa[k * r:(k + 1) * r] == sb[k * r:(k + 1) * r]).all()
                       for k in range(t.bands))) if len(sa) == len(sb) else -1
        j_est = float((sa == sb).mean()) if len(sa) == len(sb) else 0.0
        est = j_est / (1 + j_est) * (na + nb) / max(1, min(na, nb))
        return {"shingles": (len(ta), len(tb)), "shared": inter, "jaccard": inter / max(1, len(ta | tb)),
                "containment": contained, "relate": small >= t.min_shingles and contained >= t.containment_min,
                "band_hits": hits, "lsh": hits >= t.min_band_hits, "estimate": est, "prefilter": est >= t.estimate_min}


def analyse(docs: list[Doc], ours: dict, pred: Prediction, db: dict, sites: dict[str, SiteSpec], samples: int,
            code: Path) -> str:
    a = Analysis(docs, ours, pred, db, sites, samples, code)
    out = []
    if a.thresholds.assumed:
        out.append("Thresholds not in the code under test: " + ", ".join(a.thresholds.assumed))
    for section in (false_positives, false_negatives, wrong_origins, chrome_left, text_lost, wrong_titles,
                    relation_errors, dates, learned):
        out += section(a)
    return "\n".join(out)


def false_positives(a: Analysis) -> list[str]:
    """Links joining two different true groups, by cause."""
    ours, pred, samples, by_key, key_of, rows = a.ours, a.pred, a.samples, a.by_key, a.key_of, a.rows
    links, label, pair_facts = a.links, a.label, a.pair_facts
    out = []
    out.append("\n### False positives: links between different true groups\n")
    bad_links = []
    for c, l in links.items():
        kc, ko = key_of.get(c), key_of.get(l["origin_id"])
        if kc is None or ko is None:
            continue
        gc, go = by_key[kc].group, by_key[ko].group
        if gc is None or gc != go:
            bad_links.append((kc, ko, l))
    out.append(f"{len(bad_links)} wrong links make {len(ours['fp_pairs'])} false-positive pairs.\n")
    reasons = collections.Counter()
    for kc, ko, l in bad_links:
        a, b = pred.node[kc], pred.node[ko]
        la = set(split_paragraphs(rows[a]["text"]))
        lb = set(split_paragraphs(rows[b]["text"]))
        common = la & lb
        chrome_common = [x for x in common if any(loose(x) == loose(y) for y in by_key[kc].chrome + by_key[ko].chrome)]
        facts = pair_facts(a, b)
        if chrome_common:
            why = "shared chrome left in both texts"
        elif any(f"quotes one sentence of {by_key[o].cid}" in by_key[k].transforms for k, o in ((kc, ko), (ko, kc))):
            why = "a distractor quoting one sentence of the other"
        elif not facts["relate"]:
            why = "linked through another member (group merge), not directly related"
        else:
            why = "texts genuinely overlap (shared corpus text)"
        reasons[why] += 1
        if reasons[why] <= samples:
            out.append(f"- {label(kc)} -> {label(ko)}: {l['relation']} sim {l['similarity']:.2f} cont {l['containment']:.2f}; "
                       f"shingles {facts['shingles']}, shared {facts['shared']}; **{why}**"
                       + (f"; shared lines: {[cut(x, 70) for x in list(chrome_common or common)[:3]]}" if common else "")
                       + f"; evidence: {cut(l['evidence'], 90)}")
    if reasons:
        out.append("\nFalse-positive causes: " + ", ".join(f"{k}: {v}" for k, v in reasons.most_common()))
    return out


def false_negatives(a: Analysis) -> list[str]:
    """Members not in their origin's predicted group, by cause."""
    docs, ours, pred, samples, by_key, rows = a.docs, a.ours, a.pred, a.samples, a.by_key, a.rows
    label, pair_facts, t = a.label, a.pair_facts, a.thresholds
    out = []
    out.append("\n### False negatives: members not in their origin's predicted group\n")
    reasons = collections.Counter()
    examples = collections.defaultdict(list)
    groups = collections.defaultdict(list)
    for d in docs:
        if d.group:
            groups[d.group].append(d.key)
    for gid, members in groups.items():
        if len(members) < 2:
            continue
        okey = f"{gid}-o"
        onode = pred.node.get(okey)
        for m in members:
            if m == okey:
                continue
            node = pred.node.get(m)
            if node is None:
                same_url = [r for r in rows.values() if r["url"] == by_key[m].url]
                why = "document not stored" + (" (its URL was taken by another file: URL collision)" if same_url or not by_key[m].og_url else "")
            elif onode is None:
                why = "true origin not stored (URL collision: overwritten)" if any(r["url"] == by_key[okey].url for r in rows.values()) else "true origin not stored"
            elif pred.comp[node] == pred.comp[onode]:
                continue
            else:
                facts = pair_facts(node, onode)
                left = left_over(by_key[m].chrome, rows[node]["text"]) + left_over(by_key[okey].chrome, rows[onode]["text"])
                if whole_page(rows[node]["text"]) or whole_page(rows[onode]["text"]):
                    why = "short page extracted as one line with title, byline and chrome (trafilatura fallback)"
                elif facts["relate"] and not facts["lsh"]:
                    why = f"LSH miss: {facts['band_hits']} band collisions, {t.min_band_hits} needed"
                elif facts["relate"] and not facts["prefilter"]:
                    why = f"signature pre-filter: estimated containment {facts['estimate']:.2f} < {t.estimate_min}"
                elif facts["relate"]:
                    why = "containment, LSH and pre-filter all pass, yet not linked (group logic)"
                elif min(facts["shingles"]) < t.min_shingles:
                    why = "text too short after cleaning"
                elif left:
                    why = f"containment {facts['containment']:.2f} < {t.containment_min} with chrome left"
                else:
                    why = f"containment below {t.containment_min}"
                why_key = re.sub(r"[0-9.]+ (?=<)|: \d+ band collisions", "", why.split(" with")[0]) if not why.startswith("short") else why
                examples[why_key].append(f"- {label(m)} vs origin {label(okey)}: {why}; J={facts['jaccard']:.2f} bands={facts['band_hits']} est={facts['estimate']:.2f} "
                                         f"cont={facts['containment']:.2f} shingles={facts['shingles']}; "
                                         f"kept {ours['kept'][m]:.2f}/{ours['kept'][okey]:.2f}; transforms {by_key[m].transforms}")
                reasons[why_key] += 1
                continue
            reasons[why] += 1
            examples[why].append(f"- {label(m)} (origin {okey}): {why}; transforms {by_key[m].transforms}")
    for why, n in reasons.most_common():
        out.append(f"**{why}**: {n}")
        out.extend(examples[why][:samples])
    if not reasons:
        out.append("none")
    return out


def wrong_origins(a: Analysis) -> list[str]:
    """Groups whose predicted origin is not the true one."""
    docs, ours, pred, samples, key_of, rows = a.docs, a.ours, a.pred, a.samples, a.key_of, a.rows
    links, claims = a.links, a.claims
    out = []
    out.append("\n### Wrong origins\n")
    reasons = collections.Counter()
    lines_by = collections.defaultdict(list)
    for gid in ours["wrong_origins"]:
        okey = f"{gid}-o"
        onode = pred.node.get(okey)
        members = [d for d in docs if d.group == gid]
        if onode is None:
            why = "true origin not stored"
        else:
            copies_of = [pred.origin[pred.node[d.key]] for d in members if pred.node.get(d.key) is not None]
            chosen = collections.Counter(copies_of).most_common(1)[0][0]
            ev = links.get(next((pred.node[d.key] for d in members if pred.node.get(d.key) in links), -1), {}).get("evidence", "")
            if pred.comp[onode] != pred.comp.get(chosen):
                why = "origin not linked to its copies (recall)"
            else:
                why = "chosen by " + (ev.split(":")[0] if ev else "?")
        reasons[why] += 1
        desc = [f"- group {gid} ({why}):"]
        for d in members:
            node = pred.node.get(d.key)
            r = rows.get(node) if node is not None else None
            cl = [f"{c['kind']}->{c['claimed_site'] or c['claimed_name']}" for c in claims.get(node, [])]
            desc.append(f"    - {d.key} {d.site} {d.fmt} true:{d.relation} published(true)={d.published} stored={r and r['published']} "
                        f"fetched={r and r['fetched']} claims={cl} pred_origin={key_of.get(pred.origin.get(node)) if node is not None else None} "
                        f"{d.transforms}")
        ev = next((links[pred.node[d.key]]["evidence"] for d in members if pred.node.get(d.key) in links), None)
        if ev:
            desc.append(f"    - evidence: {cut(ev, 200)}")
        lines_by[why].append("\n".join(desc))
    for why, n in reasons.most_common():
        out.append(f"**{why}**: {n}")
        out.extend(lines_by[why][:samples])
    if not reasons:
        out.append("none")
    return out


def chrome_left(a: Analysis) -> list[str]:
    """Inserted chrome, attribution lines and template lines left in the stored text."""
    docs, ours, pred, db, sites, samples = a.docs, a.ours, a.pred, a.db, a.sites, a.samples
    by_key, rows, claims, label = a.by_key, a.rows, a.claims, a.label
    out = []
    out.append("\n### Chrome left in documents.text\n")
    per_line = collections.Counter()
    where = {}
    for key in ours["chrome_left_docs"]:
        d = by_key[key]
        node = pred.node[key]
        for line in left_over(d.chrome, rows[node]["text"]):
            spec = sites[d.site]
            configured = norm_line(line) in [norm_line(x) for x in spec.cfg_lines] or any(re.search(p, line, re.I) for p in spec.cfg_patterns)
            site_key = rows[node]["site"]
            learned = line in db["learned"].get(site_key, set())
            per_line[(d.site, site_key, line, configured, learned)] += 1
            where.setdefault((d.site, site_key, line, configured, learned), []).append(key)
    site_docs = collections.Counter(d.site for d in docs)
    for (site, site_key, line, configured, learned), n in per_line.most_common(samples * 3):
        out.append(f"- {site} (stored as site `{site_key}`, {site_docs[site]} docs in set): {n} docs keep “{cut(line, 80)}” "
                   f"(configured: {configured}, learned: {learned}); e.g. {where[(site, site_key, line, configured, learned)][:4]}")
    if not per_line:
        out.append("none")
    if ours["attribution_left"]:
        out.append(f"\nAttribution lines left in text: {len(ours['attribution_left'])}")
        for key in ours["attribution_left"][:samples]:
            d = by_key[key]
            node = pred.node[key]
            why = ("whole page extracted as one line" if whole_page(rows[node]["text"]) else
                   f"stored under site `{rows[node]['site']}` = the claimed site (URL taken from the canonical link), so the claim was dropped as self-naming"
                   if not by_key[key].og_url else "phrase not recognised")
            out.append(f"- {label(key)}: “{cut(d.attribution[0], 100)}” claims={[c['kind'] for c in claims.get(node, [])]}; **{why}**")
    if ours["template_left"]:
        out.append(f"\nHTML template chrome left: {len(ours['template_left'])} docs, e.g. {ours['template_left'][:5]}")
    return out


def text_lost(a: Analysis) -> list[str]:
    """Documents keeping less than 97% of their body, by cause."""
    ours, pred, samples, by_key, rows = a.ours, a.pred, a.samples, a.by_key, a.rows
    claims, label = a.claims, a.label
    out = []
    out.append("\n### Article text lost (docs keeping < 97% of their body)\n")
    lost = sorted((k for k, v in ours["kept"].items() if v < 0.97), key=lambda k: ours["kept"][k])
    reasons = collections.Counter()
    ex = collections.defaultdict(list)
    for key in lost:
        d = by_key[key]
        node = pred.node.get(key)
        if node is None:
            reasons["not stored"] += 1
            ex["not stored"].append(f"- {label(key)}: not stored")
            continue
        have = shingles(rows[node]["text"])
        stripped = json.loads(rows[node]["chrome"] or "[]")
        claim_lines = [c["evidence"] for c in claims.get(node, [])]
        missing = []
        for p in d.body:
            ps = shingles(p)
            if ps and len(ps & have) / len(ps) < 0.5:
                missing.append(p)
        if whole_page(rows[node]["text"]):
            why = "whole page extracted as one line (trafilatura fallback)"
        elif not missing:
            why = "scattered (edges of paragraphs, shingles across paragraph joins)"
        elif any(norm_line(p) in stripped for p in missing):
            why = "body lines stripped as chrome"
        elif any(norm_line(p) in claim_lines for p in missing):
            why = "body lines taken as attribution claims"
        elif d.fmt.split(".")[0] in ("html", "warc", "jsonl-html"):
            why = "HTML extraction dropped body lines"
        elif d.fmt.startswith("txt") and missing and norm_line(missing[0]) == norm_line(d.body[0]):
            why = "first body line taken as the title"
        else:
            why = "body lines missing (other)"
        reasons[why] += 1
        ex[why].append(f"- {label(key)}: kept {ours['kept'][key]:.2f}; {len(missing)}/{len(d.body)} paragraphs missing, e.g. "
                       f"{[cut(p, 60) for p in missing[:2]]}"
                       + (f"; stripped as chrome: {[cut(s, 50) for s in stripped if s in [norm_line(p) for p in missing]][:2]}" if why.startswith("body lines stripped") else ""))
    for why, n in reasons.most_common():
        out.append(f"**{why}**: {n}")
        out.extend(ex[why][:samples])
    if not reasons:
        out.append("none")
    return out


def wrong_titles(a: Analysis) -> list[str]:
    """Stored titles that are not the written ones."""
    ours, pred, samples, by_key, rows, label = a.ours, a.pred, a.samples, a.by_key, a.rows, a.label
    out = []
    out.append("\n### Wrong titles\n")
    per_site = collections.Counter(by_key[k].site + " " + by_key[k].fmt.split(".")[0] for k in ours["wrong_titles"])
    out.append(", ".join(f"{k}: {v}" for k, v in per_site.most_common()) or "none")
    for key in ours["wrong_titles"][:samples]:
        node = pred.node[key]
        chrome_title = any(loose(rows[node]["title"] or "") == loose(c) for c in by_key[key].chrome)
        out.append(f"- {label(key)}: stored “{cut(rows[node]['title'] or '', 70)}” want “{cut(by_key[key].title, 70)}”"
                   + (" **a chrome line taken as the title; the real title stays in the text**" if chrome_title else ""))
    return out


def relation_errors(a: Analysis) -> list[str]:
    """True relation against stored relation."""
    docs, ours, pred, samples, key_of, links = a.docs, a.ours, a.pred, a.samples, a.key_of, a.links
    label, pair_facts = a.label, a.pair_facts
    out = []
    out.append("\n### Relation errors (true relation -> stored relation)\n")
    reasons = collections.Counter()
    ex = collections.defaultdict(list)
    for d in docs:
        if d.relation not in ("copy", "excerpt", "duplicate"):
            continue
        node = pred.node.get(d.key)
        got = pred.relation.get(node) if node is not None else "missing"
        if got == d.relation:
            continue
        kind = f"{d.relation}->{got}"
        reasons[kind] += 1
        if node is None or node not in links:
            ex[kind].append(f"- {label(d.key)}: not linked as a copy (see false negatives / wrong origins); {d.transforms}")
            continue
        target = links[node]["origin_id"]
        facts = pair_facts(node, target)
        ex[kind].append(f"- {label(d.key)} -> {label(key_of.get(target, '?')) if key_of.get(target) else target}: "
                        f"J={facts['jaccard']:.2f} shingles={facts['shingles']} containment {links[node]['containment']:.2f}, "
                        f"coverage of the origin {facts['shared'] / max(1, facts['shingles'][1]):.2f}; kept {ours['kept'][d.key]:.2f}; {d.transforms}")
    for kind, n in reasons.most_common():
        out.append(f"**{kind}**: {n}")
        out.extend(ex[kind][:samples])
    if not reasons:
        out.append("none")
    return out


def dates(a: Analysis) -> list[str]:
    """Publication dates stored against written."""
    docs, pred, samples, rows, label = a.docs, a.pred, a.samples, a.rows, a.label
    out = []
    out.append("\n### Publication dates stored vs written\n")
    reasons = collections.Counter()
    ex = collections.defaultdict(list)
    for d in docs:
        node = pred.node.get(d.key)
        if node is None:
            continue
        stored = rows[node]["published"]
        if d.published is None and stored:
            page = d.fmt.split(".")[0]
            day = stored[:10]
            if day.endswith("-01-01"):
                why = "undated page got YYYY-01-01 (the footer's copyright year)"
            elif day.endswith("-01") and d.url and re.search(r"/\d{4}/\d\d/[^0-9]", d.url):
                why = "undated page got the 1st of the month (a year/month URL)"
            elif d.url and (day.replace("-", "/") in d.url or day in d.url):
                why = "undated page got the day in its URL (no time of day)"
            else:
                why = f"undated {page} page got a date"
            reasons[why] += 1
            earlier = d.published_utc and day < d.published_utc[:10]
            ex[why].append(f"- {label(d.key)} stored {stored} (true {d.published_utc}){' EARLIER than the truth' if earlier else ''}")
        elif d.published and stored and len(d.published) > 10 and len(stored) <= 10:
            reasons["time of day lost"] += 1
            ex["time of day lost"].append(f"- {label(d.key)} written {d.published} stored {stored}")
        elif d.published and not stored:
            reasons["date lost"] += 1
            ex["date lost"].append(f"- {label(d.key)} written {d.published} stored nothing")
    for why, n in reasons.most_common():
        out.append(f"**{why}**: {n}")
        out.extend(ex[why][:max(2, samples // 2)])
    if not reasons:
        out.append("all dates stored as written")
    return out


def learned(a: Analysis) -> list[str]:
    """The chrome lines learned, and whether each was inserted chrome."""
    docs, db = a.docs, a.db
    out = []
    learned_rows = db["conn"].execute("SELECT site, line, documents FROM chrome_lines ORDER BY site").fetchall()
    out.append("\n### Chrome lines learned (chrome_lines)\n")
    for site, line, n in learned_rows:
        inserted = any(loose(line) == loose(c) for d in docs if d.site == site or site == d.site for c in d.chrome)
        out.append(f"- {site}: “{cut(line, 90)}” (seen in {n}){'' if inserted else ' **NOT inserted chrome: article text learned as chrome**'}")
    if db["unknown"]:
        out.append(f"\n{len(db['unknown'])} stored documents are not in the ground truth (source unknown), e.g. {[r['source'] for r in db['unknown'][:3]]}")
    return out
