"""The markdown the extraction benchmark prints: per set, the scores of every setting and of
the pipeline's text after each stage, what each step does, the worst pages; then timing,
the suggested changes and the targets."""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.extraction.metrics import f3, ms, pct, score_texts, title_norm
from bench.extraction.pages import TITLES, Page
from bench.extraction.pipeline import STAGE_ORDER, Patch, PipelineRun, run_pipeline
from bench.extraction.variants import Output, variants
from bench.common import corpus
from pipelines.clean import split_lines, title_line

def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def quality_cells(set_name: str, s: dict) -> list[str]:
    if set_name == "zyte":
        return [f3(s["P"], s.get("P_sd")), f3(s["R"], s.get("R_sd")), f3(s["F1"], s.get("F1_sd")), f3(s["acc"])]
    if set_name == "eval":
        return [f3(s["P"]), f3(s["R"]), f3(s["F1"]), f3(s["acc"]), f"{s['tp']}/{s['fp']}/{s['fn']}/{s['tn']}"]
    return [pct(s.get("title_exact")), pct(s.get("title_norm")), pct(s.get("date_day")), pct(s.get("date_minute")),
            pct(s.get("date_timed")), f3(s["P"]), f3(s["R"]), f3(s["F1"], s.get("F1_sd"))]


QUALITY_HEADERS = {
    "zyte": ["P", "R", "F1 (± bootstrap sd)", "exact"],
    "eval": ["P", "R", "F1", "accuracy", "TP/FP/FN/TN"],
    "fundus": ["title exact", "title norm.", "date day", "date minute", "date has time", "body P", "body R", "body F1"],
}


def reference_rows(n_boot: int, pages: list[Page]) -> list[list[str]]:
    """The benchmark's published outputs of other extractors, scored here (a check of the metric)."""
    rows = []
    keys = {p.key for p in pages}
    for path in sorted((corpus.zyte_dir() / "reference-outputs").glob("*.json.gz")):
        data = json.loads(gzip.decompress(path.read_bytes()))
        version = data.get("version") if isinstance(data, dict) and "output" in data else None
        out = data["output"] if isinstance(data, dict) and "output" in data else data
        texts = {k: (v or {}).get("articleBody") for k, v in out.items() if k in keys}
        s = score_texts("zyte", pages, texts, n_boot)
        name = path.name.removesuffix(".json.gz") + (f" {version}" if version else "")
        rows.append([f"published output: {name}", *quality_cells("zyte", s), "–", "–", "–"])
    return rows


def line_set(text: str | None) -> list[str]:
    return split_lines(text or "")


def short(line: str, n: int = 110) -> str:
    line = line.replace("|", "¦")
    return line if len(line) <= n else line[: n - 1] + "…"


def classify_removed(page_key: str, run: PipelineRun, e_text: str) -> dict[str, list[str]]:
    """Lines of the extract stage's text missing from the stored text, by why they went."""
    stored = run.stored.get(page_key)
    out: dict[str, list[str]] = defaultdict(list)
    if stored is None:
        out["not stored (dropped)"] = line_set(e_text)
        return out
    kept = Counter(line_set(stored["text"]))
    chrome = set(json.loads(stored["chrome"] or "[]"))
    claims = set(run.claims.get(page_key, []))
    lines = line_set(e_text)
    title = run.titles.get(page_key)
    headline = title_line(lines, title) if title else None   # the clean stage's own rule
    for i, line in enumerate(lines):
        if kept[line] > 0:
            kept[line] -= 1
            continue
        if i == headline:
            out["title line"].append(line)
        elif line in claims:
            out["attribution claim"].append(line)
        elif line in chrome:
            out["chrome (config or learned)"].append(line)
        else:
            out["other"].append(line)
    return out


