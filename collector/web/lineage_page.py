"""The lineage page of a group: who copied whom (a tree), when (a time line), and what each
copy changed (a word diff against the document it copies, the chrome stripped from it, its
attribution lines). Plain HTML and inline SVG, no script and no external asset, so the same
pieces serve the Datasette page (``collector.web.plugin``) and the offline report.

A large group stays readable: its tree is collapsed by site, its time line has one lane per
site, and its copies are listed 25 a page (filterable by site).
"""

from __future__ import annotations

import html
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from .diff import word_diff
from .group import Group, Member, delay_text, details, load_group

STYLE = (Path(__file__).with_name("style.css")).read_text(encoding="utf-8")
PAGE_SIZE = 25
COLLAPSE_AT = 40  # members above which the tree shows one node per site
SITE_NODE_SHOWN = 12  # copies listed inside a collapsed site node
MAX_LANES = 24
COLORS = {"origin": "#1a7f37", "copy": "#0b5cad", "excerpt": "#8250df", "duplicate": "#777"}

e = html.escape


@dataclass
class Links:
    """Where names point: the lineage page of a document, a site's page (None: plain text)."""
    doc: Callable[[int], str] = lambda doc_id: f"/-/lineage/{doc_id}"
    site: Callable[[str], str | None] = lambda key: None
    page: Callable[[dict], str] = lambda params: "?" + urlencode(params)


def _site(key: str, links: Links) -> str:
    url = links.site(key)
    return f"<a class='site' href='{e(url)}'>{e(key)}</a>" if url else f"<span class='site'>{e(key)}</span>"


def _when(m: Member) -> str:
    value = m.published or m.fetched or "?"
    label = "published" if m.published else "fetched"
    return f"<span class='meta' title='{label}'>{label} {e(value)}</span>"


def _node(m: Member, group: Group, links: Links) -> str:
    here = " <span class='here'>◀ you are here</span>" if m.id == group.query else ""
    scores = ""
    if m.similarity is not None:
        scores = f" <span class='meta'>similarity {m.similarity:.2f}, containment {m.containment:.2f}</span>"
    delay = "" if m is group.origin else " " + _delay(m)
    return (
        f"<span class='node' data-doc-id='{m.id}' data-relation='{m.relation}' data-site='{e(m.site)}'>"
        f"<span class='rel rel-{m.relation}'>{m.relation}</span> {_site(m.site, links)} "
        f"<a href='{e(links.doc(m.id))}'>{e(m.title or '(untitled)')}</a>{delay}{scores}{here}</span>"
    )


def _delay(m: Member) -> str:
    if m.undated:
        return (f"<span class='delay undated' title='no publication date: fetched this long after the origin"
                f" was published'>undated, fetched {delay_text(m.delay)}</span>")
    return f"<span class='delay' title='after the origin'>{delay_text(m.delay)}</span>"


# --- who copied whom ------------------------------------------------------------------
def tree_html(group: Group, links: Links, page_of_site: Callable[[str], str] | None = None) -> str:
    children: dict[int, list[Member]] = {}
    for c in group.copies:
        children.setdefault(c.origin_id, []).append(c)

    def branch(parent: int) -> str:
        kids = children.get(parent, [])
        if not kids:
            return ""
        items = "".join(f"<li class='{'viewed' if c.id == group.query else ''}'>{_node(c, group, links)}{branch(c.id)}</li>" for c in kids)
        return f"<ul>{items}</ul>"

    origin = group.origin
    top = f"<li class='{'viewed' if origin.id == group.query else ''}'>{_node(origin, group, links)}"
    if len(group.members) <= COLLAPSE_AT:
        return f"<ul class='tree'>{top}{branch(origin.id)}</li></ul>"
    return f"<ul class='tree'>{top}<ul>{_site_nodes(group, links, page_of_site)}</ul></li></ul>"


