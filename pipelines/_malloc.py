"""Keep glibc from handing numpy's per-document arrays back to the kernel.

Fingerprinting a document allocates a few arrays of a few hundred KB (datasketch's
permutation step is shingles x 128 values). glibc serves blocks that large with mmap, or
from the top of its heap and then trims it, so each document's arrays are mapped afresh and
faulted in page by page: about 40 page faults a document, a third of the fingerprint stage
in an import process (bench/scale.py: 42,000 faults for 1,000 documents, 500 after this).
Fixed thresholds keep such blocks in the heap for reuse; what is kept is bounded by
``TRIM_THRESHOLD`` beyond what the process uses at its peak.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # blocks above 32 MB still come from mmap
TRIM_THRESHOLD = 128 << 20

_tuned: bool | None = None


def tune() -> bool:
    """Set the thresholds once per process (on glibc; elsewhere, or when the user tuned
    malloc through ``MALLOC_*_`` or ``GLIBC_TUNABLES``, nothing). Returns whether set."""
    global _tuned
    if _tuned is None:
        _tuned = False
        if sys.platform.startswith("linux") and not any(
            k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
        ) and "glibc.malloc." not in os.environ.get("GLIBC_TUNABLES", ""):
            try:
                mallopt = ctypes.CDLL(None).mallopt
            except (OSError, AttributeError):  # a C library without mallopt
                return False
            mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            _tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned
