"""The scale report, section by section: each prints its markdown (into the stamped report
``bench/out/scale-<docs>.md``) and leaves what later sections need on the run's state."""

from __future__ import annotations

import json
import os
import statistics
from types import SimpleNamespace

from bench.common.paths import OUT
from bench.common.report import mb, ms, table
from bench.scale.groups import REPOST_SITES, STRATA, build_small, cost_by_group, group_links, make_new
from bench.scale.loader import groups_path
from bench.scale.measure import VARIANTS, db_bytes, diagnose, fill_recent, query_latency, store_open
from bench.scale.runs import IMPORTS, copy_db, import_times, run_cli, run_pair
from collector.storage.lsh import BANDS, RECENT_DOCUMENTS, ROWS


def say(text: str = "") -> None:
    print(text, flush=True)


def loop(run: dict) -> float:
    """The CLI's own ``seconds``: its import loop (reading, stages, commits), no start-up."""
    return run["summary"]["seconds"]


def section_build(s: SimpleNamespace) -> None:
    """1. The corpus: how it was built, its groups, the check against the real import."""
    args, meta, built_now, machine = s.args, s.meta, s.built_now, s.machine
    say(f"# Scale: {args.docs:,} generated documents\n")
    say(f"Machine: {machine}; load average at start {os.getloadavg()[0]:.1f} (other work shares the CPU).\n")
    say(f"## 1. Building the corpus ({'this run' if built_now else 'cached, built ' + meta['built']})\n")
    n, gm = meta["corpus"], meta["groups"]
    imp = gm["import"]
    say(f"{n:,} documents written by the loader, then {gm['reposts']:,} reposts that make {gm['sizes']:,} lineage groups of "
        f"{gm['members']:,} documents ({gm['members'] / meta['docs']:.1%} of the corpus) whose sizes follow a Zipf law: rank r has "
        f"{gm['largest']:,} / r^{gm['exponent']:.2f} members (the exponent that puts {args.group_share:.0%} of the corpus in groups), "
        f"imported with the real `collector import` into the loaded corpus. Their origins are corpus documents; the reposts are on "
        f"{REPOST_SITES:,} other sites, the groups interleaved at random: "
        + ", ".join(f"{v:,} {k}" for k, v in sorted(gm["kinds"].items(), key=lambda kv: -kv[1])) + ".\n")
    say(table(["phase", "wall", "per document"], [
        [f"pool of {meta['workers']}: generate, extract/clean/attribute, batched signatures (CPU: "
         f"generate {meta['cpu_generate']:,.0f} s, the rest {meta['cpu_stages']:,.0f} s); main process: insert "
         f"(CPU {meta['main_cpu_load']:,.0f} s)",
         f"{meta['generate_and_insert_seconds']:,.0f} s", ms(meta["generate_and_insert_seconds"] / n)],
        ["  of which the main process inserting documents", f"{meta['documents_seconds']:,.0f} s", ms(meta["documents_seconds"] / n)],
        [f"  FTS5 index process alongside (CPU {meta['fts_cpu_seconds']:,.0f} s); waited for at the end",
         f"{meta['fts_wait_seconds']:,.0f} s", ms(meta["fts_wait_seconds"] / n)],
        [f"lsh_buckets ({BANDS * n:,} rows, sorted; main CPU of this and the next {meta['main_cpu_finish']:,.0f} s)",
         f"{meta['lsh_buckets_seconds']:,.0f} s", ms(meta["lsh_buckets_seconds"] / n)],
        ["line_sightings", f"{meta['line_sightings_seconds']:,.0f} s", ms(meta["line_sightings_seconds"] / n)],
        ["FTS5 shadow tables copied in, triggers recreated", f"{meta['fts_copy_seconds']:,.0f} s", ms(meta["fts_copy_seconds"] / n)],
        [f"reposts generated ({gm['reposts']:,})", f"{gm['make_seconds']:,.0f} s", ms(gm["make_seconds"] / gm["reposts"])],
        [f"reposts imported: `collector import` (CPU {imp['cpu']:,.0f} s; {imp['summary']['new_links']:,} links made or changed)",
         f"{imp['wall']:,.0f} s", ms(imp["wall"] / gm["reposts"])],
        ["**total**", f"**{meta['seconds']:,.0f} s**", ms(meta["seconds"] / meta["docs"])],
    ]))
    st = gm["stored"]
    say(f"\nStored, as the links table has them: {st['groups']:,} groups of {st['members']:,} documents, the largest "
        f"{st['largest']:,} members, {st['at_least_100']} of 100 or more; links by relation "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(st["relations"].items())) + "; by evidence "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(st["evidence"].items(), key=lambda kv: -kv[1])) + ".\n")
    say("The link stage while the reposts were imported, by the size of the group each joined (its origin and the reposts "
        "of its story imported before it; the hook's timer around each `LinkPipeline` call; one process, "
        "the corpus growing from the loader's size):\n")
    say(table(["group joined", "reposts", "median wall", "p90 wall", "max wall", "median CPU"],
              [[label, imp["by_size"][label]["n"], ms(imp["by_size"][label]["wall_median"]), ms(imp["by_size"][label]["wall_p90"]),
                ms(imp["by_size"][label]["wall_max"]), ms(imp["by_size"][label]["cpu_median"])]
               for _, _, label in STRATA if label in imp["by_size"]]))
    v = meta["verified"]
    integrity = (f"; FTS5 'integrity-check' of the whole index passed ({v['fts_integrity_seconds']:.0f} s)"
                 if v.get("fts_integrity_seconds") is not None else "")
    say(f"\nDatabase file {mb(meta['bytes'])}. The loader's rows checked against the real `collector import` of "
        f"{v['sample']} of the documents (at build{'' if built_now else ' and again in this run, with the code as it is now'}): "
        f"no difference in {', '.join(v['compared'])}{integrity}.\n")


