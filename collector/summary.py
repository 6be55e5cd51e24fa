"""What a run did, counted the same way for an import and a crawl (``CrawlSummary`` adds
what only a crawl has: pages fetched, faults, feeds not modified...)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .core.document import Status


@dataclass
class Summary:
    new: int = 0         # documents stored for the first time
    updated: int = 0     # stored documents whose input changed
    unchanged: int = 0   # stored before from the same input
    variants: int = 0    # another URL of a stored document (its canonical): an alias added
    skipped: int = 0     # inputs that made no document (each is a problem)
    new_links: int = 0
    queued: int = 0      # handed to the inbox (distributed mode: the link-worker stores them)
    batches: int = 0     # the link-worker's inbox batches, one transaction each
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # not problems: a site's wrong canonicals

    def count(self, item) -> None:
        """One document through the stages: counted by what the store did with it."""
        status = item.get("status")
        if status == Status.NEW:
            self.new += 1
        elif status == Status.UPDATED:
            self.updated += 1
        elif status == Status.VARIANT:
            self.variants += 1
        elif status == "queued":
            self.queued += 1
        else:
            self.unchanged += 1
        self.new_links += item.get("new_links") or 0

    def problem(self, message: str) -> None:
        self.skipped += 1
        self.problems.append(message)

    @property
    def imported(self) -> int:
        return self.new + self.updated

    @property
    def per_second(self) -> float:
        done = self.imported + self.unchanged + self.variants + self.queued
        return done / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "variants": self.variants,
            "skipped": self.skipped,
            "new_links": self.new_links,
            "seconds": round(self.seconds, 3),
            "documents_per_second": round(self.per_second, 1),
            **({"queued": self.queued} if self.queued else {}),
            **({"batches": self.batches} if self.batches else {}),
        }
