"""The storage layer: the one writer of the database (``Store``; SQLite, or PostgreSQL through
``open_store``), split by job.

It implements the protocols of ``collector.core.contracts`` and imports nothing of ours but
``collector.core``; a second backend would implement the same protocols.
"""

from collector.core.errors import StoreBusy, StoreError

from .dbfile import explain, open_for_reading
from .postgres import is_postgres, redacted
from .store import Store
from .writer import utcnow

__all__ = ["Store", "StoreBusy", "StoreError", "explain", "is_postgres", "open_for_reading", "open_store", "utcnow"]


def open_store(url: str, store_class: type | None = None, **options) -> Store:
    """The writer of ``url``: a ``postgresql://`` URL opens the PostgreSQL store
    (``collector.storage.postgres``), anything else is a SQLite file. ``store_class``: a
    subclass of ``Store`` (reprocess's); on PostgreSQL its ``on_postgres()`` is the same
    over ``PgStore``, and a subclass without one is refused in one line."""
    if is_postgres(url):
        from .postgres.store import PgStore

        if store_class in (None, Store):
            return PgStore(url, **options)
        if not hasattr(store_class, "on_postgres"):
            raise StoreError(f"{redacted(url)}: {store_class.__name__} works on SQLite only (docs/postgresql.md)")
        return store_class.on_postgres()(url, **options)
    return (store_class or Store)(url, **options)
