"""The same documents give the same lineage (groups, origins, relations) whatever their
import order and batch size: property-based, over small generated syndication groups."""

from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import REPO, rows
from textgen import article

from collector.context import Context
from collector.ingest import run_items
from collector.core.document import Document

SITES = ["dailyledger.example", "harbourwatch.example", "coastaldigest.example", "morningwire.example", "elsewhere.example"]
DATE_FORMATS = [
    lambda t: t.isoformat(),
    lambda t: t.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    lambda t: t.strftime("%Y-%m-%d"),
    lambda t: str(int(t.timestamp())),
    lambda t: t.strftime("%Y-%m-%d %H:%M"),
    lambda t: None,
]


def members(draw, story: int, rng: random.Random) -> list[Document]:
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
        out.append(Document(url=url, source=url, title=title, text="\n".join(body), published=published,
                           fetched=fetched.isoformat(timespec="seconds")))
    return out


@st.composite
def corpora(draw):
    rng = random.Random(draw(st.integers(0, 10**6)))
    items = []
    for story in draw(st.lists(st.integers(1, 40), min_size=1, max_size=3, unique=True)):
        items += members(draw, story, rng)
    return items


def lineage(items, batch: int, url: str | None = None) -> set[tuple]:
    """The lineage of ``items`` imported into a new SQLite file (or the database at ``url``)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = url or str(Path(tmp) / "t.db")
        context = Context({"COLLECTOR_DB": db, "COLLECTOR_CONFIG": str(REPO / "configs"), "COLLECTOR_BATCH_SIZE": batch})
        run_items([Document(**dict(item)) for item in items], context)
        context.close()
        return {(r["copy_url"], r["origin_url"], r["relation"]) for r in rows(db, "SELECT * FROM lineage")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.randoms(use_true_random=False), st.sampled_from([1, 7, 1000]))
def test_order_and_batch_size_do_not_change_the_lineage(items, shuffle, batch):
    expected = lineage(items, 1000)
    shuffled = list(items)
    shuffle.shuffle(shuffled)
    assert lineage(shuffled, batch) == expected


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from([1, 7, 1000]))
def test_postgresql_gives_the_lineage_sqlite_gives(pg_server, items, batch):
    url = pg_server.new_database()
    try:
        assert lineage(items, batch, url) == lineage(items, batch)
    finally:
        pg_server.drop(url)


def test_two_big_groups_merge_alike_on_postgresql(pg_server):
    a = wire_story(201, 30, datetime(2026, 3, 4, 8, tzinfo=timezone.utc))
    b = wire_story(202, 30, datetime(2026, 3, 4, 6, tzinfo=timezone.utc))
    roundup = Document(url="https://roundup.example/both", source="roundup", title="Round-up",
                       text=a[0]["text"] + "\n" + b[0]["text"], published="2026-03-05T00:00:00+00:00",
                       fetched="2026-03-05T01:00:00+00:00")
    shuffled = [*a, *b, roundup]
    random.Random(7).shuffle(shuffled)
    url = pg_server.new_database()
    try:
        assert lineage(shuffled, 7, url) == lineage([*a, *b, roundup], 1000)
    finally:
        pg_server.drop(url)


def wire_story(story: int, copies: int, start: datetime) -> list[Document]:
    title, paras = article(story, paragraphs=5)
    items = []
    for i in range(copies + 1):
        url = f"https://site{i}.example/{story}"
        body = paras if i == 0 else [*paras[:-1], f"{paras[-1]} (copy {i} of story {story})"]
        when = start + timedelta(minutes=7 * i)
        items.append(Document(url=url, source=url, title=title, text="\n".join(body),
                             published=when.isoformat(), fetched=(when + timedelta(hours=1)).isoformat()))
    return items


def test_two_big_groups_merge_into_one_with_the_earliest_origin():
    """Two wire stories, each with its copies, then a round-up carrying both: one group,
    whose origin is the earlier story's original, the same whatever the order."""
    a = wire_story(101, 60, datetime(2026, 3, 4, 8, tzinfo=timezone.utc))
    b = wire_story(102, 60, datetime(2026, 3, 4, 6, tzinfo=timezone.utc))
    roundup_url = "https://roundup.example/both"
    roundup = Document(url=roundup_url, source=roundup_url, title="Round-up", text=a[0]["text"] + "\n" + b[0]["text"],
                      published="2026-03-05T00:00:00+00:00", fetched="2026-03-05T01:00:00+00:00")
    first = lineage([*a, *b, roundup], 1000)
    origins = {origin for _, origin, _ in first}
    assert origins == {"https://site0.example/102"}
    assert len(first) == 2 * 61 + 1 - 1  # every document but the origin is linked to it
    shuffled = [*a, *b, roundup]
    random.Random(5).shuffle(shuffled)
    assert lineage(shuffled, 7) == first


