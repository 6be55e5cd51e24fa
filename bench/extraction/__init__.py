"""Extraction quality of the stored text, against bare trafilatura (issue 4, item 5).

    .venv/bin/python -m bench.extraction [--limit N] [--sets zyte,eval,fundus] [--worst K]
                                         [--bootstrap N] [--out DIR]

Three benchmarks from ``../shared/corpus`` (their READMEs define the metrics):

* ``zyte``: Scrapinghub's article-extraction-benchmark (181 pages). 4-token shingle multiset
  precision/recall per page, normalised so every page weighs the same; P and R are means over
  pages, F1 their harmonic mean; ± is the bootstrap standard deviation (upstream
  ``evaluate.py``: precision averages only pages with tp+fp > 0, recall pages with tp+fn > 0).
* ``eval``: trafilatura's own evaluation set (990 pages): whitespace-normalised substring test
  of the ``with`` and ``without`` snippets, counts summed over pages (micro P/R/F1). The raw
  bytes go to trafilatura as upstream does; the pipeline gets them decoded as our importer
  decodes them (``collector.importers.decoding.decode(data, html=True)``).
* ``fundus``: fundus' parser test pages (181 publishers): title exact and normalised match,
  date agreement to the day and to the minute, body shingle P/R/F1 against ``body_text``.

For each it scores (a) bare trafilatura with the settings upstream publishes its numbers with,
(b) the text the pipeline stores (``collector.ingest.run_items`` into a fresh SQLite database,
``documents.text`` read back; the text after each stage is captured too, so the cost or gain of
each cleaning step is known), and (c) trafilatura settings variants, each timed per page on one
core. Then the pages where the stored text loses against bare trafilatura, with the lines that
make the difference and the reason.

Markdown goes to stdout and to ``bench/out/extraction.md`` (stamped with the machine and the
date); per-page scores and texts to ``--out`` (default ``bench/out/extraction``). Modules:
``pages`` (the sets), ``metrics`` (their metrics), ``variants`` (bare trafilatura settings),
``pipeline`` (the real pipeline and the suggested changes), ``tables`` (the report).
"""
