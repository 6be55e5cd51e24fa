"""The documentation keeps up with the code: every command and option in docs/usage.md,
every setting in docs/settings.md (generated, and up to date), every relative link
resolving, every example command line accepted by the CLI, and the README's tour running."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from collector import settings_doc
from collector.cli import main

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    """(("import",), command), ... for every command, subcommands included."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def _outside_code(text: str) -> list[str]:
    """The page's lines with fenced code blocks blanked (a `# comment` there is no heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return lines


def _headings(text: str) -> list[str]:
    return [line for line in _outside_code(text) if re.match(r"^#{1,6} ", line)]


def _sections(text: str) -> dict[str, str]:
    """Heading -> everything under it (code blocks included), up to the next heading."""
    sections, current = {}, None
    for raw, line in zip(text.splitlines(), _outside_code(text)):
        if re.match(r"^#{1,6} ", line):
            current = line.strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += raw + "\n"
    return sections


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.lstrip("#").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def test_every_command_and_option_is_documented_in_usage():
    sections = _sections((DOCS / "usage.md").read_text(encoding="utf-8"))
    missing = []
    for path, command in _commands(main):
        name = "collector " + " ".join(path)
        body = next((text for heading, text in sections.items() if f"`{name}`" in heading), None)
        if body is None:
            missing.append(f"{name}: no heading")
            continue
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                if not any(opt in body for opt in param.opts if opt.startswith("--")):
                    missing.append(f"{name}: {max(param.opts, key=len)}")
    assert not missing, "undocumented in docs/usage.md: " + ", ".join(missing)


def test_the_global_options_are_documented():
    usage = (DOCS / "usage.md").read_text(encoding="utf-8")
    for param in main.params:
        assert any(f"`{opt}" in usage for opt in param.opts), param.opts


def test_settings_reference_is_generated_from_the_code_and_up_to_date():
    current = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert current == settings_doc.render(), "docs/settings.md is stale: run python -m collector.settings_doc"


def test_every_collector_setting_is_documented_with_its_reason():
    import collector.settings as settings

    names = {n for n in dir(settings) if n.startswith("COLLECTOR_")}
    read = {s.name: s for s in settings_doc.read_settings()}
    assert names and names <= set(read)
    reference = (DOCS / "settings.md").read_text(encoding="utf-8")
    for name in sorted(names):
        assert f"| `{name}` |" in reference, name
        assert read[name].comment, f"{name} has no comment above it in collector/settings.py"


def test_settings_doc_reads_comments_defaults_and_environment(tmp_path):
    source = tmp_path / "settings.py"
    source.write_text(
        "import os\n"
        "# --- first part ---\n"
        "#: How many things.\n#: Two lines.\n"
        "COLLECTOR_THINGS = int(os.environ.get('COLLECTOR_THINGS', '3'))\n"
        "\n"
        "COLLECTOR_BARE = 2 * 1024\n"
        "# --- second part ---\n"
        "# Scrapy's own.\nRETRY_TIMES = 5\n",
        encoding="utf-8",
    )
    things, bare, retry = settings_doc.read_settings(source)
    assert (things.default, things.comment, things.env, things.section) == (3, "How many things. Two lines.", ["COLLECTOR_THINGS"], "first part")
    assert (bare.default, bare.comment) == (2048, "")
    assert (retry.section, retry.comment) == ("second part", "Scrapy's own.")
    text = settings_doc.render([things, bare, retry])
    assert "| `COLLECTOR_BARE` | `2048` (`2 * 1024`) |" in text and "| `RETRY_TIMES` | `5` | Scrapy's own. |" in text


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall("\n".join(_outside_code(page.read_text(encoding="utf-8")))):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and file.suffix == ".md":
                if anchor not in {_slug(h) for h in _headings(file.read_text(encoding="utf-8"))}:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


TICKET = re.compile(r"\bissues? ?#?\d+|\bthe issue\b|\b(?:this|the|latest|previous|last) session\b|\bDESIGN\.md\b|\bticket", re.IGNORECASE)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_docs_speak_to_people_not_to_tickets(page):
    text = page.read_text(encoding="utf-8")
    assert not TICKET.findall(text)


def test_readme_is_short():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) < 200


def _example_command_lines(page: Path):
    """`collector ...` lines of the page's code blocks, as argument lists (placeholders skipped)."""
    for block in FENCE.findall(page.read_text(encoding="utf-8")):
        for line in block.splitlines():
            line = re.sub(r"^\s*(?:\.venv/bin/)?", "", line)
            if not line.startswith("collector ") or "[" in line.split("#")[0] or "..." in line:
                continue
            yield shlex.split(line, comments=True)[1:]


