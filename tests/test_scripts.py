"""Copies in scripts written without spaces are found by character shingles; different
articles in one language are not linked; an old database is re-fingerprinted by command."""

import random
import sqlite3

import pytest
from conftest import invoke_cli

from collector.ingest import run_items
from collector.core.document import Document
from collector.refingerprint import refingerprint
from collector.core.sites import Sites
from collector.storage import Store, StoreError

# Fiction, written for these tests.
HARBOUR = (
    "港町の市議会は十二日、新しい橋の通行料を来年四月から引き下げる案を賛成多数で可決した。"
    "市長は記者会見で「住民の負担を減らし、商店街に人を呼び戻したい」と述べた。"
    "橋は三年前に完成し、一日あたり約八千台の車が利用している。"
    "通行料は普通車で三百円から二百円になり、自転車と歩行者は無料のままとなる。"
    "一方、野党の議員からは維持費の財源が不明確だとの批判も出ており、議論は続きそうだ。"
    "市は今後、観光客の増加による税収で差額を補う計画を説明する方針である。"
)
LIBRARY = (
    "県立図書館は来月から、平日の開館時間を午後九時まで延長すると発表した。"
    "仕事帰りの会社員や学生から要望が多かったためで、試行期間は半年間とする。"
    "館内の自習室も同じ時間まで使えるようになり、職員を新たに五人採用する。"
    "館長は「夜の図書館を地域の居場所にしたい」と話し、利用者の声を聞いて内容を改善するという。"
    "延長にかかる費用は年間およそ二千万円で、県の予算から支出される見通しだ。"
)
CHINESE = (
    "本市今天宣布，新的公共自行车系统将于下个月正式投入使用。全市共设置三百个租赁点，"
    "市民可以通过手机应用程序免费骑行前三十分钟。交通部门负责人表示，这一举措旨在缓解市中心的交通拥堵，"
    "并鼓励居民选择更环保的出行方式。预计每天将有超过一万人次使用该系统。"
)


def drop_characters(text, share, seed):
    rng = random.Random(seed)
    return "".join(c for c in text if rng.random() > share)


def doc(url, text, published="2026-03-04T08:00:00+00:00"):
    return Document(url=url, source=url, title=text[:20], text=text, published=published,
                   fetched="2026-03-05T00:00:00+00:00")


def lineage(db_path):
    conn = sqlite3.connect(db_path)
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT copy_url, origin_url, relation FROM lineage")}


@pytest.mark.parametrize("seed", range(5))
def test_japanese_and_chinese_copies_and_excerpts_are_linked(context, db_path, seed):
    origin_ja, origin_zh = "https://minato.example/bridge", "https://shi.example/bike"
    items = [
        doc(origin_ja, HARBOUR),
        doc("https://repost.example/a", drop_characters(HARBOUR, 0.02, seed), "2026-03-04T10:00:00+00:00"),
        doc("https://matome.example/b", HARBOUR[len(HARBOUR) // 3 : len(HARBOUR) // 3 + int(0.4 * len(HARBOUR))],
            "2026-03-04T11:00:00+00:00"),
        doc("https://toshokan.example/c", LIBRARY),  # another article in the same language
        doc(origin_zh, CHINESE),
        doc("https://zhuanzai.example/d", drop_characters(CHINESE, 0.02, seed + 100), "2026-03-04T09:00:00+00:00"),
    ]
    random.Random(seed).shuffle(items)
    run_items(items, context)
    found = lineage(db_path)
    assert found["https://repost.example/a"] == (origin_ja, "copy")
    assert found["https://matome.example/b"] == (origin_ja, "excerpt")
    assert found["https://zhuanzai.example/d"] == (origin_zh, "copy")
    assert "https://toshokan.example/c" not in found and len(found) == 3


@pytest.mark.parametrize("via_cli", [False, True])
def test_an_old_database_is_refingerprinted_by_command(context, db_path, config_dir, via_cli):
    run_items([doc("https://minato.example/bridge", HARBOUR),
               doc("https://repost.example/a", drop_characters(HARBOUR, 0.02, 1), "2026-03-04T10:00:00+00:00")], context)
    context.close()
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM fingerprint_params WHERE key = 'tokens'")  # as a database made before
    conn.execute("DELETE FROM links")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="collector refingerprint"):
        Store(db_path)
    if via_cli:
        result = invoke_cli("refingerprint", db=db_path, config=config_dir)
        assert "re-fingerprinted 2 documents, 1 links" in result.stderr
    else:
        done = refingerprint(str(db_path), Sites.load(config_dir))
        assert done["documents"] == 2 and done["links"] == 1
    Store(db_path).close()  # opens again
    assert lineage(db_path)["https://repost.example/a"] == ("https://minato.example/bridge", "copy")


def test_an_old_database_without_such_documents_just_opens(context, db_path):
    run_items([doc("https://en.example/a", "A harbour town voted to cut the bridge toll from April. " * 5)], context)
    context.close()
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM fingerprint_params WHERE key = 'tokens'")
    conn.commit()
    conn.close()
    Store(db_path).close()
    assert "tokens" in dict(sqlite3.connect(db_path).execute("SELECT key, value FROM fingerprint_params"))