def report_set(set_name: str, pages: list[Page], results: dict[str, Output], vdocs: dict[str, str],
               run: PipelineRun | None, n_boot: int, worst: int, out_dir: Path) -> dict:
    print(f"\n## {TITLES[set_name]}: {len(pages)} pages\n")
    scores = quality_table(set_name, pages, results, run, n_boot)
    bare = {k: v for k, v in scores.items() if k in results}
    best = max(bare, key=lambda k: bare[k]["F1"])
    print(f"\nBest bare trafilatura setting on this set: **{best}** (F1 {bare[best]['F1']:.3f};"
          f" upstream standard {bare['upstream (standard)']['F1']:.3f}).")
    summary = {"best": best, "scores": {k: {kk: vv for kk, vv in v.items() if kk not in ("per_page", "counts", "rows")} for k, v in scores.items()}}
    if run is None:
        return summary
    step_effects(set_name, scores)
    removed_lines(set_name, pages, run)
    worst_pages(set_name, pages, results, scores, run, worst)
    dump_pages(out_dir / f"{set_name}.pages.jsonl", pages, results, scores, run)
    return summary


def quality_rows(set_name: str, pages: list[Page], results: dict[str, Output], n_boot: int, scores: dict) -> list[list[str]]:
    """One row per bare setting (and the benchmark's published outputs on Zyte)."""
    meta = set_name == "fundus"
    rows = reference_rows(n_boot, pages) if set_name == "zyte" else []
    for name, out in results.items():
        s = score_texts(set_name, pages, out.texts, n_boot, out.titles if meta else None, out.dates if meta else None)
        scores[name] = s
        wall, med, _ = ms(out.wall)
        cpu, _, _ = ms(out.cpu)
        empty = sum(not (t or "").strip() for t in out.texts.values())
        rows.append([name, *quality_cells(set_name, s), f"{wall:.1f} (median {med:.1f})", f"{cpu:.1f}", str(empty)])
    return rows


def pipeline_rows(set_name: str, pages: list[Page], run: PipelineRun, n_boot: int, scores: dict) -> list[list[str]]:
    """The text after extract, clean and attribute, and the stored text."""
    meta, rows = set_name == "fundus", []
    stored_texts = {k: r["text"] for k, r in run.stored.items()}
    stored_titles = {k: r["title"] for k, r in run.stored.items()}
    stored_dates = {k: r["published"] for k, r in run.stored.items()}
    stage_label = {"E": "pipeline: after extract", "C": "pipeline: after clean", "A": "pipeline: after attribute"}
    for tag, label in stage_label.items():
        texts = {k: v.get(tag) for k, v in run.stages.items()}
        s = score_texts(set_name, pages, texts, n_boot, run.titles if meta else None, stored_dates if meta else None)
        scores[label] = s
        rows.append([label, *quality_cells(set_name, s), "", "", str(sum(not (t or "").strip() for t in texts.values()) + len(pages) - len(texts))])
    s = score_texts(set_name, pages, stored_texts, n_boot, stored_titles if meta else None, stored_dates if meta else None)
    scores["STORED TEXT"] = s
    per_page_ms = 1000 * run.seconds / max(1, len(pages))
    rows.append(["**STORED TEXT** (documents.text)", *quality_cells(set_name, s),
                 f"{per_page_ms:.1f} (whole pipeline)", f"{1000 * run.cpu / max(1, len(pages)):.1f}",
                 str(len(pages) - sum(bool((t or '').strip()) for t in stored_texts.values()))])
    return rows


def quality_table(set_name: str, pages: list[Page], results: dict[str, Output], run: PipelineRun | None, n_boot: int) -> dict:
    scores: dict = {}
    rows = quality_rows(set_name, pages, results, n_boot, scores)
    if run is not None:
        rows += pipeline_rows(set_name, pages, run, n_boot, scores)
    print(table(["setting", *QUALITY_HEADERS[set_name], "ms/page wall", "ms/page CPU", "empty"], rows))
    if set_name == "fundus":
        print("\nTitle and date of the `upstream`-style rows come from bare_extraction(with_metadata=True) with trafilatura's"
              " default date settings (day only, so no minute); the pipeline rows use the stored title and `published`."
              " 'title norm.' = NFKC, casefold, quotes/dashes unified, \\w+ tokens equal. Body = Zyte shingle metric vs `body_text`"
              " (which has no title and includes the summary/lede).")
    if set_name == "zyte":
        print("\nThe `published output` rows re-score the benchmark's stored outputs with this script's metric"
              " (upstream publishes trafilatura 2.0.0 at F1 0.958, P 0.938, R 0.978).")
    return scores


