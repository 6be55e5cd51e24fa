"""The three sets' pages, each with its raw bytes, what the set's own runner hands
trafilatura, and the text our importer would decode (and defuse) from the bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.common import corpus
from collector.core.text import defuse
from collector.importers.decoding import NotText, decode
from collector.core.sites import host_of


@dataclass
class Page:
    key: str
    url: str | None          # the page's URL, None when the benchmark has none
    data: bytes              # raw bytes
    upstream_input: object   # what the benchmark's own runner hands trafilatura
    html: str | None         # decoded as our importer decodes it (None: refused)
    decode_error: str | None = None
    truth: dict = field(default_factory=dict)


def decoded(data: bytes) -> tuple[str | None, str | None]:
    """What the file importer makes of a page's bytes before the pipeline sees it."""
    try:
        return defuse(decode(data, html=True)), None
    except NotText as exc:
        return None, str(exc)


def load_zyte(limit: int | None) -> list[Page]:
    pages = []
    for page in corpus.zyte_pages(limit):
        html, err = decoded(page.data)
        pages.append(Page(page.key, page.truth.get("url"), page.data, page.data.decode("utf-8"), html, err,
                          {"body": page.truth.get("articleBody") or ""}))
    return pages


def load_eval(limit: int | None) -> list[Page]:
    pages = []
    for page in corpus.eval_pages(limit):
        html, err = decoded(page.data)
        url, item = page.key, page.truth
        pages.append(Page(url, url if host_of(url) else None, page.data, page.data, html, err,
                          {"with": item["with"], "without": item["without"], "file": item["file"]}))
    return pages


def load_fundus(limit: int | None) -> list[Page]:
    pages = []
    for page in corpus.fundus_pages(limit):
        html, err = decoded(page.data)
        row = page.truth
        # fundus has no runner of its own: trafilatura gets the bytes, as in trafilatura's benchmark
        pages.append(Page(row["html"], row["url"], page.data, page.data, html, err,
                          {"title": row.get("title") or "", "date": row.get("publishing_date"), "body": row.get("body_text") or ""}))
    return pages


LOADERS = {"zyte": load_zyte, "eval": load_eval, "fundus": load_fundus}
FOLDERS = {"zyte": corpus.zyte_dir, "eval": corpus.eval_dir, "fundus": corpus.fundus_dir}
TITLES = {
    "zyte": "Zyte (Scrapinghub) article-extraction-benchmark",
    "eval": "trafilatura evaluation set",
    "fundus": "fundus publisher pages",
}
