"""Development-set evaluation of the whole import path (issue 2, "How good").

    .venv/bin/python -m bench.devset [--out DIR] [--seed N] [--n ORIGINALS] [--no-baseline]

1. Builds a development set under ``--out`` (default ``bench/out/devset``, git-ignored) from the
   real article bodies in ``../shared/corpus`` (fundus manifest ``body_text`` and the
   Scrapinghub benchmark's ``articleBody``): each of ``--n`` originals is published on a
   fictional original site and reposted 0-4 times on fictional reposting sites, with banners
   (configured and unconfigured), attribution lines, comment footers, truncation, light edits,
   re-titles, duplicates, canonical links, varied dates and every input format. The other
   corpus texts are distractors (no copies; some quote a sentence of an original). Nothing of
   the corpus is written inside the repository's tracked files.
2. Keeps the ground truth (``truth.jsonl``): per document its source, URL, site, group, true
   origin, relation, inserted chrome, attribution lines and article body.
3. Imports the set with the real ``collector`` CLI in three batches (late-arriving originals
   last) into a fresh SQLite database and scores what the database says.
4. Runs the baseline of the issue (trafilatura + MinHashLSH at 0.8 + earliest date wins, no
   chrome cleaning) on the same documents.
5. Prints the figures as markdown tables and a sample of each kind of failure with its cause,
   and writes them to ``bench/out/devset.md`` (stamped with the machine and the date); the set,
   its database and ``metrics.json`` stay in ``--out``.

Modules: ``text`` (tokens, shingles), ``sites`` (the fictional sites), ``build`` (the set),
``render`` (its files), ``runs`` (the real CLI, the predictions, the baseline), ``scoring``,
``analysis`` (each failure by cause), ``__main__`` (the run).
"""
