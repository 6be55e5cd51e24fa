"""Chrome: configured lines, patterns and XPaths; lines learned from repetition; text kept."""

from __future__ import annotations

import json

from conftest import assert_fts_matches_documents, rows
from textgen import article

from collector.ingest import run_items
from collector.core.document import Document
from collector.core.sites import Sites
from pipelines.clean import split_lines, strip_chrome
from pipelines.learn import LEARN_MIN_DOCUMENTS

HW = "https://harbourwatch.example/"
CD = "https://coastaldigest.example/"
BANNER = "Keep Harbour Watch independent - donate today!"
NEWSLETTER = "Sign up for the Coastal Digest morning briefing, free every weekday."


def test_configured_lines_and_patterns(config_dir):
    site = Sites.load(config_dir).get("harbourwatch")
    lines = split_lines(f"{BANNER}\nReal text here.\n  Comment   policy: be nice.\nMore text.")
    kept, chrome = strip_chrome(lines, site, set())
    assert kept == ["Real text here.", "More text."]
    assert chrome == [BANNER, "Comment policy: be nice."]


def test_configured_xpaths_drop_elements_before_extraction(context, db_path):
    _, paras = article(30)
    html = (
        "<html><body><article><h1>T</h1><aside class='donate'><p>Give us money, friends of the harbour and the sea.</p></aside>"
        + "".join(f"<p>{p}</p>" for p in paras)
        + "</article></body></html>"
    )
    run_items([Document(url=HW + "x", source="t", html=html)], context)
    text = rows(db_path, "SELECT text FROM documents")[0]["text"]
    assert "Give us money" not in text
    assert paras[0] in text and paras[-1] in text


def _site_docs(prefix, seeds, *, top=(), bottom=(), title=None):
    out = []
    for seed in seeds:
        t, paras = article(seed)
        out.append(Document(url=f"{prefix}{seed}", source="t", title=title or t, text="\n".join([*top, *paras, *bottom])))
    return out


def test_learned_chrome_is_stripped_from_earlier_documents_too(context, db_path):
    summary = run_items(_site_docs(CD, range(40, 46), bottom=[NEWSLETTER]), context)
    assert summary.new == 6
    docs = rows(db_path, "SELECT url, text, chrome FROM documents ORDER BY id")
    for d in docs:  # including the ones stored before the line was learned
        assert NEWSLETTER not in d["text"], d["url"]
        assert NEWSLETTER in json.loads(d["chrome"])
    learned = rows(db_path, "SELECT site, line, rule FROM chrome_lines")
    assert learned == [{"site": "coastaldigest", "line": NEWSLETTER, "rule": "learned"}]
    # article text is untouched: every paragraph of every article is still there
    for seed, d in zip(range(40, 46), docs):
        assert d["text"] == "\n".join(article(seed)[1])
    assert_fts_matches_documents(db_path)  # re-cleaned in the batch that inserted them


def test_a_quote_shared_by_two_articles_is_not_chrome(context, db_path):
    quote = "“We will not let the harbour die,” the mayor told the crowd on the quay."
    items = _site_docs(CD, [50, 51], bottom=[quote]) + _site_docs(CD, range(52, 56))
    run_items(items, context)
    assert rows(db_path, "SELECT * FROM chrome_lines") == []
    assert all(quote in d["text"] for d in rows(db_path, "SELECT text FROM documents WHERE url IN (?, ?)", (CD + "50", CD + "51")))


def test_one_article_at_many_urls_teaches_nothing(context, db_path):
    t, paras = article(60)
    items = [Document(url=f"{CD}60?page={i}", source="t", title=t, text="\n".join(paras)) for i in range(LEARN_MIN_DOCUMENTS + 2)]
    run_items(items, context)
    assert rows(db_path, "SELECT * FROM chrome_lines") == []
    assert {d["text"] for d in rows(db_path, "SELECT text FROM documents")} == {"\n".join(paras)}


def test_a_line_repeated_on_a_few_pages_of_a_big_site_is_not_chrome(context, db_path):
    slogan = "Build the bridge, save the town, vote yes on Sunday!"
    items = _site_docs(CD, range(100, 103), bottom=[slogan]) + _site_docs(CD, range(103, 123))
    # the slogan pages come last, when the site already has many documents
    run_items(items[3:] + items[:3], context)
    assert rows(db_path, "SELECT * FROM chrome_lines") == []


def test_learned_chrome_improves_linking(context, db_path):
    """A copy whose site adds a banner no config names still links once the banner is learned."""
    items = _site_docs(CD, range(70, 75), top=[NEWSLETTER, NEWSLETTER.upper()], bottom=[NEWSLETTER + " Really."])
    t, paras = article(70)
    items.append(Document(url="https://dailyledger.example/70", source="t", title=t, text="\n".join(paras), published="2026-01-01"))
    run_items(items, context)
    found = rows(db_path, "SELECT relation, similarity FROM lineage WHERE copy_url = ?", (CD + "70",))
    assert found and found[0]["similarity"] == 1.0


