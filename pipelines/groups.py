"""What the linker holds while a batch is open: lineage groups (their members' metadata, the
decision, the links as stored) and shingle sets already computed."""

from __future__ import annotations

from collections import OrderedDict

from collector.core.contracts import DocumentStore
from collector.core.origin import Decision, Member, MemberIndex, bare_host, bare_url, decide_origin, name_key
from collector.core.similarity import Text
from collector.core.sites import Sites


# --- shingle sets, computed once --------------------------------------------------------------

class ShingleCache:
    """Shingle sets of documents, by id, each with the signature it was made with: a set is
    used again only while the stored signature is the same (another process, or a re-clean,
    may have changed the text). Bounded: a least-recently-used set is dropped."""

    def __init__(self, documents: DocumentStore, size: int = 4096):
        self.documents = documents
        self.size = size
        self._sets: OrderedDict[int, tuple[bytes, Text]] = OrderedDict()

    def put(self, doc_id: int, signature: bytes, shingles: "Text") -> None:
        self._sets[doc_id] = (signature, shingles)
        self._sets.move_to_end(doc_id)
        while len(self._sets) > self.size:
            self._sets.popitem(last=False)

    def get(self, ids) -> dict[int, "Text"]:
        ids = list(dict.fromkeys(ids))
        signatures = self.documents.signatures(ids)
        out, missing = {}, []
        for doc_id in ids:
            held = self._sets.get(doc_id)
            if held is not None and held[0] == signatures.get(doc_id):
                out[doc_id] = held[1]
                self._sets.move_to_end(doc_id)
            else:
                missing.append(doc_id)
        for doc_id, text in self.documents.texts(missing):
            out[doc_id] = Text.of(text)
            self.put(doc_id, signatures[doc_id], out[doc_id])
        return out

    def one(self, doc_id: int) -> "Text":
        return self.get([doc_id])[doc_id]


# --- groups ------------------------------------------------------------------------------

class Group:
    """A lineage group as the linker holds it while a batch is open: its members' metadata
    (never their text), the decision, and the link each copy has."""

    def __init__(self, members: list[Member], links: dict[int, dict], sites: Sites):
        self.members = {m.id: m for m in members}
        self.links = links  # copy id -> link row, as stored
        self.index = MemberIndex(members, sites)
        self.claim_keys: set[tuple] = set()
        for member in members:
            self.claim_keys |= claim_keys(member)
        self.decision: Decision = decide_origin(members, sites, self.index)

    @property
    def origin(self) -> Member:
        return self.members[self.decision.origin]

    def as_decided(self) -> bool:
        """Whether the stored links point at the decided origin, with its evidence."""
        origin, evidence = self.decision.origin, self.decision.evidence
        for member_id in self.members:
            row = self.links.get(member_id)
            if member_id == origin:
                if row is not None:
                    return False
            elif row is None or (row["origin_id"] == origin and not row["evidence"].startswith(evidence)):
                return False
        return True

    def site_members(self, site: str) -> list[Member]:
        return self.index.by_site.get(site, [])

    def add(self, member: Member) -> None:
        self.members[member.id] = member
        self.index.add(member)
        self.claim_keys |= claim_keys(member)


def claim_keys(member: Member) -> set[tuple]:
    """Every way a claim of ``member`` may name its target (see ``MemberIndex.targets``)."""
    keys = set()
    for claim in member.claims:
        if claim.get("claimed_url"):
            keys.add(("url", bare_url(claim["claimed_url"])))
            keys.add(("host", bare_host(claim["claimed_url"])))
        if claim.get("claimed_site"):
            keys.add(("site", claim["claimed_site"]))
        if claim.get("claimed_name"):
            keys.add(("name", name_key(claim["claimed_name"])))
    return keys


def identity_keys(member: Member, index: MemberIndex) -> set[tuple]:
    """Every way a claim may name ``member``."""
    keys = {("url", bare_url(member.url)), ("site", member.site), ("host", bare_host(member.url))}
    if member.canonical_url:
        keys.add(("url", bare_url(member.canonical_url)))
    keys |= {("name", name) for name in index.names(member)}
    return keys
