"""Word diff of a copy against its origin, as HTML: words removed, added and changed.

Long unchanged stretches are folded to their first and last words, and long removals (an
excerpt drops most of its origin) to a few words and a count, so a copy's edits stand out
and a page of 25 diffs stays small.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

PARAGRAPH = "\n"
CONTEXT = 12  # unchanged words kept either side of an edit
LONG_CHANGE = 60  # removed or added runs longer than this are shown in part
_TOKEN = re.compile(r"\S+|\n")


def words(text: str) -> list[str]:
    """Words of a text, with a paragraph mark between paragraphs."""
    return _TOKEN.findall("\n".join(p for p in text.split("\n") if p.strip()))


@dataclass
class Diff:
    html: str
    added: int  # words only in the copy
    removed: int  # words only in the origin
    changed: int  # words of the origin replaced by other words
    same: int  # words in both

    @property
    def summary(self) -> str:
        if not (self.added or self.removed or self.changed):
            return "same words as its origin"
        return f"{self.added} words added, {self.removed} removed, {self.changed} changed; {self.same} unchanged"


def _text(tokens: list[str]) -> str:
    return html.escape(" ".join(tokens)).replace(" \n ", " ¶<br>").replace("\n", "¶<br>")


def _same(tokens: list[str], first: bool, last: bool) -> str:
    """An unchanged run, folded to CONTEXT words on the sides that touch an edit."""
    keep_head = 0 if first else CONTEXT
    keep_tail = 0 if last else CONTEXT
    if len(tokens) <= keep_head + keep_tail + 8:
        return f"<span class='same'>{_text(tokens)}</span>"
    n = len(tokens) - keep_head - keep_tail
    return (f"<span class='same'>{_text(tokens[:keep_head])}</span>"
            f" <span class='fold'>… {n} unchanged words …</span> "
            f"<span class='same'>{_text(tokens[len(tokens) - keep_tail:])}</span>")


def _run(tag: str, tokens: list[str], cls: str = "") -> str:
    attr = f" class='{cls}'" if cls else ""
    if len(tokens) <= LONG_CHANGE:
        return f"<{tag}{attr}>{_text(tokens)}</{tag}>"
    more = len(tokens) - 20
    return f"<{tag}{attr}>{_text(tokens[:20])}</{tag}> <span class='fold'>… and {more} more words {'removed' if tag == 'del' else 'added'} …</span>"


def word_diff(origin: str, copy: str) -> Diff:
    a, b = words(origin), words(copy)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    ops = matcher.get_opcodes()
    parts, added, removed, changed, same = [], 0, 0, 0, 0
    for index, (op, i1, i2, j1, j2) in enumerate(ops):
        old, new = [w for w in a[i1:i2]], [w for w in b[j1:j2]]
        count = lambda ts: sum(1 for t in ts if t != PARAGRAPH)  # noqa: E731 - words, not marks
        if op == "equal":
            same += count(old)
            parts.append(_same(old, index == 0, index == len(ops) - 1))
        elif op == "delete":
            removed += count(old)
            parts.append(_run("del", old))
        elif op == "insert":
            added += count(new)
            parts.append(_run("ins", new))
        else:
            changed += count(old)
            added += max(0, count(new) - count(old))
            parts.append(_run("del", old, "chg") + _run("ins", new, "chg"))
    return Diff(" ".join(parts), added, removed, changed, same)
