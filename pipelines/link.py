"""Link: find the stored documents a new one copies (or is copied by), and decide the origin.

Candidates come from the LSH index over the whole stored corpus (``collector.storage``),
filtered on their signatures, then verified on exact shingle sets, by Jaccard similarity J
and by containment (the share of one document's shingles found in the other), so that an
excerpt, whose J with its original is low, is still recognised by its containment of almost 1.

A lineage group is an origin and its copies. Its cost must not grow with its size: a wire
story has a thousand copies. So a new document is verified against the origin of each
group a candidate belongs to (and, for one article at two URLs of a site, against that
site's first copy), not against every member; the origin is decided from the members'
metadata (``collector.core.origin``), which the linker keeps for the groups of the open batch
(``pipelines.groups.Group``); the links are written for what changed only, and all of a group's links are
rewritten only when its origin (or the evidence for it) changes. Shingle sets are not
computed twice: the fingerprint stage's set travels with the item, and sets already made are
kept (``pipelines.groups.ShingleCache``), checked against the stored signature.

When a document matches members of several groups, the groups merge and the origin is
decided again. So an original that arrives after its copies becomes their origin then,
without re-importing them.
"""

from __future__ import annotations

import numpy as np

from collector.core.contracts import CandidateIndex, DocumentStore, Freshness, LineageStore
from collector.core.origin import Member, decide_after_join, decide_origin
from collector.core.similarity import ESTIMATE_MIN, Text, link_row, loose_relation, related
from collector.core.sites import Sites

from .groups import Group, ShingleCache, identity_keys
from .stage import Stage

#: Members of one group a new document is checked against directly when it is not like the
#: group's origin (it may copy a copy that added text): the likeliest few, by signature.
DIRECT_CHECKS = 3

#: Group members the linker keeps between batches at most (their metadata, a few hundred bytes
#: each): a group read once is used by every later copy of its story in the run.
HELD_MEMBERS_MAX = 200_000


