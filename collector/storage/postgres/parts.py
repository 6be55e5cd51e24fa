"""The store's parts on PostgreSQL: only the statements whose SQL differs from SQLite's.

Each class is the SQLite part (``collector.storage.documents``, ``lsh``, ...) with the few
methods that need PostgreSQL's words: ``RETURNING id`` for SQLite's ``lastrowid``, ``ON
CONFLICT ... DO UPDATE`` for ``INSERT OR REPLACE``, ``COPY`` for bulk rows, arrays for the
LSH keys. Everything else (the reads, the held-back LSH rows and their savepoint log, the
per-batch caches) is the same code, so the two backends cannot drift.
"""

from __future__ import annotations

import json

from collector.core.fingerprint import signature_bytes

from ..chrome import ChromeMemory
from ..crawlstate import CrawlState
from ..documents import DocumentStore
from ..lineage import LineageStore
from ..lsh import BUCKET_READ_MAX, LSHIndex
from ..provenance import ProvenanceLog
from ..writer import utcnow


class PgLSHIndex(LSHIndex):
    """The same bands, band keys, tables and "two bands collide" query; keys sent as arrays."""

    def flush(self) -> None:
        """The batch's rows by ``COPY`` into a scratch table, then into ``lsh_recent`` in key
        order (``ON CONFLICT DO NOTHING``, as SQLite's ``INSERT OR IGNORE``)."""
        if not self._pending:
            return
        import numpy as np

        rows = np.concatenate(list(self._pending.values()))
        rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
        conn = self.conn
        conn.execute("SAVEPOINT lsh_flush")  # all or nothing, as SQLite's atomic()
        try:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS lsh_incoming"
                         " (band INTEGER, bucket BIGINT, doc_id BIGINT) ON COMMIT DELETE ROWS")
            with conn.cursor().copy("COPY lsh_incoming (band, bucket, doc_id) FROM STDIN") as copy:
                copy.write("".join(f"{b}\t{k}\t{d}\n" for b, k, d in rows.tolist()))
            conn.execute("INSERT INTO lsh_recent (band, bucket, doc_id) SELECT band, bucket, doc_id FROM lsh_incoming"
                         " ORDER BY band, bucket, doc_id ON CONFLICT DO NOTHING")
            self._renew_statistics(len(rows))
            conn.execute("TRUNCATE lsh_incoming")
            conn.execute("RELEASE SAVEPOINT lsh_flush")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO SAVEPOINT lsh_flush")
                conn.execute("RELEASE SAVEPOINT lsh_flush")
            raise
        self._log("flush", dict(self._pending))
        self._clear()

    def _renew_statistics(self, added: int) -> None:
        """``ANALYZE lsh_recent`` when its statistics say it holds fewer rows than this batch
        just added: after a merge emptied it (``PgStore.checkpoint``), or while autovacuum has
        not come by. The candidate query is a prepared statement whose plan PostgreSQL keeps:
        planned on an "empty" table it reads every recent row for each of its 64 keys (a
        quarter of a second a query at 100,000 rows) until the statistics change."""
        stale = self.conn.execute("SELECT reltuples < ? FROM pg_class WHERE oid = 'lsh_recent'::regclass",
                                  (added,)).fetchone()[0]
        if stale:
            self.conn.execute("ANALYZE lsh_recent")

    def merge(self, band: int) -> int:
        self.flush()
        moved = self.conn.execute(
            "INSERT INTO lsh_buckets (band, bucket, doc_id) SELECT band, bucket, doc_id FROM lsh_recent"
            " WHERE band = ? ORDER BY bucket, doc_id ON CONFLICT DO NOTHING", (band,)).rowcount
        self.conn.execute("DELETE FROM lsh_recent WHERE band = ?", (band,))
        return moved

    def _read_buckets(self, keys):
        return self.conn.execute(_JOIN, _arrays(keys)).fetchall()

    def _read_big(self, keys):
        return [tuple(r) for r in self.conn.execute(_BIG, _arrays(keys))]

    def _read_capped(self, keys):
        return self.conn.execute(_CAPPED, _arrays(keys)).fetchall()


def _arrays(keys) -> tuple[list[int], list[int]]:
    """The (band, bucket) keys as two arrays: one statement text whatever their number."""
    return [band for band, _ in keys], [bucket for _, bucket in keys]


# Each table probed by its primary key once per key (LATERAL: whatever the statistics of the
# recent table, which a merge empties and the next batches fill, say), as SQLite reads them.
_KEYS = "WITH k AS (SELECT * FROM unnest(?::integer[], ?::bigint[]) AS k(band, bucket))"
_PROBE = ("(SELECT {0} FROM lsh_buckets t WHERE t.band = k.band AND t.bucket = k.bucket"
          " UNION ALL SELECT {0} FROM lsh_recent t WHERE t.band = k.band AND t.bucket = k.bucket)")
