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
    """Documents matching ``text`` (best first), each with a snippet; ``total`` counts them all.
    ``db``: a sqlite-utils ``Database``, or a PostgreSQL ``Reader`` (``search_postgres``)."""
    if getattr(db, "postgres", False):
        return search_postgres(db, text, site, limit, offset)
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


# --- PostgreSQL: the same typed text, as a tsquery over ``documents.fts`` --------------------


def ts_query(text: str | None) -> tuple[str, list[str]]:
    """The tsquery expression (SQL) and its parameters for ``text`` as typed, read as
    ``fts_query`` reads it: every word must occur, a "quoted phrase" as a phrase, ``word*``
    as a prefix. Each word or phrase goes through ``phraseto_tsquery`` (PostgreSQL's parser
    cuts it as it cut the documents: ``covid-19`` or ``U.S.`` match where they were written);
    a prefix is its word's letters and digits with ``:*``. ('', []) when there is no word."""
    parts, params = [], []
    for phrase, word in _TOKEN.findall(text or ""):
        if phrase:
            if _WORD_CHAR.search(phrase):
                parts.append("phraseto_tsquery('simple', %s)")
                params.append(phrase)
            continue
        prefix = len(word) > 1 and word.endswith("*")
        word = word.rstrip("*")
        if not _WORD_CHAR.search(word):
            continue
        if prefix:
            parts.append("to_tsquery('simple', %s)")
            words = re.findall(r"[^\W_]+", word.lower())  # safe in tsquery syntax
            params.append(" <-> ".join([*words[:-1], words[-1] + ":*"]))
        else:
            parts.append("phraseto_tsquery('simple', %s)")
            params.append(word)
    return " && ".join(parts), params


def search_postgres(reader, text: str, site: str | None = None, limit: int = 20, offset: int = 0) -> dict:
    """``search`` on PostgreSQL: ranked by ``ts_rank_cd`` (FTS5 ranks by bm25: the same
    documents match, the order among them may differ), the snippet by ``ts_headline``."""
    expression, params = ts_query(text)
    if not expression:
        return {"query": text, "total": 0, "results": []}
    where = " AND d.site = %s" if site else ""
    scope = [*params, *([site] if site else [])]
    cur = reader.conn.cursor()
    total = cur.execute(f"SELECT count(*) FROM documents d WHERE d.fts @@ ({expression}){where}", scope).fetchone()[0]
    cur.execute(
        f"WITH q AS (SELECT {expression} AS q) SELECT d.id, d.url, d.site, d.title, d.published, d.fetched,"
        " ts_headline('simple', d.text, q.q, 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, ShortWord=0,"
        " MaxFragments=1, FragmentDelimiter=…') AS snippet"
        f" FROM documents d, q WHERE d.fts @@ q.q{where} ORDER BY ts_rank_cd(d.fts, q.q) DESC, d.id"
        " LIMIT %s OFFSET %s", [*scope, limit, offset])
    columns = [c.name for c in cur.description]
    return {"query": text, "total": total, "results": [dict(zip(columns, row)) for row in cur]}
