"""What the Review and Adjudicate pages' buttons do: one transaction per action, then a message.

The buttons call these through Streamlit callbacks (``on_click``), whose arguments are
fixed when the page is drawn, so ``expected`` is the decision the curator actually saw.
``perform`` turns the outcome into a one-off message for the next run: a confirmation,
a warning when someone else decided first (their verdict is shown, nothing is stored),
or the error that explains what to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import BelError
from bel_core.linking.protocols import Linker
from bel_core.types import DecisionStatus, MentionKey
from pages.components import state
from pages.components.widgets import STATUS_LABELS, md
from usecases import curation, kb_extension, services
from usecases.auth import User
from usecases.decisions import ConcurrentDecisionError


@dataclass(frozen=True)
class Reviewer:
    """Who acts, with what: the store, the linker, the user."""

    store: sessionmaker[Session]
    linker: Linker
    user: User


def perform(action: Callable[[], str]) -> bool:
    """Run ``action`` (which returns a confirmation) and leave its outcome for the next run.

    Returns:
        True when the action succeeded.
    """
    try:
        message = action()
    except ConcurrentDecisionError as e:
        state.alert("warning", md(e))
        return False
    except BelError as e:
        state.alert("error", md(e))
        return False
    state.flash(md(message))
    return True


def _verdict(status: DecisionStatus, concept_ids: Sequence[str]) -> str:
    return STATUS_LABELS[status] + (f" → {', '.join(concept_ids)}" if concept_ids else "")


def decide(
    rv: Reviewer,
    key: MentionKey,
    text: str,
    status: DecisionStatus,
    concept_ids: Sequence[str],
    *,
    expected: int | None,
    hidden: bool,
) -> str:
    """Record one verdict; returns the confirmation."""
    with rv.store.begin() as session:
        decision = services.decide(
            session,
            rv.linker,
            key,
            status,
            concept_ids,
            curator=rv.user.name,
            expected_latest_decision_id=expected,
            suggestions_hidden=hidden,
        )
    return f"“{text}”: {_verdict(decision.status, decision.concept_ids)}"


def add_synonym(rv: Reviewer, key: MentionKey, text: str, concept_id: str) -> str:
    """Record the mention text as a synonym of ``concept_id`` in the KB extension."""
    with rv.store.begin() as session:
        added = kb_extension.add_synonym(session, rv.linker, text, concept_id, curator=rv.user.name, mention=key)
    if not added:
        return f"“{text}” is already a name of {concept_id}"
    return f"Added “{text}” as a synonym of {concept_id} (used after the next index rebuild)"


def adjudicate(rv: Reviewer, key: MentionKey, status: DecisionStatus, concept_ids: Sequence[str]) -> str:
    """Record an adjudicator's resolution (gold)."""
    with rv.store.begin() as session:
        decision = curation.adjudicate(
            session, rv.linker, key, status, concept_ids, adjudicator=rv.user.name, role=rv.user.role
        )
    return f"Adjudicated: {_verdict(decision.status, decision.concept_ids)}"
