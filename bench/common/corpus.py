"""Loaders for the seed and the three shared corpora (``../shared/seeds``, ``../shared/corpus``).

Each loader reads one set in a fixed order (sorted keys), so two runs see the same pages. A
set that is absent raises ``CorpusMissing`` naming the path: a benchmark then stops with that
one line (``require``), and a test skips with it as the reason.

* ``zyte_pages``: Zyte's article-extraction benchmark (181 pages; ``articleBody`` truth).
* ``eval_pages``: trafilatura's evaluation set (990 pages; with/without snippets).
* ``fundus_rows`` / ``fundus_pages``: fundus' publisher pages (title, date, body truth).
* ``bodies``: the real article bodies of fundus and Zyte, for the benchmarks that build texts.
* ``html_files``: the gzipped HTML files of Zyte and fundus, for the benchmarks that import files.
* ``seed_text``: the seed dump.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.common.paths import shared


class CorpusMissing(Exception):
    """A shared set is not on this machine; the message names the path."""


def _folder(*parts: str) -> Path:
    path = shared().joinpath(*parts)
    if not path.exists():
        raise CorpusMissing(f"{path} is absent: this needs the shared corpus beside the repository "
                            "(../shared; set COLLECTOR_SHARED to its parent folder)")
    return path


def zyte_dir() -> Path:
    return _folder("corpus", "extraction", "scrapinghub-aeb")


def eval_dir() -> Path:
    return _folder("corpus", "extraction", "trafilatura-eval")


def fundus_dir() -> Path:
    return _folder("corpus", "publishers", "fundus")


def require(*loaders) -> None:
    """Stop the benchmark with one line if a set it reads is absent (``require(zyte_dir)``)."""
    try:
        for loader in loaders:
            loader()
    except CorpusMissing as exc:
        raise SystemExit(str(exc)) from None


@dataclass
class Page:
    """One page of a shared set: its key, URL (None when the set has none), raw bytes and truth."""

    key: str
    url: str | None
    data: bytes
    truth: dict = field(default_factory=dict)


def zyte_truth() -> dict[str, dict]:
    return json.loads(gzip.decompress((zyte_dir() / "ground-truth.json.gz").read_bytes()))


def zyte_pages(limit: int | None = None) -> list[Page]:
    folder, truth = zyte_dir(), zyte_truth()
    return [Page(key, truth[key].get("url"), gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()),
                 truth[key]) for key in sorted(truth)[:limit]]


def eval_pages(limit: int | None = None) -> list[Page]:
    """Keyed by URL (the set's own key); ``truth`` holds ``with``, ``without`` and ``file``."""
    folder = eval_dir()
    evaldata = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    return [Page(url, url, gzip.decompress((folder / evaldata[url]["file"]).read_bytes()), evaldata[url])
            for url in sorted(evaldata)[:limit]]


def fundus_rows() -> list[dict]:
    """The manifest's rows (publisher, country, url, html, title, publishing_date, body_text), in file order."""
    path = fundus_dir() / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fundus_pages(limit: int | None = None) -> list[Page]:
    """Keyed by the HTML file's path in the set, sorted by it; ``truth`` is the manifest row."""
    folder = fundus_dir()
    rows = sorted(fundus_rows(), key=lambda row: row["html"])[:limit]
    return [Page(row["html"], row["url"], gzip.decompress((folder / row["html"]).read_bytes()), row) for row in rows]


def bodies(min_words: int = 0, countries: tuple[str, ...] | None = None) -> list[str]:
    """Fundus' ``body_text`` (of ``countries`` only, if given), then Zyte's ``articleBody`` in
    key order; bodies shorter than ``min_words`` words left out."""
    rows = fundus_rows()
    found = [row["body_text"] for row in rows if countries is None or row["country"] in countries]
    found += [entry.get("articleBody") or "" for entry in zyte_truth().values()]
    return [body for body in found if body and len(body.split()) >= min_words]


def html_files() -> list[Path]:
    """Every gzipped HTML page of Zyte's set and of fundus, sorted within each set."""
    return sorted((zyte_dir() / "html").glob("*.html.gz")) + sorted(fundus_dir().glob("*/*.html.gz"))


def seed_path() -> Path:
    found = sorted(_folder("seeds").glob("*.txt"))
    if not found:
        raise CorpusMissing(f"{shared() / 'seeds'} holds no seed (*.txt)")
    return found[0]


def seed_text() -> str:
    return seed_path().read_text(encoding="utf-8")
