"""What every part of collector needs, and nothing else of ours: the document model, site
configs, text, URL and date helpers, the fingerprint math, the lineage rules, the store
contracts and the errors. It imports no other collector module, and ``collector.core.sites``
loads no numpy (``tests/test_layers.py``)."""
