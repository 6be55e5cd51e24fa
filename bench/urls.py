"""The cost of one URL identity: collector.core.urls.canonical_url (w3lib's safe_url_string, then
the parameters filtered one by one) against the regex-only normaliser it replaced, on
generated URLs with and without tracking parameters. Prints a table; writes bench/out/urls.md.

    .venv/bin/python bench/urls.py [--urls 50000]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common.report import Report  # noqa: E402

from collector.core.urls import canonical_url  # noqa: E402

_OLD_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|_ga|igshid)$", re.IGNORECASE)


def old_normalize(url: str) -> str:
    """The crawl-only normaliser of before (collector/crawl.py), for the comparison."""
    parts = urlsplit(url.strip())
    port = parts.port
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    kept = [p for p in parts.query.split("&") if p and not _OLD_TRACKING.match(p.split("=", 1)[0])]
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


def urls(n: int, seed: int = 10) -> list[str]:
    rng = random.Random(seed)
    hosts = ["www.harbour-news.example", "M.Coastal.example:443", "news.example:8080", "bücher.example"]
    out = []
    for i in range(n):
        path = f"/2026/0{rng.randint(1, 9)}/{rng.randint(1, 28)}/story-{i}" + ("/amp" if rng.random() < 0.1 else "")
        params = [f"id={i}"] if rng.random() < 0.3 else []
        if rng.random() < 0.5:
            params += rng.sample(["utm_source=twitter", "utm_medium=social", "fbclid=IwAR0x", "ref=rss", "gclid=1", "page=2"], 3)
        rng.shuffle(params)
        out.append(f"https://{rng.choice(hosts)}{path}{'?' + '&'.join(params) if params else ''}{'#c' if rng.random() < 0.2 else ''}")
    return out


def timed(fn, data) -> float:
    getattr(fn, "cache_clear", lambda: None)()  # every URL new, as in a first crawl
    started = time.perf_counter()
    for url in data:
        fn(url)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=50_000)
    args = parser.parse_args()
    data = urls(args.urls)
    rounds = [(timed(old_normalize, data), timed(canonical_url, data)) for _ in range(3)]
    old, new = min(r[0] for r in rounds), min(r[1] for r in rounds)
    with Report("urls") as report:
        print(f"{args.urls:,} URLs, best of 3 alternating rounds\n")
        report.table(["normaliser", "URLs/s", "µs per URL"], [
            ["regex only (before; crawls only)", f"{args.urls / old:,.0f}", f"{1e6 * old / args.urls:.1f}"],
            ["canonical_url (w3lib; every importer and spider)", f"{args.urls / new:,.0f}", f"{1e6 * new / args.urls:.1f}"]])
        print(f"\ncanonical_url costs {new / old:.1f}x the regex-only normaliser")


if __name__ == "__main__":
    main()
