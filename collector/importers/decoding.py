"""Bytes to text: BOM, declared charset, UTF-8, then detection (charset-normalizer).

Legacy encodings (windows-1251, latin-1, Shift-JIS...) are common in saved pages and dumps;
binary data posing as text is refused with a reason instead of imported as mojibake.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes


class NotText(ValueError):
    pass


_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (or an office document)",
    b"\x7fELF": "an executable",
    b"\x1f\x8b": "gzip data inside gzip data",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ\x00": "an xz archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"SQLite format 3\x00": "an SQLite database",
    b"RIFF": "a RIFF file (audio, video or image)",
    b"OggS": "an Ogg media file",
    b"ID3": "an MP3 file",
}
#: Bytes sniffed for magic numbers and NULs before the rest of an input is read.
SNIFF_BYTES = 8192


def codec_name(name: str | bytes | None) -> str | None:
    """Python's name for a declared charset, or None if it names none."""
    if not name:
        return None
    try:
        return codecs.lookup(name.decode("ascii", "ignore") if isinstance(name, bytes) else name).name
    except LookupError:
        return None


def has_bom(data: bytes) -> bool:
    return any(data.startswith(bom) for bom, _ in _BOMS)


def sniff(head: bytes) -> None:
    """Refuse binary data from its first bytes: a magic number, or NUL bytes.

    Called on the first ``SNIFF_BYTES`` of an input before the rest is read, so a binary
    file (or a gzip bomb of zeros) is refused without reading, or inflating, all of it.
    """
    if has_bom(head):
        return  # UTF-16/32 text has NULs by nature
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise NotText(f"binary data ({what}), not text")
    if b"\0" in head[:SNIFF_BYTES]:
        raise NotText("binary data (NUL bytes), not text")


def no_nul(text: str) -> str:
    """``text`` if it has no NUL character anywhere; ``sniff`` sees only the first bytes, and
    a NUL further on (a damaged dump, a binary tail) must not reach the database."""
    at = text.find("\0")
    if at >= 0:
        raise NotText(f"binary data (a NUL character at character {at + 1}), not text")
    return text


def decode(data: bytes, declared: str | None = None, html: bool = False) -> str:
    """Decode ``data``; raises ``NotText`` with the reason when it is not text."""
    return no_nul(_decode(data, declared, html))


