"""Finding input files and dispatching on their format: plain text and HTML here, JSON
Lines (``jsonl``) and WARC (``warc``) in their modules; opening and reading safely is
``reading``'s."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from collector.core.document import Document
from collector.core.text import defuse

from .decoding import NotText, decode
from .jsonl import LOOKS_HTML, read_jsonl
from .reading import FORMATS, Broken, Problem, article, open_input, read_document
from .warc import read_warc


def format_of(path: Path) -> tuple[str | None, bool]:
    """(format, gzipped) from the file name: ``a.html.gz`` -> ("html", True)."""
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    fmt = suffixes[-1] if suffixes else None
    return (fmt if fmt in FORMATS else None), gz


def _hidden(name: str) -> bool:
    return name.startswith(".")


def discover(paths) -> Iterator[Path | Problem]:
    """Files to import: each path given, folders walked recursively in name order.

    Inside folders, hidden files and folders (``.git``, editor swap files) and files of
    other types are passed over silently; a path named explicitly is reported if it cannot
    be imported, and so is a folder that cannot be listed (the rest is read all the same).
    Each file is read once, even if named twice or inside a named folder.
    """
    seen: set[str] = set()

    def once(path: Path) -> bool:
        key = os.path.realpath(path)
        if key in seen:
            return False
        seen.add(key)
        return True

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = 0
            unreadable: list[OSError] = []
            for root, dirs, files in os.walk(path, onerror=unreadable.append):  # symlinked folders are not followed
                while unreadable:
                    exc = unreadable.pop(0)
                    found += 1
                    yield Problem(exc.filename or str(path), f"cannot read this folder: {exc.strerror or exc}")
                dirs[:] = sorted(d for d in dirs if not _hidden(d))
                for name in sorted(files):
                    child = Path(root, name)
                    if _hidden(name) or not format_of(child)[0] or not child.is_file():
                        continue
                    found += 1
                    if once(child):
                        yield child
            for exc in unreadable:  # the last folder listed
                found += 1
                yield Problem(exc.filename or str(path), f"cannot read this folder: {exc.strerror or exc}")
            if not found:
                yield Problem(str(path), f"no files to import in this folder (looked for: {_expected()})")
        elif path.is_file():
            if not format_of(path)[0]:
                yield Problem(str(path), f"unsupported file type (expected {_expected()})")
            elif once(path):
                yield path
        elif path.exists():
            yield Problem(str(path), "not a file or folder")
        else:
            yield Problem(str(path), "no such file or folder")


def _expected() -> str:
    return ", ".join("." + f for f in FORMATS) + ", optionally .gz"


def read_paths(paths, site: str | None = None) -> Iterator[Document | Problem]:
    for found in discover(paths):
        if isinstance(found, Problem):
            yield found
        else:
            yield from read_file(found, site)


def read_file(path: Path, site: str | None = None) -> Iterator[Document | Problem]:
    """The articles of one file, or a ``Problem`` for each part that cannot be read."""
    path = Path(path)
    fmt, gz = format_of(path)
    try:
        with open_input(path, gz) as stream:
            if fmt == "warc":
                yield from read_warc(path, stream, site)
            elif fmt == "jsonl":
                yield from read_jsonl(path, stream, site)
            else:
                data = read_document(stream, guard=stream.raw)
                if fmt in ("html", "htm"):
                    html = decode(data, html=True)
                    if "<" not in html[:4096]:
                        raise NotText("no HTML markup: not an HTML page")
                    yield article(path, site, html=defuse(html))
                else:
                    text = decode(data)
                    if LOOKS_HTML.match(text[:4096]):
                        yield article(path, site, html=defuse(text))  # a saved page named .txt
                    else:
                        yield article(path, site, text=text, first_line_is_title=True)
    except NotText as exc:
        yield Problem(str(path), str(exc))
    except Broken as exc:
        yield Problem(str(path), str(exc))
    except OSError as exc:
        yield Problem(str(path), f"cannot read: {exc.strerror or exc}")
