"""The PostgreSQL store: the SQLite store's contract, tables and semantics over psycopg 3
(docs/postgresql.md). Selected by a ``postgresql://`` URL as ``--db`` or ``COLLECTOR_DB``."""

from .connection import is_postgres, redacted

__all__ = ["is_postgres", "redacted"]
