"""The scheduler's rules on a fake clock, with fake crawl processes and an in-memory run log:
a site is never crawled twice at once, at most ``max_crawls`` run, a due time that finds the
site still crawling is skipped, and each crawl's end is recorded with its outcome."""

from __future__ import annotations

import socket

from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter

from collector.core.sites import Site
from collector.crawl.schedule import Job, Scheduler


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 4, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


class Process:
    """A crawl's process that ends when told to, with an exit status."""

    def __init__(self, command):
        self.command, self.returncode, self.pid = command, None, 1000

    def poll(self):
        return self.returncode

    def finish(self, code: int = 0) -> None:
        self.returncode = code


class Runs:
    """The run log's part of the store the scheduler uses."""

    def __init__(self):
        self.rows: dict[int, dict] = {}

    def abandon_runs(self, keep=()) -> int:
        return 0

    def start_run(self, site: str, started: str) -> int:
        run_id = len(self.rows) + 1
        self.rows[run_id] = {"site": site, "started": started, "status": "running"}
        return run_id

    def note_worker(self, run_id: int, worker: str) -> None:
        self.rows[run_id]["worker"] = worker

    def finish_run(self, run_id, status, exit_status, **counts) -> None:
        self.rows[run_id].update(status=status, exit_status=exit_status)


def scheduler(clock, sites, max_crawls=4):
    started: list[Process] = []

    def start(command, output):
        started.append(Process(command))
        return started[-1]

    jobs = [Job(Site(key=key, name=key, path=f"{key}.yaml", schedule=cron), croniter(cron, clock()))
            for key, cron in sites]
    return Scheduler(Runs(), jobs, ["crawl"], max_crawls=max_crawls, clock=clock, start=start), started


def test_a_site_still_crawling_is_not_started_again_and_its_end_is_recorded():
    clock = Clock()
    s, started = scheduler(clock, [("harbour", "*/10 * * * *")])
    clock.advance(10)
    s.tick()
    assert [p.command[-1] for p in started] == ["harbour"]
    clock.advance(10)  # due again while the first crawl runs: skipped, not queued
    s.tick()
    assert len(started) == 1 and not s.waiting
    started[0].finish(0)
    s.tick()
    assert s.runs.rows[1]["status"] == "ok" and not s.running
    assert s.runs.rows[1]["worker"] == f"pid {started[0].pid} on {socket.gethostname()}"  # whose log to read
    clock.advance(10)
    s.tick()
    assert len(started) == 2


def test_at_most_max_crawls_run_and_the_others_wait_their_turn_in_order():
    clock = Clock()
    s, started = scheduler(clock, [("a", "*/5 * * * *"), ("b", "*/5 * * * *"), ("c", "*/5 * * * *")], max_crawls=2)
    clock.advance(5)
    s.tick()
    assert [p.command[-1] for p in started] == ["a", "b"] and s.waiting == ["c"]
    started[1].finish(1)  # b fails: c takes its place
    s.tick()
    assert [p.command[-1] for p in started] == ["a", "b", "c"]
    assert [r["status"] for r in s.runs.rows.values()] == ["running", "failed", "running"]


def test_a_crawl_killed_by_a_signal_is_recorded_killed():
    clock = Clock()
    s, started = scheduler(clock, [("a", "* * * * *")])
    clock.advance(1)
    s.tick()
    started[0].finish(-9)
    s.tick()
    assert s.runs.rows[1]["status"] == "killed"


def test_sleep_until_the_next_due_time_but_poll_while_crawls_run():
    clock = Clock()
    s, started = scheduler(clock, [("a", "0 * * * *")])
    assert s.sleep_seconds() == 60.0  # an hour away: wakes every minute at most
    clock.advance(60)
    s.tick()
    assert s.sleep_seconds() == s.FOLLOW <= 0.5  # a crawl runs: its end is recorded soon after


def test_once_crawls_every_job_now_and_never_again():
    clock = Clock()
    jobs = [Job(Site(key=key, name=key, path=f"{key}.yaml"), None) for key in ("a", "b")]
    started = []

    def start(command, output):
        started.append(Process(command))
        return started[-1]

    s = Scheduler(Runs(), jobs, ["crawl"], max_crawls=1, clock=clock, start=start, once=True)
    s.tick()
    assert [p.command[-1] for p in started] == ["a"] and s.waiting == ["b"]
    started[0].finish(0)
    s.tick()
    clock.advance(60 * 24 * 365)
    started[1].finish(0)
    s.tick()
    assert [p.command[-1] for p in started] == ["a", "b"] and not s.running and not s.waiting


# --- Scrapyd nodes: names, credentials, the node's config ---------------------------------------

def test_nodes_take_credentials_from_the_environment_or_a_password_file(tmp_path):
    from collector.crawl.scrapyd import nodes_from

    secret = tmp_path / "pw"
    secret.write_text("s3cret\n", encoding="utf-8")
    env = {"COLLECTOR_SCRAPYD_USERNAME": "crawler", "COLLECTOR_SCRAPYD_PASSWORD_FILE": str(secret)}
    nodes = nodes_from("http://10.0.0.5:6800/, 10.0.0.6:6800 http://ops:other@10.0.0.7:6800 http://10.0.0.5:6800", env)
    assert [(n.url, n.username, n.password) for n in nodes] == [
        ("http://10.0.0.5:6800", "crawler", "s3cret"), ("http://10.0.0.6:6800", "crawler", "s3cret"),
        ("http://10.0.0.7:6800", "ops", "other")]
    assert "s3cret" not in f"{nodes[0]} {nodes[0]!r}"  # never in a log line
    assert nodes_from("") == []


@pytest.mark.parametrize("bind", ["0.0.0.0", "8.8.8.8", "::", "example.com"])
def test_scrapyd_conf_refuses_a_public_address(bind, tmp_path):
    from collector.crawl.scrapyd import ScrapydError, scrapyd_conf

    with pytest.raises(ScrapydError, match="127.0.0.1 or a private address"):
        scrapyd_conf(bind, 6800, "crawler", "pw", str(tmp_path))


def test_scrapyd_conf_needs_credentials_and_writes_a_private_node(tmp_path):
    from configparser import ConfigParser

    from collector.crawl.scrapyd import ScrapydError, scrapyd_conf

    with pytest.raises(ScrapydError, match="username and a password"):
        scrapyd_conf("127.0.0.1", 6800, "crawler", "", str(tmp_path))
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n", encoding="utf-8")
    from click.testing import CliRunner

    from collector.cli import main

    def cli(*args):
        return CliRunner().invoke(main, ["scrapyd-conf", *map(str, args)])

    result = cli("--bind", "192.168.1.20", "--port", "6801", "--username", "crawler", "--password-file", secret,
                 "--root", tmp_path / "node", "--max-proc", "2")
    assert result.exit_code == 0, result.output
    conf = ConfigParser()
    conf.read_string(result.stdout)
    node = conf["scrapyd"]
    assert (node["bind_address"], node["http_port"], node["username"], node["password"], node["max_proc"]) == (
        "192.168.1.20", "6801", "crawler", "s3cret", "2")
    assert node["eggs_dir"] == str(tmp_path / "node" / "eggs")
    refused = cli("--bind", "0.0.0.0", "--username", "u", "--password-file", secret)
    assert refused.exit_code == 2 and "private address" in refused.output
    missing = cli("--username", "u", "--password-file", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "nowhere: cannot read the Scrapyd password" in missing.output