def link_runs(s: SimpleNamespace) -> None:
    """2. The imports of the new documents: (a) and (b) at the same time, then (c) with the recent table nearly full."""
    args, big, meta = s.args, s.big, s.meta
    repeats = 1 if args.keep else max(1, args.repeat)
    jsonl = OUT / f"scale-{args.docs}-new.jsonl"
    groups = json.loads(groups_path(args.docs, ".json").read_text())
    new = make_new(big, args.new, args.seed, jsonl, groups, meta["corpus"])
    small = OUT / f"scale-{args.docs}-small.db"
    small_base = OUT / f"scale-{args.docs}-small-base.db"
    small_made = build_small(small_base, new, groups_path(args.docs, ".jsonl"))
    joined_urls = [u for g in new["joined"] for u in g["urls"]]
    same_groups = group_links(small_base, joined_urls) == group_links(big, joined_urls)
    target = big if args.keep else OUT / f"scale-{args.docs}-scratch.db"
    runs: dict[str, list[dict]] = {"small": [], "big": []}
    copy_seconds, small_build = [], []
    for r in range(repeats):  # (a) and (b) at the same time, so both see the same load (run_pair)
        small_build.append(copy_db(small_base, small))
        if not args.keep:
            copy_seconds.append(copy_db(big, target))
        a, b = run_pair((small, jsonl, OUT / f"scale-timings-small-{r}.json"),
                        (target, jsonl, OUT / f"scale-timings-big-{r}.json"), swap=r % 2 == 1)
        runs["small"].append(a)
        runs["big"].append(b)
    # (c) the same import when lsh_recent already holds all but the last 1,000 of the
    # documents a merge waits for: the slowest state of the recent table, and the import
    # that ends with the merge (timed on its own by the hook)
    pending = max(0, RECENT_DOCUMENTS - args.new)
    full = None
    if not args.keep and pending:
        copy_db(big, target)
        filled = fill_recent(target, pending, args.seed)
        copy_db(small_base, small)
        full_small, full = run_pair((small, jsonl, OUT / "scale-timings-small-full.json"),
                                    (target, jsonl, OUT / "scale-timings-full.json"), swap=False)
        full["filled"] = filled
        full["paired"] = full_small
    pairs = list(zip(runs["small"], runs["big"]))
    # the pair that ran under the least load shows where the time goes
    best_small, best_big = min(pairs, key=lambda p: loop(p[0]) + loop(p[1]))
    s.__dict__.update(repeats=repeats, jsonl=jsonl, new=new, small=small, small_made=small_made, same_groups=same_groups,
                      target=target, runs=runs, copy_seconds=copy_seconds, small_build=small_build, pending=pending, full=full,
                      pairs=pairs, best_small=best_small, best_big=best_big)