class Linker:
    """Links stored documents into the lineage. The link and learn stages of a run share one
    (``shared``), so both see the same groups and shingle sets."""

    def __init__(self, documents: DocumentStore, index: CandidateIndex, lineage: LineageStore,
                 freshness: Freshness, sites: Sites):
        self.documents, self.index, self.lineage, self.freshness = documents, index, lineage, freshness
        self.sites = sites
        self.shingles = ShingleCache(documents)
        self._groups: dict[int, Group] = {}  # member id -> its group, for the open batch
        self._generation = None

    @classmethod
    def shared(cls, context) -> "Linker":
        store = context.store
        return context.shared("linker", lambda: cls(store.documents, store.lsh, store.lineage, store, context.sites))

    # --- what the batch knows ---------------------------------------------------------
    def _fresh(self) -> None:
        """Forget the groups when another writer committed since they were read, when this
        one rolled back what they hold, or when they are many (memory stays bounded)."""
        generation = (self.freshness.generation, self.freshness.data_version())
        if generation != self._generation or len(self._groups) > HELD_MEMBERS_MAX:
            self._groups.clear()
            self._generation = generation

    def _member(self, doc_id: int) -> Member:
        row = self.documents.metadata([doc_id])[doc_id]
        return Member.from_row(row, self.lineage.claims_of([doc_id])[doc_id])

    def group_of(self, doc_id: int) -> Group | None:
        """The group ``doc_id`` belongs to (None for a document without links)."""
        group = self._groups.get(doc_id)
        if group is None:
            ids = self.lineage.group_of(doc_id)
            if len(ids) < 2:
                return None
            rows = self.documents.metadata(ids)
            claims = self.lineage.claims_of(ids)
            members = [Member.from_row(rows[i], claims[i]) for i in ids]
            group = Group(members, self.lineage.links_of(ids), self.sites)
            for member_id in group.members:
                self._groups[member_id] = group
            if not group.as_decided():
                self._write(group, list(group.members))  # stored under other rules: now as decided
        return group

    # --- linking ----------------------------------------------------------------------
    def link(self, doc_id: int, minhash, shingles: Text, claims_origin: bool = False, member: Member | None = None) -> int:
        """Link ``doc_id`` (already stored and indexed, with this signature and shingle set);
        returns the number of links added or changed. A document that claims an origin is
        searched with one LSH band, not two: it is likely a copy or an excerpt, and a short
        excerpt collides in few bands."""
        self._fresh()
        self.shingles.put(doc_id, _signature_bytes(minhash), shingles)
        hits = self.index.candidates(minhash, 1 if claims_origin else None)
        hits.pop(doc_id, None)
        candidates = self._few_per_group(hits)
        ranked = self._plausible(minhash, len(shingles.shingles), candidates) if candidates else []
        # A claim naming a URL ties two documents whatever their share of buckets: a short
        # excerpt ("read more at URL") can collide in too few bands.
        ranked += sorted(self.lineage.claim_partners(doc_id) - set(ranked))
        current = self.group_of(doc_id)
        matched = self._matches(doc_id, shingles, ranked, current)
        if current is None and not matched:
            return 0
        member = member or self._member(doc_id)  # the item holds it; re-linked documents are read
        groups = [g for g in matched if isinstance(g, Group)]
        singles = [self._member(d) for d in matched if isinstance(d, int)]
        if current is not None:  # a stored document changed: decide its group again
            current.members[doc_id] = member
            return self._rebuild([current, *groups], singles, changed=doc_id)
        if len(groups) == 1 and not singles:
            return self._join(groups[0], member)
        return self._rebuild(groups, [member, *singles])

    def _few_per_group(self, hits: dict[int, int]) -> set[int]:
        """The candidates worth a look: of a group already known, the few that share the most
        bands (``_matches`` checks a group on its origin and ``DIRECT_CHECKS`` members at
        most); every other candidate."""
        kept, per_group = set(), {}
        for doc_id in sorted(hits, key=lambda d: (-hits[d], d)):
            group = self._groups.get(doc_id)
            if group is not None:
                seen = per_group.get(id(group), 0)
                if seen > DIRECT_CHECKS:
                    continue
                per_group[id(group)] = seen + 1
            kept.add(doc_id)
        return kept

    def _plausible(self, minhash, count: int, candidates: set[int]) -> list[int]:
        """Candidates whose signatures leave room for a link, likeliest first: the estimated
        containment (from estimated Jaccard and the set sizes) reaches ``ESTIMATE_MIN``.
        Cheap, so the exact check reads the shingles of only a few documents."""
        sketches = self.documents.sketches(candidates)
        ids = sorted(sketches)
        if not ids or not count:
            return []
        mine = np.asarray(minhash.hashvalues, dtype=np.uint32)
        values = np.stack([sketches[c][0] for c in ids])
        counts = np.array([sketches[c][1] for c in ids], dtype=float)
        jaccard = (values == mine).mean(axis=1)
        inter = jaccard / (1 + jaccard) * (counts + count)
        contained = inter / np.maximum(np.minimum(counts, count), 1)
        order = np.lexsort((np.array(ids), -contained))
        return [ids[i] for i in order if contained[i] >= ESTIMATE_MIN]

    def _matches(self, doc_id: int, shingles: Text, ranked: list[int], current: Group | None) -> set:
        """The groups (``Group``) and the documents without a group (ids) that ``doc_id``
        is like: each group checked on its origin first, then on its likeliest candidates."""
        found: set = set()
        tried: dict[int, int] = {}  # id(group) -> direct checks made
        settled: set[int] = set()   # groups already matched or not like their origin
        for candidate in ranked:
            group = self.group_of(candidate)
            if group is None:
                if related(shingles, self.shingles.one(candidate), False):
                    found.add(candidate)
                continue
            if group is current or group in found:
                continue
            key = id(group)
            if key not in settled:
                settled.add(key)
                origin = group.decision.origin
                if origin != doc_id and related(shingles, self.shingles.one(origin), False):
                    found.add(group)
                    continue
            if tried.get(key, 0) < DIRECT_CHECKS:
                tried[key] = tried.get(key, 0) + 1
                if related(shingles, self.shingles.one(candidate), False):
                    found.add(group)
        return found

    # --- one new member: the common case, at a cost independent of the group's size ---
    def _join(self, group: Group, member: Member) -> int:
        if identity_keys(member, group.index) & group.claim_keys:
            return self._rebuild([group], [member])  # a claim in the group may name it
        decision = decide_after_join(group.decision, group.origin, member, group.index)
        if decision is None:
            return self._rebuild([group], [member])
        group.add(member)
        self._groups[member.id] = group
        old, group.decision = group.decision, decision
        if decision.origin != old.origin:
            return self._write(group, list(group.members))
        written = self._write(group, [m.id for m in self._site_to_relate(group, member)])
        if decision.evidence != old.evidence:
            written += self._restate(group, old.evidence)
        return written

    def _site_to_relate(self, group: Group, member: Member) -> list[Member]:
        """The new member, and if it became its site's first member, the site's others."""
        if self._primary(group, member.site) is member:
            return group.site_members(member.site)
        return [member]

    def _restate(self, group: Group, old: str) -> int:
        """The same origin, other evidence: every link to it says so (no relation changes)."""
        rows = []
        for member_id, row in group.links.items():
            if row["origin_id"] == group.decision.origin and row["evidence"].startswith(old):
                row = {**row, "evidence": group.decision.evidence + row["evidence"][len(old):]}
                group.links[member_id] = row
                rows.append(row)
        self.lineage.write_links(rows, [])
        return 0  # no link is new: the relations are as they were

    # --- many members: merges, late originals ---------------------------------------------
    def _rebuild(self, groups: list[Group], newcomers: list[Member] = (), changed: int | None = None) -> int:
        """Merge ``groups`` and ``newcomers`` into one group and decide it; relate the members
        whose link may have changed (``changed``: a member whose text changed): all of them
        when the origin is new; else those of the other groups and the newcomers, and the
        members of the sites they share with the origin's group (whose first copy may change)."""
        before = {id(g): (g.decision, set(g.members)) for g in groups}
        merged = self._merged(groups, newcomers, rebuild_index=changed is not None)
        kept = next((before[id(g)] for g in groups if before[id(g)][0].origin == merged.decision.origin), None)
        if kept is None or changed == merged.decision.origin:
            return self._write(merged, list(merged.members))
        decision, kept_ids = kept
        moved = [m for m in merged.members.values() if m.id not in kept_ids or m.id == changed]
        sites = {m.site for m in moved}
        ids = [m.id for m in moved] + [i for i in kept_ids if merged.members[i].site in sites and i != changed]
        written = self._write(merged, ids)
        if merged.decision.evidence != decision.evidence:
            written += self._restate(merged, decision.evidence)
        return written

    def _merged(self, groups: list[Group], newcomers, rebuild_index: bool) -> Group:
        """One group of ``groups`` and ``newcomers``, decided: the largest group grown by the
        others' members (its index kept: the cost follows what is added), or built anew when a
        member's own metadata changed (its old names would stay in the index)."""
        if rebuild_index or not groups:
            members: dict[int, Member] = {}
            links: dict[int, dict] = {}
            for group in groups:
                members.update(group.members)
                links.update(group.links)
            members.update((m.id, m) for m in newcomers)
            merged = Group(list(members.values()), links, self.sites)
            added = list(merged.members)
        else:
            merged = max(groups, key=lambda g: len(g.members))
            added = [m for g in groups if g is not merged for m in g.members.values()] + list(newcomers)
            for group in groups:
                if group is not merged:
                    merged.links.update(group.links)
            for member in added:
                merged.add(member)
            merged.decision = decide_origin(list(merged.members.values()), self.sites, merged.index)
            added = [m.id for m in added]
        for member_id in added:
            self._groups[member_id] = merged
        return merged

    # --- writing the links -------------------------------------------------------------------
    def _primary(self, group: Group, site: str) -> Member:
        """The member other members of ``site`` are duplicates of: the origin on its own site,
        else the site's earliest member."""
        if site == group.origin.site:
            return group.origin
        return min(group.site_members(site), key=lambda m: m.key)

    def _write(self, group: Group, ids: list[int]) -> int:
        """Compute the link of each of ``ids`` and write the ones that changed."""
        origin = group.origin
        ids = [i for i in ids if i != origin.id]
        primaries = {site: self._primary(group, site) for site in {group.members[i].site for i in ids}}
        rows, drop = [], []
        for start in range(0, len(ids), 1000):  # shingle sets of a chunk at a time, not the group's
            chunk = ids[start : start + 1000]
            sets = self.shingles.get([*chunk, origin.id, *(primaries[group.members[i].site].id for i in chunk)])
            for member_id in chunk:
                row = self._link_of(group, group.members[member_id], primaries, sets)
                if group.links.get(member_id) != row:
                    rows.append(row)
                    group.links[member_id] = row
        if origin.id in group.links:
            drop.append(origin.id)
            del group.links[origin.id]
        self.lineage.write_links(rows, drop)
        return len(rows)

    def _link_of(self, group: Group, member: Member, primaries, sets) -> dict:
        origin, evidence = group.origin, group.decision.evidence
        primary = primaries[member.site]
        mine = sets[member.id]
        if primary.id != member.id:
            # One article at several URLs of a site: the first is the site's copy, the others
            # are its duplicates (or the origin's, on the origin's own site).
            found = related(mine, sets[primary.id], True)
            if found and found[0] == "duplicate":
                return link_row(member.id, primary.id, found, f"same article at another URL of {member.site}")
        found = related(mine, sets[origin.id], member.site == origin.site)
        if found is None:
            # Joined the group through another member, not like the origin directly: say so.
            found = loose_relation(mine.shingles, sets[origin.id].shingles)
            evidence = f"{evidence}; related to the origin through another copy"
        return link_row(member.id, origin.id, found, evidence)


def _signature_bytes(minhash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype=np.uint32).tobytes()


class LinkPipeline(Stage):
    def __init__(self, linker: Linker):
        self.linker = linker

    @classmethod
    def from_context(cls, context):
        return cls(Linker.shared(context))

    def process(self, item):
        text = Text(item["shingles"], item["text"])
        item["new_links"] = self.linker.link(item["doc_id"], item["signature"], text, bool(item.get("claims")),
                                             Member.of_document(item))
        return item
