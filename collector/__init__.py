"""collector: collect news articles, strip site chrome, trace syndicated copies to their origin."""

__version__ = "0.1.0"