def test_every_example_command_line_is_accepted_by_the_cli():
    """Options, choices and arguments of the documented examples parse as the CLI parses them."""
    checked = 0
    for page in PAGES:
        for args in _example_command_lines(page):
            if "--version" in args:
                continue
            context = main.make_context("collector", list(args), resilient_parsing=False)
            name, command, rest = main.resolve_command(context, [*getattr(context, "_protected_args", ()), *context.args])
            command.make_context(name, rest, parent=context)
            checked += 1
    assert checked > 40


def test_the_readme_tour_runs(tmp_path, monkeypatch):
    """The tour's import, lineage, stats, search and export lines, as written, on the example corpus
    (crawl, add-site and serve are tested by test_crawl.py, test_discover.py and test_serve.py)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme[readme.index("## A five-minute tour"): readme.index("**Crawl a site**")]
    monkeypatch.chdir(REPO)
    env = {"COLLECTOR_DB": str(tmp_path / "corpus.db"), "COLLECTOR_CONFIG": str(REPO / "examples" / "configs")}
    runner = CliRunner(env=env)
    ran = []
    for block in FENCE.findall(tour):
        for line in block.splitlines():
            if not line.startswith("collector "):
                continue
            args = [a.replace("tour/", f"{tmp_path}/") for a in shlex.split(line, comments=True)[1:]]
            if args[0] not in ("import", "lineage", "stats", "search", "export"):
                continue
            result = runner.invoke(main, args, catch_exceptions=False)
            assert result.exit_code == 0, (line, result.output)
            ran.append((args[0], result.output))
    assert [name for name, _ in ran] == ["import", "lineage", "lineage", "stats", "search", "export"]
    group = ran[1][1]
    assert "ORIGIN #11 dailyledger" in group and "attribution claim" in group
    assert all(f" {site} " in group for site in ("morningwire", "coastaldigest", "harbourwatch"))
    assert (tmp_path / "lineage.csv").read_text(encoding="utf-8").count("\n") == 8


def test_every_source_file_the_docs_name_exists():
    """Modules move; the pages that point readers at them move with them."""
    named = re.compile(r"`((?:collector|pipelines|bench|tests|examples)/[\w/.-]+\.py)(?:::\w+)?`")
    stale = [f"{page.name}: {path}" for page in PAGES
             for path in named.findall(page.read_text(encoding="utf-8")) if not (REPO / path).exists()]
    assert not stale, "docs name files that are not there (moved?): " + ", ".join(stale)


def _defines(dotted: str) -> bool:
    """Whether ``collector.a.b.Name.attr`` names a module of the repository and, after the
    module, a name defined at its top level (read from the source: nothing is imported)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:cut])
        source = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if source.exists():
            rest = parts[cut:]
            if not rest:
                return True
            text = source.read_text(encoding="utf-8")
            return bool(re.search(rf"^(?:class |def |async def ){rest[0]}\b|^{rest[0]}\s*[:=]", text, re.MULTILINE))
    return False


# Layers the layer rules name before their package exists (tests/test_layers.py skips them too).
PLANNED = {"collector.storage"}


def test_every_module_and_name_the_docs_name_exists():
    named = re.compile(r"`((?:collector|pipelines)(?:\.\w+)+)`")
    stale = [f"{page.name}: {name}" for page in PAGES for name in named.findall(page.read_text(encoding="utf-8"))
             if name.rsplit(".", 1)[1] not in ("db", "py", "yaml") and name not in PLANNED and not _defines(name)]
    assert not stale, "docs name modules or names that are not there (moved?): " + ", ".join(stale)


def test_the_docs_map_lists_every_page():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = {target.partition("#")[0] for target in LINK.findall(index)}
    assert {p.name for p in DOCS.glob("*.md")} - {"index.md"} <= listed
