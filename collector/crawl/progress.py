"""``collector crawl`` on a terminal: one live line per site, redrawn twice a second.

Pages fetched, documents stored (new and updated), articles not fetched because stored,
listing pages, faults, and pages per second, read from each crawler's ``CrawlReport`` and
stats. The display is transient: when the crawl ends it goes, and the one summary is
printed in its place (by the CLI), so nothing is printed twice. Off a terminal (a pipe, a
log file, ``--json``), nothing is drawn.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from .report import CrawlReport


class CrawlProgress:
    def __init__(self, crawlers, console: Console):
        self.crawlers = crawlers
        self.console = console
        self.started = time.perf_counter()
        self.live: Live | None = None
        self.loop = None

    def attach(self) -> None:
        """Start drawing once the first crawler's engine runs (the reactor is up then)."""
        from scrapy import signals

        if self.crawlers:
            self.crawlers[0].signals.connect(self.start, signal=signals.engine_started)

    def start(self) -> None:
        from scrapy.utils.asyncio import create_looping_call

        self.live = Live(self.table(), console=self.console, transient=True, auto_refresh=False)
        self.live.start()
        self.loop = create_looping_call(self.refresh)
        self.loop.start(0.5, now=True)

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.table(), refresh=True)

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live is not None:
            self.live.stop()
            self.live = None

    def table(self) -> Table:
        table = Table(box=None, pad_edge=False, title_justify="left")
        for column in ("site", "pages", "stored", "skipped", "listings", "faults", "pages/s"):
            table.add_column(column, justify="left" if column == "site" else "right")
        elapsed = max(1e-6, time.perf_counter() - self.started)
        for crawler in self.crawlers:
            report = CrawlReport.of(crawler)
            spider = getattr(crawler, "spider", None)
            site = getattr(spider, "site_key", None) or "…"
            if report is None:
                table.add_row(site, *["…"] * 6)
                continue
            s = report.summary
            skipped = crawler.stats.get_value("collector/skipped_stored", 0) if crawler.stats else 0
            table.add_row(site, str(s.pages_fetched), str(s.new + s.updated), str(skipped), str(s.listings),
                          str(len(s.faults)), f"{s.pages_fetched / elapsed:.1f}")
        return table
