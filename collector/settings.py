"""Scrapy settings for collector, and the defaults of every COLLECTOR_* setting.

Override per run with ``-s NAME=VALUE`` (``scrapy crawl``) or the CLI's options.
"""

import os

BOT_NAME = "collector"
SPIDER_MODULES = ["collector.spiders"]
NEWSPIDER_MODULE = "collector.spiders"


def _env_float(name: str, default: float) -> float:
    """A number setting from the environment; a bad value stops with one line."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r}: not a number") from None


def _env_int(name: str, default: int) -> int:
    """A whole-number setting from the environment; a bad value stops with one line."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r}: not a whole number") from None


# --- imports and crawls -------------------------------------------------------------
#: The SQLite database file (`collector --db`). Created, with its folder's -wal and -shm
#: files beside it, on first write.
COLLECTOR_DB = os.environ.get("COLLECTOR_DB", "collector.db")
#: The folder of site configs (`collector --config`): sites/KEY.yaml, one per site, and
#: chrome.yaml, the chrome of every site (docs/configs.md).
COLLECTOR_CONFIG = os.environ.get("COLLECTOR_CONFIG", "configs")
#: Documents per SQLite transaction at most: a kill loses at most this many, and a re-run
#: redoes them. Larger batches write each page of the LSH and full-text indexes fewer times:
#: 1,000 costs 10-15% less per document than 200 (bench/stages.py). A batch also ends after
#: COLLECTOR_COMMIT_INTERVAL seconds, whatever its size.
COLLECTOR_BATCH_SIZE = _env_int("COLLECTOR_BATCH_SIZE", 1000)
#: How trafilatura extracts articles: "precision-unless-short" (default), "precision" or
#: "standard" (pipelines/extract.py compares them; python -m bench.extraction measures them).
COLLECTOR_EXTRACTION = os.environ.get("COLLECTOR_EXTRACTION") or "precision-unless-short"
#: Documents whose LSH rows wait in the small ``lsh_recent`` table before an import or crawl
#: ends by merging them into the big index in key order (collector/storage/lsh.py explains why).
COLLECTOR_LSH_RECENT_DOCUMENTS = _env_int("COLLECTOR_LSH_RECENT_DOCUMENTS", 20_000)
#: Download stored article URLs again (``collector crawl --refresh``), and ask feeds and
#: sitemaps unconditionally (no If-None-Match / If-Modified-Since).
COLLECTOR_REFRESH = False

# --- crawling (collector.crawl.report, collector.spiders, collector.crawl.middlewares) ----------------
#: A sitemap larger than this once decompressed is refused: the sitemap protocol caps a
#: sitemap at 50 MB uncompressed, while a gzip bomb of a few hundred KB inflates to GBs.
COLLECTOR_SITEMAP_MAXSIZE = 50 * 1024 * 1024
#: Retries wait COLLECTOR_RETRY_BACKOFF * 2**(n-1) seconds before the n-th retry (1, 2, 4 s
#: by default), capped at COLLECTOR_RETRY_BACKOFF_MAX: a server answering 503 under load gets
#: room to recover instead of three requests in the same second.
COLLECTOR_RETRY_BACKOFF = 1.0
#: The longest wait between two retries, in seconds (see COLLECTOR_RETRY_BACKOFF).
COLLECTOR_RETRY_BACKOFF_MAX = 60.0
#: Seconds a batch may hold SQLite's write lock, whatever its size (imports and crawls): other
#: writers of the file (crawls, imports, the scheduler) wait at most about this long, and a
#: kill loses at most this long's work. A crawl with no document to write commits at once.
COLLECTOR_COMMIT_INTERVAL = _env_float("COLLECTOR_COMMIT_INTERVAL", 1.0)
#: Seconds a writer waits for another's lock before it stops with exit status 75 (nothing
#: is lost; the same command run again finishes the work). Waits are normally under a second.
COLLECTOR_LOCK_TIMEOUT = _env_float("COLLECTOR_LOCK_TIMEOUT", 600.0)
#: Seconds ``PRAGMA quick_check`` may spend on a database when it is opened (a damaged page is
#: then refused with one line before anything is written); 0 turns the check off.
COLLECTOR_QUICK_CHECK_SECONDS = _env_float("COLLECTOR_QUICK_CHECK_SECONDS", 1.0)
#: A file every writer appends its lock waits to, one line of seconds per batch (bench/soak.py).
COLLECTOR_LOCK_WAIT_LOG = os.environ.get("COLLECTOR_LOCK_WAIT_LOG") or None
#: Crawls: processes that extract article text (trafilatura, CPU-bound) beside the one that
#: downloads, so extraction does not stall the downloader and a second core is used. 0: in
#: the crawl's own process. See bench/crawl.py for what it gains.
COLLECTOR_EXTRACT_PROCESSES = 0
#: Link-following: at most this many pages (start pages, sections, listings) followed per
#: site per crawl (0: no limit). Articles found on them are not counted.
COLLECTOR_PAGE_BUDGET = 2000
#: `collector schedule`: at most this many crawls (of different sites) at once; others wait.
COLLECTOR_SCHEDULE_MAX_CRAWLS = 4
#: `collector schedule`: seconds a crawl gets to stop after SIGTERM before it is killed.
COLLECTOR_SCHEDULE_STOP_TIMEOUT = 60.0
#: `collector schedule`: Scrapyd nodes to send the crawls to (URLs, separated by commas or
#: spaces; docs/scrapyd.md). Empty: crawls run as local processes. Credentials come from
#: COLLECTOR_SCRAPYD_USERNAME and COLLECTOR_SCRAPYD_PASSWORD(_FILE) in the environment only.
COLLECTOR_SCRAPYD_NODES = os.environ.get("COLLECTOR_SCRAPYD_NODES", "")
#: The Scrapyd project the egg was uploaded as (scrapy.cfg's [deploy] project).
COLLECTOR_SCRAPYD_PROJECT = os.environ.get("COLLECTOR_SCRAPYD_PROJECT", "collector")
#: The egg version the nodes run (empty: each node's latest upload).
COLLECTOR_SCRAPYD_VERSION = os.environ.get("COLLECTOR_SCRAPYD_VERSION", "")
#: The database as the nodes see it, sent with every job (empty: the scheduler's own --db, absolute).
COLLECTOR_SCRAPYD_DB = os.environ.get("COLLECTOR_SCRAPYD_DB", "")
#: The config folder as the nodes see it, sent with every job (empty: the scheduler's own
#: --config, absolute). The egg carries no configs: docs/scrapyd.md says why.
COLLECTOR_SCRAPYD_CONFIG = os.environ.get("COLLECTOR_SCRAPYD_CONFIG", "")
#: The ``runs`` row a crawl completes instead of opening its own: sent by `collector schedule`
#: with each Scrapyd job, so the run's outcome is the crawl's own (Scrapyd reports no exit status).
COLLECTOR_RUN_ID = None

