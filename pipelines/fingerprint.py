"""Fingerprint: normalised word shingles and their MinHash signature (datasketch).

A MinHash of ``NUM_PERM`` permutations estimates the Jaccard similarity J of two shingle
sets with standard error sqrt(J(1-J)/NUM_PERM), about 0.04 at J=0.5 for 128 permutations.
We use it only to find candidates (see ``pipelines.link``); the relation itself is
decided on exact shingle sets, so the estimate's error never decides a link.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np
from datasketch import MinHash

from .stage import Stage

#: Words per shingle. Five words make a shingle that two unrelated articles share only
#: by quoting each other, while a one-word edit disturbs only five shingles of a copy
#: (three would match stock phrases across unrelated news; eight would let light edits
#: break too many shingles). Broder's near-duplicate work used word shingles of 4-10.
SHINGLE_SIZE = 5
#: Permutations per signature: the signature costs 4 bytes each.
NUM_PERM = 128
SEED = 1
#: datasketch 2.0's default permutation scheme; stored with signatures (see FINGERPRINT).
SCHEME = "affine32"
#: The shingle hash. crc32 is ten times cheaper than datasketch's sha1 default, and the
#: affine permutations that follow it supply the randomness MinHash needs.
HASH = "crc32"

#: What a stored signature depends on: a database fingerprinted with other values is not
#: comparable and is refused (see ``collector.store``).
FINGERPRINT = {"shingle_size": SHINGLE_SIZE, "num_perm": NUM_PERM, "seed": SEED, "scheme": SCHEME, "hash": HASH}

_WORD = re.compile(r"\w+")
# Copies swap quote styles, dashes and ligatures; NFKC and casefold make them equal.
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold())


def shingles(text: str) -> set[str]:
    """The set of ``SHINGLE_SIZE``-word shingles; a shorter text is one shingle."""
    tokens = words(text)
    if len(tokens) <= SHINGLE_SIZE:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1)}


def _crc32(data: bytes) -> int:
    return zlib.crc32(data)


# One permutation set, reused: building it per document would cost more than hashing.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_crc32)


def minhash(shingle_set: set[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_crc32, permutations=_TEMPLATE.permutations)
    if shingle_set:
        m.update_batch([s.encode("utf-8") for s in shingle_set])
    return m


def signature_bytes(m: MinHash) -> bytes:
    return np.asarray(m.hashvalues, dtype=np.uint32).tobytes()


def signature_from_bytes(blob: bytes) -> MinHash:
    values = np.frombuffer(blob, dtype=np.uint32)
    return MinHash(seed=SEED, scheme=SCHEME, hashfunc=_crc32, hashvalues=values, permutations=_TEMPLATE.permutations)


class FingerprintPipeline(Stage):
    """Shingles the cleaned text and signs it."""

    def process(self, item):
        shingle_set = shingles(item["text"])
        item["shingle_count"] = len(shingle_set)
        item["signature"] = minhash(shingle_set)
        return item