def _site_nodes(group: Group, links: Links, page_of_site) -> str:
    """One collapsed node per copying site: its copies' count, relations and first delay."""
    by_site: dict[str, list[Member]] = {}
    for c in group.copies:
        by_site.setdefault(c.site, []).append(c)
    out = []
    for site, members in by_site.items():
        kinds = {}
        for m in members:
            kinds[m.relation] = kinds.get(m.relation, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        viewed = any(m.id == group.query for m in members)
        shown = members[:SITE_NODE_SHOWN]
        if viewed and all(m.id != group.query for m in shown):
            shown = shown[:-1] + [m for m in members if m.id == group.query]
        items = "".join(f"<li class='{'viewed' if m.id == group.query else ''}'>{_node(m, group, links)}</li>" for m in shown)
        if len(members) > len(shown):
            more = len(members) - len(shown)
            target = page_of_site(site) if page_of_site else None
            items += f"<li class='meta'>… {more} more" + (f" (<a href='{e(target)}'>list them</a>)" if target else "") + "</li>"
        out.append(
            f"<li class='site-node' data-site='{e(site)}'><details{' open' if viewed else ''}><summary>"
            f"{_site(site, links)} <b>{len(members)}</b> <span class='meta'>({summary}), first "
            f"</span>{_delay(members[0])}</summary><ul>{items}</ul></details></li>"
        )
    return "".join(out)


# --- when -----------------------------------------------------------------------------
_STEPS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
          14 * 86400, 30 * 86400, 91 * 86400, 182 * 86400, 365 * 86400, 730 * 86400]


def timeline_svg(group: Group, links: Links, width: int = 960) -> str:
    """Each document a dot at its time after the origin, one lane per site (the origin's
    first); copies without a publication date sit apart at the right, hollow."""
    ordered = [group.origin.site] + [s for s in group.sites if s != group.origin.site]
    lane_of = {s: min(i, MAX_LANES) for i, s in enumerate(ordered)}
    lanes = ordered[:MAX_LANES] + ([f"{len(ordered) - MAX_LANES} other sites"] if len(ordered) > MAX_LANES else [])
    dated = [m for m in group.copies if m.delay is not None and not m.undated]
    undated = {m.id for m in group.copies if m.undated or m.delay is None}
    delays = [m.delay for m in dated]
    lo, hi = min([0.0, *delays]), max([60.0, *delays])
    left, right, top, lane_h = 230, 30 + (70 if undated else 0), 34, 24
    span = width - left - right
    x = lambda s: left + (s - lo) / (hi - lo) * span  # noqa: E731
    height = top + lane_h * len(lanes) + 10
    step = next((s for s in _STEPS if (hi - lo) / s <= 8), _STEPS[-1])
    parts = [f"<svg class='timeline' viewBox='0 0 {width} {height}' width='{width}' height='{height}' role='img' "
             f"xmlns='http://www.w3.org/2000/svg'><title>Time line: each copy at its time after the origin</title>"]
    per_lane: dict[int, list[Member]] = {}
    for m in group.copies:
        per_lane.setdefault(lane_of.get(m.site, MAX_LANES), []).append(m)
    for i, name in enumerate(lanes):
        y = top + i * lane_h
        members = per_lane.get(i, [])
        first = next((m for m in members if m.delay is not None and not m.undated), None)
        label = f"{name} ({len(members) + (1 if i == 0 else 0)})" + (f" {delay_text(first.delay)}" if first and i else "")
        parts.append(f"<rect class='lane' x='0' y='{y}' width='{width}' height='{lane_h - 2}' />"
                     f"<text x='6' y='{y + 16}' class='lane-label'>{e(label[:34])}</text>")
    for k in range(math.ceil(lo / step), math.floor(hi / step) + 1):
        tx = x(k * step)
        parts.append(f"<line class='grid' x1='{tx:.1f}' y1='{top - 4}' x2='{tx:.1f}' y2='{height - 8}' />"
                     f"<text x='{tx:.1f}' y='{top - 10}' text-anchor='middle'>{delay_text(k * step) if k else 'origin'}</text>")
    parts.append(f"<line class='axis' x1='{left}' y1='{top - 4}' x2='{left + span}' y2='{top - 4}' />")
    if undated:
        parts.append(f"<text x='{width - 50}' y='{top - 10}' text-anchor='middle'>undated</text>")
    for m in [group.origin, *group.copies]:
        cx = width - 50 if m.id in undated else x(0.0 if m is group.origin else m.delay)
        cy = top + lane_of.get(m.site, MAX_LANES) * lane_h + 11
        tip = f"#{m.id} {m.site} {m.relation} " + ("(origin)" if m is group.origin else
                                                  f"undated, fetched {delay_text(m.delay)}" if m.id in undated else delay_text(m.delay))
        ring = (f"<circle cx='{cx:.1f}' cy='{cy}' r='10' fill='none' stroke='#f5b400' stroke-width='3' />"
                if m.id == group.query else "")
        color = COLORS.get(m.relation, "#777")
        if m is group.origin:
            mark = (f"<rect x='{cx - 6:.1f}' y='{cy - 6}' width='12' height='12' transform='rotate(45 {cx:.1f} {cy})'"
                    f" fill='{COLORS['origin']}' />")
        elif m.id in undated:
            mark = f"<circle cx='{cx:.1f}' cy='{cy}' r='5' fill='#fff' stroke='{color}' stroke-width='2' />"
        else:
            mark = f"<circle cx='{cx:.1f}' cy='{cy}' r='5' fill='{color}' fill-opacity='.8' />"
        parts.append(f"<a href='{e(links.doc(m.id))}' class='point' data-doc-id='{m.id}' data-relation='{m.relation}'>"
                     f"<title>{e(tip)}</title>{mark}{ring}</a>")
    parts.append("</svg>")
    legend = "".join(f"<span><svg width='12' height='12'><circle cx='6' cy='6' r='5' fill='{c}'/></svg> {k}</span>" for k, c in COLORS.items())
    return "".join(parts) + (f"<p class='legend meta'>{legend}<span>horizontal: time after the origin was published"
                             " (hollow, at the right: copies without a publication date)</span></p>")


