"""Link: find the stored documents a new one copies (or is copied by), and decide the origin.

Candidates come from the LSH index over the whole stored corpus (``collector.lsh``); each
is verified on exact shingle sets, by Jaccard similarity J and by containment (the share of
one document's shingles found in the other), so that an excerpt, whose J with its original
is low, is still recognised by its containment of almost 1.

A lineage group is an origin and its copies. When a document matches members of one or
more groups, the groups merge and the origin is decided again from the evidence, in this
order: an attribution claim, a cross-site canonical link, the earliest publication date,
the earliest fetch (``decide_origin``). So an original that arrives after its copies
becomes their origin then, without re-importing them.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from collector.sites import Sites, host_of, name_key

from .fingerprint import shingle_hashes
from .stage import Stage

#: A pair is linked when this share of the smaller document's shingles is in the larger.
#: Independently written articles on one story share under 10% of their 5-word shingles;
#: a repost with light edits keeps over 80%; 0.7 leaves room for edits on both sides.
CONTAINMENT_MIN = 0.7
#: A copy shorter than this share of its origin (in shingles) is an ``excerpt`` (a truncated
#: repost, a third of the text and "read more"), otherwise a ``copy`` (whole, small edits).
EXCERPT_MAX_SIZE = 0.7
#: Two documents of one site this similar are one article at two URLs: a ``duplicate``.
DUPLICATE_MIN_JACCARD = 0.8
#: The signature-estimated containment a candidate needs before its text is read. The
#: estimate's standard error is about 0.05 at 128 permutations near J=0.3 (an excerpt), so a
#: true link at containment 0.7 falls below 0.45 only by a >5-sigma error.
ESTIMATE_MIN = 0.45
#: Below this many shingles (about 12 words) containment means nothing: a caption, a stub.
MIN_SHINGLES = 8


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Shingles two sets (sorted unique hash arrays) share."""
    return int(np.intersect1d(a, b, assume_unique=True).size)


def relate(copy: np.ndarray, origin: np.ndarray, same_site: bool) -> tuple[str, float, float] | None:
    """(relation, Jaccard, containment of the copy in the origin), or None if unrelated."""
    if len(copy) < MIN_SHINGLES or len(origin) < MIN_SHINGLES:
        return None
    inter = overlap(copy, origin)
    if not inter:
        return None
    jaccard = inter / (len(copy) + len(origin) - inter)
    contained = inter / len(copy)     # how much of the copy comes from the origin
    coverage = inter / len(origin)    # how much of the origin the copy carries
    if max(contained, coverage) < CONTAINMENT_MIN:
        return None
    if same_site and jaccard >= DUPLICATE_MIN_JACCARD:
        return "duplicate", jaccard, contained
    return _copy_or_excerpt(copy, origin), jaccard, contained


def _copy_or_excerpt(copy: np.ndarray, origin: np.ndarray) -> str:
    # Judged on length, not on the shingles covered: a short copy with a few words changed
    # covers less of its origin than its length says, and is still a copy.
    return "excerpt" if len(copy) < EXCERPT_MAX_SIZE * len(origin) else "copy"


# --- deciding the origin ------------------------------------------------------------------

def _parse_date(value: str | None):
    """(day, exact datetime or None) for ordering; None if unparseable."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return value, None
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).date().isoformat(), dt


def _bare_url(url: str | None) -> str:
    """A URL compared loosely: no scheme, no www., no trailing slash, no query."""
    if not url:
        return ""
    url = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    return url[4:] if url.startswith("www.") else url


def _bare_host(url: str | None) -> str:
    host = host_of(url) or ""
    return host[4:] if host.startswith("www.") else host


def _claim_targets(claim: dict, author: dict, docs: dict[int, dict], sites: Sites) -> list[int]:
    """Members of another site that a claim of ``author`` points at: by URL, by resolved
    site, by host, or by the name the claim uses matching a member's site name."""
    wanted_name = name_key(claim.get("claimed_name") or "")
    wanted_url = _bare_url(claim.get("claimed_url"))
    wanted_host = _bare_host(claim.get("claimed_url"))
    others = {d: doc for d, doc in docs.items() if doc["site"] != author["site"]}
    if wanted_url:
        # The page a URL names: the member at that URL, else one whose canonical link is its
        # own (a repost's canonical pointing at the original does not make it the original).
        exact = [d for d, doc in others.items() if _bare_url(doc["url"]) == wanted_url]
        exact = exact or [
            d for d, doc in others.items()
            if _bare_url(doc.get("canonical_url")) == wanted_url and _bare_host(doc["canonical_url"]) == _bare_host(doc["url"])
        ]
        if exact:
            return exact
    out = []
    for doc_id, doc in others.items():
        if claim.get("claimed_site"):
            if claim["claimed_site"] == doc["site"]:
                out.append(doc_id)
        elif wanted_host and wanted_host == _bare_host(doc["url"]):
            out.append(doc_id)
        elif wanted_name:
            site = sites.get(doc["site"])
            names = {name_key(doc["site"]), name_key(doc.get("sitename") or ""), name_key(_bare_host(doc["url"]))}
            if site:
                names.add(name_key(site.name))
            if wanted_name in names:
                out.append(doc_id)
    return out


