"""`collector serve`: the lineage in a browser, read-only."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from conftest import REPO

from collector.context import Context
from collector.ingest import import_paths
from collector.serve import make_server


@pytest.fixture
def server(tmp_path):
    db = tmp_path / "serve.db"
    ctx = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(REPO / "examples" / "configs")})
    import_paths([REPO / "examples" / "corpus"], ctx, workers=1)
    ctx.close()
    srv = make_server(str(db), port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_index_search_document_and_api(server):
    status, page = get(server + "/")
    assert status == 200 and "Harbour bridge tolls to rise" in page and "3 linked" in page
    status, page = get(server + "/search?q=%22bat+colony%22")
    assert status == 200 and "Market hall roof repairs" in page
    status, page = get(server + "/search?q=%22unbalanced")
    assert status == 200 and "Not a valid search" in page
    status, data = get(server + "/api/lineage/https://coastaldigest.example/briefs/bridge-tolls")
    group = json.loads(data)
    assert group["origin"]["url"] == "https://dailyledger.example/2026/03/04/harbour-bridge-tolls"
    page_id = group["query"]
    status, page = get(server + f"/doc/{page_id}")
    assert status == 200 and "excerpt" in page and "Read more at The Daily Ledger" in page
    assert get(server + "/doc/999999")[0] == 404
