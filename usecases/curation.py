"""Curation use cases beyond a single verdict: span edits, undo, group decisions, adjudication.

Like ``usecases/services.py``, each function is one unit of work inside the caller's
transaction, and every decision goes through the optimistic-concurrency check of
``usecases/decisions.py`` with the decision id the curator last saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bel_core.errors import DecisionError, PermissionDeniedError
from bel_core.types import Decision, DecisionStatus
from db import repository
from db.mapping import MentionKey, StoredDecision
from db.models import Role, utcnow
from usecases import decisions, services

if TYPE_CHECKING:
    from bel_core.linking.protocols import Linker


def kept_concepts(session: Session, key: MentionKey, view: decisions.Perspective) -> tuple[str, ...]:
    """The concepts a span correction keeps: the latest linking verdict's, else the top candidate."""
    latest = decisions.latest_visible(session, key, view)
    if latest is not None and latest.decision.status.links_concept:
        return latest.decision.concept_ids
    found = repository.latest_link_result(session, key)
    if found is not None and found[0].top is not None:
        return (found[0].top.concept_id,)
    return ()


def correct_span(
    session: Session,
    linker: Linker,
    key: MentionKey,
    span: tuple[int, int],
    *,
    curator: str,
    expected_latest_decision_id: int | None,
) -> MentionKey:
    """Mark ``key`` WRONG_SPAN with the corrected span, and link the new span to the same concept.

    The corrected span becomes a MANUAL mention (linked by ``linker``); it is decided with
    the concepts ``kept_concepts`` finds (ACCEPTED if that is its new top candidate, else
    CORRECTED), or left undecided when the old mention had none.

    Returns:
        The key of the mention with the corrected span.

    Raises:
        DecisionError: the span is the same, empty or outside the text.
        ConcurrentDecisionError: someone decided the old mention since the curator looked.
    """
    if span == key[1:]:
        raise DecisionError("The corrected span is the span itself; move a boundary first")
    view = decisions.perspective(session, curator)
    concept_ids = kept_concepts(session, key, view)
    old = repository.get_mention(session, key)
    services.decide(
        session,
        linker,
        key,
        DecisionStatus.WRONG_SPAN,
        curator=curator,
        corrected_span=span,
        expected_latest_decision_id=expected_latest_decision_id,
    )
    new = services.add_manual_mention(session, linker, key[0], span[0], span[1], label=old.label)
    if concept_ids:
        found = repository.latest_link_result(session, new.key)
        top = found[0].top if found else None
        status = DecisionStatus.ACCEPTED if top and concept_ids == (top.concept_id,) else DecisionStatus.CORRECTED
        services.decide(
            session, linker, new.key, status, concept_ids, curator=curator, note=f"span of {key[1]}-{key[2]}"
        )
    return new.key


def undo(session: Session, key: MentionKey, *, curator: str, expected_latest_decision_id: int | None) -> Decision:
    """Take back the latest verdict on ``key`` by appending a decision that restores the one before.

    Nothing is deleted: the restoring row copies the earlier verdict and names the undone
    one in ``undoes_id``. Undoing the only verdict records UNDECIDED: the mention is back
    in the queue as if never decided.

    Raises:
        DecisionError: there is nothing to undo.
        ConcurrentDecisionError: someone decided the mention since the curator looked.
    """
    view = decisions.perspective(session, curator)
    target = decisions.undo_target(decisions.visible(decisions.history(session, key), view))
    if target is None:
        raise DecisionError("Nothing to undo on this mention")
    undone, restored = target
    decision = _restoring_decision(key, undone, restored, curator)
    # The restoring row carries the provenance of the state it restores.
    context = replace((restored or undone).context, undoes_id=undone.id, adjudicated=False)
    decisions.add_checked_decision(
        session, decision, context, expected_latest_id=expected_latest_decision_id, view=view
    )
    return decision


def _restoring_decision(
    key: MentionKey, undone: StoredDecision, restored: StoredDecision | None, curator: str
) -> Decision:
    if restored is None:
        return Decision(
            *key, DecisionStatus.UNDECIDED, curator=curator, decided_at=utcnow(), note=f"undo of #{undone.id}"
        )
    old = restored.decision
    return Decision(
        *key,
        status=old.status,
        concept_ids=old.concept_ids,
        curator=curator,
        decided_at=utcnow(),
        note=f"undo of #{undone.id}",
        shown=old.shown,
        corrected_span=old.corrected_span,
    )


def decide_group(
    session: Session,
    linker: Linker,
    expected: Mapping[MentionKey, int | None],
    status: DecisionStatus,
    concept_ids: Sequence[str] = (),
    *,
    curator: str,
    suggestions_hidden: bool = False,
) -> list[Decision]:
    """Record the same verdict on every near-duplicate in ``expected`` (one decision each).

    Args:
        expected: mention key -> id of the latest decision the curator saw on it.

    Raises:
        ConcurrentDecisionError: one member was decided meanwhile; nothing is stored.
    """
    return [
        services.decide(
            session,
            linker,
            key,
            status,
            concept_ids,
            curator=curator,
            note=f"applied to {len(expected)} near-duplicates",
            expected_latest_decision_id=seen,
            suggestions_hidden=suggestions_hidden,
        )
        for key, seen in expected.items()
    ]


def adjudicate(
    session: Session,
    linker: Linker,
    key: MentionKey,
    status: DecisionStatus,
    concept_ids: Sequence[str] = (),
    *,
    adjudicator: str,
    role: Role,
    note: str = "",
) -> Decision:
    """Record an adjudicator's resolution of a disagreement; gold export prefers it.

    Raises:
        PermissionDeniedError: ``role`` is a plain curator.
    """
    if role is Role.CURATOR:
        raise PermissionDeniedError(f"{adjudicator} is a curator; adjudication needs the adjudicator or admin role")
    return services.decide(session, linker, key, status, concept_ids, curator=adjudicator, note=note, adjudicated=True)
