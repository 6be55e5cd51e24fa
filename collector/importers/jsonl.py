"""JSON Lines: one article per line (``url``, ``html`` or ``text``, ``title``, ``published``...),
every bad line reported with its number, the rest imported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from collector.core.document import Document
from collector.core.text import defuse

from .decoding import SNIFF_BYTES, NotText, decode, detect, has_bom, no_nul, sniff
from . import reading
from .reading import LINES_CHUNK, Broken, Problem, mb, now, read_document

#: A .jsonl file whose first lines are all not JSON is not JSON Lines at all: one error.
MAX_LEADING_BAD_LINES = 5
LOOKS_HTML = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def _jsonl_lines(path: Path, stream) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text or None, reason if the line cannot be read)."""
    head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    if not head:
        stream.raw.check()
        raise NotText("empty")
    if has_bom(head) and not head.startswith(b"\xef\xbb\xbf"):
        # UTF-16/32: lines cannot be split on bytes; such files are small in practice.
        text = decode(read_document(stream, "the file", stream.raw))
        for number, line in enumerate(text.splitlines(), start=1):
            yield number, line, None
        return
    sniff(head)
    if LOOKS_HTML.match(head.decode("utf-8", "replace")):
        raise NotText("HTML, not JSON Lines")
    encoding = "utf-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            encoding = detect(head) or "utf-8"

    def text(number: int, raw: bytes) -> tuple[int, str | None, str | None]:
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            return number, raw.decode(encoding), None
        except UnicodeDecodeError:
            try:
                return number, decode(raw), None
            except NotText as exc:
                return number, None, str(exc)

    too_long = f"longer than {mb(reading.MAX_INPUT_BYTES)}"
    number = 0
    pending = bytearray()  # the start of a line whose end is not read yet
    skipping = False  # inside a line over the limit
    # Split whole chunks rather than calling readline: a file of millions of blank lines
    # (a few KB of gzip) is then passed over in seconds.
    while chunk := stream.read1(LINES_CHUNK):
        if not pending and not skipping and chunk.isspace():
            number += chunk.count(b"\n")  # a run of blank lines, passed over at C speed
            continue
        *complete, rest = chunk.split(b"\n")
        for part in complete:
            number += 1
            if skipping:
                skipping = False
                yield number, None, too_long
                continue
            if pending:
                part = bytes(pending) + part
                pending.clear()
            if len(part) > reading.MAX_INPUT_BYTES:
                yield number, None, too_long
            elif part and not part.isspace():
                yield text(number, part)
        if not skipping:
            pending += rest
            if len(pending) > reading.MAX_INPUT_BYTES:
                pending.clear()
                skipping = True
    if pending or skipping:
        number += 1
        if stream.raw.error:
            raise Broken(f"{stream.raw.error}: line {number} is cut off (the lines before it were read)")
        if skipping:
            yield number, None, too_long
        elif not pending.isspace():
            yield text(number, bytes(pending))
    stream.raw.check()


def read_jsonl(path: Path, stream, site: str | None) -> Iterator[Document | Problem]:
    good = 0
    held: list[Problem] = []  # bad lines before the first good one: is it JSON Lines at all?

    def bad(number: int, reason: str) -> Iterator[Problem]:
        problem = Problem(f"{path} line {number}", reason)
        if good:
            yield problem
            return
        held.append(problem)
        if len(held) >= MAX_LEADING_BAD_LINES:
            raise NotText(f"not JSON Lines: none of the first {len(held)} lines is an article ({_first(held)})")

    for number, line, reason in _jsonl_lines(path, stream):
        if reason:
            yield from bad(number, reason)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield from bad(number, f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            yield from bad(number, f"not a JSON object (a JSON {_json_type(obj)})")
            continue
        content = {k: obj[k] for k in ("html", "text") if isinstance(obj.get(k), str) and obj[k].strip()}
        if not content:
            yield from bad(number, "no 'html' or 'text' field with content")
            continue
        try:
            for value in content.values():
                no_nul(value)  # a \u0000 escape, or a NUL byte the line decoding let through
        except NotText as exc:
            yield from bad(number, f"{exc}")
            continue
        good += 1
        yield from held
        held.clear()
        url = _str(obj, "url")
        yield Document(
            url=url or f"{path.resolve().as_uri()}#line={number}",
            source=f"{path} line {number}",
            site=_str(obj, "site") or site,
            title=_str(obj, "title"),
            published=_str(obj, "published"),
            author=_str(obj, "author"),
            fetched=_str(obj, "fetched") or now(),
            first_line_is_title="html" not in content and not _str(obj, "title"),
            **({"html": defuse(content["html"])} if "html" in content else {"text": content["text"]}),
        )
    if not good:
        if len(held) == 1:
            yield held[0]
        elif held:  # nothing in the file was usable: one line for the file
            raise NotText(f"no usable line: {len(held)} bad lines ({_first(held)})")
        else:
            raise NotText("empty")


def _first(held: list[Problem]) -> str:
    return f"line {held[0].where.rsplit(' ', 1)[-1]}: {held[0].reason}"


def _json_type(value) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


def _str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None
