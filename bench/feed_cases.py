"""The feed and sitemap cases modelled on feedparser's and ultimate-sitemap-parser's test
suites (tests/feed_cases.py): how many collector reads the same links from, as a table.

    .venv/bin/python bench/feed_cases.py        # also writes bench/out/feed_cases.md

Not a timing benchmark: a conformance report, kept with the others so docs/feeds.md can
quote a table that anyone can regenerate.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.report import Report  # noqa: E402

from feed_cases import COLLECTOR_READS, FEEDPARSER, OWN, USP  # noqa: E402
from test_feeds import read  # noqa: E402


def decoded(url: str) -> str:
    """A link as the cases write it: percent-escapes undone unless the case spells the accent (as tests/test_feeds.py compares)."""
    from urllib.parse import unquote

    return unquote(url) if "%" in url and "é" not in url else url


def row(cases) -> tuple[int, int, int, int, int]:
    """(cases, well-formed, well-formed same, malformed, malformed same)."""
    well = [c for c in cases if c.well_formed]
    ill = [c for c in cases if not c.well_formed]

    def same(c):
        return [decoded(u) for u in read(c)[0]] == list(c.links)

    return len(cases), len(well), sum(map(same, well)), len(ill), sum(map(same, ill))


def main() -> None:
    lines = ["| peer | cases | well-formed: same links | malformed: same links |", "| --- | --- | --- | --- |"]
    for name, cases in (("feedparser", FEEDPARSER), ("ultimate-sitemap-parser", USP)):
        n, well, well_same, ill, ill_same = row(cases)
        lines.append(f"| {name} | {n} | {well_same} of {well} | {ill_same} of {ill} |")
    lines.append("")
    lines.append("Cases where collector reads differently from the peer, on purpose:")
    lines.append("")
    for case in [*FEEDPARSER, *USP]:
        got = [decoded(u) for u in read(case)[0]]
        if got != list(case.links):
            wanted = COLLECTOR_READS.get(case.name)
            verdict = "as intended" if wanted is not None and got == list(wanted) else "DIFFERENT"
            lines.append(f"- {case.peer} `{case.peer_case}`: peer reads {len(case.links)} link(s), collector {len(got)} "
                         f"({verdict}: {case.note or 'no note'})")
    own_ok = sum([decoded(u) for u in read(c)[0]] == list(COLLECTOR_READS.get(c.name, c.links)) for c in OWN)
    lines.append("")
    lines.append(f"collector's own hostile and sloppy cases: {own_ok} of {len(OWN)} read as intended; "
                 "no case resolves or expands an entity.")
    with Report("feed_cases"):
        print("\n".join(lines))


if __name__ == "__main__":
    main()
