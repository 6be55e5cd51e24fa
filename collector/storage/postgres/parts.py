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
from ..documents import DocumentStore, _row
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
            conn.execute("TRUNCATE lsh_incoming")
            conn.execute("RELEASE SAVEPOINT lsh_flush")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO SAVEPOINT lsh_flush")
                conn.execute("RELEASE SAVEPOINT lsh_flush")
            raise
        self._log("flush", dict(self._pending))
        self._clear()

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

    def put(self, item) -> tuple[int, str]:
        found = self.find_url(item["url"])
        if found and found[1] == item["content_hash"]:
            return found[0], "unchanged"
        if not found:
            same = self.conn.execute("SELECT id FROM documents WHERE content_hash = ?", (item["content_hash"],)).fetchone()
            if same:
                return same[0], "unchanged"
        self.ensure_site(item["site"], item.get("sitename"))
        row = _row(item)
        if found:
            doc_id = found[0]
            self.lsh.discard(doc_id, self.signature(doc_id))
            self.conn.execute("DELETE FROM claims WHERE doc_id = ?", (doc_id,))
            self.conn.execute("DELETE FROM line_sightings WHERE doc_id = ?", (doc_id,))
            sets = ", ".join(f"{c} = :{c}" for c in row)
            self.conn.execute(f"UPDATE documents SET {sets} WHERE id = :id", {**row, "id": doc_id})
            status = "updated"
        else:
            cols = ", ".join(row)
            marks = ", ".join(f":{c}" for c in row)
            doc_id = self.conn.execute(f"INSERT INTO documents ({cols}) VALUES ({marks}) RETURNING id", row).fetchone()[0]
            status = "new"
            if row["site"] in self._site_counts:
                self._site_counts[row["site"]] += 1
        self.lsh.add(doc_id, item["signature"])
        self.conn.executemany(
            "INSERT INTO claims (doc_id, kind, claimed_site, claimed_name, claimed_url, evidence)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(doc_id, c["kind"], c.get("claimed_site"), c.get("claimed_name"), c.get("claimed_url"), c["evidence"])
             for c in item.get("claims") or []],
        )
        return doc_id, status

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


class PgLineageStore(LineageStore):
    def write_links(self, rows, drop=()) -> None:
        drop = list(drop)
        if not rows and not drop:
            return
        self._writer.write()
        self.conn.executemany("DELETE FROM links WHERE copy_id = ?", [(d,) for d in drop])
        self.conn.executemany(
            "INSERT INTO links (copy_id, origin_id, relation, similarity, containment, evidence)"
            " VALUES (:copy_id, :origin_id, :relation, :similarity, :containment, :evidence)"
            " ON CONFLICT (copy_id) DO UPDATE SET origin_id = excluded.origin_id, relation = excluded.relation,"
            " similarity = excluded.similarity, containment = excluded.containment, evidence = excluded.evidence",
            rows)


class PgChromeMemory(ChromeMemory):
    pass  # INSERT OR IGNORE is translated (collector.storage.postgres.connection)


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
    def record(self, doc_id, raw_ref, rules_hash, site, rules_json) -> None:
        self._writer.write()
        now = utcnow()
        self.conn.execute("INSERT OR IGNORE INTO rule_sets (hash, site, rules, first_used) VALUES (?, ?, ?, ?)",
                          (rules_hash, site, rules_json, now))
        self.conn.execute(
            "INSERT INTO raw_inputs (doc_id, raw_ref, rules_hash, processed) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (doc_id) DO UPDATE SET raw_ref = coalesce(excluded.raw_ref, raw_inputs.raw_ref),"
            " rules_hash = excluded.rules_hash, processed = excluded.processed",
            (doc_id, raw_ref, rules_hash, now))
