"""Distributed mode end to end: two real Scrapyd nodes on 127.0.0.1 crawl in node mode
(COLLECTOR_INBOX, sent with each job by ``collector schedule``), one link-worker stores what
they handed over into PostgreSQL: the same documents, links and claims as one ``collector
crawl`` process into SQLite. Skipped with the reason without scrapyd, its test harness
(tests/scrapyd_nodes.py) or a scratch PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess

import pytest

pytest.importorskip("scrapyd", reason="scrapyd is not installed (pip install -e '.[test]')")
pytest.importorskip("scrapyd_nodes", reason="the Scrapyd test harness (tests/scrapyd_nodes.py) is not here")

from conftest import REPO, rows, run_cli  # noqa: E402
from newsroom import Newsroom, contents  # noqa: E402
from scrapyd_nodes import ScrapydNode, build_egg  # noqa: E402
from test_crawl import FAST  # noqa: E402
from test_scrapyd import node_env, schedule_cmd  # noqa: E402


def test_two_scrapyd_nodes_in_node_mode_and_one_link_worker_store_what_one_crawl_stores(pg_server, tmp_path):
    room = Newsroom(tmp_path / "newsroom", sites=3, articles=6)
    nodes = []
    try:
        egg = build_egg(REPO, tmp_path / "build")
        for name in ("node-a", "node-b"):
            nodes.append(ScrapydNode(tmp_path / name).start())
            assert nodes[-1].node.upload_egg(str(egg), "1")["spiders"] >= 1
        url = pg_server.new_database()
        run_cli("link-worker", "--once", db=url, config=room.config)  # the site configs, written by the linker
        result = subprocess.run(schedule_cmd(url, room.config, "--once", "-s", f"COLLECTOR_INBOX={url}"), cwd=REPO,
                                capture_output=True, text=True, timeout=240, env={**os.environ, **node_env(nodes, tmp_path)})
        assert result.returncode == 0, result.stderr[-3000:]
        assert {r["status"] for r in rows(url, "SELECT status FROM runs")} == {"ok"}
        assert rows(url, "SELECT count(*) AS n FROM documents")[0]["n"] == 0  # the nodes wrote none
        run_cli("link-worker", "--once", db=url, config=room.config, env={"COLLECTOR_ARCHIVE": str(tmp_path / "linker.warc")})
        assert rows(url, "SELECT count(*) AS n FROM inbox")[0]["n"] == 0
        archived = rows(url, "SELECT count(*) AS n FROM raw_inputs WHERE raw_ref LIKE ?", (f"{tmp_path / 'linker.warc'}/%",))
        assert archived[0]["n"] == room.pages  # every page, in the link-worker's archive
        runs = rows(url, "SELECT site, new_documents FROM runs")
        assert {r["site"]: r["new_documents"] for r in runs} == {  # credited by the link-worker
            r["site"]: r["n"] for r in rows(url, "SELECT site, count(*) AS n FROM documents GROUP BY site")}
        single = tmp_path / "single.db"
        run_cli("crawl", "--json", *FAST, db=single, config=room.config, check=False, timeout=240)
        alone = contents(single)
        assert len(alone["documents"]) == room.pages and alone["links"] and alone["claims"]
        assert contents(url) == alone
        pg_server.drop(url)
    finally:
        for node in nodes:
            node.stop()
        room.stop()
