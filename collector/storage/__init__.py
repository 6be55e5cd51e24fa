"""The storage layer: the one writer of the SQLite database (``Store``), split by job.

It implements the protocols of ``collector.core.contracts`` and imports nothing of ours but
``collector.core``; a second backend would implement the same protocols.
"""

from collector.core.errors import StoreBusy, StoreError

from .dbfile import explain, open_for_reading
from .store import Store
from .writer import utcnow

__all__ = ["Store", "StoreBusy", "StoreError", "explain", "open_for_reading", "utcnow"]
