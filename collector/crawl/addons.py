"""Scrapy add-ons of collector (``ADDONS`` in collector.settings)."""

from __future__ import annotations

from ..context import pick_stages


class DistributedMode:
    """COLLECTOR_INBOX makes a crawl a crawl node's: the extract stage, then the inbox
    (docs/postgresql.md, "The inbox"). An add-on, because Scrapy runs add-ons after every
    setting is read, however the crawl was started: ``collector crawl``, ``scrapy crawl -s``,
    or a Scrapyd job's ``setting=`` arguments."""

    def update_settings(self, settings) -> None:
        pick_stages(settings)