def _by_claims(kind: str, docs, claims, sites) -> tuple[int, str] | None:
    votes: dict[int, list[tuple[int, str]]] = {}
    claimants: set[int] = set()
    for doc_id, doc in docs.items():
        for claim in claims.get(doc_id, []):
            if claim["kind"] != kind:
                continue
            for target in _claim_targets(claim, doc, docs, sites):
                votes.setdefault(target, []).append((doc_id, claim["evidence"]))
                claimants.add(doc_id)
    if not votes:
        return None
    # The original is claimed and claims no other member; a chain (C says B, B says A) ends at A.
    roots = [d for d in votes if d not in claimants] or list(votes)
    ordered = _order_by_time(roots, docs)
    best = max(ordered, key=lambda d: (len(votes[d]), -ordered.index(d)))
    voter, evidence = votes[best][0]
    label = "attribution claim" if kind == "attribution" else "canonical link"
    return best, f"{label}: #{voter} ({docs[voter]['site']}) says {evidence!r}"


_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def _order_by_time(ids, docs) -> list[int]:
    """Earliest publication first (by UTC day, then by time; a day without a time after the
    timed ones of that day), then earliest fetch: the tie-break among claimed members."""

    def key(d):
        parsed = _parse_date(docs[d].get("published"))
        if parsed is None:
            return ("9999-99-99", _NEVER, docs[d].get("fetched") or "", d)
        return (parsed[0], parsed[1] or _NEVER, docs[d].get("fetched") or "", d)

    return sorted(ids, key=key)


def decide_origin(docs: dict[int, dict], claims: dict[int, list[dict]], sites: Sites) -> tuple[int, str]:
    """The group's origin and the evidence that chose it (attribution > canonical > date > fetch)."""
    for kind in ("attribution", "canonical"):
        decided = _by_claims(kind, docs, claims, sites)
        if decided:
            return decided
    dated = {d: _parse_date(doc.get("published")) for d, doc in docs.items()}
    dated = {d: p for d, p in dated.items() if p}
    pool = list(docs)
    if dated:
        first_day = min(p[0] for p in dated.values())
        same_day = [d for d, p in dated.items() if p[0] == first_day]
        if len(same_day) == 1:
            return same_day[0], f"earliest published: {docs[same_day[0]]['published']}"
        times = [dated[d][1] for d in same_day]
        if all(times):
            first = min(times)
            earliest = [d for d in same_day if dated[d][1] == first]
            if len(earliest) == 1:
                return earliest[0], f"earliest published: {docs[earliest[0]]['published']}"
            same_day = earliest
        # Same day, and the times do not order them (missing or equal): the fetch decides.
        pool = same_day
    best = min(pool, key=lambda d: (docs[d].get("fetched") or "", d))
    return best, f"earliest fetched: {docs[best].get('fetched')}"


# --- the stage ----------------------------------------------------------------------------

