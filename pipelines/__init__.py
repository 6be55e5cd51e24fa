"""The pipeline stages every article goes through, in this order (see ITEM_PIPELINES_BASE):
extract -> clean -> attribute -> fingerprint -> store -> link -> learn chrome.
Each stage is a plain class over a ``Document`` item that imports only ``collector.core``;
Scrapy builds it with ``from_crawler``, the importer with the same settings, so a crawl and
an import run the very same code."""
