"""A real headless Chromium (Debian's ``chromium``, driven by Playwright's Python client)
opens the lineage page and the report from a server on 127.0.0.1 and checks what a person
sees: the tree, the time line and the diffs, with the right nodes and words. Screenshots
go to the test's temporary folder (their paths are printed). Skipped, with the reason, when
the browser or Playwright cannot be had (``.ci/run`` installs the browser)."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import invoke_cli
from webdata import build_big_group, known_database, start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python client is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:  # Playwright gives the browser a fresh profile folder of its own
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure means: no browser here
            pytest.skip(f"Chromium at {CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    data = known_database(folder)
    db, urls, ids = data["db"], data["urls"], data["ids"]
    proc, base = start_server(db)
    yield {"db": db, "ids": ids, "urls": urls, "base": base}
    stop_server(proc)


def shot(page, path):
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def test_lineage_page_shows_who_copied_whom_when_and_what_changed(browser, known, tmp_path):
    ids = known["ids"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{known['base']}/-/lineage/{ids['copy']}")
    shot(page, tmp_path / "lineage.png")
    # the tree: origin at the top, every member once, the viewed one marked
    nodes = page.locator("ul.tree .node")
    assert sorted(int(n) for n in nodes.evaluate_all("ns => ns.map(n => n.dataset.docId)")) == sorted(
        ids[k] for k in ("origin", "copy", "excerpt", "mw", "dup"))
    assert page.locator("ul.tree > li > .node").get_attribute("data-relation") == "origin"
    assert page.locator("ul.tree li.viewed > .node").get_attribute("data-doc-id") == str(ids["copy"])
    assert page.locator("ul.tree li.viewed .here").is_visible()
    dup = page.locator(f"ul.tree .node[data-doc-id='{ids['dup']}']")
    assert dup.locator("xpath=../../..").locator("> .node").get_attribute("data-doc-id") == str(ids["mw"])  # nested under its first copy
    # the time line: one point per member, left to right in time
    xs = {int(p.get_attribute("data-doc-id")): p.bounding_box()["x"] for p in page.locator("svg.timeline a.point").all()}
    assert set(xs) == {ids[k] for k in ("origin", "copy", "excerpt", "mw", "dup")}
    assert xs[ids["origin"]] < xs[ids["copy"]] < xs[ids["excerpt"]] < xs[ids["mw"]]
    # the diff of the viewed copy, open: the word it added, the paragraph it dropped
    card = page.locator(f"#doc-{ids['copy']}")
    assert card.locator(".diff").is_visible()
    assert "dollars" in " ".join(card.locator(".diff ins").all_inner_texts())
    assert known["urls"]["last_paragraph"].split()[0] in " ".join(card.locator(".diff del").all_inner_texts())
    card.locator(".chrome summary").click()  # the stripped chrome, folded until asked for
    assert card.locator(".chrome li").inner_text() == "Keep Harbour Watch independent - donate today!"
    assert "Originally appeared at The Daily Ledger" in card.inner_text()  # the attribution line
    assert page.locator(f"#doc-{ids['excerpt']} .diff-summary").inner_text().startswith("0 words added")
    page.close()


def test_a_thousand_member_group_stays_usable(browser, tmp_path):
    db = tmp_path / "big.db"
    made = build_big_group(db, members=1000, sites=30)
    proc, base = start_server(db)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/-/lineage/500")
        shot(page, tmp_path / "big-group.png")
        assert page.locator("li.site-node").count() == made["sites"]
        assert page.locator("li.site-node details[open]").count() == 1  # the viewed document's site
        assert page.locator("li.site-node details:not([open]) .node").first.is_hidden()
        assert page.locator("svg.timeline a.point").count() == 1000
        assert page.locator(".card.copy").count() == 25
        assert page.locator("#doc-500").is_visible()
        shown = page.locator(".card.copy").evaluate_all("cs => cs.map(c => c.dataset.docId)")
        page.locator(".pager a", has_text="next").first.click()
        page.wait_for_load_state()
        following = page.locator(".card.copy").evaluate_all("cs => cs.map(c => c.dataset.docId)")
        assert len(following) == 25 and not set(following) & set(shown) and "page=" in page.url
        page.close()
    finally:
        stop_server(proc)


def test_report_opens_offline(browser, known, tmp_path):
    out = tmp_path / "report.html"
    invoke_cli("report", "--out", out, db=known["db"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    asked = []
    page.route("**/*", lambda route: (asked.append(route.request.url), route.continue_() if route.request.url.startswith("file:") else route.abort()))
    page.goto(out.as_uri())
    shot(page, tmp_path / "report.png")
    assert asked == [out.as_uri()]  # nothing fetched but the file itself
    cells = page.locator("table.heat td[title]")
    assert "harbourwatch copied dailyledger 1 times" in cells.evaluate_all("cs => cs.map(c => c.title)")
    assert page.locator("section.group ul.tree .node").count() == 5
    assert page.locator("section.group svg.timeline a.point").count() == 5
    assert page.locator("svg.timeline").first.bounding_box()["width"] > 500
    page.close()
