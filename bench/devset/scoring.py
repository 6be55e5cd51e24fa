"""Scoring the predictions against the truth, and the figures table."""

from __future__ import annotations

import collections

from bench.devset.build import Doc
from bench.devset.runs import Prediction
from bench.devset.text import loose, norm_line, shingles


def pairs_of(groups) -> set[frozenset]:
    out = set()
    for members in groups:
        ms = sorted(members)
        for a in range(len(ms)):
            for b in range(a + 1, len(ms)):
                out.add(frozenset((ms[a], ms[b])))
    return out


def text_kept(doc: Doc, stored: str | None) -> tuple[float, float]:
    """(share of the body's 5-word shingles in the stored text, share of stored shingles not in the body)."""
    if stored is None:
        return 0.0, 0.0
    want = shingles("\n".join(doc.body))
    have = shingles(stored)
    kept = len(want & have) / len(want) if want else 1.0
    noise = len(have - want) / len(have) if have else 0.0
    return kept, noise


def left_over(lines: list[str], stored: str | None) -> list[str]:
    if stored is None:
        return []
    hay = loose(stored)
    return [line for line in lines if loose(line) in hay]


def true_groups_of(docs: list[Doc]) -> dict[str, set]:
    groups = collections.defaultdict(set)
    for d in docs:
        if d.group:
            groups[d.group].add(d.key)
    return groups


def pair_scores(docs: list[Doc], pred: Prediction, present: set) -> dict:
    """Unordered pairs of imported documents that share a group, true against predicted."""
    true_pairs = pairs_of(true_groups_of(docs).values())
    pred_groups = collections.defaultdict(set)
    for key in present:
        pred_groups[pred.comp[pred.node[key]]].add(key)
    pred_pairs = pairs_of(pred_groups.values())
    tp = len(true_pairs & pred_pairs)
    return {"true_pairs": len(true_pairs), "predicted_pairs": len(pred_pairs), "tp_pairs": tp,
            "precision": tp / len(pred_pairs) if pred_pairs else 1.0, "recall": tp / len(true_pairs) if true_pairs else 1.0,
            "fp_pairs": pred_pairs - true_pairs, "fn_pairs": true_pairs - pred_pairs}


def origin_scores(docs: list[Doc], pred: Prediction, present: set) -> dict:
    """For each true group of two or more, the origin most members point to must be the true one."""
    origin_ok, origin_strict, multi = 0, 0, 0
    wrong_origins = []
    for gid, members in true_groups_of(docs).items():
        if len(members) < 2:
            continue
        multi += 1
        true_origin = f"{gid}-o"
        votes = collections.Counter(pred.origin[pred.node[m]] for m in members if m in present)
        if not votes:
            wrong_origins.append(gid)
            continue
        top = max(votes.values())
        tied = sorted((o for o, n in votes.items() if n == top), key=str)
        best = tied[0]
        truth_node = pred.node.get(true_origin)
        if truth_node is not None and best == truth_node:
            origin_ok += 1
        else:
            wrong_origins.append(gid)
        if truth_node is not None and all(m in present and pred.origin[pred.node[m]] == truth_node for m in members):
            origin_strict += 1
    return {"groups_multi": multi, "origin_accuracy": origin_ok / multi if multi else 1.0,
            "origin_strict": origin_strict / multi if multi else 1.0, "wrong_origins": wrong_origins}


def relation_scores(docs: list[Doc], pred: Prediction, present: set) -> dict:
    """The relations of the non-origin members."""
    rel_total = rel_ok = 0
    confusion = collections.Counter()
    for d in docs:
        if d.relation in ("copy", "excerpt", "duplicate"):
            rel_total += 1
            got = pred.relation.get(pred.node[d.key]) if d.key in present else "missing"
            confusion[(d.relation, got)] += 1
            if got == d.relation:
                rel_ok += 1
    return {"relation_accuracy": rel_ok / rel_total if rel_total else 1.0, "relation_total": rel_total,
            "confusion": {f"{a}->{b}": c for (a, b), c in sorted(confusion.items(), key=str)}}


def text_scores(docs: list[Doc], pred: Prediction, present: set) -> dict:
    """Chrome, attribution and template lines left; article text kept; titles."""
    with_chrome = [d for d in docs if d.chrome]
    chrome_left_docs = [d.key for d in with_chrome if left_over(d.chrome, pred.text.get(pred.node.get(d.key)))]
    attr_docs = [d for d in docs if d.attribution]
    attr_left = [d.key for d in attr_docs if left_over(d.attribution, pred.text.get(pred.node.get(d.key)))]
    tmpl_docs = [d for d in docs if d.template]
    tmpl_left = [d.key for d in tmpl_docs if left_over(d.template, pred.text.get(pred.node.get(d.key)))]
    kept, noise = {}, {}
    for d in docs:
        kept[d.key], noise[d.key] = text_kept(d, pred.text.get(pred.node.get(d.key)))
    titled = [d for d in docs if d.key in present]
    wrong_titles = [d.key for d in titled if pred.title and loose(pred.title.get(pred.node[d.key]) or "") != loose(d.title)]
    n = len(docs)
    kept_by_fmt = collections.defaultdict(list)
    for d in docs:
        kept_by_fmt[d.fmt.split(".")[0]].append(kept[d.key])
    return {
        "docs_with_chrome": len(with_chrome), "chrome_left_docs": chrome_left_docs,
        "chrome_left_share": len(chrome_left_docs) / len(with_chrome) if with_chrome else 0.0,
        "chrome_left_all_docs": len(chrome_left_docs) / n,
        "attribution_docs": len(attr_docs), "attribution_left": attr_left,
        "template_docs": len(tmpl_docs), "template_left": tmpl_left,
        "wrong_titles": wrong_titles,
        "title_accuracy": 1 - len(wrong_titles) / len(titled) if titled and pred.title else None,
        "text_kept": sum(kept.values()) / n, "kept": kept, "noise": noise,
        "text_noise": sum(noise.values()) / n,
        "kept_below_97": sum(1 for v in kept.values() if v < 0.97),
        "kept_by_format": {f: sum(v) / len(v) for f, v in sorted(kept_by_fmt.items())},
    }


