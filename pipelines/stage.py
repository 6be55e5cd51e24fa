"""The Scrapy face shared by every stage: a few lines, so each stage stays a plain class.

A stage's constructor names what it uses (``ExtractPipeline(sites, contents, mode)``);
``from_context`` reads them off the run's ``Context`` (its settings, site configs and store parts), and
``from_crawler`` is Scrapy's way to the same run: the crawl's item processor hangs it on
the crawler as ``crawler.collector_context`` before it builds the stages, as an import's driver
builds them from its own. Stages import only ``collector.core``.
"""

from __future__ import annotations

from collector.core.document import ALREADY_STORED


class Stage:
    @classmethod
    def from_context(cls, context):
        """The stage for ``run`` (settings, sites, store): stages that use any override this."""
        return cls()

    @classmethod
    def from_crawler(cls, crawler):
        return cls.from_context(crawler.collector_context)

    def process_item(self, item):
        # Input already stored unchanged, or a variant of a stored page (another URL of it,
        # ``collector.core.identity``), passes through: re-running an import is cheap.
        if item.get("status") in ALREADY_STORED:
            return item
        return self.process(item)

    def process(self, item):  # pragma: no cover - every stage overrides it
        raise NotImplementedError

    def close_spider(self):
        """Scrapy calls this at the end of a crawl; the importer at the end of an import."""
