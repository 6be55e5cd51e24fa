"""Scrapy settings for collector, and the defaults of every COLLECTOR_* setting.

Override per run with ``-s NAME=VALUE`` (``scrapy crawl``) or the CLI's options.
"""

import os

BOT_NAME = "collector"
SPIDER_MODULES = ["collector.spiders"]
NEWSPIDER_MODULE = "collector.spiders"

# --- collector's own settings -------------------------------------------------------
COLLECTOR_DB = os.environ.get("COLLECTOR_DB", "collector.db")
COLLECTOR_CONFIG = os.environ.get("COLLECTOR_CONFIG", "configs")
#: Documents per SQLite transaction: a kill loses at most this many, and a re-run redoes them.
COLLECTOR_BATCH_SIZE = 200
#: Download stored article URLs again (``collector crawl --refresh``).
COLLECTOR_REFRESH = False

# The data's path: the same stages, in the same order, for crawls and imports.
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.attribute.AttributePipeline": 300,
    "pipelines.fingerprint.FingerprintPipeline": 400,
    "pipelines.store.StorePipeline": 500,
    "pipelines.link.LinkPipeline": 600,
    "pipelines.learn.LearnChromePipeline": 700,
}

# --- politeness -----------------------------------------------------------------------
USER_AGENT = "collector/0.1 (+https://example.org/collector; news corpus research crawler)"
ROBOTSTXT_OBEY = True
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
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's RemoteControl extension opens a local port that runs code: never wanted here.
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {"scrapy.extensions.remote_control.RemoteControl": None}

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