# --- what changed ----------------------------------------------------------------------
def _claims_html(info: dict) -> str:
    claims = info.get("claims") or []
    if not claims:
        return "<p class='claim meta'>No attribution line or canonical link to another site.</p>"
    items = "".join(
        f"<li>{'attribution line' if c['kind'] == 'attribution' else 'canonical link'}"
        f" → <b>{e(c['claimed_site'] or c['claimed_name'] or c['claimed_url'] or '?')}</b>: <code>{e(c['evidence'])}</code></li>"
        for c in claims)
    return f"<ul class='claim'>{items}</ul>"


def _chrome_html(info: dict) -> str:
    lines = info.get("chrome") or []
    if not lines:
        return "<p class='chrome meta'>No chrome stripped.</p>"
    items = "".join(f"<li><code>{e(line)}</code></li>" for line in lines)
    return f"<details class='chrome'><summary>{len(lines)} chrome line{'s' if len(lines) != 1 else ''} stripped</summary><ul>{items}</ul></details>"


def copy_card(m: Member, group: Group, info: dict[int, dict], links: Links) -> str:
    target = next((x for x in group.members if x.id == m.origin_id), group.origin)
    diff = word_diff(info[target.id]["text"], info[m.id]["text"])
    against = "its origin" if target is group.origin else f"#{target.id} ({e(target.site)}), the document it duplicates"
    viewed = m.id == group.query
    return (
        f"<div class='card copy{' viewed' if viewed else ''}' id='doc-{m.id}' data-doc-id='{m.id}'>"
        f"<div>{_node(m, group, links)}</div>"
        f"<div class='meta'><a href='{e(m.url)}'>{e(m.url)}</a> · {_when(m)}</div>"
        f"<div class='meta'>linked because: {e(m.evidence or '?')}</div>"
        + (f"<div class='retitled'>Title changed: <del>{e(target.title or '')}</del> → <ins>{e(m.title or '')}</ins></div>"
           if (m.title or "") != (target.title or "") else "")
        + f"{_claims_html(info[m.id])}{_chrome_html(info[m.id])}"
        f"<details class='diff-box'{' open' if viewed or len(group.copies) <= 3 else ''}><summary>What changed against {against}: "
        f"<b class='diff-summary'>{e(diff.summary)}</b></summary><div class='diff'>{diff.html}</div></details></div>"
    )


