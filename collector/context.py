"""What one run (an import, a crawl, a reprocess) shares: its settings, the site configs, the
store, the notices for its summary, and the collaborators its stages share.

A stage never keeps the Context: its ``from_context`` reads the parts it uses into its
constructor. A crawl keeps one Context on each of its crawlers (``crawler.collector_context``,
set by ``for_crawler``), so ``collector crawl``'s crawlers, one per site, share one store.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from scrapy.settings import SETTINGS_PRIORITIES, Settings

from .core.sites import Sites

T = TypeVar("T")


def build_settings(db: str | None = None, config: str | None = None, overrides: dict | None = None,
                   **given) -> Settings:
    """The project settings (``collector.settings``) with a command's options over them: its
    --db and --config, other named values (``COLLECTOR_REFRESH=True``), and ``-s NAME=VALUE``
    pairs (``overrides``), which win, as on Scrapy's own command line."""
    settings = Settings()
    settings.setmodule("collector.settings", priority="project")
    if db is not None:
        given["COLLECTOR_DB"] = db
    if config is not None:
        given["COLLECTOR_CONFIG"] = config
    settings.update(given, priority="cmdline")
    _check_numbers(settings, overrides or {})
    settings.update(dict(overrides or {}), priority="cmdline")
    pick_stages(settings)
    return settings


def _check_numbers(defaults: Settings, overrides: dict) -> None:
    """A ``-s`` value for a numeric setting must be a number: said now, in one line naming
    it, not as a bare conversion error where the setting is first read. (A number only:
    Scrapy's integer defaults, ``DOWNLOAD_DELAY = 0``, take fractions.)"""
    for name, value in overrides.items():
        default = defaults.get(name)
        if type(default) not in (int, float) or not isinstance(value, str):
            continue
        try:
            float(value)
        except ValueError:
            raise ValueError(f"-s {name}={value!r}: not a number (default {default})") from None


def pick_stages(settings) -> None:
    """Distributed mode: COLLECTOR_INBOX set (environment, a command's option, ``-s``) makes
    the stages a crawl node's, ``NODE_ITEM_PIPELINES_BASE`` (extract, then the inbox); else
    every stage. An ``ITEM_PIPELINES_BASE`` given on the command line is left alone. Called for
    imports here, and for every crawl by the ``collector.crawl.addons.DistributedMode`` add-on."""
    if settings.getpriority("ITEM_PIPELINES_BASE") > SETTINGS_PRIORITIES["project"]:
        return
    from . import settings as project

    node = settings.get("COLLECTOR_INBOX")
    settings.set("ITEM_PIPELINES_BASE", project.NODE_ITEM_PIPELINES_BASE if node else project.ITEM_PIPELINES_BASE,
                 priority="project")


def parse_overrides(pairs) -> dict[str, str]:
    """``-s NAME=VALUE`` options to a settings dict."""
    out = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"-s {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


class Context:
    def __init__(self, settings: Settings | dict | None = None, sites: Sites | None = None):
        if not isinstance(settings, Settings):
            settings = build_settings(overrides=settings)
        self.settings = settings
        self.sites = sites if sites is not None else Sites.load(settings.get("COLLECTOR_CONFIG"))
        self._store = None
        #: What the run should tell its user beside faults (a site's wrong canonical links).
        self.notices: list[str] = []
        #: The database error that stopped the run (a crawl stops all its crawlers on it).
        self.fatal: Exception | None = None
        #: The crawlers of a ``collector crawl`` run, stopped together on a fatal error.
        self.crawlers: list = []
        self._shared: dict[str, object] = {}

    @classmethod
    def for_crawler(cls, crawler) -> "Context":
        context = getattr(crawler, "collector_context", None)
        if context is None:
            context = crawler.collector_context = cls(crawler.settings)
        return context

    def open_store(self):
        """The run's store, opened (created or migrated) on first use, the site configs synced."""
        if self._store is None:
            from .storage import open_store

            self._store = open_store(self.settings.get("COLLECTOR_DB"), **store_options(self.settings))
            self._store.sync_sites(self.sites)
        return self._store

    def open_inbox(self):
        """The inbox this run hands extracted documents to (COLLECTOR_INBOX; a crawl node's or
        a feeding import's), opened on first use and shared by the run's crawlers."""
        from .storage.postgres.inbox import Inbox

        return self.shared("inbox", lambda: Inbox(self.settings.get("COLLECTOR_INBOX")))

    @property
    def store(self):
        if self._store is None:
            raise RuntimeError("the run's store is not open yet (Context.open_store)")
        return self._store

    @property
    def store_is_open(self) -> bool:
        return self._store is not None

    def use_store(self, store) -> None:
        """Run over a store opened elsewhere (reprocess's, a worker's stand-in)."""
        self._store = store

    def shared(self, name: str, make: Callable[[], T]) -> T:
        """One ``name`` object per run, made on first use: what several stages share (the
        linker, used by the link and learn stages) or what several crawlers share (the
        extraction pool)."""
        if name not in self._shared:
            self._shared[name] = make()
        return self._shared[name]

    def forget(self, name: str) -> None:
        self._shared.pop(name, None)

    def close(self):
        inbox = self._shared.pop("inbox", None)
        if inbox is not None:
            inbox.close()
        if self._store is not None:
            self._store.close()
            self._store = None


def store_options(settings: Settings) -> dict:
    """What every writer's store takes from the settings (imports, crawls, reprocess,
    refingerprint alike): batches, the lock's timings, the check on opening."""
    return dict(batch_size=settings.getint("COLLECTOR_BATCH_SIZE"),
                recent_documents=settings.getint("COLLECTOR_LSH_RECENT_DOCUMENTS"),
                hold_seconds=settings.getfloat("COLLECTOR_COMMIT_INTERVAL"),
                lock_timeout=settings.getfloat("COLLECTOR_LOCK_TIMEOUT"),
                quick_check_seconds=settings.getfloat("COLLECTOR_QUICK_CHECK_SECONDS"),
                lock_log=settings.get("COLLECTOR_LOCK_WAIT_LOG"))
