"""Scale benchmark: a generated corpus of a million documents with Zipf-sized lineage groups,
and what it costs to link into it.

    .venv/bin/python -m bench.scale [--docs 1000000] [--new 1000] [--keep] [--workers 2]
                                    [--group-share 0.15] [--largest 1250]

1. **Build** (once; cached as ``bench/out/scale-<docs>.db``, with ``scale-<docs>.json`` beside
   it) a database of ``--docs`` documents. Most are generated articles (``bench/corpusgen.py``:
   Zipf vocabulary of invented words, 200-1,200 words; nobody's text) spread over 50 sites
   (``site17``, ``https://site17.example/N``), through the real schema (``collector.storage.Store``
   creates it) but with a bulk loader: a process pool generates each article and runs the
   genuine extract, clean and attribute stages on it and signs it (``fingerprint(text)``, as
   the fingerprint stage does); the main process writes the
   rows the store and learn stages would write (``documents``, ``lsh_buckets`` with the keys of
   ``LSHIndex.band_keys``, ``line_sightings``, ``sites``) in big transactions, the LSH rows
   sorted by (band, bucket, doc_id), the full-text index with one FTS5 'rebuild' (its triggers
   dropped during the load and recreated from their own SQL). A sample of 100 documents is
   then imported with the real ``collector import`` into a scratch database and compared
   column by column, bucket by bucket: the loader must store what the pipeline stores.
   Then **lineage groups** (``--group-share`` of the corpus, 15%): sizes follow a Zipf law,
   rank r has ``--largest / r**a`` members (1,250 for the largest; ``a`` chosen for the
   share), each around a corpus document, its reposts on 2,000 other sites (lightly edited
   copies, half crediting their source, excerpts with "Read more at", some copies and
   duplicates of other reposts), all groups interleaved at random in one JSONL file imported
   with the real ``collector import``: groups, links, claims and LSH rows are the pipeline's
   own. The link stage's cost per repost, by the size of the group it joined, is reported.
2. **Link 1,000 new documents** (``--new``; 80% fresh articles, 20% copies, excerpts and
   same-site duplicates: three quarters of them of members of stored groups, as many into
   groups of 2-9, 10-99, 100-999 and 1,000+ members, half of those copying the origin and half
   a repost; the rest of stored singletons) with the real ``collector import --json``, into
   (a) a database holding what those copies need: the singletons' originals (by the same
   loader) and every group they join, its reposts imported from the same JSONL lines as in
   (b) (the groups' links are compared: identical, ids aside), and (b) the big database (a
   scratch copy of it; with ``--keep``, the cached one itself). Same JSONL file, so both runs
   make the same links. Wall time, documents/s, CPU time and peak RSS of the process
   (``os.wait4``), where the time goes (the stage timer of ``bench/common/timing.py`` times every
   stage and the store's calls, and each document's linking; it changes no behaviour), and the link stage's
   cost per new document by the size of the group it joins, in (a) and in (b).
3. **First link in a new process**: the wall time of importing one copy into the big database,
   and when linking starts; ``Store(path)`` opened alone in a new process.
4. **LSH query latency** at N: ``LSHIndex.query`` over 1,000 signatures (half of stored
   documents, half fresh), p50/p99, and candidates per query.
5. **Bytes per document** (``dbstat``): text, signatures, LSH index, full-text index, other.

Tables go to stdout and ``bench/out/scale-<docs>.md`` (stamped with the machine and the date);
the cached corpus and the runs' files stay in ``bench/out/``. Everything runs in one go, so the
ratios compare runs on the same machine under the same load.

Modules: ``generate`` (the articles and their signatures), ``loader`` (the bulk loader),
``groups`` (lineage groups, the new documents), ``build`` (building and checking the corpus),
``runs`` (the real CLI), ``measure`` (queries, statements, bytes), ``sections`` (the report).
"""
