"""Fingerprint: normalised word shingles, hashed, and their MinHash signature (datasketch).

A shingle is ``SHINGLE_SIZE`` consecutive tokens. A token is a word (a run of word
characters) in scripts written with spaces, and a single character in scripts written
without them (Chinese, Japanese kana and kanji, Thai, Lao, Khmer, Burmese: ``SPACELESS``),
where a "word" would be a whole clause; mixed text is cut per run of script, so a Latin
name or a number inside Japanese stays one token. So a shingle is five words in English or
Russian and five characters in Japanese: measured on the fundus Japanese and Chinese pages
(bench/lineage_families.py), 5-character shingles keep at least 0.85 of a copy with 2% of
its characters dropped and all of an excerpt, while two different articles share at most
0.09 of theirs (3 characters: 0.16; 8: recall falls to 0.76). Each is hashed to 64 bits: the sorted,
unique array of those hashes is the document's shingle set (exact Jaccard and containment
are computed on it; two different shingles collide with probability 2**-64). The MinHash of
``NUM_PERM`` permutations over the top 32 bits of each hash estimates the Jaccard
similarity J of two sets with standard error sqrt(J(1-J)/NUM_PERM), about 0.04 at J=0.5.
Signatures only find candidates (``collector.storage.lsh``); the relation itself is decided on
the exact shingle sets, so the estimate's error never decides a link.

Speed: the words are cut out by byte operations (``word_bytes``: the same tokens as the
``\\w+`` regex, three times faster), hashed with one C call each (crc32), shingle hashes are
combined from them with numpy, and datasketch's batched ``update_batch`` receives the ready
32-bit values (its ``hashfunc`` is then the identity): no Python code per word or shingle.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np

from ._scipy import import_datasketch

import_datasketch()
from datasketch import MinHash  # noqa: E402  (after the stand-in for scipy.integrate)

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
#: How shingles are hashed (see the module docstring); part of what a signature means.
HASH = "crc32-words-poly64-v2"
#: How text is cut into tokens: words, and single characters of ``SPACELESS`` scripts.
TOKENS = "words+spaceless-chars-v1"

#: Scripts written without spaces between words: each character is a token. Unicode blocks:
#: Hiragana and Katakana (with their extensions and half-width forms), CJK ideographs
#: (with extensions A-F and compatibility forms), Thai, Lao, Khmer, Myanmar.
SPACELESS = ("\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
             "\u0e00-\u0eff\u1780-\u17ff\u19e0-\u19ff\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff"
             "\U00020000-\U0002fa1f")

#: What a stored signature depends on: a database fingerprinted with other values is not
#: comparable and is refused (see ``collector.storage``).
FINGERPRINT = {"shingle_size": SHINGLE_SIZE, "num_perm": NUM_PERM, "seed": SEED, "scheme": SCHEME, "hash": HASH,
               "tokens": TOKENS}

_WORD = re.compile(f"[{SPACELESS}]|[^\\W{SPACELESS}]+")
_HAS_SPACELESS = re.compile(f"[{SPACELESS}]")
# Copies swap quote styles, dashes and ligatures; NFKC and casefold make them equal.
# Soft hyphens and zero-width characters are invisible and kept by some formats only.
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00ad": None, "\u200b": None,
                            "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None})
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant: position weights of the words
_POWERS = [_MULT ** np.uint64(k) for k in range(SHINGLE_SIZE)][::-1]


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(_normalise(text))


# ``\w`` is decided character by character (alphanumeric or "_"), so blanking every other
# character and splitting on blanks gives exactly its tokens: ASCII through one
# bytes.translate table, the few other characters a text holds by str.replace (or, when
# there are many, one str.translate).
_ASCII_BLANKS = bytes(b if chr(b).isalnum() or b == 0x5F else 0x20 for b in range(128)) + bytes(range(128, 256))
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_WORD: dict[str, bool] = {}  # non-ASCII character -> not a word character


def word_bytes(text: str) -> list[bytes]:
    """``words(text)`` encoded in UTF-8, computed without the regex (but for text in a
    spaceless script, rare enough in a news corpus to be cut by the regex)."""
    text = _normalise(text)
    if not text.isascii():
        if _HAS_SPACELESS.search(text):
            return [token.encode("utf-8") for token in _WORD.findall(text)]
        blanks = []
        for char in set(_NON_ASCII.findall(text)):
            blank = _NON_WORD.get(char)
            if blank is None:
                blank = _NON_WORD[char] = not (char.isalnum() or char == "_")
            if blank:
                blanks.append(char)
        if len(blanks) > 8:  # one pass over the text, however many symbols it holds
            text = text.translate(dict.fromkeys(map(ord, blanks), " "))
        else:
            for char in blanks:
                text = text.replace(char, " ")
    return text.encode("utf-8").translate(_ASCII_BLANKS).split()


def _fmix64(h: np.ndarray) -> np.ndarray:
    # MurmurHash3's finaliser: every input bit reaches every output bit.
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _unique(values: np.ndarray) -> np.ndarray:
    # np.unique hashes (numpy 2); a sort and a neighbour test is several times faster here
    values.sort()
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def shingle_hashes(text: str) -> np.ndarray:
    """The document's shingle set: sorted unique 64-bit hashes (a short text is one shingle)."""
    return shingles_of(word_bytes(text))