_JOIN = f"{_KEYS} SELECT doc_id, count(*) FROM k, LATERAL {_PROBE.format('doc_id')} AS hits GROUP BY doc_id"
_BIG = (f"{_KEYS} SELECT k.band, k.bucket FROM k, LATERAL {_PROBE.format('doc_id')} AS hits"
        f" GROUP BY k.band, k.bucket HAVING count(*) > {BUCKET_READ_MAX}")
_CAPPED = (f"{_KEYS} SELECT doc_id, count(*) FROM k, LATERAL ("
           "(SELECT doc_id FROM lsh_buckets t WHERE t.band = k.band AND t.bucket = k.bucket"
           f" ORDER BY doc_id LIMIT {BUCKET_READ_MAX}) UNION ALL (SELECT doc_id FROM lsh_recent t"
           f" WHERE t.band = k.band AND t.bucket = k.bucket ORDER BY doc_id LIMIT {BUCKET_READ_MAX})) AS hits"
           " GROUP BY doc_id")


class PgDocumentStore(DocumentStore):
    """Full-text rows follow the documents by themselves (a generated ``tsvector`` column)."""

    def _stored_as(self, url: str, content_hash: str) -> tuple[tuple[int, str] | None, int | None]:
        """Both lookups in one statement (one round trip instead of two)."""
        if type(self).find_url is not DocumentStore.find_url:
            return super()._stored_as(url, content_hash)  # a store that answers find_url itself (reprocess)
        found = same = None
        for doc_id, stored_hash, by_url in self.conn.execute(_STORED_AS, (url, content_hash, url)).fetchall():
            if by_url:
                found = (doc_id, stored_hash)
            else:
                same = doc_id
        return found, (None if found else same)

    def _update_row(self, doc_id: int, row: dict) -> None:
        sets = ", ".join(f"{c} = :{c}" for c in row)
        self.conn.execute(f"UPDATE documents SET {sets} WHERE id = :id", {**row, "id": doc_id})

    def _insert_row(self, row: dict) -> int:
        cols, marks = ", ".join(row), ", ".join(f":{c}" for c in row)
        return self.conn.execute(f"INSERT INTO documents ({cols}) VALUES ({marks}) RETURNING id", row).fetchone()[0]

    def replace_text(self, doc_id, text, chrome, minhash, shingle_count, title) -> None:
        self._writer.write()
        self.lsh.discard(doc_id, self.signature(doc_id))
        self.conn.execute(
            "UPDATE documents SET title = ?, text = ?, chrome = ?, words = ?, shingles = ?, signature = ? WHERE id = ?",
            (title, text, json.dumps(chrome, ensure_ascii=False), len(text.split()), shingle_count,
             signature_bytes(minhash), doc_id))
        self.lsh.add(doc_id, minhash)

    def move_back(self, doc_id: int) -> None:
        row = self.conn.execute(
            "SELECT alias FROM url_aliases WHERE doc_id = ? AND kind = 'canonical' ORDER BY alias LIMIT 1",
            (doc_id,)).fetchone()
        if row is None or self.has_url(row[0]):
            return
        self._writer.write()
        self.conn.execute("DELETE FROM url_aliases WHERE alias = ?", (row[0],))
        self.conn.execute("UPDATE documents SET url = ? WHERE id = ?", (row[0], doc_id))
        self._writer.generation += 1

    def index_new(self) -> None:
        self.unindexed = []  # the generated column indexed them as they were written


_STORED_AS = ("(SELECT id, content_hash, true FROM documents WHERE url = ?) UNION ALL"
              " (SELECT id, content_hash, false FROM documents WHERE content_hash = ? AND url <> ? LIMIT 1)")


class PgLineageStore(LineageStore):
    upsert_link = ("INSERT INTO links (copy_id, origin_id, relation, similarity, containment, evidence)"
                   " VALUES (:copy_id, :origin_id, :relation, :similarity, :containment, :evidence)"
                   " ON CONFLICT (copy_id) DO UPDATE SET origin_id = excluded.origin_id, relation = excluded.relation,"
                   " similarity = excluded.similarity, containment = excluded.containment, evidence = excluded.evidence")

    def group_of(self, doc_id: int) -> set[int]:
        """The SQLite store's walk (up to three links up to the root, then down every link
        to it) in one recursive statement: one round trip instead of one per step."""
        self._writer.begin()  # under the write lock, as LineageStore.group_of says why
        return {r[0] for r in self.conn.execute(_GROUP, (doc_id,)).fetchall()} | {doc_id}

    def claim_partners(self, doc_id: int) -> set[int]:
        """The SQLite store's three or four reads in one statement (one round trip)."""
        return {r[0] for r in self.conn.execute(_PARTNERS, (doc_id, doc_id, doc_id)).fetchall()}


