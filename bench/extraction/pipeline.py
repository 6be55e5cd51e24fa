"""The real pipeline over a set's pages (``run_items`` into a fresh SQLite database, the
text after each stage kept) and the changes to it the report measures."""

from __future__ import annotations

import re
import sqlite3
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import trafilatura

from bench.common import corpus
from bench.common.paths import CONFIGS
from bench.common.timing import StageTimer
from bench.extraction.pages import Page
from collector.context import Context
from collector.ingest import run_items
from collector.core.document import Document
from pipelines.stage import Stage

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


def pipeline_settings(db: Path, patch: Patch | None) -> dict:
    settings = {"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(CONFIGS)}
    if patch and (patch.extract_kwargs or patch.wrap):
        # the patch is the extraction rule: one standard bare_extraction call for it to change
        # (the product's own rule, COLLECTOR_EXTRACTION, would call it once or twice)
        settings["COLLECTOR_EXTRACTION"] = "standard"
    if patch:
        settings.update(patch.settings)
    return settings


class Watch:
    """Every stage of this process timed (per stage and per page) and the text after the
    extract, clean and attribute stages kept; undone by ``close``. No file is changed."""

    def __init__(self, source_key: dict[str, str]):
        self.source_key = source_key
        self.stages: dict[str, dict[str, str]] = defaultdict(dict)
        self.titles: dict[str, str | None] = {}
        self.final_url: dict[str, str] = {}
        self.by_stage, self.by_page = StageTimer(), StageTimer()
        self.original = Stage.process_item
        watch = self

        def process_item(stage, item):
            name = type(stage).__name__
            with watch.by_stage.time(name), watch.by_page.time(source_key.get(item.get("source"), "?")):
                result = watch.original(stage, item)
            watch.capture(name, item)
            return result

        Stage.process_item = process_item

    def capture(self, stage: str, item) -> None:
        tag = CAPTURE.get(stage)
        if tag:
            key = self.source_key[item["source"]]
            self.stages[key][tag] = item.get("text") or ""
            if tag == "E":
                self.titles[key] = item.get("title")
                self.final_url[key] = item.get("url")

    def close(self) -> None:
        Stage.process_item = self.original


def patched_extraction(patch: Patch | None):
    """``trafilatura.bare_extraction`` changed as the patch says (pipelines.extract calls it
    through the module); returns the function that restores it."""
    bare = trafilatura.bare_extraction
    if patch and (patch.extract_kwargs or patch.text_post or patch.wrap):
        def patched(*args, **kwargs):
            kwargs = {**kwargs, **patch.extract_kwargs}
            doc = patch.wrap(bare, *args, **kwargs) if patch.wrap else bare(*args, **kwargs)
            if doc is not None and patch.text_post and doc.text:
                doc.text = patch.text_post(doc.text, doc)
            return doc
        trafilatura.bare_extraction = patched
    return lambda: setattr(trafilatura, "bare_extraction", bare)


def articles(name: str, pages: list[Page]):
    for p in pages:
        if p.html is None:
            continue
        # a benchmark page without a URL is imported as a file is: by its path's URI
        url = p.url or (corpus.eval_dir() / p.truth.get("file", p.key)).as_uri()
        yield Document(url=url, html=p.html, source=f"bench:{name}:{p.key}")


def run_pipeline(name: str, pages: list[Page], out_dir: Path, patch: Patch | None = None) -> PipelineRun:
    db = out_dir / f"{name}{'-' + re.sub(r'[^a-z0-9]+', '-', patch.name.lower()) if patch else ''}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    ctx = Context(pipeline_settings(db, patch))
    ctx.open_store()  # open (and create) the database before the clock starts
    watch = Watch({f"bench:{name}:{p.key}": p.key for p in pages})
    restore = patched_extraction(patch)
    try:
        c0 = time.process_time()
        summary = run_items(articles(name, pages), ctx)
        cpu = time.process_time() - c0
    finally:
        watch.close()
        restore()
        ctx.close()
    stored, claims, learned = read_back(db, name, pages, watch.final_url, summary.problems)
    refused = [p for p in pages if p.html is None]
    return PipelineRun(stored, dict(watch.stages), watch.titles, claims, learned,
                       summary.problems + [f"{p.key}: {p.decode_error}" for p in refused],
                       summary.seconds, cpu, dict(watch.by_stage.wall), dict(watch.by_page.wall))


def read_back(db: Path, name: str, pages: list[Page], final_url: dict, problems: list) -> tuple[dict, dict, int]:
    """The stored rows by page, their attribution claims, and the chrome lines learned."""
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
            problems.append(f"{p.key}: one URL for {collisions[final_url[p.key]]} pages ({final_url[p.key]}), one document")
    doc_claims = defaultdict(list)
    for row in conn.execute("SELECT doc_id, evidence FROM claims WHERE kind = 'attribution'"):
        doc_claims[row["doc_id"]].append(row["evidence"])
    for key, row in stored.items():
        claims[key] = doc_claims.get(row["id"], [])
    learned = conn.execute("SELECT COUNT(*) FROM chrome_lines").fetchone()[0]
    conn.close()
    return stored, claims, learned


# --- suggested changes, measured through the real pipeline (in-process patches) ----------------
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


