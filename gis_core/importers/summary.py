"""What an importer did: counts per outcome plus every row it skipped, superseded or repaired, with why."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportSummary:
    """The outcome of one import run.

    ``created + updated + unchanged`` is the number of source records written or confirmed; everything
    else in the source appears in ``skipped`` (not imported, with the reason) or ``superseded`` (lost to a
    better record for the same key). ``notes`` holds repairs and warnings a person should read.
    """

    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable lines for a management command's output, counts first."""
        out = [
            f"{self.source}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped, {len(self.superseded)} superseded"
        ]
        out += [f"  skipped: {line}" for line in self.skipped]
        out += [f"  superseded: {line}" for line in self.superseded]
        out += [f"  note: {line}" for line in self.notes]
        return out