def section_link(s: SimpleNamespace) -> None:
    """2. The figures of the paired imports, and their ratios."""
    args, new, jsonl, repeats, runs, pairs = s.args, s.new, s.jsonl, s.repeats, s.runs, s.pairs
    small_made, small_build, same_groups, copy_seconds = s.small_made, s.small_build, s.same_groups, s.copy_seconds
    say(f"## 2. Linking {args.new:,} new documents ({new['kinds']['fresh']} fresh, {new['kinds']['copy']} copies, "
        f"{new['kinds']['excerpt']} excerpts, {new['kinds']['duplicate']} same-site duplicates)\n")
    say(f"`collector --db DB --config configs import {jsonl.name} --json`, a new process each time, same file; (a) and (b) "
        f"run at the same time, one on each core (swapped every other pair), {repeats} pairs; ratios are taken within each "
        f"pair, and their median reported. {new['joining']} of the copies are of members of stored groups, as many into each size of "
        f"group, the rest of stored singletons. (a) a database of what the copies need: the {len(new['originals'])} originals "
        f"they come from or that lead the {len(new['joined'])} groups they join, and those groups' {small_made['reposts']:,} reposts "
        f"imported from the same lines as in (b) ({small_made['docs']:,} documents, built in {small_made['seconds']:.0f} s, copied "
        f"for each run in {min(small_build):.1f} s; the groups' links "
        f"{'identical in (a) and (b)' if same_groups else '**differ between (a) and (b)**'}, ids aside); (b) {new['docs_in_db']:,} documents "
        f"({'in place, --keep' if args.keep else f'a scratch copy, cp --reflink=auto and sync in {min(copy_seconds):.0f} s'}). "
        "\"import loop\" is the CLI's own `seconds` (reading, stages, commits); the process also starts Python and "
        "closes the database.\n")
    rows = []
    for key, label in (("small", "(a) originals and joined groups"), ("big", f"(b) {new['docs_in_db']:,} documents")):
        for i, r in enumerate(runs[key]):
            sm = r["summary"]
            rows.append([f"{label}, run {i + 1}", f"{r['wall']:.2f} s", f"{sm['seconds']:.2f} s", f"{sm['documents_per_second']:.0f}",
                         f"{r['cpu']:.2f} s", sm["new"], sm["new_links"], mb(r["maxrss_bytes"]), mb(r["read_bytes"]),
                         mb(r["written_bytes"]), f"{r['load'][0]:.1f}"])
    for i, (a, b) in enumerate(pairs):
        rows.append([f"(b) / (a), pair {i + 1}", f"{b['wall'] / a['wall']:.2f}×", f"{loop(b) / loop(a):.2f}×", "",
                     f"{b['cpu'] / a['cpu']:.2f}×", "", "", "", "", "", ""])
    ratio_run = statistics.median(loop(b) / loop(a) for a, b in pairs)
    ratio_wall = statistics.median(b["wall"] / a["wall"] for a, b in pairs)
    ratio_cpu = statistics.median(b["cpu"] / a["cpu"] for a, b in pairs)
    rows.append(["**(b) / (a)**, median of the pairs", f"**{ratio_wall:.2f}×**", f"**{ratio_run:.2f}×**", "", f"**{ratio_cpu:.2f}×**",
                 "", "", "", "", "", ""])
    say(table(["database", "process wall", "import loop", "documents/s", "CPU (user+sys)", "new", "new links", "peak RSS",
               "read", "written", "load avg"], rows))
    s.ratio_run, s.ratio_wall, s.ratio_cpu = ratio_run, ratio_wall, ratio_cpu


