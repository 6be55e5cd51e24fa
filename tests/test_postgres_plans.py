"""The PostgreSQL store's statements keep the plans they were written for as the tables
change under them (PostgreSQL keeps a prepared statement's plan until a table's statistics
change). Runs against the scratch server (conftest's ``pg_server``)."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from collector.core.fingerprint import NUM_PERM
from collector.storage import open_store


def _signature(rng) -> MinHash:
    m = MinHash(num_perm=NUM_PERM)
    m.hashvalues = rng.integers(0, 2**32 - 1, NUM_PERM, dtype=np.uint64)
    return m


def _add(store, ids, rng) -> None:
    store.begin()
    for doc_id in ids:
        store.lsh.add(doc_id, _signature(rng))
    store.commit()


def test_the_candidate_query_probes_the_recent_rows_by_key_after_a_merge(pg_server):
    store = open_store(pg_server.new_database())
    rng = np.random.default_rng(3)
    try:
        _add(store, range(1, 201), rng)
        store.merge_index(force=True)  # lsh_recent emptied, its statistics say so (VACUUM ANALYZE)
        asked = _signature(rng)
        for _ in range(12):  # psycopg prepares it; PostgreSQL keeps a plan made on the empty table
            store.lsh.candidates(asked)
        _add(store, range(201, 601), rng)  # the next batch fills lsh_recent
        assert store.conn.execute("SELECT count(*) FROM lsh_recent").fetchone()[0] == 400 * 64
        name = store.conn.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE 'WITH k AS %'"
                                  " AND statement LIKE '%GROUP BY doc_id'").fetchone()[0]
        bands, buckets = zip(*store.lsh.band_keys(asked))
        plan = "\n".join(r[0] for r in store.conn.execute(
            f"EXPLAIN EXECUTE {name}('{{{','.join(map(str, bands))}}}'::integer[],"
            f" '{{{','.join(map(str, buckets))}}}'::bigint[])").fetchall())
        assert "lsh_recent" in plan and "Seq Scan on lsh_recent" not in plan, plan
    finally:
        store.close()
