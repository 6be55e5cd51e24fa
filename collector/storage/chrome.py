"""Lines seen across a site's documents, and the ones learned to be chrome (``store.chrome``).

``pipelines.learn`` records each document's lines, counts in how many articles of the site
each was seen, and learns the ones past its thresholds.
"""

from __future__ import annotations

from typing import Iterable

from .documents import DocumentStore
from .writer import Writer, utcnow


class ChromeMemory:
    def __init__(self, writer: Writer, documents: DocumentStore):
        self._writer = writer
        self._documents = documents
        self.conn = writer.conn
        self._learned: dict[str, set[str]] = {}  # per batch: other writers commit between batches

    def forget(self) -> None:
        self._learned.clear()

    def learned(self, site: str) -> set[str]:
        if site not in self._learned:
            self._learned[site] = {r[0] for r in self.conn.execute("SELECT line FROM chrome_lines WHERE site = ?", (site,))}
        return self._learned[site]

    def record_sightings(self, site: str, doc_id: int, article_key: int, line_hashes: Iterable[int]) -> None:
        self._writer.write()
        self.conn.executemany(
            "INSERT OR IGNORE INTO line_sightings (site, line_hash, doc_id, title_key) VALUES (?, ?, ?, ?)",
            [(site, h, doc_id, article_key) for h in line_hashes],
        )

    def sighting_counts(self, site: str, line_hashes: Iterable[int]) -> dict[int, int]:
        """For each line hash: in how many different articles of the site it was seen."""
        hashes = list(line_hashes)
        if not hashes:
            return {}
        marks = ",".join("?" * len(hashes))
        cur = self.conn.execute(
            "SELECT line_hash, count(DISTINCT title_key) FROM line_sightings"
            f" WHERE site = ? AND line_hash IN ({marks}) GROUP BY line_hash",
            [site, *hashes],
        )
        return dict(cur.fetchall())

    def site_document_count(self, site: str) -> int:
        return self._documents.count_on_site(site)

    def documents_with_line(self, site: str, line_hash: int) -> list[int]:
        cur = self.conn.execute("SELECT doc_id FROM line_sightings WHERE site = ? AND line_hash = ?", (site, line_hash))
        return [r[0] for r in cur]

    def learn(self, site: str, line: str, documents: int) -> None:
        self._writer.write()
        self.conn.execute(
            "INSERT OR IGNORE INTO chrome_lines (site, line, rule, documents, learned) VALUES (?, ?, 'learned', ?, ?)",
            (site, line, documents, utcnow()),
        )
        self.learned(site).add(line)
