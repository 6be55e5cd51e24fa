"""No silent input loss: every input skipped in whole or in part is reported with its path
(or URL) and the reason, and the run goes on."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import REPO, invoke_cli
from sites_server import article_page, story
from test_damaged_db import as_unprivileged
from textgen import article

from collector.crawl.feeds import parse_feed
from collector.importers import reading


def _text(seed: int) -> str:
    title, paragraphs = article(seed, paragraphs=4)
    return "\n".join([title, *paragraphs]) + "\n"


def _import(db, config, *paths, prefix=()) -> subprocess.CompletedProcess:
    """The import in this process, or in a subprocess as another user (``prefix``)."""
    if not prefix:
        return invoke_cli("import", "--json", "--workers", "1", *paths, db=db, config=config, check=False)
    cmd = [*prefix, sys.executable, "-m", "collector", "--db", str(db), "--config", str(config),
           "import", "--json", "--workers", "1", *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)


def _sources(db) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {Path(r[0].split(" line ")[0]).name for r in conn.execute("SELECT source FROM documents")}


def test_unreadable_files_and_folders_are_reported_and_the_run_goes_on(tmp_path, config_dir):
    prefix = as_unprivileged()
    inputs = tmp_path / "in"
    (inputs / "locked").mkdir(parents=True)
    (inputs / "open").mkdir()
    (inputs / "locked" / "hidden.txt").write_text(_text(1))
    (inputs / "open" / "fine.txt").write_text(_text(2))
    (inputs / "open" / "secret.txt").write_text(_text(3))
    lone = tmp_path / "lone.txt"
    lone.write_text(_text(4))
    good = tmp_path / "good.txt"
    good.write_text(_text(5))
    for path in (inputs / "locked", inputs / "open" / "secret.txt", lone):
        path.chmod(0)
    tmp_path.chmod(0o755)
    try:
        result = _import(tmp_path / "u.db", config_dir, lone, inputs, good, prefix=prefix)
    finally:
        (inputs / "locked").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] == 3
    for path, reason in ((lone, "cannot read"), (inputs / "locked", "cannot read this folder"),
                         (inputs / "open" / "secret.txt", "cannot read")):
        assert re.search(rf"^{re.escape(str(path))}: {reason}", result.stderr, re.M), result.stderr
    assert _sources(tmp_path / "u.db") == {"fine.txt", "good.txt"}


def test_nul_characters_anywhere_are_refused_and_said(tmp_path, config_dir):
    inputs = tmp_path / "in"
    inputs.mkdir()
    long_text = _text(10) * 40  # well past the 8 KB sniffed first
    (inputs / "late-nul.txt").write_text(long_text + "\0tail\n")
    title, paragraphs = story(11)
    page = article_page(title, paragraphs * 8, site_name="Nul News", published="2026-03-01T09:00:00+00:00")
    (inputs / "late-nul.html").write_text(page.replace("</body>", "\0</body>"))
    (inputs / "records.jsonl").write_text(
        json.dumps({"url": "https://nul.example/1", "text": _text(12).replace(".", ".\u0000", 1)}) + "\n"
        + json.dumps({"url": "https://nul.example/2", "text": _text(13)}) + "\n")
    (inputs / "clean.txt").write_text(_text(14))
    result = _import(tmp_path / "n.db", config_dir, inputs)
    assert result.returncode == 0, result.stderr
    for where in ("late-nul.txt", "late-nul.html", "records.jsonl line 1"):
        assert re.search(rf"{re.escape(where)}: binary data \(a NUL character at character \d+\)", result.stderr), result.stderr
    assert _sources(tmp_path / "n.db") == {"records.jsonl", "clean.txt"}
    with sqlite3.connect(tmp_path / "n.db") as conn:
        assert conn.execute("SELECT count(*) FROM documents WHERE instr(text, char(0)) > 0").fetchone()[0] == 0


def _bomb_feed(entries_before: int, entries_after: int) -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10))
    item = "<item><title>Story {0}</title><link>https://bomb.example/{0}</link></item>"
    items = [item.format(i) for i in range(entries_before)]
    items.append("<item><title>&lol9;</title><link>https://bomb.example/laughs</link></item>")
    items += [item.format(i) for i in range(entries_before, entries_before + entries_after)]
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{entities}\n]>\n<rss version="2.0"><channel><title>Bomb</title>'
            + "".join(items) + "</channel></rss>").encode()


def test_an_entity_bomb_feed_keeps_the_entries_after_the_bomb_and_reports_it():
    feed = parse_feed(_bomb_feed(2, 5), "https://bomb.example/feed.xml")
    assert [u for u in feed.links if u[-1].isdigit()] == [f"https://bomb.example/{i}" for i in range(7)]
    assert len(feed.entities) == 10 and feed.entities[0].startswith("lol ")


def test_inputs_sharing_one_url_keep_the_first_and_say_so_on_every_run(tmp_path, config_dir):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, seed in (("a-first.html", 21), ("b-second.html", 22)):
        title, paragraphs = story(seed)
        page = article_page(title, paragraphs, site_name="Dup News", published="2026-03-01T09:00:00+00:00")
        (inputs / name).write_text(page.replace("<head>", '<head><meta property="og:url" content="https://dup.example/story">', 1))
    (inputs / "c.jsonl").write_text("".join(json.dumps({"url": "https://dup.example/rec", "text": _text(s)}) + "\n"
                                            for s in (23, 24)))
    db = tmp_path / "d.db"
    for run in range(2):
        result = _import(db, config_dir, inputs)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert (summary["new"], summary["updated"], summary["skipped"]) == ((2, 0, 2) if run == 0 else (0, 0, 2))
        assert f"b-second.html: not stored: {inputs / 'a-first.html'} has the same URL (https://dup.example/story)" in result.stderr
        assert f"c.jsonl line 2: not stored: {inputs / 'c.jsonl'} line 1 has the same URL (https://dup.example/rec)" in result.stderr
    assert _sources(db) == {"a-first.html", "c.jsonl"}


def test_the_docs_state_the_codes_input_limits():
    usage = (REPO / "docs" / "usage.md").read_text(encoding="utf-8")
    row = next(line for line in usage.splitlines() if line.startswith("| any of them `.gz`"))
    assert f"{reading.MAX_INPUT_BYTES // 2**20} MB" in row
    assert f"{reading.BOMB_MIN_BYTES // 2**20} MB" in row and f"{reading.BOMB_RATIO} times" in row
    assert "256 MB" not in row