# --- the raw archive (collector.crawl.archive) -------------------------------------------------
#: Keep every page a crawl fetches as it came, in WARC files (warcio, gzip per record).
COLLECTOR_ARCHIVE_ENABLED = os.environ.get("COLLECTOR_ARCHIVE_ENABLED", "1") not in ("0", "false", "False", "off")
#: The archive's folder; empty: beside the database, named after it (corpus.db -> corpus.warc/).
COLLECTOR_ARCHIVE = os.environ.get("COLLECTOR_ARCHIVE", "")
#: A new WARC file is started once one reaches this size (the usual 1 GB of web archives).
COLLECTOR_ARCHIVE_MAX_SIZE = _env_int("COLLECTOR_ARCHIVE_MAX_SIZE", 1024 * 1024 * 1024)
#: gzip level of each record: 6 compresses HTML nearly as well as 9 (about 2% larger) in a
#: third of the time (bench/reprocess.py measures the archive's share of a crawl).
COLLECTOR_ARCHIVE_GZIP_LEVEL = 6
#: Which responses are archived, by request kind: "article" pages; add "page" (pages followed
#: for links), "feed", "sitemap" to keep those too.
COLLECTOR_ARCHIVE_KINDS = ["article"]

# The data's path: the same stages, in the same order, for crawls and imports. They are the
# base, as Scrapy's own components are in DOWNLOADER_MIDDLEWARES_BASE: ITEM_PIPELINES adds a
# stage or, with the value None, turns one off, for `collector import` (-s) and any crawl alike:
#   -s 'ITEM_PIPELINES={"pipelines.learn.LearnChromePipeline": null}'
ITEM_PIPELINES = {}
# The stages, by priority: extract, clean, attribute, fingerprint, store, provenance, link,
# learn chrome (docs/pipeline.md). Change them through ITEM_PIPELINES, not here.
ITEM_PIPELINES_BASE = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.attribute.AttributePipeline": 300,
    "pipelines.fingerprint.FingerprintPipeline": 400,
    "pipelines.store.StorePipeline": 500,
    "pipelines.provenance.ProvenancePipeline": 550,
    "pipelines.link.LinkPipeline": 600,
    "pipelines.learn.LearnChromePipeline": 700,
}

