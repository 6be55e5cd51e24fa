"""The pipeline stages every article goes through, in this order (see ITEM_PIPELINES_BASE):
extract -> clean -> attribute -> fingerprint -> store -> link -> learn chrome.
Each stage is a plain class over an ``Article`` item; Scrapy builds it with ``from_crawler``,
the importer with ``from_context``, so a crawl and an import run the very same code."""

from ._scipy import import_datasketch

import_datasketch()
