"""Extraction quality of the stored text, against bare trafilatura (issue 4, item 5).

    .venv/bin/python bench/extraction.py [--limit N] [--sets zyte,eval,fundus] [--worst K]
                                         [--bootstrap N] [--out DIR]

Three benchmarks from ``../shared/corpus`` (their READMEs define the metrics):

* ``zyte``: Scrapinghub's article-extraction-benchmark (181 pages). 4-token shingle multiset
  precision/recall per page, normalised so every page weighs the same; P and R are means over
  pages, F1 their harmonic mean; ± is the bootstrap standard deviation (upstream
  ``evaluate.py``: precision averages only pages with tp+fp > 0, recall pages with tp+fn > 0).
* ``eval``: trafilatura's own evaluation set (990 pages): whitespace-normalised substring test
  of the ``with`` and ``without`` snippets, counts summed over pages (micro P/R/F1). The raw
  bytes go to trafilatura as upstream does; the pipeline gets them decoded as our importer
  decodes them (``collector.importers.decoding.decode(data, html=True)``).
* ``fundus``: fundus' parser test pages (181 publishers): title exact and normalised match,
  date agreement to the day and to the minute, body shingle P/R/F1 against ``body_text``.

For each it scores (a) bare trafilatura with the settings upstream publishes its numbers with,
(b) the text the pipeline stores (``collector.ingest.run_items`` into a fresh SQLite database,
``documents.text`` read back; the text after each stage is captured too, so the cost or gain of
each cleaning step is known), and (c) trafilatura settings variants, each timed per page on one
core. Then the pages where the stored text loses against bare trafilatura, with the lines that
make the difference and the reason.

Markdown goes to stdout; per-page scores and texts to ``--out`` (default
``bench/out/extraction``, git-ignored). Nothing is written elsewhere.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import re
import sqlite3
import statistics
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("COLLECTOR_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
AEB = CORPUS / "extraction" / "scrapinghub-aeb"
TEVAL = CORPUS / "extraction" / "trafilatura-eval"
FUNDUS = CORPUS / "publishers" / "fundus"

import numpy as np  # noqa: E402
import trafilatura  # noqa: E402
from trafilatura.deduplication import LRU_SIZE, LRUCache  # noqa: E402
from trafilatura.utils import load_html  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.importers.decoding import NotText, decode  # noqa: E402
from collector.ingest import run_items  # noqa: E402
from collector.core.document import Document  # noqa: E402
from collector.core.sites import host_of  # noqa: E402
from pipelines.clean import split_lines, title_line  # noqa: E402
from pipelines.extract import date_params, extract_document  # noqa: E402
from pipelines.stage import Stage  # noqa: E402

try:  # what the file importer does to a page before the pipeline sees it
    from collector.importers.files import _defused
except ImportError:  # pragma: no cover - a private helper; the import is best effort
    def _defused(html: str) -> str:
        return html

for _name in ("trafilatura", "htmldate", "courlan", "charset_normalizer", "justext", "scrapy"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

#: What trafilatura's own benchmark passes (tests/eval_common.py EXTRACT_OPTS); Zyte's
#: run_trafilatura.py passes include_comments=False only, the rest being the defaults.
UPSTREAM = {"include_comments": False, "include_tables": True, "include_formatting": False}


# ======================================================================================
# Pages
# ======================================================================================
@dataclass
class Page:
    key: str
    url: str | None          # the page's URL, None when the benchmark has none
    data: bytes              # raw bytes
    upstream_input: object   # what the benchmark's own runner hands trafilatura
    html: str | None         # decoded as our importer decodes it (None: refused)
    decode_error: str | None = None
    truth: dict = field(default_factory=dict)


def _decoded(data: bytes) -> tuple[str | None, str | None]:
    try:
        return _defused(decode(data, html=True)), None
    except NotText as exc:
        return None, str(exc)


def load_zyte(limit: int | None) -> list[Page]:
    truth = json.loads(gzip.open(AEB / "ground-truth.json.gz").read())
    pages = []
    for key in sorted(truth)[:limit]:
        data = gzip.open(AEB / "html" / f"{key}.html.gz").read()
        html, err = _decoded(data)
        pages.append(Page(key, truth[key].get("url"), data, data.decode("utf-8"), html, err,
                          {"body": truth[key].get("articleBody") or ""}))
    return pages


def load_eval(limit: int | None) -> list[Page]:
    evaldata = json.loads((TEVAL / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url in sorted(evaldata)[:limit]:
        item = evaldata[url]
        data = gzip.open(TEVAL / item["file"]).read()
        html, err = _decoded(data)
        pages.append(Page(url, url if host_of(url) else None, data, data, html, err,
                          {"with": item["with"], "without": item["without"], "file": item["file"]}))
    return pages


def load_fundus(limit: int | None) -> list[Page]:
    rows = [json.loads(line) for line in (FUNDUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda r: r["html"])
    pages = []
    for row in rows[:limit]:
        data = gzip.open(FUNDUS / row["html"]).read()
        html, err = _decoded(data)
        # fundus has no runner of its own: trafilatura gets the bytes, as in trafilatura's benchmark
        pages.append(Page(row["html"], row["url"], data, data, html, err,
                          {"title": row.get("title") or "", "date": row.get("publishing_date"), "body": row.get("body_text") or ""}))
    return pages


LOADERS = {"zyte": load_zyte, "eval": load_eval, "fundus": load_fundus}
TITLES = {
    "zyte": "Zyte (Scrapinghub) article-extraction-benchmark",
    "eval": "trafilatura evaluation set",
    "fundus": "fundus publisher pages",
}


# ======================================================================================
# Metrics
# ======================================================================================
_TOKEN = re.compile(r"\w+")


def shingles(text: str | None, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def shingle_counts(true: str, pred: str | None) -> tuple[float, float, float]:
    """Upstream ``string_shingle_matching``: (tp, fp, fn) of the shingle multisets, over their sum."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def _precision(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def page_f1(c: tuple[float, float, float]) -> float:
    tp, fp, fn = c
    return 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 1.0