# LineageStore.group_of: the root (at most three links up; links has one row per copy), then
# every document linked to it, to any depth (UNION: a cycle ends the walk).
_GROUP = (
    "WITH RECURSIVE up(id, depth) AS (SELECT ?::bigint, 0 UNION ALL"
    "   SELECT l.origin_id, up.depth + 1 FROM links l JOIN up ON l.copy_id = up.id WHERE up.depth < 3),"
    " root AS (SELECT id FROM up ORDER BY depth DESC LIMIT 1),"
    " down(id) AS (SELECT id FROM root UNION SELECT l.copy_id FROM links l JOIN down ON l.origin_id = down.id)"
    " SELECT id FROM down")

# LineageStore.claim_partners: the documents this one claims (by URL or canonical URL) and
# the ones whose claims name its URL or canonical URL; not itself. Each URL is looked up in
# a LATERAL subquery, so each is an index probe whatever the tables' statistics say (with
# ``IN (subquery)`` a young corpus, not yet analysed, was scanned whole for every document).
_PARTNERS = (
    "SELECT p.id FROM claims c, LATERAL (SELECT id FROM documents WHERE url = c.claimed_url"
    "   UNION ALL SELECT id FROM documents WHERE canonical_url = c.claimed_url) p"
    " WHERE c.doc_id = ? AND c.claimed_url IS NOT NULL"
    " UNION SELECT c.doc_id FROM documents d, LATERAL (VALUES (d.url), (d.canonical_url)) AS v(u),"
    "   LATERAL (SELECT doc_id FROM claims WHERE claimed_url = v.u) c WHERE d.id = ?"
    " EXCEPT SELECT ?::bigint")


class PgChromeMemory(ChromeMemory):
    """A document's line sightings in one statement, held until the counts are read, so the
    learn stage is one round trip (not one insert per line), and the counts read with one
    array parameter: one statement text whatever the number of lines."""

    def record_sightings(self, site: str, doc_id: int, article_key: int, line_hashes) -> None:
        self._writer.write()
        self.conn.hold("INSERT INTO line_sightings (site, line_hash, doc_id, title_key)"
                       " SELECT ?, h, ?, ? FROM unnest(?::bigint[]) AS h ON CONFLICT DO NOTHING",
                       (site, doc_id, article_key, list(line_hashes)))

    def sighting_counts(self, site: str, line_hashes) -> dict[int, int]:
        hashes = list(line_hashes)
        if not hashes:
            return {}
        cur = self.conn.execute("SELECT line_hash, count(DISTINCT title_key) FROM line_sightings"
                                " WHERE site = ? AND line_hash = ANY(?::bigint[]) GROUP BY line_hash", (site, hashes))
        return dict(cur.fetchall())


class PgCrawlState(CrawlState):
    def start_run(self, site: str, started: str | None = None) -> int:
        self._writer.begin()
        run_id = self.conn.execute("INSERT INTO runs (site, started, status) VALUES (?, ?, 'running') RETURNING id",
                                   (site, started or utcnow())).fetchone()[0]
        self._writer.commit()
        return run_id

    def add_url_aliases(self, doc_id: int, aliases) -> None:
        kinds = aliases if isinstance(aliases, dict) else dict.fromkeys(aliases, "redirect")
        self._writer.write()
        self.conn.executemany(
            "INSERT INTO url_aliases (alias, doc_id, kind) VALUES (?, ?, ?)"
            " ON CONFLICT (alias) DO UPDATE SET doc_id = excluded.doc_id, kind = excluded.kind",
            [(a, doc_id, kind) for a, kind in kinds.items()])

    def sync_sites(self, sites) -> None:
        rows = [(s.key, s.name, json.dumps(list(s.domains)), json.dumps(list(s.aliases)), s.path) for s in sites]
        stored = {r[0]: tuple(r) for r in self.conn.execute("SELECT key, name, domains, aliases, config FROM sites")}
        changed = [r for r in rows if stored.get(r[0]) != r]
        if changed:
            self._writer.begin()
            self.conn.executemany(
                "INSERT INTO sites (key, name, domains, aliases, config) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET name = excluded.name, domains = excluded.domains,"
                " aliases = excluded.aliases, config = excluded.config", changed)
            self._writer.commit()


class PgProvenanceLog(ProvenanceLog):
    def _write(self, sql: str, params: tuple) -> None:
        # nobody reads the result: sent with the document's next statement (Connection.hold)
        self.conn.hold(sql, params)
