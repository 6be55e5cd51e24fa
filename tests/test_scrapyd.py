"""``collector schedule`` dispatching crawls to two real Scrapyd nodes on 127.0.0.1.

One egg is built from the repo (as ``scrapyd-deploy`` builds it) and uploaded to both nodes
(``addversion.json``); each node runs one crawl at a time (``max_proc = 1``), with basic auth
on. The scheduler sends each site to the least-busy node; every crawl writes into one SQLite
file on this machine (WAL works across processes on one host). Compared with one
``collector crawl`` process of the same sites: the same documents, links and claims.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("scrapyd", reason="scrapyd is not installed (pip install -e '.[test]')")

from conftest import REPO, rows, run_cli  # noqa: E402
from newsroom import Newsroom, contents  # noqa: E402
from scrapyd_nodes import PASSWORD, USERNAME, ScrapydNode, build_egg  # noqa: E402
from sites_server import SiteServer, article_page, rss, site_config, story  # noqa: E402
from test_crawl import FAST  # noqa: E402

from collector.context import Context  # noqa: E402
from collector.core.sites import Site  # noqa: E402
from collector.crawl.launchers import ScrapydLauncher  # noqa: E402
from collector.crawl.schedule import Job, Scheduler  # noqa: E402


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scrapyd")
    egg = build_egg(REPO, root / "build")
    started = []
    try:
        for name in ("node-a", "node-b"):
            started.append(ScrapydNode(root / name).start())
        for node in started:
            answer = node.node.upload_egg(str(egg), "1")
            assert answer["spiders"] >= 1
        yield started
    finally:
        for node in started:
            node.stop()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    room = Newsroom(tmp_path_factory.mktemp("newsroom"), sites=4, articles=8)
    yield room
    room.stop()


def node_env(nodes, tmp_path) -> dict:
    secret = tmp_path / "scrapyd-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    return {"COLLECTOR_SCRAPYD_NODES": ",".join(n.url for n in nodes), "COLLECTOR_SCRAPYD_USERNAME": USERNAME,
            "COLLECTOR_SCRAPYD_PASSWORD_FILE": str(secret)}


def schedule_cmd(db, config, *args) -> list[str]:
    return [sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "schedule", *FAST, *args]


def finished_jobs(nodes) -> dict[str, list[str]]:
    return {n.url: [j["id"] for j in n.jobs()["finished"]] for n in nodes}


def test_each_site_crawled_once_on_some_node_stores_what_one_crawl_process_stores(nodes, web, tmp_path):
    gone = web.add_unreachable()
    db = tmp_path / "dispatched.db"
    before = finished_jobs(nodes)
    result = subprocess.run(schedule_cmd(db, web.config, "--once"), cwd=REPO, capture_output=True, text=True, timeout=240,
                            env={**os.environ, **node_env(nodes, tmp_path)})
    assert result.returncode == 0, result.stderr[-3000:]
    runs = rows(db, "SELECT id, site, status, ended, pages_fetched, new_documents, exit_status FROM runs ORDER BY site")
    keys = sorted([*web.servers, gone])
    assert [r["site"] for r in runs] == keys  # each site once
    assert {r["site"]: r["status"] for r in runs} == {**dict.fromkeys(web.servers, "ok"), gone: "failed"}
    assert all(r["ended"] and r["exit_status"] is None for r in runs)  # completed by the crawls on the nodes
    assert sum(r["new_documents"] for r in runs if r["site"] != gone) == web.pages
    # Every job ran on exactly one node, and both nodes took some.
    after = finished_jobs(nodes)
    new = {url: set(after[url]) - set(before[url]) for url in after}
    jobs = [f"{r['site']}-run{r['id']}" for r in runs]
    assert sorted(j for ids in new.values() for j in ids) == sorted(jobs)
    assert all(new.values()), new
    assert "job news0-run" in result.stderr and "on http://127.0.0.1:" in result.stderr
    ran_on = {r["site"]: r["worker"] for r in rows(db, "SELECT site, worker FROM runs")}  # whose log to read
    assert all(any(worker == f"job {site}-run{r['id']} on {url}" for url in new for r in runs if r["site"] == site)
               for site, worker in ran_on.items()), ran_on

    single = tmp_path / "single.db"
    run_cli("crawl", "--json", *FAST, db=single, config=web.config, check=False, timeout=240)
    dispatched, alone = contents(db), contents(single)
    assert len(alone["documents"]) == web.pages and alone["links"] and alone["claims"]
    assert dispatched == alone


def test_a_crawl_outlives_a_killed_scheduler_is_not_started_twice_and_a_cancelled_job_is_interrupted(nodes, tmp_path):
    slow = SiteServer("slow").start()
    try:
        links = [slow.add(f"/s/{i}", article_page(*story(7000 + i), site_name="Slow Times",
                                                   published="2026-03-04T08:00:00+00:00"), delay=0.5) for i in range(60)]
        slow.add("/feed.xml", rss("Slow", links), content_type="application/rss+xml")
        slow.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        config = tmp_path / "configs"
        site_config(config, "slow", name="Slow Times", domains=[slow.host], feeds=[slow.url("/feed.xml")])
        db = tmp_path / "cancel.db"
        cmd = schedule_cmd(db, config, "--once", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        env = {**os.environ, **node_env(nodes, tmp_path)}

        def fetched() -> int:
            return sum(slow.hits[p] for p in slow.routes if p.startswith("/s/"))

        def wait_for(pages: int) -> None:
            deadline = time.monotonic() + 120
            while fetched() < pages and time.monotonic() < deadline:
                time.sleep(0.2)

        first = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_for(2)
        first.kill()  # the scheduler dies; its crawl goes on on the node
        first.wait()
        log = tmp_path / "second.log"
        with open(log, "wb") as stderr:
            second = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
            deadline = time.monotonic() + 60
            while "followed" not in log.read_text() and second.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            wait_for(fetched() + 2)
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=120)
        err = log.read_text()
        assert second.returncode == 0, err[-3000:]
        assert "still crawling (run 1" in err and "crawl started" not in err  # followed, not started again
        (run,) = rows(db, "SELECT * FROM runs")
        assert run["status"] == "interrupted", err[-3000:]
        stored = rows(db, "SELECT count(*) AS n FROM documents")[0]["n"]
        assert 3 <= stored < len(links)
        assert run["new_documents"] == stored  # the crawl on the node recorded its own end
        assert sum(f"slow-run{run['id']}" in ids for ids in finished_jobs(nodes).values()) == 1
    finally:
        slow.stop()


def test_a_node_refuses_a_wrong_password_and_the_scheduler_says_so_before_any_crawl(nodes, web, tmp_path):
    from collector.crawl.scrapyd import Node, ScrapydError

    for node in (Node(nodes[0].url), Node(nodes[0].url, USERNAME, "wrong")):
        with pytest.raises(ScrapydError, match="wrong username or password"):
            node.get("daemonstatus.json")
    env = {**node_env(nodes, tmp_path), "COLLECTOR_SCRAPYD_PASSWORD": "wrong"}
    result = run_cli("schedule", "--once", db=tmp_path / "refused.db", config=web.config, env=env, check=False, timeout=60)
    assert result.returncode == 2 and "wrong username or password" in result.stderr
    assert rows(tmp_path / "refused.db", "SELECT count(*) AS n FROM runs")[0]["n"] == 0


def test_a_job_that_ends_without_completing_its_runs_row_is_recorded_failed(nodes, web, tmp_path):
    """A node whose site configs lack the site (out of date): its crawl stops before it opens,
    and Scrapyd lists the job as finished all the same. The scheduler records it failed."""
    db = tmp_path / "ghost.db"
    context = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(web.config)})
    runs = context.open_store().crawl
    try:
        from collector.crawl.scrapyd import Node

        launcher = ScrapydLauncher([Node(n.url, USERNAME, PASSWORD) for n in nodes], runs,
                                   {"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(web.config)})
        ghost = Job(Site(key="ghost", name="Ghost", path="ghost.yaml"), None)
        scheduler = Scheduler(runs, [ghost], launcher=launcher, once=True)
        scheduler.run()
        (run,) = [dict(r) for r in rows(db, "SELECT * FROM runs")]
        assert run["site"] == "ghost" and run["status"] == "failed"
        assert json.loads(run["error_kinds"]) == {"no_run_record": 1}
    finally:
        context.close()


def test_a_node_that_does_not_answer_gets_no_crawl_and_the_others_take_them(nodes, web, tmp_path):
    from scrapyd_nodes import free_port

    from collector.crawl.scrapyd import Node

    db = tmp_path / "one-down.db"
    context = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(web.config)})
    runs = context.open_store().crawl
    try:
        down = Node(f"http://127.0.0.1:{free_port()}", USERNAME, PASSWORD)
        launcher = ScrapydLauncher([down, Node(nodes[1].url, USERNAME, PASSWORD)], runs,
                                   {"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(web.config), "AUTOTHROTTLE_ENABLED": "False"})
        assert not ScrapydLauncher([down], runs, {}).available()  # no node: the sites wait
        site = context.sites.get("news1")
        scheduler = Scheduler(runs, [Job(site, None)], launcher=launcher, once=True)
        scheduler.run()
        (run,) = rows(db, "SELECT * FROM runs")
        assert run["status"] == "ok" and run["new_documents"] > 0
        assert f"news1-run{run['id']}" in finished_jobs(nodes[1:])[nodes[1].url]
    finally:
        context.close()
