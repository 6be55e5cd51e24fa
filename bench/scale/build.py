"""Building the cached corpus (loader, then the lineage groups through the real CLI) and
checking the loader's rows against what the real ``collector import`` stores."""

from __future__ import annotations

import collections
import math
import multiprocessing
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import json

import numpy as np

from bench.common.paths import OUT
from bench.scale.generate import CHUNK, COMPARED, SAMPLE, corpus_records, generator, iso, jsonl_line
from bench.scale.groups import group_sizes, import_groups, make_groups, stored_groups
from bench.scale.loader import Loader, groups_path, stages, work
from bench.scale.runs import run_cli
from collector.core.fingerprint import FINGERPRINT, signature_from_bytes
from collector.storage.lsh import BANDS, LSHIndex
from collector.storage import Store


def build_big(path: Path, docs: int, seed: int, workers: int, share: float, largest: int) -> dict:
    """``docs`` documents: the loader's corpus, then the reposts that make its lineage groups
    (``group_sizes``), imported with the real CLI."""
    tmp = path.with_name(path.name + ".building")
    sizes, exponent = group_sizes(docs, share, largest)
    corpus = docs - (sum(sizes) - len(sizes))  # the rest are reposts
    started = time.perf_counter()
    generator()  # the vocabulary, made once: the forked workers inherit it
    stages()
    chunks = math.ceil(corpus / CHUNK)
    cpu = {"generate": 0.0, "stages": 0.0}
    ctx = multiprocessing.get_context("fork")
    tasks = [(c, corpus, seed) for c in range(chunks)]
    main_cpu = time.process_time()
    with ctx.Pool(workers) as pool:
        loader = Loader(tmp)
        done = 0
        pending = collections.deque()
        for task in tasks[: 2 * workers]:  # a bounded window: results never pile up in memory
            pending.append(pool.apply_async(work, (task,)))
        next_task = len(pending)
        while pending:
            batch = pending.popleft().get()
            if next_task < len(tasks):
                pending.append(pool.apply_async(work, (tasks[next_task],)))
                next_task += 1
            cpu["generate"] += batch["seconds"][0]
            cpu["stages"] += batch["seconds"][1]
            loader.add(batch)
            done += len(batch["rows"])
            if done % 100_000 < CHUNK:
                print(f"  loaded {done:,} documents in {time.perf_counter() - started:,.0f} s", file=sys.stderr, flush=True)
    main_cpu = time.process_time() - main_cpu
    generated = time.perf_counter() - started
    finish_cpu = time.process_time()
    times = loader.finish()
    total = time.perf_counter() - started
    main_cpu = {"main_cpu_load": main_cpu, "main_cpu_finish": time.process_time() - finish_cpu}
    print(f"  loaded {corpus:,} documents in {total:,.0f} s; making {len(sizes):,} groups of {sum(sizes):,} documents",
          file=sys.stderr, flush=True)
    groups_started = time.perf_counter()
    groups, ranks = make_groups(tmp, sizes, corpus, seed, groups_path(docs, ".jsonl"))
    made = time.perf_counter() - groups_started
    imported = import_groups(tmp, groups_path(docs, ".jsonl"), ranks, OUT / "scale-timings-groups.json")
    groups_path(docs, ".json").write_text(json.dumps(groups), encoding="utf-8")
    store = Store(tmp)  # the LSH rows of the reposts into the big index: the corpus starts with lsh_recent empty
    store.merge_index(force=True)
    store.close()
    group_meta = {"params": [share, largest], "exponent": exponent, "sizes": len(sizes), "members": sum(sizes),
                  "largest": sizes[0], "reposts": len(ranks), "make_seconds": made, "import": imported,
                  "stored": stored_groups(tmp), "kinds": dict(sum((collections.Counter(g["kinds"]) for g in groups), collections.Counter()))}
    if imported["summary"]["new"] != len(ranks):
        raise SystemExit(f"the groups' import stored {imported['summary']['new']} of {len(ranks)} reposts")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    total = time.perf_counter() - started
    tmp.rename(path)
    return {"docs": docs, "corpus": corpus, "groups": group_meta, "seed": seed, "workers": workers, "seconds": total,
            "load_seconds": total - made - imported["wall"], "generate_and_insert_seconds": generated,
            "cpu_generate": cpu["generate"], "cpu_stages": cpu["stages"], **main_cpu, **{f"{k}_seconds": v for k, v in times.items()},
            "bytes": path.stat().st_size, "text_bytes": loader.text_bytes, "built": iso(datetime.now(timezone.utc))}


