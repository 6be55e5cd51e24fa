"""`collector report`: one self-contained HTML file to share (inline style and SVG, no script,
no external asset; it opens offline): the corpus figures, a site x site heat map of copies,
a time line of copies, the delay from origin to copy, the top groups with their lineage (tree
and time line, as on the lineage page) and the chrome each site had stripped most.

``--site`` keeps the copies whose origin or copy is on that site (and that site's chrome);
``--since`` the copies dated (published, else fetched) on or after the date.
"""

from __future__ import annotations

import collections
import html
import math
from dataclasses import dataclass
from datetime import datetime, timezone

from .core.dates import parse_time
from .export import check_date
from .storage.reading import snapshot, stream
from .web.group import delay_text, load_group
from .web.lineage_page import STYLE, Links, timeline_svg, tree_html

e = html.escape
TOP_GROUPS = 10
HEAT_SITES = 30
CHROME_LINES = 5


@dataclass
class Pair:
    """A copy the report is about, with what every section reads of it."""
    copy_id: int
    origin_id: int
    origin_site: str
    copy_site: str
    copy_time: str | None
    hours: float | None  # from the origin's time (published, else fetched) to the copy's
    undated: bool  # the copy has no publication date while its origin has one
    moment: datetime | None = None  # the copy's time, read


PAIRS_SQL = ("SELECT l.copy_id, l.origin_id, o.site, c.site, c.published, c.fetched, o.published, o.fetched"
             " FROM links l JOIN documents o ON o.id = l.origin_id JOIN documents c ON c.id = l.copy_id"
             " WHERE l.relation != 'duplicate'")


def _pairs(conn, site: str | None, since: str | None) -> list[Pair]:
    """The copies the report is about. Times are read in Python (``parse_time``, as the
    lineage page reads them), so both backends give the same report, to the minute."""
    sql, params = PAIRS_SQL, []
    if site:
        sql, params = sql + " AND (o.site = ? OR c.site = ?)", [site, site]
    floor = parse_time(since) if since else None
    pairs = []
    with stream(conn, sql + " ORDER BY l.copy_id", params) as rows:
        for row in rows:
            pair = _pair(*row)
            if floor is None or (pair.moment is not None and pair.moment >= floor):
                pairs.append(pair)
    return pairs


def _pair(copy_id, origin_id, origin_site, copy_site, c_pub, c_fetched, o_pub, o_fetched) -> Pair:
    copy_time = c_pub or c_fetched
    moment, start = parse_time(copy_time), parse_time(o_pub or o_fetched)
    hours = (moment - start).total_seconds() / 3600 if moment and start else None
    return Pair(copy_id, origin_id, origin_site, copy_site, copy_time, hours, c_pub is None and o_pub is not None, moment)


