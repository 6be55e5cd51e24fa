"""The crawl: spiders' helpers, feeds and sitemaps readers, middlewares, faults, the
crawl's report and extensions, the runner of `collector crawl`, and the scheduler."""