# --- distributed mode: crawl nodes and one linker (docs/postgresql.md, "The inbox") -----------
#: A postgresql:// URL: this process is a crawl node (or an import feeding a backfill). It runs
#: the extract stage only and hands each extracted document to the ``inbox`` table there, for
#: ``collector link-worker`` to store and link; it still reads the store (COLLECTOR_DB) to skip
#: stored URLs and to send conditional requests. The stages are NODE_ITEM_PIPELINES_BASE then.
COLLECTOR_INBOX = os.environ.get("COLLECTOR_INBOX") or None
#: The stages of a crawl node or a feeding import: extract, then the inbox.
NODE_ITEM_PIPELINES_BASE = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.inbox.InboxPipeline": 900,
}
#: `collector link-worker`: inbox items taken, stored and linked in one transaction at most.
COLLECTOR_LINK_BATCH = _env_int("COLLECTOR_LINK_BATCH", 1000)
#: `collector link-worker`: seconds it sleeps when the inbox is empty before it looks again.
COLLECTOR_LINK_POLL = _env_float("COLLECTOR_LINK_POLL", 2.0)
#: `collector link-worker` (not `--once`): seconds it waits after a batch smaller than
#: COLLECTOR_LINK_BATCH, so the nodes' items gather into larger transactions (0: none).
COLLECTOR_LINK_LINGER = _env_float("COLLECTOR_LINK_LINGER", 0.5)

# Scrapy add-ons: distributed mode picks the stages from COLLECTOR_INBOX, however it is given
# (environment, -s, Scrapyd's setting=), after every other setting is read.
ADDONS = {"collector.crawl.addons.DistributedMode": 0}

# Runs ITEM_PIPELINES: a stage failing on a document after the store stage wrote it undoes
# its writes; extraction can run in worker processes (COLLECTOR_EXTRACT_PROCESSES).
ITEM_PROCESSOR = "collector.itemproc.DocumentPipelines"

#: The stages are synchronous, so items of one response gain nothing from running "in
#: parallel"; Scrapy 2.19 starts CONCURRENT_ITEMS asyncio tasks for every response's output,
#: and its default of 100 costs about 15% of a crawl's CPU (bench/crawl.py).
CONCURRENT_ITEMS = 1

# The crawl's own components (see collector.crawl.middlewares and collector.crawl.report).
SPIDER_MIDDLEWARES = {
    # Before anything is scheduled: an article URL already stored is not requested again.
    "collector.crawl.middlewares.SkipStoredMiddleware": 950,
    # Before the callback: the response is archived (WARC), its items get the record's raw_ref.
    "collector.crawl.archive.ArchiveMiddleware": 60,
}
# Conditional requests for feeds and sitemaps; Scrapy's retry replaced by one that waits.
DOWNLOADER_MIDDLEWARES = {
    "collector.crawl.middlewares.ConditionalRequestsMiddleware": 560,
    # Scrapy's retry, with a growing wait between attempts.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "collector.crawl.middlewares.BackoffRetryMiddleware": 550,
}

# --- politeness -----------------------------------------------------------------------
# Say who crawls and how to reach you: set your own contact URL.
USER_AGENT = "collector/0.1 (+https://example.org/collector; news corpus research crawler)"
ROBOTSTXT_OBEY = True
# AutoThrottle adapts the delay between requests to each server's latency.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
# A news page is well under 10 MB; a bigger answer is an error page, a binary or a bomb.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
# Server errors and "slow down" answers (408, 429) are retried, with a growing wait.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10
# News pages need no session: every request goes out alike, without cookies.
COOKIES_ENABLED = False
# No debugging port on a crawl that runs unattended.
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's RemoteControl extension opens a local port that runs code: never wanted here.
REMOTE_CONTROL_ENABLED = False
# The crawl's summary, its periodic commits and its `runs` rows; RemoteControl off.
EXTENSIONS = {
    "scrapy.extensions.remote_control.RemoteControl": None,
    # Counts, reports faults (URL and reason) and prints the summary at the end.
    "collector.crawl.report.CrawlReport": 100,
    "collector.crawl.extensions.PeriodicCommit": 110,
    # A `runs` row per site crawled (after CrawlReport, whose summary it records).
    "collector.crawl.extensions.RunRecord": 120,
}
#: Link-following: pages more than this many links from a start URL are not requested
#: (a sitemap index -> sitemap -> article is 2, a feed -> article 1; page 40 of a paginated
#: section is 40). COLLECTOR_PAGE_BUDGET bounds the pages followed whatever their depth.
DEPTH_LIMIT = 50

# Scrapy's current request fingerprints (no deprecation warning).
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
# What `scrapy crawl ... -O items.jsonl`, FEEDS and Scrapyd's items feed write: one object per
# document the crawl stored (new or updated), with its lineage; binary fields (the MinHash
# signature, shingle arrays) are left out. Name them here to have them (base64).
FEED_EXPORT_FIELDS = [
    "doc_id", "url", "site", "status", "title", "author", "published", "published_from", "fetched",
    "canonical_url", "sitename", "language", "text", "chrome", "claims", "url_aliases", "redirected_from",
    "origin_id", "origin_url", "relation", "new_links", "source",
]
# --- crawl records (collector.crawl) ---------------------------------------------------
#: `collector crawl` and `scrapy crawl` write a `runs` row per site crawled (`collector schedule`
#: writes its own, and turns this off for the crawls it starts).
COLLECTOR_RECORD_RUNS = True
# `scrapy crawl` logs at INFO; `collector crawl` shows errors only, unless -v or --log-level.
LOG_LEVEL = "INFO"