def shingle_summary(counts: list[tuple[float, float, float]], exact: list[bool], n_boot: int) -> dict:
    p = np.array([_precision(*c) if c[0] + c[1] > 0 else np.nan for c in counts])
    r = np.array([_recall(*c) if c[0] + c[2] > 0 else np.nan for c in counts])
    P, R = float(np.nanmean(p)), float(np.nanmean(r))
    out = {"P": P, "R": R, "F1": 2 * P * R / (P + R) if P + R else 0.0, "acc": float(np.mean(exact)) if exact else 0.0}
    if n_boot and len(counts) > 1:
        idx = np.random.default_rng(0).integers(0, len(counts), size=(n_boot, len(counts)))
        with np.errstate(invalid="ignore"):
            bp, br = np.nanmean(p[idx], axis=1), np.nanmean(r[idx], axis=1)
        bf = 2 * bp * br / (bp + br)
        out.update(P_sd=float(np.std(bp, ddof=1)), R_sd=float(np.std(br, ddof=1)), F1_sd=float(np.std(bf, ddof=1)))
    return out


def wsnorm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def snippet_counts(truth: dict, text: str | None) -> tuple[int, int, int, int, list[bool], list[bool]]:
    """trafilatura's ``count_item``: (tp, fp, fn, tn) and which with/without snippets were found."""
    if text:
        t = wsnorm(text)
        found_with = [wsnorm(w) in t for w in truth["with"]]
        found_without = [wsnorm(w) in t for w in truth["without"]]
    else:
        found_with, found_without = [False] * len(truth["with"]), [False] * len(truth["without"])
    tp, fp = sum(found_with), sum(found_without)
    return tp, fp, len(found_with) - tp, len(found_without) - fp, found_with, found_without