#: The order of the keys in metrics.json, as before the split.
SCORE_KEYS = ["documents", "stored", "true_pairs", "predicted_pairs", "tp_pairs", "precision", "recall", "groups_multi",
              "origin_accuracy", "origin_strict", "wrong_origins", "relation_accuracy", "relation_total", "confusion",
              "docs_with_chrome", "chrome_left_docs", "chrome_left_share", "chrome_left_all_docs", "attribution_docs",
              "attribution_left", "template_docs", "template_left", "wrong_titles", "title_accuracy", "text_kept", "kept",
              "noise", "text_noise", "kept_below_97", "kept_by_format", "fp_pairs", "fn_pairs"]


def score(docs: list[Doc], pred: Prediction) -> dict:
    present = {d.key for d in docs if pred.node.get(d.key) is not None}
    found = {"documents": len(docs), "stored": len(present)}
    for part in (pair_scores, origin_scores, relation_scores, text_scores):
        found.update(part(docs, pred, present))
    return {key: found[key] for key in SCORE_KEYS}


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def figures_table(ours: dict, base: dict | None, ours_speed: dict, base_speed: float | None) -> str:
    rows = [
        ("syndication-pair precision", f"{ours['precision']:.3f}", base and f"{base['precision']:.3f}", "≥ 0.99"),
        ("syndication-pair recall", f"{ours['recall']:.3f}", base and f"{base['recall']:.3f}", "≥ 0.97"),
        ("origin accuracy (groups ≥2 docs)", f"{ours['origin_accuracy']:.3f}", base and f"{base['origin_accuracy']:.3f}", "≥ 0.97"),
        ("origin accuracy, strict (every member linked to it)", f"{ours['origin_strict']:.3f}", base and f"{base['origin_strict']:.3f}", ""),
        ("relation accuracy (copies, excerpts, duplicates)", f"{ours['relation_accuracy']:.3f}", base and f"{base['relation_accuracy']:.3f}", ""),
        ("docs with inserted chrome left (of docs with chrome)", pct(ours["chrome_left_share"]), base and pct(base["chrome_left_share"]), "≤ 1%"),
        ("docs with inserted chrome left (of all docs)", pct(ours["chrome_left_all_docs"]), base and pct(base["chrome_left_all_docs"]), ""),
        ("attribution lines left in text (of docs with one)", pct(len(ours["attribution_left"]) / max(1, ours["attribution_docs"])),
         base and pct(len(base["attribution_left"]) / max(1, base["attribution_docs"])), ""),
        ("HTML template chrome left (of HTML docs)", pct(len(ours["template_left"]) / max(1, ours["template_docs"])),
         base and pct(len(base["template_left"]) / max(1, base["template_docs"])), ""),
        ("article text kept (mean share of body 5-shingles)", pct(ours["text_kept"]), base and pct(base["text_kept"]), "≥ 97%"),
        ("docs keeping < 97% of their body", str(ours["kept_below_97"]), base and str(base["kept_below_97"]), ""),
        ("stored text that is not article (mean share of shingles)", pct(ours["text_noise"]), base and pct(base["text_noise"]), ""),
        ("title stored as written", pct(ours["title_accuracy"]), "", ""),
        ("documents stored / in the set", f"{ours['stored']} / {ours['documents']}", base and f"{base['stored']} / {base['documents']}", ""),
        ("documents per second (wall, incl. CLI start-up)", f"{ours_speed['wall_rate']:.1f}", base_speed and f"{ours['documents'] / base_speed:.1f}", ""),
        ("documents per second (CLI's own summary)", f"{ours_speed['cli_rate']:.1f}", "", ""),
    ]
    out = ["| measure | collector | baseline | target |", "| --- | ---: | ---: | --- |"]
    for name, a, b, t in rows:
        out.append(f"| {name} | {a} | {b or ''} | {t} |")
    return "\n".join(out)


def cut(text: str, n: int = 110) -> str:
    text = norm_line(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def whole_page(text: str | None) -> bool:
    """trafilatura's fallback for a short article: the whole page (title, byline, chrome) as one line."""
    return bool(text) and "\n" not in text.strip() and "by staff writer" in loose(text)


