"""Bytes to text: BOM, declared charset, UTF-8, then detection (charset-normalizer).

Legacy encodings (windows-1251, latin-1, Shift-JIS...) are common in saved pages and dumps;
binary data posing as text is refused with a reason instead of imported as mojibake.
"""

from __future__ import annotations

import codecs
import re

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
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive",
    b"\x7fELF": "an executable",
}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.decode("ascii", "ignore") if isinstance(name, bytes) else name).name
    except LookupError:
        return None


def decode(data: bytes, declared: str | None = None, html: bool = False) -> str:
    """Decode ``data``; raises ``NotText`` with the reason when it is not text."""
    if not data.strip():
        raise NotText("empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise NotText(f"binary data ({what}), not text")
    if b"\0" in data[:8192]:
        raise NotText("binary data (NUL bytes), not text")
    # Valid UTF-8 is almost never anything else, while declared charsets are often wrong.
    candidates = ["utf-8", _codec(declared)]
    if html:
        found = _META_CHARSET.search(data[:4096])
        candidates.append(_codec(found.group(1)) if found else None)
    for encoding in [c for c in candidates if c]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise NotText("binary data or an unknown encoding")
    return data.decode(best.encoding, errors="replace")