def test_a_banner_taken_for_a_dumps_title_is_corrected_when_learned(context, db_path):
    """Text dumps stored before their banner was learned took it for their title."""
    banner = "Commons Post - news by readers, for readers, every single day"
    items = []
    for seed in range(80, 85):
        title, paras = article(seed)
        items.append(Document(url=f"{CD}dump/{seed}", source="t", first_line_is_title=True, text="\n".join([banner, title, *paras])))
    run_items(items, context)
    docs = rows(db_path, "SELECT title, text, chrome FROM documents ORDER BY id")
    for seed, d in zip(range(80, 85), docs):
        title, paras = article(seed)
        assert d["title"] == title
        assert d["text"] == "\n".join(paras)
        assert banner in json.loads(d["chrome"])
    assert_fts_matches_documents(db_path)


def test_the_headline_repeated_in_the_text_is_dropped(context, db_path):
    t, paras = article(41)
    variants = {
        "same": [t, *paras],
        "after a kicker, other case and quotes": ["Harbour", t.upper().replace("'", "’"), *paras],
        "without the title's site tail": [t, *paras],
    }
    titles = {"same": t, "after a kicker, other case and quotes": t, "without the title's site tail": f"{t} | Harbour Watch"}
    items = [Document(url=f"{HW}headline/{i}", source="t", title=titles[k], text="\n".join(v)) for i, (k, v) in enumerate(variants.items())]
    run_items(items, context)
    for doc in rows(db_path, "SELECT title, text FROM documents ORDER BY id"):
        lines = doc["text"].split("\n")
        assert t.upper() not in doc["text"].upper().replace("’", "'").split("\n")
        assert paras[0] in lines and paras[-1] in lines
    # a line deeper in the text that happens to equal the title is article text
    late = Document(url=f"{HW}headline/late", source="t", title=t, text="\n".join([*paras[:4], t, *paras[4:]]))
    run_items([late], context)
    assert t in rows(db_path, "SELECT text FROM documents WHERE url = ?", [f"{HW}headline/late"])[0]["text"].split("\n")


# Furniture any site may have (configs/chrome.yaml), lines that credit a source, and prose
# that shares words with the furniture.
FURNITURE = ["Related: Harbour dredging resumes after a quiet winter", "Follow the Coastal Digest on Twitter and Facebook.",
             "Sign up for our free weekly newsletter", "Comments", "You may also like:", "[See also: Tide tables for March]"]
CREDITS = ["Read more at Harbour Watch", "Source: Harbour Watch", "Originally published at Harbour Watch."]
PROSE = ["More than 200 people attended the harbour meeting.", "Share prices of the ferry company fell 3% on Monday.",
         "The comments section of the council's website was closed.", "Related parties were not disclosed."]


def test_generic_chrome_strips_any_sites_furniture_and_keeps_credits_and_prose(config_dir):
    generic = Sites.load(config_dir).generic
    kept, chrome = strip_chrome(FURNITURE + CREDITS + PROSE, None, set(), generic)
    assert chrome == FURNITURE
    assert kept == CREDITS + PROSE
    # a long line is prose whatever it starts with
    long_line = "Related: " + " ".join(["the harbour board met again on Tuesday"] * 6)
    assert strip_chrome([long_line], None, set(), generic)[0] == [long_line]


def test_generic_chrome_in_the_pipeline_is_recorded_and_credits_still_claim(context, db_path):
    title, paras = article(50)
    text = "\n".join([paras[0], FURNITURE[0], *paras[1:], FURNITURE[1], CREDITS[0]])
    run_items([Document(url="https://unknown-site.example/a", source="t", title=title, text=text)], context)
    doc = rows(db_path, "SELECT id, text, chrome FROM documents")[0]
    assert FURNITURE[0] not in doc["text"] and FURNITURE[1] not in doc["text"]
    assert json.loads(doc["chrome"]) == [FURNITURE[0], FURNITURE[1]]
    assert all(p in doc["text"] for p in paras)
    claims = rows(db_path, "SELECT claimed_name, evidence FROM claims")
    assert claims == [{"claimed_name": "Harbour Watch", "evidence": CREDITS[0]}]


def test_a_bad_generic_chrome_config_names_its_file(config_dir):
    import pytest

    from collector.core.sites import ConfigError

    (config_dir / "chrome.yaml").write_text("patterns: ['^(unclosed']\n")
    with pytest.raises(ConfigError, match=r"chrome\.yaml.*bad regex"):
        Sites.load(config_dir)
    (config_dir / "chrome.yaml").write_text("xpaths: ['//aside']\n")  # XPaths are per site
    with pytest.raises(ConfigError, match=r"chrome\.yaml.*unknown key 'xpaths'"):
        Sites.load(config_dir)