def _decode(data: bytes, declared: str | None, html: bool) -> str:
    if not data.strip():
        raise NotText("empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    sniff(data)
    # Valid UTF-8 is almost never anything else, while declared charsets are often wrong.
    candidates = ["utf-8", codec_name(declared)]
    if html:
        found = META_CHARSET.search(data[:4096])
        candidates.append(codec_name(found.group(1)) if found else None)
    for encoding in [c for c in candidates if c]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    if mostly_utf8(data):
        return data.decode("utf-8", errors="replace")
    encoding = detect(data)
    if encoding is None:
        raise NotText("binary data or an unknown encoding")
    return data.decode(encoding, errors="replace")


#: A text is taken for UTF-8 with stray bytes when at most one in this many of its non-ASCII
#: bytes is invalid UTF-8.
STRAY_BYTES = 20


def mostly_utf8(data: bytes) -> bool:
    """UTF-8 but for a few stray bytes (a truncated character, one pasted latin-1 byte).

    Charset detection takes such pages for cp1256 or iso8859-10 and turns every correct
    character into mojibake; decoding them as UTF-8 loses only the stray bytes (U+FFFD).
    """
    non_ascii = len(data) - len(data.decode("ascii", errors="ignore"))
    if not non_ascii:
        return False
    text = data.decode("utf-8", errors="replace")
    stray = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # real U+FFFD characters
    return 0 < stray * STRAY_BYTES <= non_ascii


def detect(data: bytes) -> str | None:
    """The legacy encoding of ``data`` (charset-normalizer), or None if it is not text."""
    sample = data[:200_000]
    # Only the lines with non-ASCII bytes tell encodings apart: English lines around a little
    # Cyrillic make every single-byte code page tie, and then a wrong one can win.
    evidence = b"\n".join(line for line in sample.splitlines() if not line.isascii()) or sample
    results = list(from_bytes(evidence))
    if not results:
        return None
    best_chaos = min(r.chaos for r in results)
    # charset-normalizer often ties several single-byte code pages that all decode to
    # plausible letters (French "crêpes" is "crępes" in cp1250). Among the tied, prefer the
    # decoding whose accented letters belong to one language's alphabet: a real text is
    # written in one language, mojibake mixes letters of several.
    tied = [r for r in results if r.encoding and r.chaos <= best_chaos + 0.05]
    if len(tied) <= 1:
        best = tied[0] if tied else None
        return best.encoding if best else None
    sample = evidence[:20_000]

    def score(result) -> tuple[float, float, float, int]:
        try:
            text = sample.decode(result.encoding, errors="strict")
        except (UnicodeDecodeError, LookupError):
            text = sample.decode(result.encoding, errors="replace")
        # then charset-normalizer's own mess and language coherence, then how common it is
        return (
            round(alphabet_consistency(text), 2),
            -round(result.chaos, 2),
            round(result.coherence, 2),
            -_PREFERRED.get(result.encoding, len(_PREFERRED)),
        )

    return max(tied, key=score).encoding


#: When decodings score alike (no accented letters tell them apart), the most common one.
_PREFERRED = {name: rank for rank, name in enumerate(["utf_8", "cp1252", "cp1251", "shift_jis", "cp932", "euc_jp", "gb18030", "big5", "euc_kr", "cp1250", "koi8_r"])}

#: Non-ASCII letters of languages written in Latin script (lower case).
_LATIN_ALPHABETS = [
    "àâæçéèêëîïôœùûüÿ",      # French
    "äöüß",                  # German
    "áéíóúñü",               # Spanish
    "áâãàçéêíóôõú",          # Portuguese
    "àèéìíîòóùú",            # Italian
    "àçèéíïòóúü",            # Catalan
    "éëïóöüèáí",             # Dutch
    "æøåéó",                 # Danish, Norwegian
    "åäöé",                  # Swedish, Finnish
    "áðéíóúýþæö",            # Icelandic
    "ąćęłńóśźż",             # Polish
    "áčďéěíňóřšťúůýž",       # Czech
    "áäčďéíĺľňóôŕšťúýž",     # Slovak
    "áéíóöőúüű",             # Hungarian
    "ăâîșțşţ",               # Romanian
    "čćđšž",                 # Croatian, Slovenian, Serbian (Latin)
    "çğıöşüâîû",             # Turkish
    "ąčęėįšųūž",             # Lithuanian
    "āčēģīķļņšūž",           # Latvian
    "äõöüšž",                # Estonian
]


_CJK = {"CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC"}


def alphabet_consistency(text: str) -> float:
    """Share of the text's non-ASCII letters that fit the one alphabet fitting most of them.

    Latin letters are matched against per-language alphabets; letters of other scripts
    (Cyrillic, Greek, CJK...) each fit their own script. Two marks of mojibake fit no
    alphabet: a symbol between two letters ("adalar»ndan") and a capital after a small
    letter ("iÓin"). 1.0 for plain ASCII.
    """
    latin: dict[str, int] = {}
    scripts: dict[str, int] = {}
    total = 0
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if not ch.isalpha():
            if ch not in _MID_WORD and unicodedata.category(ch)[0] != "M" and before.isalpha() and after.isalpha():
                total += 1
            continue
        total += 1
        if ch.isupper() and before.isalpha() and before.islower():
            continue
        name = unicodedata.name(ch, "")
        if name.startswith("LATIN"):
            low = ch.lower()
            latin[low] = latin.get(low, 0) + 1
        else:
            script = name.split(" ")[0]
            script = "CJK" if script in _CJK else script
            scripts[script] = scripts.get(script, 0) + 1
    if not total:
        return 1.0
    best = max(scripts.values(), default=0)
    for alphabet in _LATIN_ALPHABETS:
        best = max(best, sum(n for ch, n in latin.items() if ch in alphabet))
    return best / total


#: Non-letters that do sit between letters in real text: apostrophes, the Catalan middle dot, hyphens.
_MID_WORD = set("\u2019\u02bc\u00b7\u2010\u2011\u00ad")