def origin_card(group: Group, info: dict[int, dict], links: Links) -> str:
    o = group.origin
    viewed = o.id == group.query
    why = group.origin_evidence
    return (
        f"<div class='card origin{' viewed' if viewed else ''}' id='doc-{o.id}' data-doc-id='{o.id}'>"
        f"<div>{_node(o, group, links)}</div>"
        f"<div class='meta'><a href='{e(o.url)}'>{e(o.url)}</a> · {_when(o)}</div>"
        + (f"<div>Chosen as the origin because: <b class='why'>{e(why)}</b></div>" if why else "")
        + f"{_claims_html(info[o.id])}{_chrome_html(info[o.id])}</div>"
    )


def _page_numbers(total: int, current: int) -> list[int]:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    wanted = {1, pages, *range(current - 2, current + 3)}
    return [p for p in sorted(wanted) if 1 <= p <= pages]


def copies_section(conn, group: Group, links: Links, site: str | None, page: int | None) -> tuple[str, dict]:
    listed = [c for c in group.copies if not site or c.site == site]
    if page is None:  # open on the page that holds the viewed document
        index = next((i for i, c in enumerate(listed) if c.id == group.query), 0)
        page = index // PAGE_SIZE + 1
    pages = max(1, math.ceil(len(listed) / PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = listed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    info = details(conn, {group.origin.id, *(m.id for m in shown), *(m.origin_id for m in shown)})
    base = {"site": site} if site else {}
    nav = ""
    if pages > 1 or site:
        nav = "<p class='pager'>" + (f"Copies on <b>{e(site)}</b> only (<a href='{e(links.page({}))}'>all sites</a>). " if site else "")
        link = lambda p, text: f"<a href='{e(links.page({**base, 'page': p}) + '#copies')}'>{text}</a>"  # noqa: E731
        nav += (f"{len(listed)} copies, page {page} of {pages}: " + (link(page - 1, "‹ previous") + " " if page > 1 else "")
                + " ".join(f"<b>{p}</b>" if p == page else link(p, p) for p in _page_numbers(len(listed), page))
                + (" " + link(page + 1, "next ›") if page < pages else "") + "</p>")
    cards = "".join(copy_card(m, group, info, links) for m in shown) or "<p class='meta'>No copies found (yet).</p>"
    return nav + cards + nav, info


def render(conn: sqlite3.Connection, key, links: Links | None = None, site: str | None = None,
           page: int | None = None) -> tuple[str, str] | None:
    """(title, body HTML) of the lineage page of the document ``key`` (id or URL); None if unknown."""
    links = links or Links()
    group = load_group(conn, key)
    if group is None:
        return None
    copies, info = copies_section(conn, group, links, site, page)
    o = group.origin
    sites = group.sites
    last = max((c.delay for c in group.copies if c.delay is not None), default=None)
    lede = (f"<b>{e(o.site)}</b> published it first ({e(o.published or o.fetched or '?')}); "
            f"<b>{len(group.copies)}</b> cop{'y' if len(group.copies) == 1 else 'ies'} on <b>{len(sites)}</b> site{'' if len(sites) == 1 else 's'}"
            + (f", the last {delay_text(last)} later." if last is not None else ".")) if group.copies else "No copies or origin found (yet)."
    page_of_site = lambda s: links.page({"site": s}) + "#copies"  # noqa: E731
    body = (
        f"<div class='lg'><h1>Lineage of “{e(o.title or '(untitled)')}”</h1><p class='lede'>{lede}</p>"
        f"<h2 id='origin'>The origin</h2>{origin_card(group, info, links)}"
        f"<h2 id='tree'>Who copied whom</h2>{tree_html(group, links, page_of_site)}"
        f"<h2 id='timeline'>When</h2>{timeline_svg(group, links)}"
        f"<h2 id='copies'>What each copy changed</h2>{copies}</div>"
    )
    return f"Lineage of #{group.query}: {o.title or o.url}", body
