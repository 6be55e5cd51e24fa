"""Which documents to re-make: those whose rules changed since they were processed
(``collector.core.rules``), or all, narrowed by site and fetch date."""

from __future__ import annotations

import json

from ..core.rules import Rules, what_changed


def _stale(conn, rules: Rules, sites=()) -> list[tuple[str, str, dict | None]]:
    """(hash, site, its rules) of the rule sets that are not their site's today: a handful of
    rows, whatever the corpus' size."""
    out = []
    for digest, site, text in conn.execute("SELECT hash, site, rules FROM rule_sets ORDER BY site, first_used"):
        if rules.hash(site) != digest and (not sites or site in sites):
            out.append((digest, site, json.loads(text)))
    return out


def _unrecorded(conn, sites=()) -> dict[str, int]:
    """Documents per site with no rules recorded (stored before rule hashes were kept)."""
    total = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    if total == conn.execute("SELECT count(*) FROM raw_inputs").fetchone()[0]:
        return {}  # the usual case, told by two counts of small indexes
    where = f"AND site IN ({','.join('?' * len(sites))})" if sites else ""
    return dict(conn.execute(
        f"SELECT site, count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM raw_inputs r WHERE r.doc_id = d.id)"
        f" {where} GROUP BY site", list(sites)))


def rules_report(conn, rules: Rules, sites=()) -> list[dict]:
    """Per site whose documents were processed with other rules than today's: how many of
    its documents, and what differs. Read through ``rule_sets`` and the index on
    ``raw_inputs.rules_hash``: its cost follows the documents concerned."""
    found: dict[str, dict] = {}
    for digest, site, old in _stale(conn, rules, sites):
        n = conn.execute("SELECT count(*) FROM raw_inputs WHERE rules_hash = ?", (digest,)).fetchone()[0]
        if n:
            entry = found.setdefault(site, {"site": site, "stale": 0, "changed": []})
            entry["stale"] += n
            entry["changed"] += [c for c in what_changed(old, rules.of(site)) if c not in entry["changed"]]
    for site, n in _unrecorded(conn, sites).items():
        entry = found.setdefault(site, {"site": site, "stale": 0, "changed": []})
        entry["stale"] += n
        entry["changed"] += [c for c in what_changed(None, rules.of(site)) if c not in entry["changed"]]
    for site, entry in found.items():
        entry["documents"] = conn.execute("SELECT count(*) FROM documents WHERE site = ?", (site,)).fetchone()[0]
    return [found[site] for site in sorted(found)]


def rules_lines(report: list[dict], each: int = 5) -> list[str]:
    """The rules report in a few lines: sites with the same change together (a new alias
    changes every site's rules at once)."""
    by_change: dict[tuple, list[dict]] = {}
    for entry in report:
        by_change.setdefault(tuple(entry["changed"]), []).append(entry)
    lines = []
    for changed, entries in by_change.items():
        why = "; ".join(changed)
        if len(entries) <= each:
            lines += [f"rules changed: {e['site']}: {e['stale']} of {e['documents']} documents ({why})" for e in entries]
        else:
            named = ", ".join(e["site"] for e in entries[:each])
            lines.append(f"rules changed: {len(entries)} sites ({named}, ...): {sum(e['stale'] for e in entries)} documents ({why})")
    return lines


def select_documents(conn, rules: Rules, sites=(), since: str | None = None, everything: bool = False) -> list[int]:
    """Ids of the documents to reprocess, in id order (the order they were first stored)."""
    clauses, params = [], []
    if sites:
        clauses.append(f"d.site IN ({','.join('?' * len(sites))})")
        params.extend(sites)
    if since:
        clauses.append("d.fetched >= ?")
        params.append(since)
    where = " AND ".join(clauses) or "1 = 1"
    if everything:
        return [r[0] for r in conn.execute(f"SELECT d.id FROM documents d WHERE {where} ORDER BY d.id", params)]
    ids = []
    stale = [digest for digest, _, _ in _stale(conn, rules, sites)]
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        ids += [r[0] for r in conn.execute(
            f"SELECT d.id FROM raw_inputs r JOIN documents d ON d.id = r.doc_id WHERE r.rules_hash IN"
            f" ({','.join('?' * len(chunk))}) AND {where}", chunk + params)]
    if _unrecorded(conn, sites):
        ids += [r[0] for r in conn.execute(
            f"SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM raw_inputs r WHERE r.doc_id = d.id) AND {where}",
            params)]
    return sorted(set(ids))
