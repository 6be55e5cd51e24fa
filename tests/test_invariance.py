"""The same documents give the same lineage (groups, origins, relations) whatever their
import order and batch size: property-based, over small generated syndication groups."""

from __future__ import annotations

import random
import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import REPO
from textgen import article

from collector.context import Context
from collector.ingest import run_items
from collector.items import Article

SITES = ["dailyledger.example", "harbourwatch.example", "coastaldigest.example", "morningwire.example", "elsewhere.example"]
DATE_FORMATS = [
    lambda t: t.isoformat(),
    lambda t: t.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    lambda t: t.strftime("%Y-%m-%d"),
    lambda t: str(int(t.timestamp())),
    lambda t: t.strftime("%Y-%m-%d %H:%M"),
    lambda t: None,
]


def members(draw, story: int, rng: random.Random) -> list[Article]:
    title, paras = article(story, paragraphs=5)
    base = datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(hours=draw(st.integers(0, 200)))
    out = []
    for i in range(draw(st.integers(2, 5))):
        site = draw(st.sampled_from(SITES))
        kind = draw(st.sampled_from(["whole", "edited", "excerpt", "credited"]))
        body = list(paras)
        if kind == "excerpt":
            body = body[:2]
        elif kind == "edited":
            body[0] = f"{body[0]} Updated on {rng.randint(1, 9)} March."
        elif kind == "credited":
            body.append(f"Originally appeared at {draw(st.sampled_from(SITES))}")
        when = base + timedelta(minutes=draw(st.integers(0, 3000)))
        fetched = when + timedelta(minutes=draw(st.integers(0, 3000)))
        published = draw(st.sampled_from(DATE_FORMATS))(when)
        url = f"https://{site}/{story}/{i}"
        out.append(Article(url=url, source=url, title=title, text="\n".join(body), published=published,
                           fetched=fetched.isoformat(timespec="seconds")))
    return out


@st.composite
def corpora(draw):
    rng = random.Random(draw(st.integers(0, 10**6)))
    items = []
    for story in draw(st.lists(st.integers(1, 40), min_size=1, max_size=3, unique=True)):
        items += members(draw, story, rng)
    return items


def lineage(items, batch: int) -> set[tuple]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "t.db"
        context = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(REPO / "configs"), "COLLECTOR_BATCH_SIZE": batch})
        run_items([Article(**dict(item)) for item in items], context)
        context.close()
        conn = sqlite3.connect(db)
        rows = set(conn.execute("SELECT copy_url, origin_url, relation FROM lineage"))
        conn.close()
        return rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.randoms(use_true_random=False), st.sampled_from([1, 7, 1000]))
def test_order_and_batch_size_do_not_change_the_lineage(items, shuffle, batch):
    expected = lineage(items, 1000)
    shuffled = list(items)
    shuffle.shuffle(shuffled)
    assert lineage(shuffled, batch) == expected
