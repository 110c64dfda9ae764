"""KB updates over the curation store: which stored decisions a new KB release affects.

``decisions_affected`` lists stored decisions whose concept ids a new KB release retired
or merged (``bel_core.kb.diff``). Import is ``usecases.ingest``; export is ``usecases.export``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bel_core.kb.diff import KBDiff
from bel_core.types import DecisionStatus
from db import repository


@dataclass(frozen=True, slots=True)
class AffectedDecision:
    """A stored decision linking to an id that a new KB release retired or merged."""

    key: tuple[str, int, int]
    status: DecisionStatus
    concept_id: str
    change: str  # "retired" or "merged"
    replacement: str | None  # the new primary id when merged


def decisions_affected(session: Session, diff: KBDiff) -> list[AffectedDecision]:
    """The latest decisions (by mention key) that use an id ``diff`` retires or merges."""
    changes = diff.changes()
    affected = []
    for key, decision in sorted(repository.latest_decisions(session).items()):
        for concept_id in decision.concept_ids:
            if concept_id in changes:
                new = changes[concept_id]
                affected.append(
                    AffectedDecision(key, decision.status, concept_id, "retired" if new is None else "merged", new)
                )
    return affected
