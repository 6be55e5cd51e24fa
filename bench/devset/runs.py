"""Running the real CLI over the set, reading its predictions back, and the baseline."""

from __future__ import annotations

import collections
import shlex
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.common.cli import Collector
from bench.common.paths import REPO
from bench.devset.build import Doc
from bench.devset.render import body_lines, render_html, render_txt
from bench.devset.sites import SiteSpec
from bench.devset.text import shingles


def program(code: Path, cli_cmd: str | None) -> list[str] | None:
    """The command that runs the code under test: ``--cli``'s, a snapshot's (``--code``) run
    with this venv, or (None) the installed ``collector``."""
    if cli_cmd:
        return shlex.split(cli_cmd)
    if code != REPO:  # a snapshot of collector/ and pipelines/, run with this venv
        return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(code)!r}); from collector.cli import main; main()"]
    return None


def import_calls(out: Path, sites: dict[str, SiteSpec], batch: str) -> list[tuple[list[str], str | None]]:
    """One batch's imports: its folder, then each ``--site`` folder."""
    calls = []
    if (out / "input" / batch).is_dir():
        calls.append(([str(out / "input" / batch)], None))
    for key in [s.key for s in sites.values() if s.site_flag]:
        folder = out / "input" / f"{batch}-site" / key
        if folder.is_dir():
            calls.append(([str(folder)], key))
    return calls


def run_imports(out: Path, db: Path, configs: Path, sites: dict[str, SiteSpec], cli_cmd: str | None = None,
                code: Path = REPO) -> list[dict]:
    """The three batches through the real CLI; a failing import is recorded, and the next runs."""
    collector = Collector(db, config=configs, env={"COLLECTOR_CODE": str(code)}, cwd=out, program=program(code, cli_cmd))
    runs = []
    for batch in ("run1", "run2", "run3"):
        for paths, site in import_calls(out, sites, batch):
            args = ["import", *paths, "--json", *(["--site", site] if site else [])]
            result = collector.run(*args, check=False)
            summary = result.summary
            runs.append({"batch": batch, "site": site, "wall": result.seconds, "rc": result.returncode, "summary": summary,
                         "stderr": result.stderr.strip().splitlines()[-20:], "cmd": " ".join(result.argv)})
            print(f"import {batch}{' --site ' + site if site else ''}: rc={result.returncode} {result.seconds:.1f}s {summary}", file=sys.stderr)
            if result.returncode not in (0,) and not summary:
                print(result.stderr[-3000:], file=sys.stderr)
    return runs


class UnionFind:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb, key=str)] = min(ra, rb, key=str)


@dataclass
class Prediction:
    node: dict            # truth key -> node id (None: not stored)
    text: dict            # node -> stored text
    comp: dict            # node -> component id
    origin: dict          # node -> predicted origin node (itself when not a copy)
    relation: dict        # node -> relation (None when not a copy)
    evidence: dict = field(default_factory=dict)
    title: dict = field(default_factory=dict)  # node -> stored title


def predict_from_db(db_path: Path, docs: list[Doc]) -> tuple[Prediction, dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    rows = {r["id"]: dict(r) for r in conn.execute("SELECT id, url, site, title, published, fetched, source, text, chrome, canonical_url, sitename FROM documents")}
    by_source = {r["source"]: i for i, r in rows.items()}
    links = {r["copy_id"]: dict(r) for r in conn.execute("SELECT * FROM links")}
    claims = collections.defaultdict(list)
    for r in conn.execute("SELECT * FROM claims ORDER BY id"):
        claims[r["doc_id"]].append(dict(r))
    learned = collections.defaultdict(set)
    for r in conn.execute("SELECT site, line FROM chrome_lines"):
        learned[r["site"]].add(r["line"])
    uf = UnionFind()
    for i in rows:
        uf.find(i)
    for c, l in links.items():
        uf.union(c, l["origin_id"])
    node = {d.key: by_source.get(d.source) for d in docs}

    def root(i):
        # links may be two deep: a duplicate points at its site's first copy, which points at the origin
        for _ in range(10):
            if i not in links:
                break
            i = links[i]["origin_id"]
        return i

    pred = Prediction(
        node=node,
        text={i: r["text"] for i, r in rows.items()},
        comp={i: uf.find(i) for i in rows},
        origin={i: root(i) for i in rows},
        relation={i: links[i]["relation"] if i in links else None for i in rows},
        evidence={i: links[i]["evidence"] for i in links},
        title={i: r["title"] for i, r in rows.items()},
    )
    known = {d.source for d in docs}
    db = {"rows": rows, "links": links, "claims": claims, "learned": learned,
          "unknown": [r for r in rows.values() if r["source"] not in known], "conn": conn}
    return pred, db


def page_of(doc: Doc, site: SiteSpec) -> dict:
    base = doc.fmt.split(".")[0]
    if base in ("html", "warc", "jsonl-html"):
        return {"html": render_html(doc, site)}
    if base == "txt":
        return {"text": render_txt(doc)}
    return {"text": "\n\n".join(body_lines(doc)), "published": doc.published}


def run_baseline(docs: list[Doc], sites: dict[str, SiteSpec], order: list[str]) -> tuple[Prediction, float]:
    """trafilatura + MinHashLSH (threshold 0.8) + earliest date wins; no chrome cleaning, no verification."""
    import trafilatura
    from datasketch import MinHash, MinHashLSH

    params = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z",
              "max_date": datetime.now().strftime("%Y-%m-%d")}
    by_key = {d.key: d for d in docs}
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    uf = UnionFind()
    text, date, seen = {}, {}, {}
    for n, key in enumerate(order):
        doc = by_key[key]
        page = page_of(doc, sites[doc.site])
        if "html" in page:
            got = trafilatura.bare_extraction(page["html"], with_metadata=True, date_extraction_params=params)
            text[key] = (got.text or "") if got else ""
            date[key] = got.date if got else None
        else:
            text[key] = page["text"]
            date[key] = page.get("published")
        seen[key] = n
        m = MinHash(num_perm=128)
        m.update_batch([s.encode("utf-8") for s in shingles(text[key])])
        uf.find(key)
        for other in lsh.query(m):
            uf.union(key, other)
        lsh.insert(key, m)
    comps = collections.defaultdict(list)
    for key in order:
        comps[uf.find(key)].append(key)

    def when(key):
        raw = date[key]
        if not raw:
            return (1, "", seen[key])
        try:
            dt = datetime.fromisoformat(raw if len(raw) > 10 else raw + "T00:00:00+00:00")
        except ValueError:
            return (1, "", seen[key])
        dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        return (0, dt.astimezone(timezone.utc).isoformat(), seen[key])

    origin, relation = {}, {}
    for members in comps.values():
        first = min(members, key=when)
        for m in members:
            origin[m] = first
            relation[m] = None if m == first else ("duplicate" if by_key[m].site == by_key[first].site else "copy")
    seconds = time.perf_counter() - started
    pred = Prediction(node={k: k for k in order}, text=text, comp={k: uf.find(k) for k in order},
                      origin=origin, relation=relation)
    return pred, seconds


