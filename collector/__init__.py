"""collector: collect news articles, strip site chrome, trace syndicated copies to their origin."""

__version__ = "0.1.0"

import pipelines  # noqa: E402,F401  (loads datasketch without scipy.integrate: pipelines/_scipy.py)