def step_effects(set_name: str, scores: dict) -> None:
    """What each step of the pipeline does to the score, page by page."""
    up, pp, st, ex = (scores["upstream (standard)"], scores.get("pipeline params"), scores["STORED TEXT"],
                      scores["pipeline: after extract"])
    print("\n### What each step does to the score\n")
    trows = []
    chain = [("bare upstream → pipeline params (extraction rule and arguments, decoding)", up, pp),
             ("pipeline params → extract stage (same call inside the pipeline)", pp, ex),
             ("extract → clean (title line, config and learned chrome)", ex, scores["pipeline: after clean"]),
             ("clean → attribute (attribution lines)", scores["pipeline: after clean"], scores["pipeline: after attribute"]),
             ("attribute → stored (chrome learned later, re-cleaned)", scores["pipeline: after attribute"], st),
             ("**bare upstream → stored**", up, st),
             ("**extract stage → stored (all cleaning)**", ex, st)]
    for label, a, b in chain:
        if a is None or b is None:
            continue
        better = sum(b["per_page"][k] > a["per_page"][k] + 1e-9 for k in a["per_page"])
        worse = sum(b["per_page"][k] < a["per_page"][k] - 1e-9 for k in a["per_page"])
        trows.append([label, f"{b['P'] - a['P']:+.4f}", f"{b['R'] - a['R']:+.4f}", f"{b['F1'] - a['F1']:+.4f}", str(better), str(worse)])
    print(table(["step", "ΔP", "ΔR", "ΔF1", "pages better", "pages worse"], trows))
    print(f"\n(pages better/worse: by {unit_of(set_name)})")


def unit_of(set_name: str) -> str:
    return "page F1" if set_name != "eval" else "TP−FP of the page"


def removed_lines(set_name: str, pages: list[Page], run: PipelineRun) -> None:
    """The lines the cleaning removed, by reason, and how the sets' truths treat the headline."""
    reasons: dict[str, list] = defaultdict(list)
    for p in pages:
        e_text = run.stages.get(p.key, {}).get("E")
        if e_text is None:
            continue
        for reason, lines in classify_removed(p.key, run, e_text).items():
            reasons[reason].append((p.key, lines))
    if reasons:
        rrows = [[r, str(len(v)), str(sum(len(ls) for _, ls in v))] for r, v in sorted(reasons.items())]
        print("\nLines the cleaning removed from the extract stage's text:\n")
        print(table(["reason", "pages", "lines"], rrows))
    if set_name == "zyte":
        starts = sum(1 for p in pages if title_norm(p.truth["body"].split("\n", 1)[0]) and title_norm(p.truth["body"].split("\n", 1)[0]) == title_norm(run.titles.get(p.key)))
        contains = sum(1 for p in pages if title_norm(run.titles.get(p.key)) and title_norm(run.titles.get(p.key)) in title_norm(p.truth["body"][:400]))
        print(f"\nGround truth and the headline: {starts} of {len(pages)} articleBody texts start with the page title,"
              f" {contains} contain it in their first 400 characters (the truth excludes the headline, so removing it can only help).")
    if set_name == "eval":
        titled = [p for p in pages if any(title_norm(w) and title_norm(w) == title_norm(run.titles.get(p.key)) for w in p.truth["with"])]
        print(f"\n{len(titled)} of {len(pages)} pages have the page title as a `with` snippet;"
              f" {sum(1 for p in pages if any(title_norm(w) == title_norm(run.titles.get(p.key)) for w in p.truth['without']))} as a `without` snippet.")


