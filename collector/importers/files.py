"""Finding input files, opening them (gzip or not) and dispatching on their format."""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from collector.items import Article

from .decoding import NotText, decode

#: A decompressed input larger than this is refused: a news dump is far smaller, and a
#: gzip bomb (a few KB that inflate to gigabytes) must not exhaust memory.
MAX_INPUT_BYTES = 256 * 1024 * 1024
FORMATS = ("txt", "html", "htm", "warc", "jsonl")
#: A .jsonl file whose first lines are all not JSON is not JSON Lines at all: one error.
MAX_LEADING_BAD_LINES = 5


@dataclass
class Problem:
    where: str   # the file, plus "line N" or "record N"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def format_of(path: Path) -> tuple[str | None, bool]:
    """(format, gzipped) from the file name: ``a.html.gz`` -> ("html", True)."""
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    fmt = suffixes[-1] if suffixes else None
    return (fmt if fmt in FORMATS else None), gz


def discover(paths) -> Iterator[Path | Problem]:
    """Files to import: each path given, folders walked recursively in name order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue  # hidden files and folders (.git, editor swap files)
                if format_of(child)[0]:
                    yield child
        elif path.is_file():
            if format_of(path)[0]:
                yield path
            else:
                yield Problem(str(path), f"unsupported file type (expected one of: {', '.join(FORMATS)}, optionally .gz)")
        else:
            yield Problem(str(path), "no such file or folder")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_bytes(path: Path, gz: bool) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head == b"\x1f\x8b":  # gzip, whatever the name says
            with gzip.GzipFile(fileobj=fh) as z:
                data = z.read(MAX_INPUT_BYTES + 1)
        elif gz:
            raise NotText("named .gz but not gzip-compressed")
        else:
            data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise NotText(f"larger than {MAX_INPUT_BYTES // 2**20} MB once decompressed (a gzip bomb?)")
    return data


def read_paths(paths, site: str | None = None) -> Iterator[Article | Problem]:
    for found in discover(paths):
        if isinstance(found, Problem):
            yield found
        else:
            yield from read_file(found, site)


def read_file(path: Path, site: str | None = None) -> Iterator[Article | Problem]:
    fmt, gz = format_of(path)
    try:
        if fmt == "warc":
            yield from _read_warc(path, site)
            return
        data = _read_bytes(path, gz)
        if fmt == "jsonl":
            yield from _read_jsonl(path, data, site)
        elif fmt in ("html", "htm"):
            html = decode(data, html=True)
            if "<" not in html[:4096]:
                raise NotText("no HTML markup: not an HTML page")
            yield _article(path, site, html=html)
        else:
            yield _article(path, site, text=decode(data), first_line_is_title=True)
    except NotText as exc:
        yield Problem(str(path), str(exc))
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        yield Problem(str(path), f"truncated or corrupt gzip ({exc or 'unexpected end of data'})")
    except OSError as exc:
        yield Problem(str(path), f"cannot read: {exc.strerror or exc}")


def _article(path: Path, site: str | None, **fields) -> Article:
    return Article(url=path.resolve().as_uri(), source=str(path), site=site, fetched=_now(), **fields)


def _read_jsonl(path: Path, data: bytes, site: str | None) -> Iterator[Article | Problem]:
    text = decode(data)
    good = bad = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            bad += 1
            if not good and bad >= MAX_LEADING_BAD_LINES:
                yield Problem(str(path), f"not JSON Lines (the first {bad} lines are not JSON)")
                return
            yield Problem(where, f"not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield Problem(where, "not a JSON object")
            continue
        content = {k: obj.get(k) for k in ("html", "text") if isinstance(obj.get(k), str) and obj[k].strip()}
        if not content:
            yield Problem(where, "neither 'html' nor 'text'")
            continue
        good += 1
        url = obj.get("url") if isinstance(obj.get("url"), str) and obj["url"].strip() else None
        yield Article(
            url=url or f"{path.resolve().as_uri()}#line={number}",
            source=where,
            site=obj.get("site") if isinstance(obj.get("site"), str) else site,
            title=obj.get("title") if isinstance(obj.get("title"), str) else None,
            published=obj.get("published") if isinstance(obj.get("published"), str) else None,
            author=obj.get("author") if isinstance(obj.get("author"), str) else None,
            fetched=obj.get("fetched") if isinstance(obj.get("fetched"), str) else _now(),
            first_line_is_title="html" not in content and not obj.get("title"),
            **({"html": content["html"]} if "html" in content else {"text": content["text"]}),
        )


def _read_warc(path: Path, site: str | None) -> Iterator[Article | Problem]:
    number = 0
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                number += 1
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                ctype = (record.http_headers.get_header("Content-Type") or "").lower()
                if "html" not in ctype:
                    continue
                where = f"{path} record {number}"
                status = record.http_headers.get_statuscode()
                if status != "200":
                    yield Problem(where, f"HTTP status {status}, skipped")
                    continue
                body = record.content_stream().read(MAX_INPUT_BYTES + 1)
                charset = ctype.split("charset=")[1].split(";")[0].strip() if "charset=" in ctype else None
                try:
                    html = decode(body, declared=charset, html=True)
                except NotText as exc:
                    yield Problem(where, str(exc))
                    continue
                yield Article(
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    source=where,
                    site=site,
                    html=html,
                    fetched=record.rec_headers.get_header("WARC-Date") or _now(),
                )
    except ArchiveLoadFailed as exc:
        reason = "not a WARC file" if number == 0 else f"corrupt after record {number}"
        yield Problem(str(path), f"{reason} ({str(exc).splitlines()[0][:120]})")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        yield Problem(str(path), f"truncated after record {number} ({exc or 'unexpected end of data'})")
