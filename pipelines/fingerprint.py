"""The fingerprint stage: the cleaned text's shingle set and its MinHash signature.

The math (tokens, shingles, MinHash parameters and why) is ``collector.core.fingerprint``.
"""

from __future__ import annotations

from collector.core.fingerprint import minhash, shingle_hashes

from . import _malloc
from .stage import Stage


class FingerprintPipeline(Stage):
    """Shingles the cleaned text and signs it."""

    def __init__(self):
        _malloc.tune()  # numpy's arrays stay mapped from one document to the next

    def process(self, item):
        # The shingle set travels with the item: the link stage verifies candidates on it.
        item["shingles"] = shingle_hashes(item["text"])
        item["signature"], item["shingle_count"] = minhash(item["shingles"]), len(item["shingles"])
        return item