def section_costs(s: SimpleNamespace) -> None:
    """2. The link stage by the size of the group joined, and where the time goes."""
    new, runs, best_small, best_big = s.new, s.runs, s.best_small, s.best_big
    costs, by_how, ratio_groups = cost_by_group(new, runs)
    say("\nThe link stage per new document (the hook's timer around each `LinkPipeline` call; per document the median over "
        "the pairs, then the median over the documents of a class), by the size of the stored group it joins:\n")
    say(table(["joins a group of", "documents", "wall (a)", "wall (b)", "(b) / (a)", "CPU (a)", "CPU (b)", "(b) / (a)",
               "max wall (b)"], costs))
    say("\nThe copies that join groups of 100 or more, by what they copy (a document crediting a repost, not the origin, "
        "makes the linker decide the group again from all its members and relate every member again, `Linker._rebuild`):\n")
    say(table(["copy", "documents", "wall (a)", "wall (b)", "CPU (a)", "CPU (b)", "max wall (b)"], by_how))
    ta, tb = best_small["timings"], best_big["timings"]
    keys = sorted(set(ta["wall"]) | set(tb["wall"]), key=lambda k: -tb["wall"].get(k, 0))
    rows = []
    for k in keys:
        wa, wb = ta["wall"].get(k, 0.0), tb["wall"].get(k, 0.0)
        ca, cb = ta["cpu"].get(k, 0.0), tb["cpu"].get(k, 0.0)
        if max(wa, wb) < 0.02:
            continue
        rows.append([f"`{k}`", tb["calls"].get(k, 0), f"{wa:.2f} s", f"{wb:.2f} s", f"{wb - wa:+.2f} s",
                     f"{ca:.2f} s", f"{cb:.2f} s", f"{cb - ca:+.2f} s", f"{(wb - cb) - (wa - ca):+.2f} s"])
    say("\nWhere the time goes, in the pair that ran under the least load (the hook's timers; store and LSH calls are nested inside the stages, "
        "`store:commit` inside `store:save`). CPU is the thread's CPU time: wall minus CPU is waiting, for the "
        "disk or for a core.\n")
    say(table(["timer", "calls", "wall (a)", "wall (b)", "Δ wall", "CPU (a)", "CPU (b)", "Δ CPU", "Δ waiting"], rows))
    say("")
    s.ratio_groups = ratio_groups


def section_merge(s: SimpleNamespace) -> None:
    """2 (c). The import with the recent table nearly full, and the merge."""
    args, new, full, pending, pairs = s.args, s.new, s.full, s.pending, s.pairs
    ratio_full = amortised = None
    if full is not None:
        merge = full["timings"]["wall"].get("store:merge_index", 0.0)
        full_loop = loop(full)
        ratio_full = (full_loop - merge) / loop(full["paired"])
        say("### (c) The same import with the recent table nearly full, and the merge\n")
        say(f"`lsh_recent` first given the rows of {pending:,} documents (random keys, as real ones are; written in "
            f"{full['filled']:.0f} s), so this import brings it to `COLLECTOR_LSH_RECENT_DOCUMENTS` ({RECENT_DOCUMENTS:,}) "
            "and ends by merging it into `lsh_buckets`.\n")
        say(table(["measure", "wall", "per new document", "× (a)"], [
            ["import loop, without the merge", f"{full_loop - merge:.2f} s", ms((full_loop - merge) / args.new),
             f"{ratio_full:.2f}× (a) run alongside"],
            [f"the merge: {RECENT_DOCUMENTS * BANDS:,} rows into {BANDS * new['docs_in_db']:,}", f"{merge:.1f} s",
             ms(merge / RECENT_DOCUMENTS) + " (each of the merged)", ""],
            ["process: wall / CPU / written", f"{full['wall']:.1f} s / {full['cpu']:.1f} s / {mb(full['written_bytes'])}", "", ""],
        ]))
        amortised = statistics.median((loop(b) + merge * args.new / RECENT_DOCUMENTS) / loop(a) for a, b in pairs)
        say(f"\nAmortised over the {RECENT_DOCUMENTS:,} documents a merge serves, linking 1,000 documents at this size "
            f"costs {amortised:.2f}× (a): run (b) plus 1/{RECENT_DOCUMENTS // args.new} of the merge.\n")
    s.ratio_full, s.amortised = ratio_full, amortised


