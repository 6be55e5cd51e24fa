"""The bare trafilatura settings scored beside the pipeline, and how each is timed per page."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import trafilatura
from trafilatura.deduplication import LRU_SIZE, LRUCache
from trafilatura.utils import load_html

from bench.extraction.pages import Page
from collector.core.sites import host_of
from pipelines.extract import date_params, extract_document


#: What trafilatura's own benchmark passes (tests/eval_common.py EXTRACT_OPTS); Zyte's
#: run_trafilatura.py passes include_comments=False only, the rest being the defaults.
UPSTREAM = {"include_comments": False, "include_tables": True, "include_formatting": False}


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
    except Exception:  # noqa: S110 - the same page fails again below, where it is counted
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


