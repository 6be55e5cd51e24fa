"""Overviews the read commands print beside the database's own figures: the sites (configured
and seen) and the sites whose rules changed since their documents were processed."""

from __future__ import annotations

import os
import sqlite3

from .core.errors import ConfigError
from .core.sites import Sites


def rules_changed(db: str, config: str, extraction: str | None = None) -> list[dict]:
    """Sites whose rules changed since their documents were processed (``collector.core.rules``);
    none when the configs cannot be read or the database predates rule hashes. ``extraction``:
    the extraction mode now (default: the project's COLLECTOR_EXTRACTION)."""
    from .context import build_settings
    from .core.rules import Rules
    from .reprocess.selection import rules_report

    try:
        sites = Sites.load(config)
    except ConfigError:
        return []
    if db.startswith(("postgresql://", "postgres://")):
        from .storage.postgres.reading import Reader

        conn = Reader(db).conn
    else:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        mode = extraction if extraction is not None else build_settings().get("COLLECTOR_EXTRACTION")
        return rules_report(conn, Rules(sites, mode))
    except sqlite3.OperationalError:  # a database from before rule hashes were kept
        return []
    finally:
        conn.close()


def site_rows(configured: Sites, conn: sqlite3.Connection | None) -> list[dict]:
    """One row per site, configured or only seen in the database (``conn``, read-only; None
    when there is no database yet): name, sources, schedule, documents, last crawl."""
    counts, names, runs = {}, {}, {}
    if conn is not None:
        counts = dict(conn.execute("SELECT site, count(*) FROM documents GROUP BY site"))
        names = dict(conn.execute("SELECT key, name FROM sites"))
        if not isinstance(conn, sqlite3.Connection) or conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():  # (PostgreSQL: always there)
            for site, started, status in conn.execute(
                    "SELECT site, started, status FROM runs r WHERE id = (SELECT max(id) FROM runs WHERE site = r.site)"):
                runs[site] = {"started": started, "status": status}
    rows = []
    for key in sorted(set(configured.by_key) | set(counts) | set(names)):
        s = configured.get(key)
        rows.append({
            "site": key, "name": s.name if s else names.get(key, key), "configured": s is not None,
            "feeds": list(s.feeds) if s else [], "sitemaps": list(s.sitemaps) if s else [],
            "start_urls": list(s.start_urls) if s else [], "schedule": s.schedule if s else None,
            "documents": counts.get(key, 0), "last_crawl": runs.get(key),
        })
    return rows


def configured_sites(config: str) -> Sites:
    """The site configs of ``config``, or none when the folder does not exist."""
    return Sites.load(config) if os.path.isdir(config) else Sites([])
