"""The one place for the SQLite schema, as versioned sqlite-utils migrations.

A schema change is a new migration appended here; never edit an applied one.
"""

from sqlite_utils import Database, Migrations

migrations = Migrations("collector")


#: The first schema (m001_core), statement by statement, in the order they ran.
_M001_STATEMENTS = (
    """
        CREATE TABLE sites (
            key TEXT PRIMARY KEY,           -- the site config's file stem, or a host
            name TEXT NOT NULL,             -- display name
            domains TEXT,                   -- JSON list of hosts
            aliases TEXT,                   -- JSON list of names used in attribution lines
            config TEXT                     -- path of the YAML file, NULL for unconfigured hosts
        )""",
    """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,       -- article URL; file:// URI for local files without one
            site TEXT NOT NULL,             -- sites.key
            title TEXT,
            author TEXT,
            published TEXT,                 -- ISO-8601 with time and zone when the page has them
            fetched TEXT NOT NULL,          -- ISO-8601 UTC: when collected
            source TEXT,                    -- spider name or file path (record/line) it came from
            text TEXT NOT NULL,             -- cleaned article text, paragraphs on lines
            chrome TEXT NOT NULL,           -- JSON list of the lines stripped from it
            canonical_url TEXT,
            sitename TEXT,                  -- the site name the page states
            language TEXT,
            content_hash TEXT NOT NULL,     -- of the raw input: unchanged input is skipped
            words INTEGER NOT NULL,
            shingles INTEGER NOT NULL,      -- size of the shingle set
            signature BLOB NOT NULL         -- MinHash values (uint32), see fingerprint_params
        )""",
    "CREATE INDEX documents_site ON documents(site)",
    "CREATE INDEX documents_canonical ON documents(canonical_url)",
    "CREATE INDEX documents_content ON documents(content_hash)",
    """
        CREATE TABLE fingerprint_params (  -- what every stored signature depends on
            key TEXT PRIMARY KEY, value TEXT NOT NULL
        )""",
    """
        CREATE TABLE lsh_buckets (
            band INTEGER NOT NULL, bucket INTEGER NOT NULL, doc_id INTEGER NOT NULL,
            PRIMARY KEY (band, bucket, doc_id)
        ) WITHOUT ROWID""",
    """
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id),
            kind TEXT NOT NULL,             -- 'attribution' (a line in the text) or 'canonical'
            claimed_site TEXT,              -- sites.key when the name or URL resolves, else NULL
            claimed_name TEXT,              -- the name as written
            claimed_url TEXT,
            evidence TEXT NOT NULL          -- the line or link that makes the claim
        )""",
    "CREATE INDEX claims_doc ON claims(doc_id)",
    "CREATE INDEX claims_site ON claims(claimed_site)",
    """
        CREATE TABLE links (              -- one row per copy: its origin and how it relates
            copy_id INTEGER PRIMARY KEY REFERENCES documents(id),
            origin_id INTEGER NOT NULL REFERENCES documents(id),
            relation TEXT NOT NULL,         -- duplicate | copy | excerpt
            similarity REAL NOT NULL,       -- Jaccard of the two shingle sets
            containment REAL NOT NULL,      -- share of the copy's shingles found in the origin
            evidence TEXT NOT NULL          -- why this document is the origin
        )""",
    "CREATE INDEX links_origin ON links(origin_id)",
    """
        CREATE TABLE chrome_lines (       -- lines known to be site chrome, beyond the config
            site TEXT NOT NULL, line TEXT NOT NULL,
            rule TEXT NOT NULL,             -- 'learned': repeated across the site's documents
            documents INTEGER NOT NULL,     -- documents it was seen in when learned
            learned TEXT NOT NULL,
            PRIMARY KEY (site, line)
        )""",
    """
        CREATE TABLE line_sightings (
            site TEXT NOT NULL, line_hash INTEGER NOT NULL, doc_id INTEGER NOT NULL,
            title_key INTEGER NOT NULL,     -- documents with one title count once
            PRIMARY KEY (site, line_hash, doc_id)
        ) WITHOUT ROWID""",
    """
        CREATE VIEW lineage AS             -- one row per copy, with its origin
        SELECT l.copy_id, c.url AS copy_url, c.site AS copy_site, c.title AS copy_title,
               c.published AS copy_published,
               l.origin_id, o.url AS origin_url, o.site AS origin_site, o.title AS origin_title,
               o.published AS origin_published,
               l.relation, l.similarity, l.containment, l.evidence
        FROM links l JOIN documents c ON c.id = l.copy_id JOIN documents o ON o.id = l.origin_id""",
    """
        CREATE VIEW site_chrome AS         -- what each site had stripped, most frequent first
        SELECT d.site, j.value AS line, count(*) AS documents
        FROM documents d, json_each(d.chrome) j
        GROUP BY d.site, j.value ORDER BY d.site, documents DESC""",
)


