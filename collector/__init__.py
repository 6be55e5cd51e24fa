"""collector: collect news articles, strip site chrome, trace syndicated copies to their origin.

Layers (each imports only the ones before it; ``tests/test_layers.py`` checks):
``collector.core`` (the document, sites, text and URL helpers, fingerprint math, lineage
rules, store contracts) -> ``pipelines`` (the stages) and ``collector.storage`` (the store)
-> the drivers, the crawl, the importers, the web view -> the CLI.
"""

__version__ = "0.1.0"
