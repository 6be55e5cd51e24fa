"""Configuration conflicts are load-time errors naming the files or the key, for every
command: two sites claiming one domain, a bad cron expression, a regex that cannot
compile, a feed outside the site's domains."""

from __future__ import annotations

import pytest
from conftest import invoke_cli, run_cli
from sites_server import site_config

from collector.core.sites import ConfigError, Sites

COMMANDS = [("import", "{inputs}"), ("crawl",), ("schedule",), ("stats",), ("lineage", "1")]


def _conflict(config, kind: str) -> tuple[str, ...]:
    """Write a config with the conflict ``kind``; the words its error must contain."""
    site_config(config, "alpha", name="Alpha", domains=["alpha.example", "shared.example"],
                feeds=["https://alpha.example/feed.xml"], schedule="*/5 * * * *")
    if kind == "domain":
        site_config(config, "beta", name="Beta", domains=["www.Shared.example"], feeds=["https://shared.example/rss"])
        return "alpha.yaml", "beta.yaml", "shared.example"
    if kind == "cron":
        site_config(config, "beta", name="Beta", domains=["beta.example"], schedule="every 5 minutes")
        return "beta.yaml", "schedule", "every 5 minutes"
    if kind == "regex":
        site_config(config, "beta", name="Beta", domains=["beta.example"], articles=["/news/(\\d+"])
        return "beta.yaml", "articles", "bad regex"
    if kind == "chrome_regex":
        site_config(config, "beta", name="Beta", domains=["beta.example"], chrome={"patterns": ["[unclosed"]})
        return "beta.yaml", "patterns", "bad regex"
    site_config(config, "beta", name="Beta", domains=["beta.example"], feeds=["https://alpha.example/other.xml"])
    return "beta.yaml", "feeds", "alpha.example/other.xml", "outside"


@pytest.mark.parametrize("kind", ["domain", "cron", "regex", "chrome_regex", "feed_outside"])
def test_each_conflict_is_a_load_time_error(tmp_path, kind):
    config = tmp_path / "configs"
    words = _conflict(config, kind)
    with pytest.raises(ConfigError) as caught:
        Sites.load(config)
    assert all(w in str(caught.value) for w in words), str(caught.value)


def test_every_command_refuses_a_conflicting_config(tmp_path):
    config = tmp_path / "configs"
    words = _conflict(config, "domain")  # every kind is raised by Sites.load, which every command calls
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("Title\nSome text of an article that is long enough to be stored here.\n")
    db = tmp_path / "c.db"
    invoke_cli("import", inputs, db=db)  # a database for the read commands
    for command in COMMANDS:
        args = [a.format(inputs=inputs) for a in command]
        run = run_cli if command[0] in ("crawl", "schedule") else invoke_cli  # a crawl starts a reactor: a process
        result = run(*args, db=db, config=config, check=False, timeout=60)
        assert result.returncode == 2, (command, result.returncode, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and all(w in lines[0] for w in words), (command, result.stderr)


def test_a_site_on_a_subdomain_and_feeds_on_its_domains_are_fine(tmp_path):
    config = tmp_path / "configs"
    site_config(config, "alpha", name="Alpha", domains=["alpha.example"], feeds=["https://www.alpha.example/feed",
                                                                                 "https://feeds.alpha.example/rss"])
    site_config(config, "blog", name="Alpha blog", domains=["blog.alpha-news.example"], schedule="0 6 * * 1-5")
    assert len(Sites.load(config)) == 2
