"""What every benchmark shares: the shared corpus's loaders, one stage timer, one report
writer and one way to run the real ``collector`` command.

    from bench.common import corpus, report, timing, cli

Benchmarks run from the repository's root (``.venv/bin/python bench/NAME.py`` or
``python -m bench.NAME``); ``bench/common/paths.py`` puts the repository and ``tests/`` (the
fixture servers and text generators the benchmarks reuse) on ``sys.path``.
"""
