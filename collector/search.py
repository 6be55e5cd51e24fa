"""Full-text search that accepts what a person types.

FTS5's query language treats ``'``, ``-``, ``.``, ``:``, ``*``, ``(`` and the words AND, OR,
NOT and NEAR as syntax, so ``Trump's``, ``covid-19``, ``U.S.``, ``e-mail`` or ``AND`` typed
into a search box is an error or means something else. ``fts_query`` turns the typed text
into a query that means what the person meant: every word must occur (operators are words
too), a "quoted phrase" must occur as a phrase, a word ending in ``*`` matches as a prefix.
Datasette's own table search (``?_search=``) quotes words the same way; the canned query and
``collector search`` use this function (registered in SQLite as ``fts_query(text)``).
"""

from __future__ import annotations

import re

from sqlite_utils import Database

# A quoted phrase (the closing quote may be missing) or a run of non-space characters.
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD_CHAR = re.compile(r"[^\W_]")  # what FTS5's unicode61 tokenizer keeps: letters and digits


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_query(text: str | None) -> str:
    """The FTS5 query for ``text`` as typed; '' when it holds no word to look for."""
    parts = []
    for phrase, word in _TOKEN.findall(text or ""):
        if phrase:
            if _WORD_CHAR.search(phrase):
                parts.append(_quoted(phrase))
            continue
        prefix = len(word) > 1 and word.endswith("*")
        word = word.rstrip("*")
        if _WORD_CHAR.search(word):  # a lone "-" or "&" is no word to look for
            parts.append(_quoted(word) + (" *" if prefix else ""))
    return " ".join(parts)


SEARCH_SQL = """
SELECT d.id, d.url, d.site, d.title, d.published, d.fetched,
       snippet(documents_fts, -1, '[', ']', '…', 16) AS snippet
FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid
WHERE documents_fts MATCH :query {site}
ORDER BY rank LIMIT :limit OFFSET :offset"""


def search(db: Database, text: str, site: str | None = None, limit: int = 20, offset: int = 0) -> dict:
    """Documents matching ``text`` (best first), each with a snippet; ``total`` counts them all."""
    query = fts_query(text)
    if not query:
        return {"query": text, "total": 0, "results": []}
    where = "AND d.site = :site" if site else ""
    params = {"query": query, "site": site, "limit": limit, "offset": offset}
    total = db.execute(
        "SELECT count(*) FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid"
        f" WHERE documents_fts MATCH :query {where}", params).fetchone()[0]
    results = list(db.query(SEARCH_SQL.format(site=where), params))
    return {"query": text, "total": total, "results": results}