def _figures(conn, pairs: list[Pair], site, since) -> str:
    one = lambda sql, *p: conn.execute(sql, p).fetchone()  # noqa: E731
    docs, first, last = 0, None, None
    with stream(conn, "SELECT coalesce(published, fetched) FROM documents" + (" WHERE site = ?" if site else ""),
                [site] if site else []) as times:
        for (when,) in times:
            docs += 1  # the first and last as text, compared in Python: the same on both backends
            if when is not None:
                first, last = min(first or when, when), max(last or when, when)
    sites = one("SELECT count(DISTINCT site) FROM documents")[0]
    relations = dict(conn.execute("SELECT relation, count(*) FROM links GROUP BY relation").fetchall())
    copies, origins = len(pairs), len({p.origin_id for p in pairs})
    pair_sites = len({(p.origin_site, p.copy_site) for p in pairs})
    claims = one("SELECT count(*) FROM claims")[0]
    hours = sorted(p.hours for p in pairs if not p.undated and p.hours is not None)
    median = delay_text(hours[len(hours) // 2] * 3600) if hours else "?"
    rows = [
        ("documents" + (f" on {site}" if site else ""), f"{docs:,}"), ("sites", f"{sites:,}"),
        ("dated from / to", f"{e(first or '?')} / {e(last or '?')}"),
        ("links (all time): copy / excerpt / duplicate",
         " / ".join(f"{relations.get(k, 0):,}" for k in ("copy", "excerpt", "duplicate"))),
        ("copies in this report" + (f" since {since}" if since else ""), f"{copies:,} of {origins:,} origins, {pair_sites:,} site pairs"),
        ("median time from origin to copy", median), ("provenance claims", f"{claims:,}"),
    ]
    return "<table class='data figures'>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _heat_map(pairs: list[Pair]) -> str:
    counts = collections.Counter((p.origin_site, p.copy_site) for p in pairs)
    if not counts:
        return "<p class='meta'>No copies.</p>"
    weight: dict[str, int] = {}
    for (o, c), n in counts.items():
        weight[o] = weight.get(o, 0) + n
        weight[c] = weight.get(c, 0) + n
    top = sorted(weight, key=lambda s: (-weight[s], s))[:HEAT_SITES]
    origins = [s for s in top if any((s, c) in counts for c in top)]
    copiers = [s for s in top if any((o, s) in counts for o in top)]
    peak = max(counts.values())
    head = "<tr><th>origin ↓ copied by →</th>" + "".join(f"<th class='rot'>{e(s)}</th>" for s in copiers) + "</tr>"
    body = []
    for o in origins:
        cells = []
        for c in copiers:
            n = counts.get((o, c), 0)
            level = math.log1p(n) / math.log1p(peak) if n else 0
            color = f"rgba(11,92,173,{0.08 + 0.85 * level:.2f})" if n else "#fff"
            ink = "#fff" if level > 0.55 else "#222"
            cells.append(f"<td style='background:{color};color:{ink}' title='{e(c)} copied {e(o)} {n} times'>{n or ''}</td>")
        body.append(f"<tr><th>{e(o)}</th>{''.join(cells)}</tr>")
    note = f"<p class='meta'>The {len(top)} sites with the most copies made or taken; darker: more copies (log scale).</p>"
    return note + f"<table class='heat'>{head}{''.join(body)}</table>"


def _bars(values: list[tuple[str, int]], width: int = 960, height: int = 180, title: str = "") -> str:
    if not values:
        return "<p class='meta'>No copies.</p>"
    peak = max(n for _, n in values) or 1
    bar = (width - 60) / len(values)
    parts = [f"<svg class='timeline' viewBox='0 0 {width} {height + 40}' width='{width}' height='{height + 40}' xmlns='http://www.w3.org/2000/svg'><title>{e(title)}</title>"]
    label_every = max(1, math.ceil(len(values) / 12))
    for i, (label, n) in enumerate(values):
        h = n / peak * height
        x = 50 + i * bar
        parts.append(f"<rect x='{x:.1f}' y='{10 + height - h:.1f}' width='{max(1.0, bar - 1):.1f}' height='{h:.1f}' fill='#0b5cad'><title>{e(label)}: {n}</title></rect>")
        if i % label_every == 0:
            parts.append(f"<text x='{x:.1f}' y='{height + 28}'>{e(label)}</text>")
    parts.append(f"<text x='4' y='18'>{peak}</text><text x='4' y='{height + 10}'>0</text></svg>")
    return "".join(parts)


def _copies_over_time(pairs: list[Pair]) -> str:
    days = sorted(collections.Counter(p.moment.astimezone(timezone.utc).date().isoformat() for p in pairs if p.moment).items())
    if len(days) > 120:  # weeks
        weeks: dict[str, int] = {}
        for d, n in days:
            monday = datetime.fromisoformat(d).strftime("%G-W%V")
            weeks[monday] = weeks.get(monday, 0) + n
        days = list(weeks.items())
    return _bars(days, title="copies per day (or week) by the copy's date")


DELAY_BUCKETS = [(1, "< 1 h"), (6, "1-6 h"), (24, "6-24 h"), (72, "1-3 d"), (168, "3-7 d"), (720, "1-4 weeks"), (math.inf, "> 4 weeks")]


def _delays(pairs: list[Pair]) -> str:
    counts = {label: 0 for _, label in DELAY_BUCKETS}
    counts["before its origin"] = counts["undated"] = 0
    for hours, undated in ((p.hours, p.undated) for p in pairs):
        if undated or hours is None:
            counts["undated"] += 1
        elif hours < 0:
            counts["before its origin"] += 1
        else:
            counts[next(label for limit, label in DELAY_BUCKETS if hours < limit)] += 1
    total = sum(counts.values()) or 1
    rows = "".join(f"<tr><th>{e(k)}</th><td>{n:,}</td><td><span style='display:inline-block;height:.8em;background:#b35900;"
                   f"width:{300 * n / total:.0f}px'></span> {100 * n / total:.0f}%</td></tr>" for k, n in counts.items())
    return f"<table class='data delays'>{rows}</table>"


def _top_groups(conn, pairs: list[Pair]) -> str:
    sizes = collections.Counter(p.origin_id for p in pairs)
    top = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:TOP_GROUPS]
    links = Links(doc=lambda i: f"#doc-{i}", site=lambda key: None, page=lambda params: "#")
    out = []
    for rank, (origin_id, n) in enumerate(top, 1):
        group = load_group(conn, origin_id)
        group.query = 0  # no document is 'the one viewed' in a report
        o = group.origin
        out.append(f"<section class='group' id='group-{origin_id}'><h3>{rank}. “{e(o.title or '(untitled)')}”</h3>"
                   f"<p class='meta'>{e(o.site)}, {e(o.published or o.fetched or '?')}: {len(group.copies)} copies on "
                   f"{len(group.sites)} sites. <a href='{e(o.url)}'>{e(o.url)}</a></p>"
                   f"{tree_html(group, links)}{timeline_svg(group, links)}</section>")
    return "".join(out) or "<p class='meta'>No copies.</p>"


def _chrome(conn, site: str | None) -> str:
    sql = "SELECT site, line, documents FROM chrome_counts" + (" WHERE site = ?" if site else "")
    per_site: dict[str, list] = {}
    # ordered here, not by the view: PostgreSQL's collation may order text otherwise than SQLite
    for s, line, n in sorted(conn.execute(sql, [site] if site else []), key=lambda r: (r[0], -r[2], r[1])):
        lines = per_site.setdefault(s, [])
        if len(lines) < CHROME_LINES:
            lines.append((line, n))
    if not per_site:
        return "<p class='meta'>No chrome stripped.</p>"
    rows = "".join(f"<tr><th>{e(s)}</th><td>{n:,}</td><td><code>{e(line)}</code></td></tr>"
                   for s, lines in per_site.items() for line, n in lines)
    return f"<table class='data chrome'><tr><th>site</th><th>documents</th><th>line</th></tr>{rows}</table>"


def build_report(conn, site: str | None = None, since: str | None = None) -> str:
    """The report's page; ``conn`` a read-only ``sqlite3`` connection or a PostgreSQL ``Reader``."""
    check_date(since)
    with snapshot(conn):
        return _page(conn, _pairs(conn, site, since), site, since)


def _page(conn, pairs: list[Pair], site: str | None, since: str | None) -> str:
    scope = " ".join(filter(None, [f"site {site}" if site else "", f"since {since}" if since else ""])) or "whole corpus"
    made = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sections = [
        ("figures", "The corpus", _figures(conn, pairs, site, since)),
        ("heatmap", "Who copies whom: site x site", _heat_map(pairs)),
        ("copies-over-time", "Copies over time", _copies_over_time(pairs)),
        ("delays", "Time from origin to copy", _delays(pairs)),
        ("top-groups", "The most-copied stories", _top_groups(conn, pairs)),
        ("chrome", "Chrome stripped most, per site", _chrome(conn, site)),
    ]
    body = "".join(f"<h2 id='{k}'>{e(title)}</h2>{content}" for k, title, content in sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>collector report</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>body{{margin:1.5rem;background:#f8f9fb}}{STYLE}</style>"
        f"</head><body><div class='lg'><h1>Syndication report</h1><p class='lede'>{e(scope)}, written {made} by collector.</p>"
        f"{body}</div></body></html>"
    )


def write_report(conn, out: str, site: str | None = None, since: str | None = None) -> int:
    """``build_report`` written to ``out`` whole or not at all (a part file renamed into
    place); returns its size in bytes."""
    from pathlib import Path

    page = build_report(conn, site=site, since=since)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return len(page.encode())