def worst_pages(set_name: str, pages: list[Page], results: dict[str, Output], scores: dict, run: PipelineRun, worst: int) -> None:
    """The pages where the stored text scores below bare upstream trafilatura, and why."""
    up, st = scores["upstream (standard)"], scores["STORED TEXT"]
    loss = []
    for p in pages:
        a, b = up["per_page"].get(p.key, 0), st["per_page"].get(p.key, 0)
        if b < a - 1e-9:
            loss.append((b - a, p))
    loss.sort(key=lambda x: x[0])
    print(f"\n### Pages where the stored text scores below bare upstream trafilatura: {len(loss)}"
          f" (showing {min(worst, len(loss))})\n")
    up_texts = results["upstream (standard)"].texts
    for delta, p in loss[:worst]:
        worst_page(set_name, p, scores, run, up_texts)


def worst_page(set_name: str, p: Page, scores: dict, run: PipelineRun, up_texts: dict) -> None:
    up, pp, ex, st = (scores["upstream (standard)"], scores["pipeline params"], scores["pipeline: after extract"],
                      scores["STORED TEXT"])
    e_text = run.stages.get(p.key, {}).get("E")
    print(f"- **{p.key}** {p.url or ''}: {unit_of(set_name)} upstream {up['per_page'][p.key]:.3f} → pipeline params "
          f"{pp['per_page'].get(p.key, 0):.3f} → extract stage {ex['per_page'].get(p.key, 0):.3f} → stored "
          f"{st['per_page'].get(p.key, 0):.3f}")
    if set_name == "eval":
        snippet_changes(p, up, st)
    if run.stored.get(p.key) is None:
        print(f"    - not stored: {next((m for m in run.problems if p.key in m), 'dropped')}")
        return
    for reason, lines in classify_removed(p.key, run, e_text or "").items():
        for line in lines[:3]:
            print(f"    - cleaning removed ({reason}): “{short(line)}”")
        if len(lines) > 3:
            print(f"    - … and {len(lines) - 3} more ({reason})")
    up_lines, e_lines = Counter(line_set(up_texts.get(p.key))), Counter(line_set(e_text))
    only_up, only_e = list((up_lines - e_lines).elements()), list((e_lines - up_lines).elements())
    if only_up or only_e:
        why = "extraction arguments/decoding differ (bare upstream vs extract stage)"
        print(f"    - {why}: {len(only_up)} lines only in bare, {len(only_e)} only in the extract stage")
        for line in only_up[:2]:
            print(f"        - only bare: “{short(line)}”")
        for line in only_e[:2]:
            print(f"        - only extract stage: “{short(line)}”")


def snippet_changes(p: Page, up: dict, st: dict) -> None:
    _, _, _, _, fw_up, fo_up = up["rows"][p.key]
    _, _, _, _, fw_st, fo_st = st["rows"][p.key]
    for w, a, b in zip(p.truth["with"], fw_up, fw_st):
        if a != b:
            print(f"    - `with` {'lost' if a else 'gained'}: “{short(w, 90)}”")
    for w, a, b in zip(p.truth["without"], fo_up, fo_st):
        if a != b:
            print(f"    - `without` {'now present' if b else 'now absent'}: “{short(w, 90)}”")


def dump_pages(dump: Path, pages: list[Page], results: dict[str, Output], scores: dict, run: PipelineRun) -> None:
    """Per-page scores and texts, for reading the differences (in --out, git-ignored)."""
    up_texts = results["upstream (standard)"].texts
    pp_texts = results.get("pipeline params", results["upstream (standard)"]).texts
    with dump.open("w", encoding="utf-8") as f:
        for p in pages:
            f.write(json.dumps({
                "key": p.key, "url": p.url,
                "scores": {k: v["per_page"].get(p.key) for k, v in scores.items()},
                "upstream": up_texts.get(p.key), "pipeline_params": pp_texts.get(p.key),
                "stages": run.stages.get(p.key), "stored": (run.stored.get(p.key) or {}).get("text"),
                "title": run.titles.get(p.key), "claims": run.claims.get(p.key),
            }, ensure_ascii=False) + "\n")


