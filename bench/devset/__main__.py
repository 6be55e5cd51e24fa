"""Run the development-set evaluation: ``python -m bench.devset [options]`` (see the package's
docstring)."""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sqlite3
import sys
from pathlib import Path

from bench.common import corpus
from bench.common.paths import OUT, REPO
from bench.common.report import Report
from bench.devset.analysis import analyse
from bench.devset.build import Builder, load_corpus
from bench.devset.render import write_configs, write_files
from bench.devset.runs import predict_from_db, run_baseline, run_imports
from bench.devset.scoring import figures_table, pct, score

#: Figures kept out of metrics.json (per-document detail).
DETAIL = ("kept", "noise", "fp_pairs", "fn_pairs")
SNAPSHOT = "SELECT id, url, source, content_hash FROM documents"
COUNTS = "SELECT count(*), total(id), (SELECT count(*) FROM links), (SELECT total(copy_id * 7 + origin_id) FROM links) FROM documents"


def options(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.devset", description="Development-set evaluation of the whole import path.")
    ap.add_argument("--out", default=str(OUT / "devset"), help="output folder (default bench/out/devset, git-ignored)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=200, help="originals (each reposted 0-4 times)")
    ap.add_argument("--samples", type=int, default=6, help="failure examples printed per cause")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--code", help="collector source tree to evaluate (a snapshot holding collector/ and pipelines/; default: this repo)")
    ap.add_argument("--cli", help="command that runs the collector CLI (default: .venv/bin/collector), e.g. to score another build")
    args = ap.parse_args(argv)
    args.code = Path(args.code).resolve() if args.code else REPO
    if not (args.code / "collector").is_dir() or not (args.code / "pipelines").is_dir():
        sys.exit(f"devset: --code {args.code} holds no collector/ and pipelines/")
    return args


def fresh_out(path: str) -> Path:
    """The output folder, emptied; never a folder of the repository outside bench/out/."""
    out = Path(path).resolve()
    if out.is_relative_to(REPO) and not out.is_relative_to(OUT):
        sys.exit(f"devset: --out {out} is inside the repository but not under bench/out/ (git-ignored): refusing")
    if out.exists():
        if any(out.iterdir()) and not (out / "truth.jsonl").exists():
            sys.exit(f"devset: --out {out} exists and is not a devset folder: refusing to clear it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def build_set(args, out: Path) -> tuple[Builder, list]:
    """The documents, their files, the site configs and the truth."""
    builder = Builder(args.seed, args.n, out)
    docs = builder.build(load_corpus())
    write_configs(builder.sites, out / "configs")
    write_files(docs, builder.sites, out / "input")
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            row = {k: v for k, v in d.__dict__.items() if not k.startswith("_")}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = collections.Counter(d.role for d in docs)
    rels = collections.Counter(d.relation for d in docs if d.relation not in (None, "origin"))
    fmts = collections.Counter(d.fmt for d in docs)
    print(f"set: {len(docs)} documents {dict(counts)}; relations {dict(rels)}; formats {dict(fmts)}", file=sys.stderr)
    return builder, docs


def speed_of(runs: list[dict]) -> dict:
    wall = sum(r["wall"] for r in runs)
    cli_seconds = sum(r["summary"].get("seconds", 0) for r in runs)
    stored_n = sum(r["summary"].get("imported", 0) for r in runs)
    return {"wall_rate": stored_n / wall if wall else 0, "cli_rate": stored_n / cli_seconds if cli_seconds else 0,
            "wall": wall, "cli_seconds": cli_seconds, "stored": stored_n}


def reimport(args, out: Path, db: Path, sites: dict, dbinfo: dict) -> dict:
    """The same imports again must change nothing."""
    rows_before = {r[0]: r[1:] for r in dbinfo["conn"].execute(SNAPSHOT)}
    before = dbinfo["conn"].execute(COUNTS).fetchone()
    rerun = run_imports(out, db, out / "configs", sites, args.cli, args.code)
    after = sqlite3.connect(db).execute(COUNTS).fetchone()
    rows_after = {r[0]: r[1:] for r in sqlite3.connect(db).execute(SNAPSHOT)}
    return {"new": sum(r["summary"].get("imported", 0) for r in rerun), "before": before, "after": after,
            "flipped": [(i, rows_before[i], rows_after.get(i)) for i in rows_before if rows_before[i] != rows_after.get(i)]}


def baseline(args, docs: list, sites: dict) -> tuple[dict | None, float | None]:
    if args.no_baseline:
        return None, None
    order = [d.key for run in ("run1", "run1-site", "run2", "run2-site", "run3")
             for d in sorted((x for x in docs if x.run == run), key=lambda x: x.source or "")]
    bpred, seconds = run_baseline(docs, sites, order)
    return score(docs, bpred), seconds


def describe_set(args, builder: Builder, docs: list, ours: dict, runs: list, speed: dict, again: dict) -> list[str]:
    counts = collections.Counter(d.role for d in docs)
    rels = collections.Counter(d.relation for d in docs if d.relation not in (None, "origin"))
    fmts = collections.Counter(d.fmt for d in docs)
    before, after = tuple(again["before"]), tuple(again["after"])
    report = [f"# Development set: seed {args.seed}, {len(docs)} documents\n",
              f"- {counts['origin']} originals ({sum(1 for d in docs if d.role == 'origin' and d.run == 'run3')} imported last, after their copies), "
              f"{counts['duplicate']} same-site duplicates, {counts['repost']} reposts, {counts['distractor']} distractors "
              f"({len(builder.quotes)} quoting one sentence of an original)",
              f"- true relations: {dict(rels)}; formats: {dict(sorted(fmts.items()))}",
              f"- {ours['groups_multi']} groups with ≥2 documents, {ours['true_pairs']} true pairs; "
              f"{len(builder.topic_pairs)} pairs of different corpus articles share ≥10 5-word shingles (same story or shared boilerplate)",
              f"- imports: {len(runs)} CLI runs in 3 batches, {speed['stored']} documents in {speed['wall']:.1f}s wall ({speed['cli_seconds']:.1f}s inside the CLI); "
              f"return codes {[r['rc'] for r in runs]}; skipped {sum(r['summary'].get('skipped', 0) for r in runs)}",
              f"- re-import of every batch: {again['new']} imported again (want 0); documents/links before {before} after {after} "
              f"({'unchanged' if before == after else 'CHANGED'})"]
    collide = [d.key for d in docs if not d.og_url]
    if again["new"]:
        report.append(f"  - the {again['new']} re-imported documents: {len(collide)} files take their URL from a canonical link that names another "
                      f"stored document ({', '.join(collide[:6])}), so each import overwrites the other file's document (URL collision)")
    for i, b, a in again["flipped"][:5]:
        report.append(f"  - re-import changed document #{i} {b[0]}: source {b[1]} -> {a and a[1]}")
    return report


def describe_figures(ours: dict, base: dict | None, speed: dict, base_seconds: float | None, runs: list) -> list[str]:
    report = ["- pairs: every unordered pair of stored documents in the same predicted group (connected by `links`) vs the same true group "
              "(an original, its same-site duplicate and its reposts); distractors are singletons.",
              "- origin accuracy: for each true group of ≥2 documents, the predicted origin most of its members point to "
              "(`links.origin_id`, or itself when not a copy) must be the true origin; strict: every member points to it.\n",
              figures_table(ours, base, speed, base_seconds),
              "\nrelation confusion (true->predicted), collector: " + ", ".join(f"{k} {v}" for k, v in ours["confusion"].items())]
    if base:
        report.append("relation confusion, baseline: " + ", ".join(f"{k} {v}" for k, v in base["confusion"].items()))
    report.append("\ntext kept by input format, collector: " + ", ".join(f"{k} {pct(v)}" for k, v in ours["kept_by_format"].items()))
    if base:
        report.append("text kept by input format, baseline: " + ", ".join(f"{k} {pct(v)}" for k, v in base["kept_by_format"].items()))
    problems = [line for r in runs for line in r["stderr"] if not line.startswith("imported ")]
    if problems:
        report.append("\nCLI problems reported: " + "; ".join(problems[:10]))
    return report


def main(argv=None) -> int:
    args = options(argv)
    corpus.require(corpus.fundus_dir, corpus.zyte_dir)  # before the output folder is cleared
    out = fresh_out(args.out)
    builder, docs = build_set(args, out)
    db = out / "devset.db"
    runs = run_imports(out, db, out / "configs", builder.sites, args.cli, args.code)
    speed = speed_of(runs)
    pred, dbinfo = predict_from_db(db, docs)
    ours = score(docs, pred)
    again = reimport(args, out, db, builder.sites, dbinfo)
    base, base_seconds = baseline(args, docs, builder.sites)
    report = describe_set(args, builder, docs, ours, runs, speed, again) + describe_figures(ours, base, speed, base_seconds, runs)
    report += ["\n## Failures (collector)\n", analyse(docs, ours, pred, dbinfo, builder.sites, args.samples, args.code)]
    with Report("devset", command=["bench/devset", *(argv or sys.argv[1:])]):
        print("\n".join(report))
    metrics = {"collector": {k: v for k, v in ours.items() if k not in DETAIL},
               "baseline": base and {k: v for k, v in base.items() if k not in DETAIL},
               "speed": {k: v for k, v in speed.items() if k != "stored"}, "baseline_seconds": base_seconds, "runs": runs}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\n(set, database and metrics.json in {out}; the report in bench/out/devset.md)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
