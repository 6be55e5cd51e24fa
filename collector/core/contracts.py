"""What the stages need of the store, as protocols: one per job, each as small as its users.

The SQLite store (``collector.storage``) provides one object per protocol (``store.documents``,
``store.lineage``, ``store.chrome``, ...); a test passes a fake with the same methods, and a
second backend implements the same set. A stage names the ones it uses in its constructor
(``LinkStage(sites, linker)``), so what it can touch is visible in one line.

Every write happens inside the document scope the driver opens (``with store.document():``):
the document's writes are kept or undone together, and the batch is committed by the store.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, Protocol

from .document import Claim, Document, Link


class ContentIndex(Protocol):
    """Whether an input was stored before: unchanged input is not extracted again."""

    def has_content(self, content_hash: str) -> bool: ...


class DocumentStore(ContentIndex, Protocol):
    """The documents table, its full-text index and its LSH rows."""

    def url_with_content(self, content_hash: str) -> str | None: ...

    def find_url(self, url: str) -> tuple[int, str] | None: ...

    def save(self, item: Document, place: Callable[[Document], tuple[int, str] | None] | None = None) -> tuple[int, str]:
        """Insert or update; returns (id, status). ``place`` decides the URL first (identity)."""

    def replace_text(self, doc_id: int, text: str, chrome: list[str], minhash, shingle_count: int,
                     title: str | None) -> None: ...

    def rows(self, ids: Iterable[int]) -> dict[int, dict]:
        """id -> the document's stored fields (text, title, chrome as JSON, site, url...)."""

    def metadata(self, ids: Iterable[int]) -> dict[int, dict]:
        """id -> what lineage rules read: url, site, sitename, canonical_url, published, fetched."""

    def signatures(self, ids: Iterable[int]) -> dict[int, bytes]: ...

    def texts(self, ids: Iterable[int]) -> list[tuple[int, str]]: ...

    def sketches(self, ids: Iterable[int]) -> dict[int, tuple[Any, int]]:
        """id -> (signature values, shingle count): what ranks candidates."""


class CandidateIndex(Protocol):
    """The LSH index: documents whose signatures collide with one in enough bands."""

    def candidates(self, minhash, min_hits: int | None = None) -> dict[int, int]:
        """doc id -> bands in common (at least ``min_hits``, by default two)."""


class LineageStore(Protocol):
    """Claims and links: the lineage groups."""

    def claims_of(self, ids: Iterable[int]) -> dict[int, list[Claim]]: ...

    def claim_partners(self, doc_id: int) -> set[int]:
        """Documents tied to ``doc_id`` by a claim naming a URL, either way."""

    def group_of(self, doc_id: int) -> set[int]: ...

    def links_of(self, ids: Iterable[int]) -> dict[int, Link]: ...

    def write_links(self, rows: list[Link], drop: Iterable[int] = ()) -> None: ...

    def origin_of(self, doc_id: int) -> tuple[int, str, str | None] | None:
        """(origin id, origin url, relation) of a copy; None for a document without links."""


class Freshness(Protocol):
    """What tells a reader that what it holds from the store may be stale."""

    generation: int  # changes when this writer undoes writes

    def data_version(self) -> int:
        """Changes when another writer committed."""


class ChromeMemory(Protocol):
    """Lines seen across a site's documents, and the ones learned to be chrome."""

    def learned(self, site: str) -> set[str]: ...

    def record_sightings(self, site: str, doc_id: int, article_key: int, line_hashes: Iterable[int]) -> None: ...

    def sighting_counts(self, site: str, line_hashes: Iterable[int]) -> dict[int, int]: ...

    def site_document_count(self, site: str) -> int: ...

    def documents_with_line(self, site: str, line_hash: int) -> list[int]: ...

    def learn(self, site: str, line: str, documents: int) -> None: ...


class UrlAliases(Protocol):
    """Other URLs of stored documents (redirects, same-site canonical variants)."""

    def add_url_aliases(self, doc_id: int, aliases: dict[str, str]) -> None: ...

    def alias_of(self, url: str) -> int | None: ...

    def knows_url(self, url: str) -> bool: ...


class CrawlState(UrlAliases, Protocol):
    """What crawls remember between runs: known URLs, feed and sitemap validators, and the
    ``runs`` log (``store.crawl``)."""

    def source_validators(self, url: str) -> dict | None:
        """{kind, etag, last_modified} of a feed or sitemap read in full before."""

    def save_source_validators(self, rows: list[dict]) -> None: ...

    def start_run(self, site: str, started: str | None = None) -> int: ...

    def note_worker(self, run_id: int, worker: str) -> None: ...

    def finish_run(self, run_id: int, status: str, exit_status: int | None, pages_fetched: int | None = None,
                   new_documents: int | None = None, errors: int | None = None,
                   error_kinds: dict | None = None, ended: str | None = None) -> None: ...

    def abandon_runs(self) -> int: ...


class ProvenanceLog(Protocol):
    """Where each document's raw input is kept, and the rules it was made with."""

    def record(self, doc_id: int, raw_ref: str | None, rules_hash: str, site: str, rules_json: str) -> None: ...


class Transactions(Protocol):
    """The writer's transaction: documents in batches, each document all or nothing."""

    def document(self) -> AbstractContextManager[None]:
        """The scope of one document's writes: undone if the block raises."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Inbox(Protocol):
    """Where a crawl node hands its extracted documents, for the one linker (distributed mode)."""

    def put(self, item: Document, run_id: int | None = None) -> None:
        """Hand over one document, with the crawl run it came from (committed at once)."""
