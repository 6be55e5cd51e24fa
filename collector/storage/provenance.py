"""Where each document's raw input is kept, and the rules it was made with (``store.provenance``).

Written in the document's own transaction, so a document never exists without them.
"""

from __future__ import annotations

from .writer import Writer, utcnow


class ProvenanceLog:
    def __init__(self, writer: Writer):
        self._writer = writer
        self.conn = writer.conn
        #: Rule hashes whose ``rule_sets`` row this writer wrote and kept: one INSERT per
        #: hash, not per document (a statement is a round trip on PostgreSQL). Forgotten
        #: whenever writes are undone (``forget``), so an undone row is written again.
        self._kept: set[str] = set()

    def forget(self) -> None:
        self._kept.clear()

    def record(self, doc_id: int, raw_ref: str | None, rules_hash: str, site: str, rules_json: str) -> None:
        """The document's raw input (``raw_ref``: archive record, file, record or line) and
        its rules (``rules_json``, kept once per ``rules_hash``)."""
        self._writer.write()
        now = utcnow()
        # Once per hash while nothing is undone: a document rolled back takes its writes with it.
        if rules_hash not in self._kept:
            self._write("INSERT OR IGNORE INTO rule_sets (hash, site, rules, first_used) VALUES (?, ?, ?, ?)",
                        (rules_hash, site, rules_json, now))
            self._kept.add(rules_hash)
        self._write(
            "INSERT INTO raw_inputs (doc_id, raw_ref, rules_hash, processed) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (doc_id) DO UPDATE SET raw_ref = coalesce(excluded.raw_ref, raw_inputs.raw_ref),"
            " rules_hash = excluded.rules_hash, processed = excluded.processed",
            (doc_id, raw_ref, rules_hash, now))

    def _write(self, sql: str, params: tuple) -> None:
        self.conn.execute(sql, params)
