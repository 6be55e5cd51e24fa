"""What the stages of one run share: settings, the site configs and the store.

A crawl keeps one ``Context`` on its crawler, an import builds one itself; either way every
stage sees the same sites and writes through the same store (one connection, one writer).
"""

from __future__ import annotations

from functools import cached_property

from scrapy.settings import Settings

from .core.sites import Sites


class Context:
    def __init__(self, settings: Settings | dict | None = None, sites: Sites | None = None):
        if not isinstance(settings, Settings):
            base = Settings()
            base.setmodule("collector.settings", priority="project")
            if settings:
                base.update(settings, priority="cmdline")
            settings = base
        self.settings = settings
        self._sites = sites
        #: What the run should tell its user beside faults (a site's wrong canonical links).
        self.notices: list[str] = []

    @classmethod
    def for_crawler(cls, crawler) -> "Context":
        ctx = getattr(crawler, "collector_context", None)
        if ctx is None:
            ctx = cls(crawler.settings)
            crawler.collector_context = ctx
        return ctx

    @property
    def sites(self) -> Sites:
        if self._sites is None:
            self._sites = Sites.load(self.settings.get("COLLECTOR_CONFIG"))
        return self._sites

    @cached_property
    def store(self):
        from .store import Store

        store = Store(self.settings.get("COLLECTOR_DB"), **store_options(self.settings))
        store.sync_sites(self.sites)
        return store

    def close(self):
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]


def store_options(settings: Settings) -> dict:
    """What every writer's store takes from the settings (imports, crawls, reprocess,
    refingerprint alike): batches, the lock's timings, the check on opening."""
    return dict(batch_size=settings.getint("COLLECTOR_BATCH_SIZE"),
                recent_documents=settings.getint("COLLECTOR_LSH_RECENT_DOCUMENTS"),
                hold_seconds=settings.getfloat("COLLECTOR_COMMIT_INTERVAL"),
                lock_timeout=settings.getfloat("COLLECTOR_LOCK_TIMEOUT"),
                quick_check_seconds=settings.getfloat("COLLECTOR_QUICK_CHECK_SECONDS"),
                lock_log=settings.get("COLLECTOR_LOCK_WAIT_LOG"))