def stored_scores(set_name: str, pages: list[Page], run: PipelineRun, n_boot: int) -> dict:
    meta = set_name == "fundus"
    return score_texts(set_name, pages, {k: r["text"] for k, r in run.stored.items()}, n_boot,
                       {k: r["title"] for k, r in run.stored.items()} if meta else None,
                       {k: r["published"] for k, r in run.stored.items()} if meta else None)


def report_suggestions(patches: list[Patch], pages_by_set, runs, all_results, n_boot: int, out_dir: Path) -> dict:
    print("\n## Suggested changes, measured through the real pipeline\n")
    print("Each change is applied in this process only (a wrapper around `trafilatura.bare_extraction`"
          " as `pipelines/extract.py` calls it), the whole pipeline"
          " is run again into a fresh database and `documents.text` is scored. Δ is against the stored text"
          " of the unchanged pipeline above; better/worse counts pages.\n")
    for p in patches:
        print(f"- `{p.name}`: {' '.join(p.doc.split())}")
    base = {name: stored_scores(name, pages_by_set[name], runs[name], 0) for name in runs}
    measured, table_rows = {}, []
    for patch in patches:
        cells = [f"`{patch.name}`"]
        cpu = []
        for name in runs:
            pages = pages_by_set[name]
            t0 = time.perf_counter()
            run = run_pipeline(name, pages, out_dir, patch)
            print(f"[{name}] suggestion {patch.name}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            s = stored_scores(name, pages, run, 0)
            measured.setdefault(patch.name, {})[name] = {k: v for k, v in s.items() if k not in ("per_page", "counts", "rows")}
            b = base[name]
            better = sum(s["per_page"].get(k, 0) > v + 1e-9 for k, v in b["per_page"].items())
            worse = sum(s["per_page"].get(k, 0) < v - 1e-9 for k, v in b["per_page"].items())
            extra = f" (P {s['P']:.3f}, R {s['R']:.3f})"
            cells.append(f"{s['F1']:.4f} ({s['F1'] - b['F1']:+.4f}){extra}, +{better}/−{worse}")
            cpu.append(1000 * run.cpu / max(1, len(pages)))
        cells.append(" / ".join(f"{c:.0f}" for c in cpu))
        table_rows.append(cells)
    base_row = ["(current pipeline)"] + [f"{base[n]['F1']:.4f} (P {base[n]['P']:.3f}, R {base[n]['R']:.3f})" for n in runs] + \
        [" / ".join(f"{1000 * runs[n].cpu / max(1, len(pages_by_set[n])):.0f}" for n in runs)]
    print()
    print(table(["change", *[{"zyte": "Zyte F1 (Δ), pages +/−", "eval": "eval F1 (Δ), pages +/−", "fundus": "fundus body F1 (Δ), pages +/−"}[n] for n in runs],
                 "pipeline CPU ms/page (" + " / ".join(runs) + ")"], [base_row] + table_rows))
    return measured


TARGETS = {"zyte": 0.964, "eval": 0.926}   # F1; on every set the stored text must also reach bare upstream


def report_targets(pages_by_set, runs, all_results, measured: dict):
    print("\n## Targets (issue 4, item 5)\n")
    print("Zyte F1 ≥ 0.964, eval F1 ≥ 0.926, and the stored text never below bare upstream trafilatura"
          " (`upstream (standard)`) on any set. A cell is the stored text's F1, then whether it reaches the"
          " target and its distance to bare upstream.\n")
    sets = list(runs)
    bare = {n: score_texts(n, pages_by_set[n], all_results[n]["upstream (standard)"].texts, 0)["F1"] for n in sets}
    best = {}
    for n in sets:
        f1 = {v: score_texts(n, pages_by_set[n], out.texts, 0)["F1"] for v, out in all_results[n].items()}
        best[n] = max(f1.items(), key=lambda kv: kv[1])
    candidates = [("stored now", {n: stored_scores(n, pages_by_set[n], runs[n], 0)["F1"] for n in sets})]
    candidates += [(f"stored with `{patch}`", {n: m["F1"] for n, m in by_set.items()}) for patch, by_set in measured.items()]
    rows = [["bare upstream", *[f"{bare[n]:.4f}" for n in sets], ""],
            ["best bare setting", *[f"{best[n][1]:.4f} ({best[n][0]})" for n in sets], ""]]
    for label, f1 in candidates:
        cells, missed = [label], []
        for n in sets:
            if n not in f1:
                cells.append("–")
                missed.append(f"{n} not run")
                continue
            t, d = TARGETS.get(n), f1[n] - bare[n]
            ok_t = t is None or f1[n] >= t - 1e-9
            ok_b = d >= -1e-9
            cells.append(f"{f1[n]:.4f} ({'' if t is None else ('✓ target, ' if ok_t else '✗ target, ')}{d:+.4f} vs bare)")
            if not ok_t:
                missed.append(f"{n} target")
            if not ok_b:
                missed.append(f"{n} < bare")
        cells.append("**yes**" if not missed else "no: " + ", ".join(missed))
        rows.append(cells)
    heads = [f"{n} F1" + (f" (target {TARGETS[n]:.3f})" if n in TARGETS else "") for n in sets]
    print(table(["text", *heads, "all targets met"], rows))


def report_timing(all_results: dict[str, dict[str, Output]], runs: dict[str, PipelineRun], pages_by_set: dict[str, list[Page]]):
    print("\n## Time per page, one process on one core\n")
    rows = []
    names = [v.name for v in variants()]
    for name in names:
        cells = [name]
        allw, allc = [], []
        for set_name in all_results:
            out = all_results[set_name].get(name)
            if out is None:
                cells.append("–")
                continue
            w, med, p90 = ms(out.wall)
            c, _, _ = ms(out.cpu)
            cells.append(f"{w:.1f} / {med:.1f} / {p90:.1f} ({c:.1f} CPU)")
            allw += out.wall
            allc += out.cpu
        w, _, _ = ms(allw)
        cells.append(f"{w:.1f} ms, {1000 / w:.0f} pages/s" if w else "–")
        rows.append(cells)
    print(table(["setting", *[f"{s}: mean / median / p90 ms" for s in all_results], "all pages"], rows))
    print("\nFor `fundus` every row runs bare_extraction(with_metadata=True) (title and date are scored), so it includes metadata extraction.")
    if runs:
        print("\n### The pipeline's stages (same pages, same process)\n")
        srows = []
        for stage in STAGE_ORDER:
            cells = [stage]
            for set_name, run in runs.items():
                n = max(1, len(pages_by_set[set_name]))
                cells.append(f"{1000 * run.stage_seconds.get(stage, 0) / n:.2f}")
            srows.append(cells)
        tot = ["all stages"]
        whole = ["run_items wall (incl. commit)"]
        ratio = ["pipeline ÷ bare extraction (pipeline params)"]
        ratio_up = ["pipeline ÷ bare upstream extract()"]
        for set_name, run in runs.items():
            n = max(1, len(pages_by_set[set_name]))
            total = sum(run.stage_seconds.values())
            tot.append(f"{1000 * total / n:.2f}")
            whole.append(f"{1000 * run.seconds / n:.2f}")
            pp = all_results[set_name].get("pipeline params")
            upo = all_results[set_name].get("upstream (standard)")
            ratio.append(f"{run.seconds / sum(pp.wall):.2f}×" if pp and sum(pp.wall) else "–")
            ratio_up.append(f"{run.seconds / sum(upo.wall):.2f}×" if upo and sum(upo.wall) else "–")
        print(table(["stage (ms/page)", *runs], srows + [tot, whole, ratio, ratio_up]))


