"""Run the extraction benchmark: ``python -m bench.extraction [options]`` (see the package's
docstring)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import trafilatura

from bench.common import corpus
from bench.common.paths import OUT
from bench.common.report import Report
from bench.extraction.pages import FOLDERS, LOADERS
from bench.extraction.pipeline import run_pipeline, suggestions
from bench.extraction.tables import report_set, report_suggestions, report_targets, report_timing, short
from bench.extraction.variants import run_variant, variants

for _name in ("trafilatura", "htmldate", "courlan", "charset_normalizer", "justext", "scrapy"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def options(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.extraction", description="Extraction quality of the stored text, against bare trafilatura.")
    ap.add_argument("--limit", type=int, help="first N pages of each set (sorted by key)")
    ap.add_argument("--sets", default="zyte,eval,fundus")
    ap.add_argument("--variants", help="comma-separated variant names to run (default: all)")
    ap.add_argument("--no-pipeline", action="store_true", help="skip the pipeline run (bare trafilatura only)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for ± (0: none)")
    ap.add_argument("--worst", type=int, default=8, help="worst pages to show per set")
    ap.add_argument("--repeat", type=int, default=1, help="time each page this many times, keep the fastest")
    ap.add_argument("--no-suggest", action="store_true", help="skip the pipeline runs of the suggested changes")
    ap.add_argument("--suggest", help="semicolon-separated names of the suggested changes to run (default: all)")
    ap.add_argument("--out", type=Path, default=OUT / "extraction", help="per-page scores and texts, databases")
    return ap.parse_args(argv)


def chosen_variants(args) -> list:
    chosen = variants()
    if args.variants:
        wanted = {v.strip() for v in args.variants.split(",")}
        chosen = [v for v in chosen if v.name in wanted or v.name == "upstream (standard)" or v.name == "pipeline params"]
    return chosen


def header(chosen: list) -> None:
    print("# Extraction quality: stored text vs bare trafilatura\n")
    print(f"trafilatura {trafilatura.__version__} (machine, date and code revision: the stamp above).\n")
    print("Settings:\n")
    for v in chosen:
        print(f"- `{v.name}`: {v.doc}")


def run_set(set_name: str, pages: list, chosen: list, args):
    """Every variant over the set's pages, then the pipeline (unless --no-pipeline)."""
    meta, results = set_name == "fundus", {}
    for v in chosen:
        if set_name not in v.sets:
            continue
        t0 = time.perf_counter()
        results[v.name] = run_variant(v, pages, meta, args.repeat)
        print(f"[{set_name}] {v.name}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    if args.no_pipeline:
        return results, None
    t0 = time.perf_counter()
    run = run_pipeline(set_name, pages, args.out)
    print(f"[{set_name}] pipeline: {time.perf_counter() - t0:.1f}s, {len(run.problems)} problems", file=sys.stderr)
    return results, run


def pipeline_note(pages: list, results: dict, run) -> None:
    mismatch = sum(1 for p in pages if (run.stages.get(p.key, {}).get("E") or None) != (results["pipeline params"].texts.get(p.key) or None))
    print(f"\nPipeline run: {len(run.stored)} of {len(pages)} pages stored, {len(run.problems)} problems"
          f"{': ' + '; '.join(short(m, 80) for m in run.problems[:5]) if run.problems else ''};"
          f" {run.learned} chrome lines learned; extract-stage text differs from the `pipeline params` call on {mismatch} pages.")


def main(argv=None) -> int:
    args = options(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    corpus.require(*(FOLDERS[s] for s in sets))
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = chosen_variants(args)
    all_results, runs, pages_by_set, summaries = {}, {}, {}, {}
    with Report("extraction", command=["bench/extraction", *(argv or sys.argv[1:])]):
        header(chosen)
        for set_name in sets:
            pages = pages_by_set[set_name] = LOADERS[set_name](args.limit)
            for p in pages:
                p.truth["_set"] = set_name
            all_results[set_name], run = run_set(set_name, pages, chosen, args)
            if run is not None:
                runs[set_name] = run
            summaries[set_name] = report_set(set_name, pages, all_results[set_name], {v.name: v.doc for v in chosen},
                                             run, args.bootstrap, args.worst, args.out)
            if run is not None:
                pipeline_note(pages, all_results[set_name], run)
        report_timing(all_results, runs, pages_by_set)
        summaries["suggestions"] = measured = suggested(args, pages_by_set, runs, all_results)
        if runs:
            report_targets(pages_by_set, runs, all_results, measured)
    (args.out / "summary.json").write_text(json.dumps(summaries, indent=1, default=str), encoding="utf-8")
    return 0


def suggested(args, pages_by_set: dict, runs: dict, all_results: dict) -> dict:
    if not runs or args.no_suggest:
        return {}
    patches = suggestions()
    if args.suggest:
        wanted = {x.strip() for x in args.suggest.split(";")}
        patches = [p for p in patches if p.name in wanted]
    return report_suggestions(patches, pages_by_set, runs, all_results, args.bootstrap, args.out)


if __name__ == "__main__":
    sys.exit(main())
