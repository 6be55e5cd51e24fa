"""Rendering the documents into files of every input format, and the site configs."""

from __future__ import annotations

import collections
import gzip
import html as htmlmod
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.devset.build import Doc
from bench.devset.sites import SiteSpec


NAV = ["Home", "World", "Politics", "Business", "Opinion", "Sport"]


def _fetched_after(doc) -> str:
    """A WARC record is written when its page was fetched, some hours after it was published
    (a page cannot be fetched before it exists: collector does not believe such a date)."""
    if not doc.published_utc:
        return "2026-01-01T00:00:00Z"
    when = datetime.fromisoformat(doc.published_utc) + timedelta(hours=3)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def template_lines(site: SiteSpec) -> list[str]:
    return [f"© 2025 {site.name}. All rights reserved.", f"More from {site.name}", "Share on Facebook | Share on X | Email"]


def body_lines(doc: Doc) -> list[str]:
    """The article container's lines in page order: top chrome, attribution, body, bottom chrome."""
    top, bottom = doc._top, doc._bottom
    lines = list(top)
    if doc.attribution and doc.attr_top:
        lines += doc.attribution
    lines += doc.body
    if doc.attribution and not doc.attr_top:
        lines += doc.attribution
    return lines + list(bottom)


def render_html(doc: Doc, site: SiteSpec) -> str:
    e = htmlmod.escape
    head = [f'<meta charset="utf-8"><title>{e(doc.title)} | {e(site.name)}</title>',
            f'<meta property="og:title" content="{e(doc.title)}">',
            f'<meta property="og:site_name" content="{e(site.name)}">']
    if doc.url and doc.og_url:
        head.append(f'<meta property="og:url" content="{e(doc.url)}">')
    canonical = doc.canonical or doc.url
    if canonical:
        head.append(f'<link rel="canonical" href="{e(canonical)}">')
    if doc.published:
        head.append(f'<meta property="article:published_time" content="{e(doc.published)}">')
    nav = "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in NAV)
    paras = "\n".join(f"<p>{e(line)}</p>" for line in body_lines(doc))
    div = f'<div class="pp-donate"><p>{e(site.html_div)}</p></div>' if site.html_div else ""
    tmpl = template_lines(site)
    return f"""<!DOCTYPE html>
<html lang="en"><head>{''.join(head)}</head>
<body><header><div class="logo">{e(site.name)}</div><nav><ul>{nav}</ul></nav></header>
<main><article><h1>{e(doc.title)}</h1><p class="byline">By Staff Writer</p>
<div class="entry-content">
{paras}
{div}
</div>
<div class="share">{e(tmpl[2])}</div></article>
<aside><h3>{e(tmpl[1])}</h3><ul><li><a href="/latest">Latest headlines</a></li><li><a href="/popular">Most read</a></li></ul></aside></main>
<footer><p>{e(tmpl[0])}</p><p><a href="/about">About</a> | <a href="/privacy">Privacy</a> | <a href="/contact">Contact</a></p></footer>
</body></html>
"""


def render_txt(doc: Doc) -> str:
    lines = list(doc._top) + [doc.title, ""]
    if doc.attribution and doc.attr_top:
        lines += doc.attribution + [""]
    for p in doc.body:
        lines += [p, ""]
    if doc.attribution and not doc.attr_top:
        lines += doc.attribution + [""]
    for b in doc._bottom:
        lines += [b, ""]
    return "\n".join(lines)


def write_files(docs: list[Doc], sites: dict[str, SiteSpec], root: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    batches: dict[tuple, list[Doc]] = collections.defaultdict(list)
    for doc in docs:
        site = sites[doc.site]
        folder = root / doc.run / doc.site
        folder.mkdir(parents=True, exist_ok=True)
        base = doc.fmt.split(".")[0]
        gz = doc.fmt.endswith(".gz")
        if base in ("txt", "html"):
            content = render_txt(doc) if base == "txt" else render_html(doc, site)
            path = folder / f"{doc.key}.{base}{'.gz' if gz else ''}"
            data = content.encode("utf-8")
            path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
            doc.source = str(path)
            doc.template = template_lines(site) if base == "html" else []
        else:
            batches[(doc.run, doc.site, doc.fmt)].append(doc)
            doc.template = template_lines(site) if base in ("warc", "jsonl-html") else []
    for (run, site_key, fmt), group in sorted(batches.items()):
        site = sites[site_key]
        folder = root / run / site_key
        base = fmt.split(".")[0]
        if base == "warc":
            path = folder / f"{site_key}.warc.gz"
            with open(path, "wb") as fh:
                writer = WARCWriter(fh, gzip=True)
                for n, doc in enumerate(group, start=1):
                    payload = render_html(doc, site).encode("utf-8")
                    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
                    record = writer.create_warc_record(
                        doc.url, "response", payload=io.BytesIO(payload), http_headers=headers,
                        warc_headers_dict={"WARC-Date": doc.fetched or _fetched_after(doc)},
                    )
                    writer.write_record(record)
                    doc.source = f"{path} record {n}"
            continue
        gz = fmt.endswith(".gz")
        path = folder / f"{site_key}-{base}.jsonl{'.gz' if gz else ''}"
        lines = []
        for n, doc in enumerate(group, start=1):
            if base == "jsonl-html":
                obj = {"url": doc.url, "html": render_html(doc, site)}
            else:
                obj = {"url": doc.url, "title": doc.title, "text": "\n\n".join(body_lines(doc))}
                if doc.published:
                    obj["published"] = doc.published
            lines.append(json.dumps(obj, ensure_ascii=False))
            doc.source = f"{path} line {n}"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)


def write_configs(sites: dict[str, SiteSpec], folder: Path) -> None:
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    for site in sites.values():
        if site.configured:
            (folder / "sites" / f"{site.key}.yaml").write_text(site.config_yaml() + "\n", encoding="utf-8")