def doc_state(conn: sqlite3.Connection, url: str) -> dict:
    cur = conn.execute(f"SELECT id, {', '.join(COMPARED)} FROM documents WHERE url = ?", (url,))
    row = cur.fetchone()
    doc_id, values = row[0], dict(zip(COMPARED, row[1:]))
    # The LSH tables have no index on doc_id (nothing in the product needs one): look the
    # document's rows up by the keys its signature gives (LSHIndex.band_keys), and count
    # the rows once (``verify``). The loader writes lsh_buckets, an import lsh_recent: the
    # view lsh_index is both.
    keys = LSHIndex(conn).band_keys(signature_from_bytes(values["signature"]))
    values["buckets"] = [k for k in keys if conn.execute(
        "SELECT 1 FROM lsh_index WHERE band = ? AND bucket = ? AND doc_id = ?", (*k, doc_id)).fetchone()]
    values["sightings"] = sorted(conn.execute(
        "SELECT site, line_hash, title_key FROM line_sightings WHERE site = ? AND doc_id = ?", (values["site"], doc_id)).fetchall())
    values["claims"] = sorted(conn.execute(
        "SELECT kind, claimed_site, claimed_name, claimed_url, evidence FROM claims WHERE doc_id = ?", (doc_id,)).fetchall())
    values["site_row"] = conn.execute("SELECT key, name, domains, aliases, config FROM sites WHERE key = ?", (values["site"],)).fetchone()
    first_words = " ".join(values["text"].split()[:4])
    values["fts_finds_it"] = doc_id in {r[0] for r in conn.execute(
        "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", ('"' + first_words.replace('"', " ") + '"',))}
    return values


def verify(db: Path, docs: int, seed: int, work: Path, integrity: bool) -> dict:
    """Import SAMPLE documents with the real CLI (the code as it is now); compare what it stored
    with the loader's rows. ``mismatches`` lists the differences; with ``integrity``, FTS5's
    'integrity-check' also compares the whole full-text index with the documents."""
    gen = generator()
    chunks = sorted({0, (math.ceil(docs / CHUNK) - 1)})
    records = [r for c in chunks for r in corpus_records(gen, seed, c, docs)]
    rng = np.random.default_rng([seed, 7])
    sample = [records[i] for i in sorted(rng.choice(len(records), size=min(SAMPLE, len(records)), replace=False))]
    jsonl = work / "scale-verify.jsonl"
    jsonl.write_text("".join(jsonl_line(r) + "\n" for r in sample), encoding="utf-8")
    target = work / "scale-verify.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    result = run_cli(target, jsonl)
    assert result["summary"]["new"] == len(sample), result
    mine, theirs = sqlite3.connect(db), sqlite3.connect(target)
    mismatches = []
    stored = dict(mine.execute("SELECT key, value FROM fingerprint_params"))
    if stored != {k: str(v) for k, v in FINGERPRINT.items()}:
        mismatches.append(("fingerprint_params", stored))
    try:
        migrations_missing = set(m for m in theirs.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'collector'")) - set(
            mine.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'collector'"))
    except sqlite3.OperationalError as exc:
        migrations_missing = {str(exc)}
    if migrations_missing:  # built by an older schema: rebuilt
        mine.close()
        theirs.close()
        return {"sample": len(sample), "mismatches": [("schema", sorted(migrations_missing))]}
    for rec in sample:
        a, b = doc_state(mine, rec["url"]), doc_state(theirs, rec["url"])
        diff = sorted(k for k in a if a[k] != b[k])
        if diff:
            mismatches.append((rec["url"], diff))
        if len(a["buckets"]) != BANDS:  # every key LSHIndex.band_keys gives is stored
            mismatches.append((rec["url"], ["band_keys"]))
    rows, n_docs = mine.execute("SELECT count(*) FROM lsh_index").fetchone()[0], mine.execute("SELECT count(*) FROM documents").fetchone()[0]
    if rows != BANDS * n_docs:  # and nothing else
        mismatches.append(("LSH rows", rows, BANDS * n_docs))
    started = time.perf_counter()
    if integrity and not mismatches:
        mine.execute("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')")  # raises if the index is not the documents'
    fts = time.perf_counter() - started if integrity else None
    mine.close()
    theirs.close()
    return {"sample": len(sample), "mismatches": mismatches, "fts_integrity_seconds": fts,
            "compared": COMPARED + ["LSH rows", "line_sightings", "claims", "sites row", "FTS match", "fingerprint_params"]}