@migrations()
def m001_core(db: Database) -> None:
    for statement in _M001_STATEMENTS:
        db.execute(statement)
    db["documents"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")


@migrations()
def m002_crawl(db: Database) -> None:
    """Crawling: conditional-request validators of feeds and sitemaps, and scheduled runs."""
    db.execute(
        """
        CREATE TABLE source_validators (  -- what a feed or sitemap answered last time, for
                                            -- If-None-Match / If-Modified-Since next time
            url TEXT PRIMARY KEY,           -- the feed or sitemap URL as requested
            site TEXT NOT NULL,             -- sites.key
            kind TEXT NOT NULL,             -- 'feed', 'sitemap' or 'sitemapindex' (never asked conditionally)
            etag TEXT,                      -- the ETag header, sent back as If-None-Match
            last_modified TEXT,             -- the Last-Modified header, sent back as If-Modified-Since
            checked TEXT NOT NULL           -- ISO-8601 UTC: end of the crawl that read it in full
        )"""
    )
    db.execute(
        """
        CREATE TABLE runs (               -- one row per crawl that `collector schedule` started
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,             -- sites.key
            started TEXT NOT NULL,          -- ISO-8601 UTC
            ended TEXT,                     -- NULL while running
            status TEXT NOT NULL,           -- running | ok | failed | interrupted | killed | abandoned
            exit_status INTEGER,            -- of the crawl process (negative: killed by that signal)
            pages_fetched INTEGER,          -- HTTP responses for feeds, sitemaps and pages
            new_documents INTEGER,
            errors INTEGER,                 -- faults reported (URL and reason in the crawl's log)
            error_kinds TEXT                -- JSON object: fault kind -> count
        )"""
    )
    db.execute("CREATE INDEX runs_site ON runs(site, started)")



@migrations()
def m003_url_aliases(db: Database) -> None:
    """Crawling: URLs that redirected to a stored document, so they are not fetched again."""
    db.execute(
        """
        CREATE TABLE url_aliases (        -- a requested URL that redirected to a document's URL
            alias TEXT PRIMARY KEY,         -- the URL as requested (normalised)
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE
        )"""
    )
    db.execute("CREATE INDEX url_aliases_doc ON url_aliases(doc_id)")


@migrations()
def m004_claim_urls(db: Database) -> None:
    """Linking: find documents by the URL a claim names, and claims naming a URL."""
    db.execute("CREATE INDEX claims_url ON claims(claimed_url)")


@migrations()
def m005_lsh_recent(db: Database) -> None:
    """New LSH rows go to a small table merged into lsh_buckets in bulk (see collector.storage.lsh)."""
    db.execute(
        """
        CREATE TABLE lsh_recent (
            band INTEGER NOT NULL, bucket INTEGER NOT NULL, doc_id INTEGER NOT NULL,
            PRIMARY KEY (band, bucket, doc_id)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """
        CREATE VIEW lsh_index AS           -- every document's band keys, wherever they are
        SELECT band, bucket, doc_id FROM lsh_buckets UNION ALL SELECT band, bucket, doc_id FROM lsh_recent"""
    )


@migrations()
def m006_fts_per_batch(db: Database) -> None:
    """New documents enter the FTS index once per batch, from the store (collector.storage)."""
    db.execute("DROP TRIGGER IF EXISTS documents_ai")


@migrations()
def m009a_published_normalised(db: Database) -> None:
    """Dates: every stored ``published`` brought to ISO-8601 (``collector.core.dates``); a value that
    is not a readable date moves to ``published_raw`` and ``published`` becomes NULL."""
    from collector.core.dates import normalize_date

    # the value as written, when it is not a readable date
    db.execute("ALTER TABLE documents ADD COLUMN published_raw TEXT")
    rows = db.execute("SELECT id, published, language FROM documents WHERE published IS NOT NULL").fetchall()
    for doc_id, published, language in rows:
        value = normalize_date(published, language)
        if value != published:
            raw = published if value is None else None
            db.execute("UPDATE documents SET published = ?, published_raw = ? WHERE id = ?", [value, raw, doc_id])


@migrations()
def m010a_url_identity(db: Database) -> None:
    """One URL identity (collector.core.urls): every stored URL in its canonical form, aliases
    that say why they name a document, and where a document's date came from."""
    db.execute("ALTER TABLE url_aliases ADD COLUMN kind TEXT NOT NULL DEFAULT 'redirect'")
    # 'page' (the page states it), 'source' (given with the input: a JSONL field), 'feed' or
    # 'sitemap' (the entry that listed the page, used when the page states no date).
    db.execute("ALTER TABLE documents ADD COLUMN published_from TEXT")
    db.execute("UPDATE documents SET published_from = 'page' WHERE published IS NOT NULL")
    from .url_identity import migrate_urls

    migrate_urls(db.conn)


# A document's chrome as a set of lines (each line counts once a document); invalid JSON as none.
_CHROME_OF = "SELECT DISTINCT value AS line FROM json_each(CASE WHEN json_valid({0}.chrome) THEN {0}.chrome ELSE '[]' END)"


@migrations()
def m014a_chrome_counts(db: Database) -> None:
    """Browsing: what each site had stripped, counted as documents are written (triggers), so
    ``site_chrome`` reads a small table instead of unpacking every document's chrome (2.8 s
    for its Datasette page at 100,000 documents; bench/serve.py)."""
    db.execute(
        """
        CREATE TABLE chrome_counts (       -- per site and stripped line, the documents it was stripped from
            site TEXT NOT NULL, line TEXT NOT NULL, documents INTEGER NOT NULL,
            PRIMARY KEY (site, line)
        ) WITHOUT ROWID"""
    )
    add = ("INSERT INTO chrome_counts (site, line, documents) SELECT new.site, line, 1 FROM ("
           + _CHROME_OF.format("new") + ") WHERE true ON CONFLICT (site, line) DO UPDATE SET documents = documents + 1;")
    remove = ("UPDATE chrome_counts SET documents = documents - 1 WHERE site = old.site AND line IN ("
              + _CHROME_OF.format("old") + "); DELETE FROM chrome_counts WHERE site = old.site AND documents <= 0;")
    db.execute(f"CREATE TRIGGER chrome_counts_ai AFTER INSERT ON documents BEGIN {add} END")
    db.execute(f"CREATE TRIGGER chrome_counts_ad AFTER DELETE ON documents BEGIN {remove} END")
    db.execute(f"CREATE TRIGGER chrome_counts_au AFTER UPDATE OF site, chrome ON documents BEGIN {remove} {add} END")
    db.execute(
        "INSERT INTO chrome_counts (site, line, documents) SELECT d.site, j.value, count(DISTINCT d.id) FROM documents d,"
        " json_each(CASE WHEN json_valid(d.chrome) THEN d.chrome ELSE '[]' END) j GROUP BY d.site, j.value")
    db.execute("DROP VIEW site_chrome")
    db.execute(
        """
        CREATE VIEW site_chrome AS         -- what each site had stripped, most frequent first
        SELECT site, line, documents FROM chrome_counts ORDER BY site, documents DESC, line"""
    )


@migrations()
def m013a_raw_inputs(db: Database) -> None:
    """Raw inputs and rules: where each document's raw page is, the rules that made it, and
    the queue of an unfinished ``reprocess`` (collector.crawl.archive, collector.reprocess.store)."""
    db.execute(
        """
        CREATE TABLE raw_inputs (         -- one row per document
            doc_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
            raw_ref TEXT,                   -- archive file#offset=N, or imported path[#record=N|#line=N]
            rules_hash TEXT NOT NULL,       -- rule_sets.hash of the rules it was processed with
            processed TEXT NOT NULL         -- ISO-8601 UTC
        )"""
    )
    db.execute("CREATE INDEX raw_inputs_rules ON raw_inputs(rules_hash)")
    db.execute(
        """
        CREATE TABLE rule_sets (          -- the rules behind each rules_hash (collector.rules)
            hash TEXT PRIMARY KEY, site TEXT NOT NULL, rules TEXT NOT NULL, first_used TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE reprocess_queue (    -- documents an unfinished reprocess has still to do
            doc_id INTEGER PRIMARY KEY
        )"""
    )


@migrations()
def m015a_runs_worker(db: Database) -> None:
    """Where each crawl ran (a Scrapyd node's job, or a process on a host): the log to read."""
    db.execute("ALTER TABLE runs ADD COLUMN worker TEXT")  # "job ID on NODE-URL" or "pid N on HOST"


def migrate(db: Database) -> None:
    migrations.apply(db)