class Linker:
    """Links one stored document into the lineage; shared by the link and learn stages."""

    def __init__(self, store, sites: Sites):
        self.store = store
        self.sites = sites

    def link(self, doc_id: int, minhash, claims_origin: bool = False) -> int:
        """Link ``doc_id`` (already stored and indexed); returns the number of new links.
        A document that claims an origin is searched with one LSH band, not two: it is
        likely a copy or an excerpt, and a short excerpt collides in few bands."""
        candidates = set(self.store.candidates(minhash, 1 if claims_origin else None)) - {doc_id}
        candidates = self._plausible(doc_id, minhash, candidates) if candidates else set()
        # A claim naming a URL ties two documents whatever their share of buckets: a short
        # excerpt ("read more at URL") can collide in too few bands.
        candidates |= self.store.claim_partners(doc_id)
        if not candidates:
            return 0
        docs = self.store.documents(candidates | {doc_id})
        mine = shingle_hashes(docs[doc_id]["text"])
        matched = [c for c in candidates if relate(mine, shingle_hashes(docs[c]["text"]), False)]
        if not matched:
            return 0
        members = self.store.group_of(doc_id)
        for other in matched:
            members |= self.store.group_of(other)
        return self.decide(members)

    def _plausible(self, doc_id: int, minhash, candidates: set[int]) -> set[int]:
        """Candidates whose signatures leave room for a link: the estimated containment
        (from estimated Jaccard and the set sizes) reaches ``ESTIMATE_MIN``. Cheap, so the
        exact check reads the text of only a few documents, however many share a bucket."""
        sketches = self.store.sketches(candidates | {doc_id})
        mine, my_count = np.asarray(minhash.hashvalues, dtype=np.uint32), sketches[doc_id][1]
        ids = [c for c in candidates if c in sketches]
        if not ids or not my_count:
            return set()
        values = np.stack([sketches[c][0] for c in ids])
        counts = np.array([sketches[c][1] for c in ids], dtype=float)
        jaccard = (values == mine).mean(axis=1)
        inter = jaccard / (1 + jaccard) * (counts + my_count)
        contained = inter / np.maximum(np.minimum(counts, my_count), 1)
        return {c for c, est in zip(ids, contained) if est >= ESTIMATE_MIN}

    def decide(self, members: set[int]) -> int:
        """Choose the group's origin and write one link per other member."""
        docs = self.store.documents(members)
        claims = self.store.claims_of(members)
        origin, evidence = decide_origin(docs, claims, self.sites)
        sets = {d: shingle_hashes(doc["text"]) for d, doc in docs.items()}
        links = []
        by_site: dict[str, list[int]] = {}
        for member in _order_by_time(members - {origin}, docs):
            by_site.setdefault(docs[member]["site"], []).append(member)
        for site, ids in by_site.items():
            # One article at several URLs of a site: the first is the site's copy, the
            # others are its duplicates (or the origin's, on the origin's own site).
            primary = origin if site == docs[origin]["site"] else ids[0]
            for member in ids:
                if member != primary:
                    related = relate(sets[member], sets[primary], True)
                    if related and related[0] == "duplicate":
                        links.append(_link(member, primary, related, f"same article at another URL of {site}"))
                        continue
                links.append(self._to_origin(member, origin, sets, docs, evidence))
        before = self.store.links_among(members)
        self.store.set_group(members, links)
        after = {(l["copy_id"], l["origin_id"], l["relation"]) for l in links}
        return len(after - before)

    def _to_origin(self, member, origin, sets, docs, evidence) -> dict:
        mine, theirs = sets[member], sets[origin]
        related = relate(mine, theirs, docs[member]["site"] == docs[origin]["site"])
        if related is None:
            # Joined the group through another member, not like the origin directly: say so.
            inter = overlap(mine, theirs)
            related = (_copy_or_excerpt(mine, theirs), inter / (len(mine) + len(theirs) - inter or 1), inter / (len(mine) or 1))
            evidence = f"{evidence}; related to the origin through another copy"
        return _link(member, origin, related, evidence)


def _link(copy_id: int, origin_id: int, related, evidence: str) -> dict:
    relation, jaccard, contained = related
    return {
        "copy_id": copy_id,
        "origin_id": origin_id,
        "relation": relation,
        "similarity": round(jaccard, 4),
        "containment": round(contained, 4),
        "evidence": evidence,
    }


class LinkPipeline(Stage):
    def __init__(self, context):
        super().__init__(context)
        self.linker = Linker(context.store, context.sites)

    def process(self, item):
        item["new_links"] = self.linker.link(item["doc_id"], item["signature"], bool(item.get("claims")))
        return item
