"""Text helpers every side needs."""

from __future__ import annotations

import re

#: A DOCTYPE with an internal subset declares entities ("billion laughs", external files).
#: HTML has no use for them: the subset is dropped before any parser sees the page.
_DTD_SUBSET = re.compile(r"<!DOCTYPE\s[^\[>]*\[.*?\]\s*>", re.IGNORECASE | re.DOTALL)


def defuse(html: str) -> str:
    head = html[:65536]
    if "<!" not in head or not _DTD_SUBSET.search(head):
        return html
    return _DTD_SUBSET.sub("<!DOCTYPE html>", head, count=1) + html[65536:]
