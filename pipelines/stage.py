"""The Scrapy face shared by every stage: a few lines, so each stage stays a plain class."""

from __future__ import annotations


class Stage:
    def __init__(self, context):
        self.context = context

    @classmethod
    def from_context(cls, context):
        return cls(context)

    @classmethod
    def from_crawler(cls, crawler):
        from collector.context import Context

        return cls.from_context(Context.for_crawler(crawler))

    def process_item(self, item):
        # Input already stored unchanged, or a variant of a stored page (another URL of it,
        # ``collector.identity``), passes through: re-running an import is cheap.
        if item.get("status") in ("unchanged", "variant"):
            return item
        return self.process(item)

    def process(self, item):  # pragma: no cover - every stage overrides it
        raise NotImplementedError

    def close_spider(self):
        """Scrapy calls this at the end of a crawl; the importer at the end of an import."""
