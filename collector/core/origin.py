"""Which member of a lineage group is the origin: the rules, on metadata alone.

The evidence, strongest first:

1. an attribution claim ("Originally appeared at X") of one member naming another;
2. a canonical link of one member to another's URL;
3. the earliest publication;
4. the earliest fetch.

A group is decided from what is stored per member (URL, site, site name, canonical link,
dates, claims): no text is read, so deciding costs the same whatever the articles' length.
Every rule is a total order or a count over the members, never an accident of the order
they arrived in: importing the same documents in any order, in any batches, gives the same
origin and the same evidence.

Time order (``time_key``): a member with a time of day is at that moment; one with a day
only is at the end of that day (UTC), or at its fetch if it was fetched before then (it
cannot have been published after it was fetched); a date more than a day after the fetch
is not trusted (a wrong year, an "updated" date in the future): such a member, and one
with no date, comes after every dated member, by fetch. Ties go to the earlier fetch, then
to the URL, so no order of arrival decides anything.

A fetch counts by its hour (``FETCH_GRAIN``): pages fetched in the same hour were seen at
once, and which of them a crawl happened to download first (its concurrency, its nodes, a
retry) is no evidence of which was published first. So the same pages crawled twice, by one
process or by several nodes, get the same origins; a page seen hours or days before another
is still earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from .dates import moment, parse_time
from .sites import Sites, host_of, name_key

#: A publication date this long after the fetch is not believed (clocks and zones differ
#: by hours; a day more is a wrong date).
FUTURE_SLACK = timedelta(days=1)
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def bare_url(url: str | None) -> str:
    """A URL compared loosely: no scheme, no www., no trailing slash, no query."""
    if not url:
        return ""
    url = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    return url[4:] if url.startswith("www.") else url


def bare_host(url: str | None) -> str:
    host = host_of(url) or ""
    return host[4:] if host.startswith("www.") else host


#: The grain of a fetch time in the time order (see the module docstring).
FETCH_GRAIN = timedelta(hours=1)


def _fetched(value: str | None) -> datetime:
    """The fetch time, down to its hour: when the page was seen, not the crawl's order."""
    got = parse_time(value)
    if got is None:
        return _NEVER
    grain = FETCH_GRAIN.total_seconds()
    return datetime.fromtimestamp(got.timestamp() // grain * grain, timezone.utc)


@dataclass
class Member:
    """What deciding needs of a document: a few short fields, never its text."""

    id: int
    url: str
    site: str
    published: str | None = None
    fetched: str | None = None
    canonical_url: str | None = None
    sitename: str | None = None
    claims: list[dict] = field(default_factory=list)
    key: tuple = ()
    dated: bool = False

    def __post_init__(self):
        self.key, self.dated = time_key(self.published, self.fetched, self.url)

    @classmethod
    def of_document(cls, item) -> "Member":
        """The member a document just stored is: its fields as the store wrote them."""
        return cls(item["doc_id"], item["url"], item["site"], item.get("published"), item.get("fetched"),
                   item.get("canonical_url"), item.get("sitename"), list(item.get("claims") or []))

    @classmethod
    def from_row(cls, row: dict, claims: list[dict]) -> "Member":
        return cls(row["id"], row["url"], row["site"], row.get("published"), row.get("fetched"),
                   row.get("canonical_url"), row.get("sitename"), claims)


def time_key(published: str | None, fetched: str | None, url: str) -> tuple[tuple, bool]:
    """(sort key, whether the date was used): see the module docstring."""
    got = _fetched(fetched)
    when = moment(published)
    if when is not None:
        day, exact = when
        if exact is None:
            end_of_day = datetime.combine(day, time.max, tzinfo=timezone.utc)
            exact = min(end_of_day, got)
        if got is _NEVER or exact <= got + FUTURE_SLACK:
            return (0, exact, got, url), True
    return (1, _NEVER, got, url), False


def earliest(members) -> Member:
    return min(members, key=lambda m: m.key)


# --- claims -------------------------------------------------------------------------------

class MemberIndex:
    """The members by every name a claim may use for them: URL, own canonical URL, site key,
    host and site names. Built once per decision, so a claim is resolved in constant time."""

    def __init__(self, members, sites: Sites):
        self.sites = sites
        self.by_url: dict[str, list[Member]] = {}
        self.by_canonical: dict[str, list[Member]] = {}
        self.by_site: dict[str, list[Member]] = {}
        self.by_host: dict[str, list[Member]] = {}
        self.by_name: dict[str, list[Member]] = {}
        for member in members:
            self.add(member)

    def add(self, member: Member) -> None:
        self.by_url.setdefault(bare_url(member.url), []).append(member)
        if member.canonical_url and bare_host(member.canonical_url) == bare_host(member.url):
            self.by_canonical.setdefault(bare_url(member.canonical_url), []).append(member)
        self.by_site.setdefault(member.site, []).append(member)
        self.by_host.setdefault(bare_host(member.url), []).append(member)
        for name in self.names(member):
            self.by_name.setdefault(name, []).append(member)

    def names(self, member: Member) -> set[str]:
        names = {name_key(member.site), name_key(member.sitename or ""), name_key(bare_host(member.url))}
        site = self.sites.get(member.site)
        if site:
            names.add(name_key(site.name))
        names.discard("")
        return names

    def targets(self, claim: dict, author: Member) -> list[Member]:
        """Members of another site that ``claim`` of ``author`` points at: by URL (the member
        at that URL, else one whose canonical link is its own), else by resolved site, by
        host, or by the name the claim uses matching a member's site name."""
        def others(found):
            return [m for m in found if m.site != author.site]

        url = bare_url(claim.get("claimed_url"))
        if url:
            exact = others(self.by_url.get(url, [])) or others(self.by_canonical.get(url, []))
            if exact:
                return exact
        if claim.get("claimed_site"):
            return others(self.by_site.get(claim["claimed_site"], []))
        host = bare_host(claim.get("claimed_url"))
        if host:
            return others(self.by_host.get(host, []))
        name = name_key(claim.get("claimed_name") or "")
        return others(self.by_name.get(name, [])) if name else []


@dataclass
class Decision:
    origin: int
    evidence: str
    basis: str  # 'attribution' | 'canonical' | 'published' | 'fetched'
    #: for a claim: (the quoting member's time key, the line): the earliest claimant is quoted
    voter: tuple | None = None


#: Kinds of claims, strongest first, and every basis of a decision by strength.
CLAIM_KINDS = ("attribution", "canonical")
STRENGTH = {"attribution": 0, "canonical": 1, "published": 2, "fetched": 3}
LABELS = {"attribution": "attribution claim", "canonical": "canonical link"}


def by_claim(kind: str, origin: int, voter: Member, line: str) -> Decision:
    return Decision(origin, f"{LABELS[kind]}: #{voter.id} ({voter.site}) says {line!r}", kind, (voter.key, line))


def by_time(first: Member) -> Decision:
    if first.dated:
        return Decision(first.id, f"earliest published: {first.published}", "published")
    return Decision(first.id, f"earliest fetched: {first.fetched}", "fetched")


def _by_claims(kind: str, members: list[Member], index: MemberIndex) -> Decision | None:
    votes: dict[int, list[tuple[Member, str]]] = {}
    claimants: set[int] = set()
    for member in members:
        for claim in member.claims:
            if claim["kind"] != kind:
                continue
            for target in index.targets(claim, member):
                votes.setdefault(target.id, []).append((member, claim["evidence"]))
                claimants.add(member.id)
    if not votes:
        return None
    by_id = {m.id: m for m in members}
    # The original is claimed and claims no other member; a chain (C says B, B says A) ends at A.
    roots = [d for d in votes if d not in claimants] or list(votes)
    best = min(roots, key=lambda d: (-len(votes[d]), by_id[d].key))
    voter, line = min(votes[best], key=lambda vote: (vote[0].key, vote[1]))
    return by_claim(kind, best, voter, line)


def decide_origin(members: list[Member], sites: Sites, index: MemberIndex | None = None) -> Decision:
    """The group's origin and the evidence that chose it (attribution > canonical > date > fetch)."""
    index = index or MemberIndex(members, sites)
    for kind in CLAIM_KINDS:
        decided = _by_claims(kind, members, index)
        if decided:
            return decided
    return by_time(earliest(members))


def decide_after_join(old: Decision, origin: Member, member: Member, index: MemberIndex) -> Decision | None:
    """The decision once ``member`` joined a group decided ``old``, when it follows from
    ``old`` alone (None when the votes must be counted again): the caller has checked that
    no claim of the group can name ``member``, so only its own claims change the votes.
    Equal to ``decide_origin`` over the grown group, at a cost independent of its size."""
    credited: dict[str, list[str]] = {kind: [] for kind in CLAIM_KINDS}
    for claim in member.claims:
        if claim["kind"] not in credited:
            continue
        for target in index.targets(claim, member):
            if target.id != old.origin:
                return None  # it credits another member: that one's votes change
            credited[claim["kind"]].append(claim["evidence"])
    for kind in CLAIM_KINDS:
        if not credited[kind]:
            continue
        if STRENGTH[old.basis] < STRENGTH[kind]:
            return old  # a stronger kind of evidence decides
        line = min(credited[kind])
        if old.basis == kind and old.voter <= (member.key, line):
            return old  # one more vote for the origin, quoted from an earlier claimant
        return by_claim(kind, old.origin, member, line)
    if old.basis in CLAIM_KINDS or origin.key <= member.key:
        return old
    return by_time(member)
