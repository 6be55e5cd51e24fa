"""What crawling keeps between runs (``store.crawl``): scheduled runs, feed and sitemap
validators, the other URLs of stored documents, and the configured sites.

Runs and validators are written each in a short transaction of their own; during a crawl
that also commits the open batch of documents, which is always safe (a batch is a run of
complete documents). URL aliases are written with their document, in its savepoint.
"""

from __future__ import annotations

import json

from .documents import DocumentStore
from .writer import Writer, utcnow


class CrawlState:
    def __init__(self, writer: Writer, documents: DocumentStore):
        self._writer = writer
        self._documents = documents
        self.conn = writer.conn

    # --- feed and sitemap validators (collector.crawl.middlewares) ---------------------------
    def source_validators(self, url: str) -> dict | None:
        """What a feed or sitemap answered when last read in full: kind, etag, last_modified."""
        cur = self.conn.execute("SELECT kind, etag, last_modified FROM source_validators WHERE url = ?", (url,))
        row = cur.fetchone()
        return dict(zip(("kind", "etag", "last_modified"), row)) if row else None

    def save_source_validators(self, rows: list[dict]) -> None:
        """Upsert rows of url, site, kind, etag, last_modified (a crawl that read them in full)."""
        if not rows:
            return
        self._writer.begin()
        self.conn.executemany(
            "INSERT INTO source_validators (url, site, kind, etag, last_modified, checked)"
            " VALUES (:url, :site, :kind, :etag, :last_modified, :checked)"
            " ON CONFLICT(url) DO UPDATE SET site = excluded.site, kind = excluded.kind, etag = excluded.etag,"
            " last_modified = excluded.last_modified, checked = excluded.checked",
            [{"checked": utcnow(), **row} for row in rows],
        )
        self._writer.commit()

    # --- scheduled runs (collector.crawl.extensions and collector.crawl.schedule) ---------
    def start_run(self, site: str, started: str | None = None) -> int:
        """A scheduled crawl of ``site`` begins: its ``runs`` row, status 'running'."""
        self._writer.begin()
        cur = self.conn.execute(
            "INSERT INTO runs (site, started, status) VALUES (?, ?, 'running')", (site, started or utcnow()))
        self._writer.commit()
        return cur.lastrowid

    def note_worker(self, run_id: int, worker: str) -> None:
        """Where the run's crawl runs ("job ID on NODE-URL", "pid N on HOST"): whose log to read."""
        self._writer.begin()
        self.conn.execute("UPDATE runs SET worker = ? WHERE id = ?", (worker, run_id))
        self._writer.commit()

    def finish_run(self, run_id: int, status: str, exit_status: int | None, pages_fetched: int | None = None,
                   new_documents: int | None = None, errors: int | None = None,
                   error_kinds: dict | None = None, ended: str | None = None) -> None:
        self._writer.begin()
        self.conn.execute(
            # new_documents None: counted elsewhere (a crawl node's, by the link-worker): kept.
            "UPDATE runs SET ended = ?, status = ?, exit_status = ?, pages_fetched = ?,"
            " new_documents = coalesce(?, new_documents), errors = ?, error_kinds = ? WHERE id = ?",
            (ended or utcnow(), status, exit_status, pages_fetched, new_documents, errors,
             json.dumps(error_kinds, sort_keys=True) if error_kinds is not None else None, run_id),
        )
        self._writer.commit()

    def run(self, run_id: int) -> dict | None:
        """The ``runs`` row ``run_id`` as it is now (a crawl on a Scrapyd node completes it)."""
        cur = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def abandon_runs(self, keep=()) -> int:
        """Mark runs left 'running' by a scheduler that died (SIGKILL, power loss) as 'abandoned'
        (but those in ``keep``: crawls still running on Scrapyd nodes, which will complete them)."""
        keep = [int(i) for i in keep]
        self._writer.begin()
        kept = f" AND id NOT IN ({', '.join('?' * len(keep))})" if keep else ""  # PostgreSQL refuses "IN ()"
        cur = self.conn.execute(f"UPDATE runs SET status = 'abandoned' WHERE ended IS NULL AND status = 'running'{kept}",
                                keep)
        self._writer.commit()
        return cur.rowcount

    # --- other URLs of stored documents ---------------------------------------------------
    def knows_url(self, url: str) -> bool:
        """A document is stored under this URL, or under the URL it redirected to."""
        if self._documents.has_url(url):
            return True
        return self.conn.execute("SELECT 1 FROM url_aliases WHERE alias = ?", (url,)).fetchone() is not None

    def add_url_aliases(self, doc_id: int, aliases) -> None:
        """URLs that name the document (written with it, in its transaction): a list of URLs
        that redirected to it, or a dict URL -> kind ('redirect', 'canonical', 'variant')."""
        kinds = aliases if isinstance(aliases, dict) else dict.fromkeys(aliases, "redirect")
        self._writer.write()
        self.conn.executemany(
            "INSERT OR REPLACE INTO url_aliases (alias, doc_id, kind) VALUES (?, ?, ?)",
            [(a, doc_id, kind) for a, kind in kinds.items()],
        )

    def alias_of(self, url: str) -> int | None:
        row = self.conn.execute("SELECT doc_id FROM url_aliases WHERE alias = ?", (url,)).fetchone()
        return row[0] if row else None

    # --- the configured sites -------------------------------------------------------------
    def sync_sites(self, sites) -> None:
        """The configured sites in the ``sites`` table; the lock is taken only if they changed."""
        rows = [
            {"key": s.key, "name": s.name, "domains": json.dumps(list(s.domains)),
             "aliases": json.dumps(list(s.aliases)), "config": s.path}
            for s in sites
        ]
        cols = ("key", "name", "domains", "aliases", "config")
        stored = {r[0]: dict(zip(cols, r)) for r in self.conn.execute(f"SELECT {', '.join(cols)} FROM sites")}
        changed = [r for r in rows if stored.get(r["key"]) != r]
        if changed:
            self._writer.begin()
            self._writer.db["sites"].upsert_all(changed, pk="key")
            self._writer.commit()