def shingles_of(tokens: list[bytes]) -> np.ndarray:
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    word_hashes = np.fromiter(map(zlib.crc32, tokens), dtype=np.uint64, count=len(tokens))
    n = len(tokens) - SHINGLE_SIZE + 1
    with np.errstate(over="ignore"):
        if n <= 0:
            weights = np.array(_POWERS[SHINGLE_SIZE - len(tokens) :], dtype=np.uint64)
            combined = (word_hashes * weights).sum(keepdims=True, dtype=np.uint64)
        else:
            combined = np.zeros(n, dtype=np.uint64)
            for k in range(SHINGLE_SIZE):
                combined += word_hashes[k : k + n] * _POWERS[k]
        return _unique(_fmix64(combined))


_DIGITS = re.compile(rb"[0-9]+")


def number_hashes(text: str) -> np.ndarray:
    return numbers_of(word_bytes(text))


def numbers_of(tokens: list[bytes]) -> np.ndarray:
    """The distinct tokens that hold a digit (figures, dates, scores, times), hashed: what a
    template fills in differently each time and a copy keeps (``collector.core.similarity.figures_agree``)."""
    joined = b" " + b" ".join(tokens) + b" "
    found = {joined[joined.rfind(b" ", 0, m.start()) + 1 : joined.find(b" ", m.end())] for m in _DIGITS.finditer(joined)}
    return np.unique(np.fromiter(map(zlib.crc32, found), dtype=np.uint32, count=len(found)))


def has_spaceless(text: str) -> bool:
    """Whether the text holds a character of a script written without spaces (``SPACELESS``)."""
    return _HAS_SPACELESS.search(text) is not None


def _identity(value):
    return value


# One permutation set, reused: building it per document would cost more than hashing.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_identity)


def minhash(hashes: np.ndarray) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_identity, permutations=_TEMPLATE.permutations)
    if len(hashes):
        # update_batch calls hashfunc once per element of its batch; given a batch of one
        # element, the whole array of ready 32-bit hashes, the identity hands it over at once
        # and datasketch's vectorised permutation step sees every shingle (same values as one
        # element per shingle: tests/test_lsh.py).
        m.update_batch([(hashes >> np.uint64(32)).astype(np.uint32)])
    return m


def signature_bytes(m: MinHash) -> bytes:
    return np.asarray(m.hashvalues, dtype=np.uint32).tobytes()


def signature_from_bytes(blob: bytes) -> MinHash:
    values = np.frombuffer(blob, dtype=np.uint32)
    return MinHash(seed=SEED, scheme=SCHEME, hashfunc=_identity, hashvalues=values, permutations=_TEMPLATE.permutations)


def fingerprint(text: str) -> tuple[MinHash, int]:
    hashes = shingle_hashes(text)
    return minhash(hashes), len(hashes)