def micro(rows) -> dict:
    tp = sum(r[0] for r in rows)
    fp = sum(r[1] for r in rows)
    fn = sum(r[2] for r in rows)
    tn = sum(r[3] for r in rows)
    P = tp / (tp + fp) if tp + fp else 0.0
    R = tp / (tp + fn) if tp + fn else 0.0
    return {"P": P, "R": R, "F1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
            "acc": (tp + tn) / (tp + fp + fn + tn) if rows else 0.0, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-", "\u00a0": " "})


def title_norm(title: str | None) -> str:
    text = unicodedata.normalize("NFKC", title or "").translate(_QUOTES).casefold()
    return " ".join(_TOKEN.findall(text))


def parse_date(value: str | None):
    """(datetime, has_time) or (None, False)."""
    if not value:
        return None, False
    value = value.strip().replace("Z", "+00:00")
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            return datetime.fromisoformat(value), False
        value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
        return datetime.fromisoformat(value), True
    except ValueError:
        return None, False


def date_agreement(truth: str | None, ours: str | None) -> tuple[bool, bool | None]:
    """(same day, same minute or None when ours has no time of day).

    The day is compared in the offset fundus states (ours converted when it has a zone); the
    minute as instants when ours has a zone, else as wall-clock times."""
    t, _ = parse_date(truth)
    o, has_time = parse_date(ours)
    if t is None or o is None:
        return False, None
    if o.tzinfo is not None and t.tzinfo is not None:
        day = o.astimezone(t.tzinfo).date() == t.date()
    else:
        day = o.date() == t.date()
    if not has_time:
        return day, None
    if o.tzinfo is not None and t.tzinfo is not None:
        minute = int(o.timestamp() // 60) == int(t.timestamp() // 60)
    else:
        minute = o.replace(tzinfo=None, second=0, microsecond=0) == t.replace(tzinfo=None, second=0, microsecond=0)
    return day, minute


# ======================================================================================
# trafilatura variants
# ======================================================================================
@dataclass
class Variant:
    name: str
    doc: str
    run: Callable[[Page, bool], dict]   # (page, with_metadata) -> {"text", "title", "date"}
    sets: tuple[str, ...] = ("zyte", "eval", "fundus")


def _extract(page_input, meta: bool, url=None, **kwargs) -> dict:
    """``trafilatura.extract`` when no metadata is needed (what upstream runs), else
    ``bare_extraction`` (same text, plus title and date)."""
    if not meta:
        return {"text": trafilatura.extract(page_input, url=url, **kwargs)}
    doc = trafilatura.bare_extraction(page_input, url=url, with_metadata=True, **kwargs)
    if doc is None:
        return {"text": None}
    return {"text": doc.text, "title": doc.title, "date": doc.date}


def _upstream(**changes) -> Callable[[Page, bool], dict]:
    def run(page: Page, meta: bool) -> dict:
        return _extract(page.upstream_input, meta, **{**UPSTREAM, **changes})
    return run


def _pipeline_params(**changes) -> Callable[[Page, bool], dict]:
    """Without ``changes``: exactly what ``pipelines.extract`` does (``extract_document`` in its
    default mode; minus site xpaths: no benchmark page has a config). With them: its one
    standard ``bare_extraction`` call with these arguments added."""
    def run(page: Page, meta: bool) -> dict:
        if page.html is None:
            return {"text": None}
        tree = load_html(page.html)
        if tree is None:
            return {"text": None}
        url = page.url if host_of(page.url) else None
        if not changes:
            doc = extract_document(tree, url)
        else:
            doc = trafilatura.bare_extraction(
                tree, url=url, with_metadata=True, include_comments=False, include_tables=True,
                date_extraction_params=date_params(), **changes,
            )
        if doc is None:
            return {"text": None}
        return {"text": doc.text, "title": doc.title, "date": doc.date}
    return run


def _dedup_run(page: Page, meta: bool, _cache={}) -> dict:
    # trafilatura's dedup cache is shared across documents: a fresh one per benchmark
    cache = _cache.setdefault(page.truth.get("_set"), LRUCache(maxsize=LRU_SIZE))
    return _extract(page.upstream_input, meta, deduplicate=cache, **UPSTREAM)


def variants() -> list[Variant]:
    return [
        Variant("upstream (standard)", "extract(fast=False, include_comments=False, include_tables=True, include_formatting=False), the input as the benchmark's runner passes it", _upstream()),
        Variant("fast", "upstream + fast=True (no fallback extractors)", _upstream(fast=True)),
        Variant("favor_precision", "upstream + favor_precision=True", _upstream(favor_precision=True)),
        Variant("favor_recall", "upstream + favor_recall=True", _upstream(favor_recall=True)),
        Variant("include_tables=False", "upstream with include_tables=False", _upstream(include_tables=False)),
        Variant("deduplicate", "upstream + deduplicate=True (a fresh LRU cache per benchmark: it spans documents)", _dedup_run),
        Variant("fast+favor_precision", "upstream + fast=True, favor_precision=True", _upstream(fast=True, favor_precision=True)),
        Variant("upstream + with_metadata", "upstream settings through bare_extraction(with_metadata=True): the metadata's cost (same text)", lambda p, m: _extract(p.upstream_input, True, **UPSTREAM)),
        Variant("upstream on our decoding", "upstream settings on the text decode(data, html=True) gives", lambda p, m: _extract(p.html, m, **UPSTREAM) if p.html else {"text": None}, ("eval", "fundus")),
        Variant("pipeline params", "pipelines.extract.extract_document as the extract stage calls it (default COLLECTOR_EXTRACTION): parsed tree of our decoding, url, with_metadata=True, date params", _pipeline_params()),
        Variant("pipeline + favor_precision", "the pipeline's standard bare_extraction call + favor_precision=True", _pipeline_params(favor_precision=True)),
        Variant("pipeline + favor_recall", "the pipeline's standard bare_extraction call + favor_recall=True", _pipeline_params(favor_recall=True)),
        Variant("pipeline + fast", "the pipeline's standard bare_extraction call + fast=True", _pipeline_params(fast=True)),
        Variant("pipeline + url=None", "pipeline params without the url argument", lambda p, m: _pipeline_params()(Page(p.key, None, p.data, p.upstream_input, p.html, p.decode_error, p.truth), m)),
    ]


# ======================================================================================
# Running
# ======================================================================================
@dataclass
class Output:
    texts: dict[str, str | None]
    titles: dict[str, str | None]
    dates: dict[str, str | None]
    wall: list[float]
    cpu: list[float]
    errors: int = 0


def run_variant(variant: Variant, pages: list[Page], meta: bool, repeat: int = 1) -> Output:
    """Each page ``repeat`` times (the fastest time is kept: the others were slowed down by
    whatever else the machine ran); the text of the first run is scored."""
    out = Output({}, {}, {}, [], [])
    if variant.name == "deduplicate":
        repeat = 1  # a second pass would see every text again and drop it as a duplicate
    try:  # warm-up: imports, caches, compiled XPaths
        variant.run(pages[0], meta)
    except Exception:
        pass
    for page in pages:
        walls, cpus = [], []
        for i in range(repeat):
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                r = variant.run(page, meta)
            except Exception:
                r = {"text": None}
                if i == 0:
                    out.errors += 1
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            if i == 0:
                res = r
        out.wall.append(min(walls))
        out.cpu.append(min(cpus))
        out.texts[page.key] = res.get("text")
        out.titles[page.key] = res.get("title")
        out.dates[page.key] = res.get("date")
    return out


STAGE_ORDER = ["ExtractPipeline", "CleanPipeline", "AttributePipeline", "FingerprintPipeline",
               "StorePipeline", "LinkPipeline", "LearnChromePipeline"]
#: the text after these stages is kept (the others do not change it)
CAPTURE = {"ExtractPipeline": "E", "CleanPipeline": "C", "AttributePipeline": "A"}


@dataclass
class PipelineRun:
    stored: dict[str, dict]                 # page key -> documents row (text, title, published, chrome, url)
    stages: dict[str, dict[str, str]]       # page key -> {"E": text after extract, "C": ..., "A": ...}
    titles: dict[str, str | None]           # page key -> title after extract
    claims: dict[str, list[str]]
    learned: int
    problems: list[str]
    seconds: float
    cpu: float
    stage_seconds: dict[str, float]
    per_page: dict[str, float]              # page key -> seconds in all stages


@dataclass
class Patch:
    """A change measured through the real pipeline, applied in this process only (no file is
    edited): extra ``bare_extraction`` arguments in the extract stage, a function applied
    to the extracted text, a wrapper around the ``bare_extraction`` call, or settings.
    Arguments and wrappers apply to the product's standard (one-call) extraction mode."""
    name: str
    doc: str
    extract_kwargs: dict = field(default_factory=dict)
    text_post: Callable[[str, object], str] | None = None     # (text, trafilatura Document) -> text
    wrap: Callable | None = None                               # (bare_extraction, *args, **kwargs) -> Document
    settings: dict = field(default_factory=dict)               # collector settings for the run


def run_pipeline(name: str, pages: list[Page], out_dir: Path, patch: Patch | None = None) -> PipelineRun:
    db = out_dir / f"{name}{'-' + re.sub(r'[^a-z0-9]+', '-', patch.name.lower()) if patch else ''}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = {"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(REPO / "configs")}
    if patch and (patch.extract_kwargs or patch.wrap):
        # the patch is the extraction rule: one standard bare_extraction call for it to change
        # (the product's own rule, COLLECTOR_EXTRACTION, would call it once or twice)
        settings["COLLECTOR_EXTRACTION"] = "standard"
    if patch:
        settings.update(patch.settings)
    ctx = Context(settings)
    source_key = {f"bench:{name}:{p.key}": p.key for p in pages}
    stages: dict[str, dict[str, str]] = defaultdict(dict)
    titles: dict[str, str | None] = {}
    stage_seconds: dict[str, float] = defaultdict(float)
    per_page: dict[str, float] = defaultdict(float)
    final_url: dict[str, str] = {}
    original = Stage.process_item

    def process_item(self, item):  # wraps every stage (this process only; no file is changed)
        started = time.perf_counter()
        try:
            result = original(self, item)
        finally:
            elapsed = time.perf_counter() - started
            stage_seconds[type(self).__name__] += elapsed
            per_page[source_key.get(item.get("source"), "?")] += elapsed
        tag = CAPTURE.get(type(self).__name__)
        if tag:
            key = source_key[item["source"]]
            stages[key][tag] = item.get("text") or ""
            if tag == "E":
                titles[key] = item.get("title")
                final_url[key] = item.get("url")
        return result

    def items():
        for p in pages:
            if p.html is None:
                continue
            # a benchmark page without a URL is imported as a file is: by its path's URI
            url = p.url or (TEVAL / p.truth.get("file", p.key)).as_uri()
            yield Document(url=url, html=p.html, source=f"bench:{name}:{p.key}")

    bare = trafilatura.bare_extraction
    if patch and (patch.extract_kwargs or patch.text_post or patch.wrap):
        def patched(*args, **kwargs):
            kwargs = {**kwargs, **patch.extract_kwargs}
            doc = patch.wrap(bare, *args, **kwargs) if patch.wrap else bare(*args, **kwargs)
            if doc is not None and patch.text_post and doc.text:
                doc.text = patch.text_post(doc.text, doc)
            return doc
        trafilatura.bare_extraction = patched  # pipelines.extract calls trafilatura.bare_extraction

    _ = ctx.store  # open (and create) the database before the clock starts
    Stage.process_item = process_item
    try:
        c0 = time.process_time()
        summary = run_items(items(), ctx)
        cpu = time.process_time() - c0
    finally:
        Stage.process_item = original
        trafilatura.bare_extraction = bare
        ctx.close()
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    stored, claims = {}, defaultdict(list)
    by_url, by_source = {}, {}
    for row in conn.execute("SELECT id, url, source, site, title, published, text, chrome FROM documents"):
        by_url[row["url"]] = by_source[row["source"]] = dict(row)
    collisions = Counter(final_url.values())
    for p in pages:
        # read back by the URL the page was stored under (the page's own, or for a page without
        # one, the og:url the extract stage found); two pages with one URL share a document
        row = by_url.get(final_url.get(p.key)) or by_source.get(f"bench:{name}:{p.key}")
        if row is not None:
            stored[p.key] = row
        if collisions.get(final_url.get(p.key), 0) > 1:
            summary.problems.append(f"{p.key}: one URL for {collisions[final_url[p.key]]} pages ({final_url[p.key]}), one document")
    doc_claims = defaultdict(list)
    for row in conn.execute("SELECT doc_id, evidence FROM claims WHERE kind = 'attribution'"):
        doc_claims[row["doc_id"]].append(row["evidence"])
    for key, row in stored.items():
        claims[key] = doc_claims.get(row["id"], [])
    learned = conn.execute("SELECT COUNT(*) FROM chrome_lines").fetchone()[0]
    conn.close()
    refused = [p for p in pages if p.html is None]
    return PipelineRun(stored, stages, titles, claims, learned, summary.problems + [f"{p.key}: {p.decode_error}" for p in refused],
                       summary.seconds, cpu, dict(stage_seconds), dict(per_page))


# ======================================================================================
# Suggested changes, measured through the real pipeline (in-process patches)
# ======================================================================================
def precision_unless_short(bare, *args, ratio: float = 0.9, short: int = 0, **kwargs):
    """favor_precision=True, unless its text is shorter than ``ratio`` × the standard
    extraction's (then the standard one, with the precise call's metadata). With ``short``,
    the standard extraction runs only when the precise text has fewer than ``short``
    characters; otherwise on every page."""
    precise = bare(*args, **{**kwargs, "favor_precision": True})
    if short and precise is not None and len(precise.text or "") >= short:
        return precise
    standard = bare(*args, **{**kwargs, "with_metadata": False})
    if precise is not None and len(precise.text or "") >= ratio * len((standard.text if standard else "") or ""):
        return precise
    if standard is not None and precise is not None:
        for attr in ("title", "author", "date", "sitename", "language", "url", "description"):
            setattr(standard, attr, getattr(precise, attr, None))
    return standard or precise


def _standard_if_short(bare, *args, **kwargs):
    return precision_unless_short(bare, *args, ratio=0.9, short=2000, **kwargs)


def _nfc(text: str, doc=None) -> str:
    return unicodedata.normalize("NFC", text)


def suggestions() -> list[Patch]:
    """Alternatives to the product's extraction. UTF-8 with stray bytes, ``.strip()`` before
    the length check and the wider headline rule (6d7e70c) and the ``precision-unless-short``
    extraction mode (d8330a6) are in the product, so in the current pipeline's row; the
    rules below replace that mode (they run with ``COLLECTOR_EXTRACTION=standard``)."""
    nfc = "`unicodedata.normalize('NFC', doc.text)` (what trafilatura.extract() does and bare_extraction does not)"
    rule = "favor_precision=True, unless its text is shorter than 0.9 × the standard extraction's (then the standard text, with the precise call's metadata)"
    return [
        Patch("standard extraction", "COLLECTOR_EXTRACTION=standard: one bare_extraction call with trafilatura's defaults"
              " (the product before d8330a6)", settings={"COLLECTOR_EXTRACTION": "standard"}),
        Patch("favor_precision=True", "pipelines/extract.py: bare_extraction(..., favor_precision=True)",
              extract_kwargs={"favor_precision": True}),
        Patch("NFC", f"pipelines/extract.py: {nfc}, on the product's extraction as it is", text_post=_nfc),
        Patch("precision unless short (0.9)", f"pipelines/extract.py: {rule}; two extractions a page; and NFC",
              wrap=precision_unless_short, text_post=_nfc),
        Patch("precision, standard if short", f"pipelines/extract.py: the same rule, but the standard extraction runs only"
              " when the precise text has fewer than 2,000 characters; and NFC", wrap=_standard_if_short, text_post=_nfc),
        Patch("precision unless short, no NFC", "`precision unless short (0.9)` without NFC", wrap=precision_unless_short),
    ]


# ======================================================================================
# Scoring one set
# ======================================================================================
def score_texts(set_name: str, pages: list[Page], texts: dict, n_boot: int, titles=None, dates=None) -> dict:
    if set_name == "zyte":
        counts = [shingle_counts(p.truth["body"], texts.get(p.key)) for p in pages]
        exact = [_TOKEN.findall(p.truth["body"]) == _TOKEN.findall(texts.get(p.key) or "") for p in pages]
        s = shingle_summary(counts, exact, n_boot)
        s["per_page"] = {p.key: page_f1(c) for p, c in zip(pages, counts)}
        s["counts"] = {p.key: c for p, c in zip(pages, counts)}
        return s
    if set_name == "eval":
        rows = {p.key: snippet_counts(p.truth, texts.get(p.key)) for p in pages}
        s = micro(list(rows.values()))
        s["per_page"] = {k: r[0] - r[1] for k, r in rows.items()}
        s["rows"] = rows
        return s
    # fundus
    counts = [shingle_counts(p.truth["body"], texts.get(p.key)) for p in pages]
    s = shingle_summary(counts, [], n_boot)
    s["per_page"] = {p.key: page_f1(c) for p, c in zip(pages, counts)}
    if titles is not None:
        s["title_exact"] = sum((titles.get(p.key) or "").strip() == p.truth["title"].strip() for p in pages) / len(pages)
        s["title_norm"] = sum(title_norm(titles.get(p.key)) == title_norm(p.truth["title"]) for p in pages) / len(pages)
        s["title_in"] = sum(bool(title_norm(p.truth["title"])) and title_norm(p.truth["title"]) in title_norm(titles.get(p.key)) for p in pages) / len(pages)
    if dates is not None:
        agreements = [date_agreement(p.truth["date"], dates.get(p.key)) for p in pages]
        s["date_day"] = sum(a[0] for a in agreements) / len(pages)
        s["date_timed"] = sum(a[1] is not None for a in agreements) / len(pages)
        s["date_minute"] = sum(bool(a[1]) for a in agreements) / len(pages)
        s["date_found"] = sum(bool(dates.get(p.key)) for p in pages) / len(pages)
    return s


def ms(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return 0.0, 0.0, 0.0
    v = sorted(values)
    return 1000 * statistics.fmean(v), 1000 * v[len(v) // 2], 1000 * v[min(len(v) - 1, int(0.9 * len(v)))]


def f3(x, sd=None):
    if x is None:
        return "–"
    return f"{x:.3f}" + (f" ± {sd:.3f}" if sd is not None else "")


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


# ======================================================================================
# Reports
# ======================================================================================
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
    for path in sorted((AEB / "reference-outputs").glob("*.json.gz")):
        data = json.loads(gzip.open(path).read())
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
    meta = set_name == "fundus"
    scores, rows = {}, []
    if set_name == "zyte":
        rows += reference_rows(n_boot, pages)
    for name, out in results.items():
        s = score_texts(set_name, pages, out.texts, n_boot, out.titles if meta else None, out.dates if meta else None)
        scores[name] = s
        wall, med, _ = ms(out.wall)
        cpu, _, _ = ms(out.cpu)
        empty = sum(not (t or "").strip() for t in out.texts.values())
        rows.append([name, *quality_cells(set_name, s), f"{wall:.1f} (median {med:.1f})", f"{cpu:.1f}", str(empty)])
    if run is not None:
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
    print(table(["setting", *QUALITY_HEADERS[set_name], "ms/page wall", "ms/page CPU", "empty"], rows))
    if set_name == "fundus":
        print("\nTitle and date of the `upstream`-style rows come from bare_extraction(with_metadata=True) with trafilatura's"
              " default date settings (day only, so no minute); the pipeline rows use the stored title and `published`."
              " 'title norm.' = NFKC, casefold, quotes/dashes unified, \\w+ tokens equal. Body = Zyte shingle metric vs `body_text`"
              " (which has no title and includes the summary/lede).")
    if set_name == "zyte":
        print("\nThe `published output` rows re-score the benchmark's stored outputs with this script's metric"
              " (upstream publishes trafilatura 2.0.0 at F1 0.958, P 0.938, R 0.978).")

    # --- best setting ---
    key = "F1"
    bare = {k: v for k, v in scores.items() if k in results}
    best = max(bare, key=lambda k: bare[k][key])
    print(f"\nBest bare trafilatura setting on this set: **{best}** (F1 {bare[best]['F1']:.3f};"
          f" upstream standard {bare['upstream (standard)']['F1']:.3f}).")

    summary = {"best": best, "scores": {k: {kk: vv for kk, vv in v.items() if kk not in ("per_page", "counts", "rows")} for k, v in scores.items()}}
    if run is None:
        return summary

    # --- cleaning effect ---
    up = scores["upstream (standard)"]
    pp = scores.get("pipeline params")
    st = scores["STORED TEXT"]
    ex = scores["pipeline: after extract"]
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
    unit = "page F1" if set_name != "eval" else "TP−FP of the page"
    print(f"\n(pages better/worse: by {unit})")

    # removed lines by reason
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

    # --- worst pages ---
    loss = []
    for p in pages:
        a, b = up["per_page"].get(p.key, 0), st["per_page"].get(p.key, 0)
        if b < a - 1e-9:
            loss.append((b - a, p))
    loss.sort(key=lambda x: x[0])
    print(f"\n### Pages where the stored text scores below bare upstream trafilatura: {len(loss)}"
          f" (showing {min(worst, len(loss))})\n")
    up_texts, pp_texts = results["upstream (standard)"].texts, results.get("pipeline params", results["upstream (standard)"]).texts
    for delta, p in loss[:worst]:
        stored = run.stored.get(p.key)
        e_text = run.stages.get(p.key, {}).get("E")
        print(f"- **{p.key}** {p.url or ''}: {unit} upstream {up['per_page'][p.key]:.3f} → pipeline params "
              f"{pp['per_page'].get(p.key, 0):.3f} → extract stage {ex['per_page'].get(p.key, 0):.3f} → stored "
              f"{st['per_page'].get(p.key, 0):.3f}")
        if set_name == "eval":
            _, _, _, _, fw_up, fo_up = up["rows"][p.key]
            _, _, _, _, fw_st, fo_st = st["rows"][p.key]
            for w, a, b in zip(p.truth["with"], fw_up, fw_st):
                if a != b:
                    print(f"    - `with` {'lost' if a else 'gained'}: “{short(w, 90)}”")
            for w, a, b in zip(p.truth["without"], fo_up, fo_st):
                if a != b:
                    print(f"    - `without` {'now present' if b else 'now absent'}: “{short(w, 90)}”")
        if stored is None:
            print(f"    - not stored: {next((m for m in run.problems if p.key in m), 'dropped')}")
            continue
        removed = classify_removed(p.key, run, e_text or "")
        for reason, lines in removed.items():
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

    # per-page dump (git-ignored)
    dump = out_dir / f"{set_name}.pages.jsonl"
    with dump.open("w", encoding="utf-8") as f:
        for p in pages:
            f.write(json.dumps({
                "key": p.key, "url": p.url,
                "scores": {k: v["per_page"].get(p.key) for k, v in scores.items()},
                "upstream": up_texts.get(p.key), "pipeline_params": pp_texts.get(p.key),
                "stages": run.stages.get(p.key), "stored": (run.stored.get(p.key) or {}).get("text"),
                "title": run.titles.get(p.key), "claims": run.claims.get(p.key),
            }, ensure_ascii=False) + "\n")
    return summary


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="first N pages of each set (sorted by key)")
    ap.add_argument("--sets", default="zyte,eval,fundus")
    ap.add_argument("--variants", help="comma-separated variant names to run (default: all)")
    ap.add_argument("--no-pipeline", action="store_true", help="skip the pipeline run (bare trafilatura only)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for ± (0: none)")
    ap.add_argument("--worst", type=int, default=8, help="worst pages to show per set")
    ap.add_argument("--repeat", type=int, default=1, help="time each page this many times, keep the fastest")
    ap.add_argument("--no-suggest", action="store_true", help="skip the pipeline runs of the suggested changes")
    ap.add_argument("--suggest", help="semicolon-separated names of the suggested changes to run (default: all)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "extraction")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    chosen = variants()
    if args.variants:
        wanted = {v.strip() for v in args.variants.split(",")}
        chosen = [v for v in chosen if v.name in wanted or v.name == "upstream (standard)" or v.name == "pipeline params"]

    import platform
    import subprocess
    try:
        head = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    except OSError:
        head = "?"
    print("# Extraction quality: stored text vs bare trafilatura\n")
    print(f"Code: `{head}` (pipelines/ and collector/ as they were when this ran).")
    print(f"trafilatura {trafilatura.__version__}, Python {platform.python_version()}, {platform.machine()},"
          f" {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}."
          f" Command: `.venv/bin/python bench/extraction.py{' ' + ' '.join(argv or sys.argv[1:]) if (argv or sys.argv[1:]) else ''}`\n")
    print("Settings:\n")
    for v in chosen:
        print(f"- `{v.name}`: {v.doc}")

    all_results: dict[str, dict[str, Output]] = {}
    runs: dict[str, PipelineRun] = {}
    pages_by_set: dict[str, list[Page]] = {}
    summaries = {}
    for set_name in sets:
        pages = LOADERS[set_name](args.limit)
        for p in pages:
            p.truth["_set"] = set_name
        pages_by_set[set_name] = pages
        meta = set_name == "fundus"
        results = {}
        for v in chosen:
            if set_name not in v.sets:
                continue
            t0 = time.perf_counter()
            results[v.name] = run_variant(v, pages, meta, args.repeat)
            print(f"[{set_name}] {v.name}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        all_results[set_name] = results
        run = None
        if not args.no_pipeline:
            t0 = time.perf_counter()
            run = run_pipeline(set_name, pages, args.out)
            runs[set_name] = run
            print(f"[{set_name}] pipeline: {time.perf_counter() - t0:.1f}s, {len(run.problems)} problems", file=sys.stderr)
            mismatch = sum(1 for p in pages if (run.stages.get(p.key, {}).get("E") or None) != (results["pipeline params"].texts.get(p.key) or None))
        summaries[set_name] = report_set(set_name, pages, results, {v.name: v.doc for v in chosen}, run, args.bootstrap, args.worst, args.out)
        if run is not None:
            print(f"\nPipeline run: {len(run.stored)} of {len(pages)} pages stored, {len(run.problems)} problems"
                  f"{': ' + '; '.join(short(m, 80) for m in run.problems[:5]) if run.problems else ''};"
                  f" {run.learned} chrome lines learned; extract-stage text differs from the `pipeline params` call on {mismatch} pages.")
    report_timing(all_results, runs, pages_by_set)
    measured = {}
    if runs and not args.no_suggest:
        patches = suggestions()
        if args.suggest:
            wanted = {x.strip() for x in args.suggest.split(";")}
            patches = [p for p in patches if p.name in wanted]
        measured = report_suggestions(patches, pages_by_set, runs, all_results, args.bootstrap, args.out)
    if runs:
        report_targets(pages_by_set, runs, all_results, measured)
    summaries["suggestions"] = measured
    (args.out / "summary.json").write_text(json.dumps(summaries, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
