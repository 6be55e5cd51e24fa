"""The raw archive: every page a crawl fetches, kept as it came, in WARC files (warcio).

``ArchiveMiddleware`` is a spider middleware: each response of the kinds
``COLLECTOR_ARCHIVE_KINDS`` names (article pages by default; ``page``, ``feed``, ``sitemap``
too if asked) is written as a WARC request record and a response record, gzip per record,
and flushed *before* the spider's callback sees the response. So the item made from it, and
the document the store makes from the item, can never exist without its raw record, even
after a kill -9. The item carries where the record is (``raw_ref``), the document keeps it.

Files: ``<COLLECTOR_ARCHIVE>/<site>-<UTC start>-<pid>-<nnnnn>.warc.gz``, one series per crawl
run and site, a new file once one reaches ``COLLECTOR_ARCHIVE_MAX_SIZE``. The folder defaults
to the database's name with ``.warc`` (``corpus.db`` -> ``corpus.warc/``).

What Scrapy hands a spider is the decoded body: its ``Content-Encoding`` (gzip, br) is
undone and the header removed by ``HttpCompressionMiddleware``, chunked transfer is undone
by the download handler. So the record holds the page as the spider read it:
``Transfer-Encoding`` (and a ``Content-Length`` that no longer matches) is kept renamed
``X-Archive-Orig-*``, and ``Content-Length`` is the stored body's, so warcio and other WARC
tools read the body as it is stored. ``collector.raw`` reads records back by ``raw_ref``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from ..core.document import Document
from ..storage.archive import ArchiveWriter, archive_dir, db_folder, warc_records  # noqa: F401  (db_folder: reprocess)

logger = logging.getLogger(__name__)

#: request.meta key: the raw_ref of the response's archived record.
RAW_REF = "collector_raw_ref"
#: request.meta key, on a crawl node: the records themselves, carried with the item to the inbox.
RAW_RECORD = "collector_raw_record"
#: The kind of response an item is made from: on a crawl node, its records travel with the item.
SHIPPED_KIND = "article"


class ArchiveMiddleware(BaseSpiderMiddleware):
    """Spider middleware: archive each response before the spider sees it; give the items
    made from it the record's ``raw_ref``. Off with ``COLLECTOR_ARCHIVE_ENABLED = False``.

    On a crawl node (COLLECTOR_INBOX set) an article page's records are not written here:
    they travel with the item (``raw_record``) through the inbox to the link-worker, which
    appends them to its own archive and sets ``raw_ref`` in the transaction that stores the
    document. So the corpus's raw pages are in one place, beside the one writer, where
    ``collector raw`` and ``collector reprocess`` read them; other kinds (feeds, sitemaps,
    when asked for) stay in the node's archive folder."""

    def __init__(self, crawler, folder: Path):
        super().__init__(crawler)
        settings = crawler.settings
        self.folder = folder
        self.kinds = set(settings.getlist("COLLECTOR_ARCHIVE_KINDS"))
        self.max_size = settings.getint("COLLECTOR_ARCHIVE_MAX_SIZE")
        self.level = settings.getint("COLLECTOR_ARCHIVE_GZIP_LEVEL")
        self.base = db_folder(settings)
        self.ship = bool(settings.get("COLLECTOR_INBOX"))  # a crawl node's (see the class's docstring)
        self.writer: ArchiveWriter | None = None
        self.seconds = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        folder = archive_dir(crawler.settings)
        if folder is None:
            raise NotConfigured
        mw = cls(crawler, folder)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_spider_input(self, response):
        kind = response.meta.get("collector_kind")
        if kind not in self.kinds or RAW_REF in response.meta or RAW_RECORD in response.meta or response.status == 304:
            return None
        started = time.thread_time()  # CPU time: the reactor thread's, spent archiving
        if self.ship and kind == SHIPPED_KIND:
            response.meta[RAW_RECORD] = warc_records(response, self.level)
        else:
            response.meta[RAW_REF] = self._writer().write(response)
        self.seconds += time.thread_time() - started
        self.crawler.stats.inc_value("collector/archived")
        return None

    def _writer(self) -> ArchiveWriter:
        if self.writer is None:
            spider = self.crawler.spider
            site = getattr(spider, "site_key", None) or spider.name
            self.writer = ArchiveWriter(self.folder, site, self.max_size, self.base, self.level)
        return self.writer

    def get_processed_item(self, item, response):
        if isinstance(item, Document) and response is not None and not item.get("raw_ref"):
            ref = response.meta.get(RAW_REF)
            if ref:
                item["raw_ref"] = ref
            elif response.meta.get(RAW_RECORD) and not item.get("raw_record"):
                item["raw_record"] = response.meta[RAW_RECORD]
        return item

    def spider_closed(self, spider, reason):
        self.crawler.stats.set_value("collector/archive_seconds", round(self.seconds, 3))
        if self.writer is not None:
            self.writer.close()
