"""Write the example corpus: fictional articles of one publisher and the sites that repost them.

    python examples/make_corpus.py [OUT_DIR]      (default: examples/corpus)

Every input format is here: The Daily Ledger publishes HTML pages (one gzipped); Harbour Watch
reposts as plain-text dumps and saved HTML with its donation banner and an attribution line;
Coastal Digest's JSONL export carries a newsletter line on every article that no config
names (learned chrome) and a truncated excerpt; Morning Wire's WARC has a re-titled, edited
copy dated before the original (the attribution claim still wins) and the same article at
two URLs. The originals sort last, so they arrive after their copies. All text is invented.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ARTICLES = {
    "harbour-bridge-tolls": (
        "Harbour bridge tolls to rise for the first time in a decade",
        "2026-03-04T07:30:00+00:00",
        "Mara Okonkwo",
        [
            "Drivers crossing the old harbour bridge will pay forty cents more from the first of May, the port authority confirmed on Tuesday evening after a long and at times heated board meeting.",
            "The increase is the first since the toll booths were automated ten years ago. Officials said the extra revenue would pay for repainting the steel arches, which have not been touched since the late nineties and now show rust along most of the eastern span.",
            "Commuters from the northern suburbs, who cross the bridge twice a day, reacted with weary resignation. A delivery driver waiting at the southern ramp said the rise would cost him almost two hundred a year, money he would rather spend on his daughter's swimming lessons.",
            "The authority's chair, Ilse Varga, defended the decision and argued that the alternative was a full closure within five years. She pointed to an engineering survey which found corrosion in eleven of the forty main bolts that hold the deck to the arches.",
            "Cyclists and pedestrians will continue to cross for free. Season ticket holders keep their current price until their tickets expire, after which the new tariff applies to them as well.",
            "The city council has asked the authority to publish the full survey before the rise takes effect, and opposition councillors have called for a public hearing in April so that residents can question the engineers directly.",
        ],
    ),
    "library-night-hours": (
        "Central library to stay open until midnight during exam season",
        "2026-03-05T09:00:00+00:00",
        "Tomasz Reyes",
        [
            "The central library will keep its reading rooms open until midnight for six weeks this spring, responding to a petition signed by more than three thousand students from the city's two universities.",
            "Librarians said the late opening would run from the middle of April to the end of May, when most final examinations are held. Only the ground floor and the quiet study rooms on the second floor will be available after nine in the evening.",
            "The head librarian, Agnes Holloway, said the trial would cost roughly forty thousand in overtime and security, paid from a fund left to the library by a retired schoolteacher who asked that it be used to help young people study.",
            "Students welcomed the move. One second-year engineering student said her shared flat was too noisy to work in and the campus library closed at ten, which left her revising on night buses.",
            "If the trial is a success, the library board will consider making late opening a permanent feature of the exam period, and may extend it to the branch libraries in the eastern districts next year.",
        ],
    ),
    "ferry-timetable": (
        "New ferry timetable adds early crossings to the islands",
        "2026-03-06T06:45:00+00:00",
        "Mara Okonkwo",
        [
            "Island residents will be able to reach the mainland before seven in the morning for the first time, under a revised ferry timetable that takes effect next month.",
            "The operator will add two early crossings on weekdays, leaving the outer pier at twenty past five and ten past six. The last evening boat will leave the city half an hour later than it does now.",
            "Islanders have campaigned for earlier crossings for years, arguing that the first boat arrived too late for hospital shifts, school runs and the fish market, which opens at six.",
            "The changes were made possible by a second crew based on the largest island, which the regional transport office agreed to fund for three years. Fares will not change.",
            "A spokesperson for the operator said the company would review passenger numbers in the autumn and could add a further crossing on Saturdays if the early boats prove popular.",
        ],
    ),
    "market-hall-roof": (
        "Market hall roof repairs delayed by rare bat colony",
        "2026-03-07T11:15:00+00:00",
        "Priya Lindqvist",
        [
            "Repairs to the leaking roof of the old market hall have been postponed until autumn after surveyors found a colony of rare long-eared bats roosting in the timber beams above the fish stalls.",
            "The bats are protected, and work that could disturb them is forbidden while they raise their young in the summer months. An ecologist hired by the council counted at least sixty animals in the roof space.",
            "Stallholders, who have put buckets under the worst leaks since the winter storms, said they were disappointed but not surprised. The cheese seller at the north entrance said he had grown used to working under a tarpaulin.",
            "The council will install temporary gutters inside the hall next week and has promised a full repair, including new slates and a bat loft that the colony can return to, as soon as the animals leave in October.",
            "Conservation groups praised the decision and offered volunteers to help monitor the colony during the summer, when visitors to the market will be asked not to use flash photography near the roof.",
        ],
    ),
    "bridge-cycle-lane": (
        "Cyclists ask for a protected lane on the harbour bridge",
        "2026-03-08T08:00:00+00:00",
        "Jonas Ferreira",
        [
            "A cycling group has asked the port authority to use part of the money from the planned toll rise to build a protected lane across the harbour bridge, where riders now share a narrow strip with buses.",
            "The group's secretary said near misses were common on the steep western approach, especially in the dark winter mornings, and that parents no longer let teenagers ride to the schools on the far side.",
            "The authority said it would study the request but warned that the deck is already at its maximum load and that any new barrier would have to be light enough not to strain the old structure.",
            "Council transport officers said a lane could be painted as a trial within weeks, while a physical barrier would require approval from the heritage board because the bridge is a listed monument.",
        ],
    ),
    "tide-festival": (
        "Coastal towns prepare for the spring tide festival",
        "2026-03-09T10:00:00+00:00",
        "Rosa Adeyemi",
        [
            "Fishing villages along the coast are preparing for the spring tide festival, which returns after two quiet years with boat parades, lantern walks and a long table supper on the harbour wall.",
            "Organisers expect up to twenty thousand visitors over the long weekend and have asked the rail company to run extra trains from the city. Car parks near the beaches will close to all but residents.",
            "The festival began as a blessing of the fishing fleet and still opens with a procession of boats decorated with paper flowers, led this year by the oldest working trawler in the region.",
            "Local bakers will compete for the best seaweed bread, a tradition revived by a group of retired fishermen's wives who found the recipe in a parish cookbook from the nineteenth century.",
        ],
    ),
}

LEDGER = "https://dailyledger.example/2026/03/{day:02d}/{slug}"
DONATE = "Keep Harbour Watch independent - donate today!"
NEWSLETTER = "Get the Coastal Digest newsletter in your inbox every Friday morning."


def ledger_url(slug: str) -> str:
    day = int(ARTICLES[slug][1][8:10])
    return LEDGER.format(day=day, slug=slug)


def page(title, paragraphs, *, url=None, canonical=None, published=None, author=None, site_name="", extra_top="", extra_bottom="") -> str:
    head = [f"<title>{title} | {site_name}</title>", f'<meta property="og:site_name" content="{site_name}">']
    if url:
        head.append(f'<meta property="og:url" content="{url}">')
    if canonical:
        head.append(f'<link rel="canonical" href="{canonical}">')
    if published:
        head.append(f'<meta property="article:published_time" content="{published}">')
    if author:
        head.append(f'<meta name="author" content="{author}">')
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
{chr(10).join(head)}
</head><body>
<header><nav><a href="/">Home</a> <a href="/city">City</a> <a href="/about">About us</a></nav></header>
<main><article>
<h1>{title}</h1>
{extra_top}
{body}
{extra_bottom}
</article></main>
<footer><p>All rights reserved. Contact the newsroom.</p></footer>
</body></html>
"""


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # --- Harbour Watch: text dumps and a saved page (copies with banners and a claim) ---
    hw = out / "harbourwatch"
    hw.mkdir(exist_ok=True)
    title, _, _, paras = ARTICLES["harbour-bridge-tolls"]
    (hw / "bridge-tolls.txt").write_text(
        "\n\n".join([DONATE, title, "Originally appeared at The Daily Ledger", *paras, DONATE,
                     "Comment policy: be civil, stay on topic, and no personal attacks."]) + "\n",
        encoding="utf-8",
    )
    title, _, _, paras = ARTICLES["library-night-hours"]
    (hw / "library-hours.html").write_text(
        page(title, paras, url="https://harbourwatch.example/2026/library-hours", canonical=ledger_url("library-night-hours"),
             published="2026-03-05T15:00:00+00:00", site_name="Harbour Watch",
             extra_top=f'<aside class="donate"><p>{DONATE}</p></aside>'),
        encoding="utf-8",
    )
    # --- Coastal Digest: JSONL export, newsletter line on every article (learned chrome) ---
    cd = out / "coastaldigest"
    cd.mkdir(exist_ok=True)
    records = []
    title, _, _, paras = ARTICLES["harbour-bridge-tolls"]
    records.append({"url": "https://coastaldigest.example/briefs/bridge-tolls", "title": "Bridge tolls going up",
                    "published": "2026-03-04T12:00:00+00:00",
                    "text": "\n".join([*paras[:2], "Read more at The Daily Ledger", NEWSLETTER])})
    for slug in ("ferry-timetable", "market-hall-roof"):
        title, published, _, paras = ARTICLES[slug]
        records.append({"url": f"https://coastaldigest.example/news/{slug}", "title": title,
                        "text": "\n".join([*paras, "This article was first published by the Daily Ledger.", NEWSLETTER])})
    title, published, _, paras = ARTICLES["tide-festival"]
    records.append({"url": "https://coastaldigest.example/news/tide-festival", "title": title, "published": published,
                    "text": "\n".join([*paras, NEWSLETTER])})
    (cd / "export.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    # --- Morning Wire: a WARC with an edited, re-titled copy at two URLs ---
    mw = out / "morningwire"
    mw.mkdir(exist_ok=True)
    title, _, author, paras = ARTICLES["harbour-bridge-tolls"]
    edited = [p.replace("forty cents", "0.40").replace("weary resignation", "resignation") for p in paras[:-1]]
    html = page("Bridge toll rise confirmed", [*edited, "Source: The Daily Ledger"], url="https://morningwire.example/a/8812",
                published="2026-03-04T06:00:00+00:00", author=author, site_name="Morning Wire")
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url in ("https://morningwire.example/a/8812", "https://morningwire.example/amp/a/8812"):
        body = html.replace("https://morningwire.example/a/8812", url).encode("utf-8")
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    (mw / "crawl.warc.gz").write_bytes(buf.getvalue())
    # --- The Daily Ledger: the originals, sorted last so they arrive after their copies ---
    dl = out / "zz-dailyledger"
    dl.mkdir(exist_ok=True)
    for slug in ("harbour-bridge-tolls", "library-night-hours", "ferry-timetable", "market-hall-roof", "bridge-cycle-lane"):
        title, published, author, paras = ARTICLES[slug]
        html = page(title, paras, url=ledger_url(slug), canonical=ledger_url(slug), published=published, author=author,
                    site_name="The Daily Ledger")
        if slug == "market-hall-roof":
            (dl / f"{slug}.html.gz").write_bytes(gzip.compress(html.encode("utf-8"), mtime=0))
        else:
            (dl / f"{slug}.html").write_text(html, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "corpus")