def test_importing_the_example_corpus_shingles_each_text_once(tmp_path, monkeypatch):
    """The fingerprint stage's shingle set travels with the item to the link stage, and the
    linker keeps the sets it has seen: no text is shingled twice in a run."""
    import collector.core.fingerprint as fingerprint
    import collector.core.similarity as similarity
    from collector.ingest import import_paths

    calls = {"fingerprint": 0, "link": 0, "again": 0}
    seen = set()
    original = fingerprint.shingles_of

    def counted(stage):
        def shingles_of(tokens):
            calls[stage] += 1
            key = hash(tuple(tokens))
            calls["again"] += stage == "link" and key in seen  # a text already shingled
            seen.add(key)
            return original(tokens)
        return shingles_of

    monkeypatch.setattr(fingerprint, "shingles_of", counted("fingerprint"))  # via shingle_hashes
    monkeypatch.setattr(similarity, "shingles_of", counted("link"))
    context = Context({"COLLECTOR_DB": str(tmp_path / "t.db"), "COLLECTOR_CONFIG": str(REPO / "examples" / "configs")})
    summary = import_paths([REPO / "examples" / "corpus"], context, workers=1)
    context.close()
    assert summary.new > 10 and summary.new_links > 5
    # every document was fingerprinted once; the linker shingled only texts that learned
    # chrome changed (the learn stage's re-clean), never one that was shingled before
    assert calls["fingerprint"] == summary.new and calls["again"] == 0


def test_each_stage_reads_what_the_one_before_left_on_the_document(tmp_path, monkeypatch):
    """The text is split into lines once (by the clean stage; attribute and learn read them),
    and the link stage takes the new document's metadata from the item, not from the
    database (only the stored documents it is linked with are read)."""
    import pipelines.attribute
    import pipelines.clean
    import pipelines.learn
    from collector.ingest import import_paths
    from pipelines.link import Linker, LinkPipeline

    splits = []
    original = pipelines.clean.split_lines
    for module in (pipelines.clean, pipelines.attribute, pipelines.learn):
        monkeypatch.setattr(module, "split_lines", lambda text: splits.append(text) or original(text))
    linking, read_itself, read_others = [], [], []
    process, member = LinkPipeline.process, Linker._member

    def process_counted(self, item):
        linking.append(item["doc_id"])
        try:
            return process(self, item)
        finally:
            linking.pop()

    def member_counted(self, doc_id):
        (read_itself if linking and doc_id == linking[-1] else read_others).append(doc_id)
        return member(self, doc_id)

    monkeypatch.setattr(LinkPipeline, "process", process_counted)
    monkeypatch.setattr(Linker, "_member", member_counted)
    context = Context({"COLLECTOR_DB": str(tmp_path / "t.db"), "COLLECTOR_CONFIG": str(REPO / "examples" / "configs")})
    summary = import_paths([REPO / "examples" / "corpus"], context, workers=1)
    context.close()
    assert summary.new > 10 and summary.new_links > 5
    # one split per document, plus one per stored text the learn stage re-cleans
    assert summary.new <= len(splits) < 1.5 * summary.new
    assert read_others and not read_itself