def section_first(s: SimpleNamespace) -> None:
    """3. The first link in a new process."""
    new, target, best_big = s.new, s.target, s.best_big
    tb = best_big["timings"]
    singles = new["singles"]
    plain = run_cli(target, singles[0])
    hooked = run_cli(target, singles[1], OUT / "scale-timings-single.json")
    profiled = run_cli(target, singles[3], extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    imports = import_times(profiled["stderr"])
    ev = hooked["timings"]["events"]
    t0 = hooked["spawned"]
    opened = [store_open(target) for _ in range(3)]
    first_big = tb["events"]["LinkPipeline_first_start"] - best_big["spawned"]
    say("## 3. First link in a new process (one copy of a stored document)\n")
    say(table(["measure", "wall", "CPU"], [
        ["`collector import` of one copy, whole process", f"{plain['wall']:.2f} s", f"{plain['cpu']:.2f} s"],
        ["  hooked run: spawn → `Store()` called (Python, imports, CLI)", f"{ev['store_open_start'] - t0:.2f} s", ""],
        ["  hooked run: `Store()` open in the CLI", f"{ev['store_open_end'] - ev['store_open_start']:.3f} s", ""],
        ["  hooked run: **spawn → linking starts** (first `LinkPipeline` call)", f"**{ev['LinkPipeline_first_start'] - t0:.2f} s**", ""],
        ["  hooked run: linking the document", f"{ev['LinkPipeline_first_end'] - ev['LinkPipeline_first_start']:.3f} s", ""],
        ["  hooked run: spawn → exit", f"{hooked['timings']['events']['exit'] - t0:.2f} s", f"{hooked['cpu']:.2f} s"],
        ["  the 1,000-document run (b): spawn → linking starts", f"{first_big:.2f} s", ""],
        ["`Store(path)` alone in a new process: `import collector.storage`", f"{opened[0]['import']:.2f} s", ""],
        ["`Store(path)` alone in a new process: open (3 processes)", ", ".join(f"{o['open'] * 1000:.0f} ms" for o in opened), ""],
    ]))
    say("\nImports of that process (`-X importtime`, cumulative, nested): "
        + ", ".join(f"{k} {imports[k]:.2f} s" for k in IMPORTS if k in imports) + ".\n")
    s.plain, s.hooked, s.first_at, s.opened = plain, hooked, ev["LinkPipeline_first_start"] - t0, opened


def section_query(s: SimpleNamespace) -> None:
    """4. LSH query latency and plans."""
    args, target = s.args, s.target
    q = query_latency(target, args.seed, args.queries)
    say(f"## 4. LSH query at {q['docs']:,} documents (`LSHIndex.query`, {BANDS} bands × {ROWS} rows)\n")
    rows = [[d["label"], d["n"], ms(d["p50"]), ms(d["p99"]), ms(d["max"]), f"{d['mean_candidates']:.3f}", d["max_candidates"],
             d["with_candidates"], d["not_itself"] if d["label"].startswith("stored") else ""] for d in q["rows"]]
    say(table(["queries", "n", "p50", "p99", "max", "candidates/query (other than itself)", "max", "queries with any",
               "stored, not finding itself (a later member of a big group: buckets are read 16 rows deep)"], rows))
    for name, plan in q["plan"].items():
        say(f"\nQuery plan of {name}: {'; '.join(sorted(set(plan)))}" + ("\n" if name == list(q["plan"])[-1] else ""))
    s.q = q


def section_diagnose(s: SimpleNamespace) -> None:
    """4b. Storing a document, statement by statement."""
    args, target, small, q = s.args, s.target, s.small, s.q
    if args.diagnose and not args.keep:  # (it writes thousands of documents: not into the cached corpus)
        diag_big = diagnose(target, VARIANTS, args.seed, args.diagnose)
        diag_small = diagnose(small, VARIANTS[:1], args.seed, args.diagnose)
        say(f"### Storing a document, statement by statement ({args.diagnose:,} new documents per line, "
            "as `DocumentStore.put` and `LSHIndex.add` issue them; a savepoint per document)\n")
        rows = []
        for where, d in [("(a) originals only", diag_small[0])] + [(f"(b) {q['docs']:,}", d) for d in diag_big]:
            n_ = d["n"]
            total = d["documents"] + d["lsh"] + d["commit"]
            rows.append([where, d["label"], ms(d["documents"] / n_), ms(d["lsh"] / n_), ms(d["commit"] / n_), ms(total / n_),
                         f"{d['written'] / n_ / 1024:,.0f} KB"])
        say(table(["database", "variant", "row + FTS5", "64 LSH rows", "COMMIT (WAL, checkpoint)", "total", "written"], rows))
        say("")


def section_bytes(s: SimpleNamespace) -> None:
    """5. Database bytes per document."""
    big, meta = s.big, s.meta
    sizes = db_bytes(big)
    nd = sizes["docs"]
    say(f"## 5. Database bytes per document ({nd:,} documents, {sizes['method']}, file {mb(sizes['file'])})\n")
    rows = [[k, mb(v), f"{v / nd:,.0f}", f"{v / sizes['file']:.1%}"] for k, v in sizes["groups"].items()]
    rows.append(["**total (file)**", f"**{mb(sizes['file'])}**", f"**{sizes['file'] / nd:,.0f}**", ""])
    say(table(["part", "size", "bytes/document", "share"], rows))
    say(f"\n(The texts themselves, UTF-8: {meta['text_bytes'] / meta['docs']:,.0f} bytes/document. B-trees: "
        + ", ".join(f"{k} {mb(v)}" for k, v in sorted(sizes["objects"].items(), key=lambda kv: -kv[1]) if v > 2**20)
        + f". dbstat took {sizes['seconds']:.0f} s.)\n")


def section_targets(s: SimpleNamespace) -> None:
    """The targets, measured."""
    runs, plain, hooked, full, opened, same_groups = s.runs, s.plain, s.hooked, s.full, s.opened, s.same_groups
    ratio_run, ratio_wall, ratio_cpu, ratio_groups = s.ratio_run, s.ratio_wall, s.ratio_cpu, s.ratio_groups
    ratio_full, amortised = s.ratio_full, s.amortised
    rss = max(r["maxrss_bytes"] for r in [*runs["small"], *runs["big"], plain, hooked, *([full] if full else [])])
    first = s.first_at
    same_links = {r["summary"]["new_links"] for r in [*runs["small"], *runs["big"]]}
    say("## Targets\n")
    say(table(["target", "measured", "met"], [
        ["linking 1,000 into N ≤ 1.5 × linking them into the originals only (import loop, median of the pairs)", f"{ratio_run:.2f}×",
         "yes" if ratio_run <= 1.5 else "**no**"],
        ["  the same, process wall / process CPU", f"{ratio_wall:.2f}× / {ratio_cpu:.2f}×",
         "yes" if max(ratio_wall, ratio_cpu) <= 1.5 else "**no**"],
        *([["per-copy link stage: joining a group of 1,000+ / of 2-9, (b) wall / CPU",
            f"{ratio_groups[0]:.2f}× / {ratio_groups[1]:.2f}×", "yes" if max(ratio_groups) <= 1.5 else "**no**"]]
          if ratio_groups else []),
        ["  (a) holds the groups (b) holds: their links identical, ids aside", "yes" if same_groups else "no",
         "yes" if same_groups else "**no**"],
        ["  the same links made both ways", " / ".join(str(r["summary"]["new_links"]) for r in [*runs["small"], *runs["big"]]),
         "yes" if len(same_links) == 1 else "**no**"],
        *([["  (c) with the recent table nearly full (import loop without its merge)",
            f"{ratio_full:.2f}×", "yes" if ratio_full <= 1.5 else "**no**"],
           ["  amortised: (b) plus its share of a merge",
            f"{amortised:.2f}×", "yes" if amortised <= 1.5 else "**no**"]] if full is not None else []),
        ["first import starts linking within 2 s (wall)", f"{first:.2f} s", "yes" if first <= 2 else "**no**"],
        ["no full index rebuild on open", f"`Store()` {min(o['open'] for o in opened) * 1000:.0f} ms", "yes"],
        ["resident memory < 2 GB (peak RSS of any import)", mb(rss), "yes" if rss < 2 * 2**30 else "**no**"],
    ]))
