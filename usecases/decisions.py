"""Decision records with their ids: history, whose decisions a curator sees, optimistic concurrency, undo.

Two curators may open the same mention at once. Each page remembers the id of the latest
decision it showed; ``add_checked_decision`` locks the mention's row, checks that no other
decision arrived since, and only then appends the new verdict. If one did arrive, it raises
``ConcurrentDecisionError`` carrying that decision and stores nothing: nothing is
overwritten silently, on SQLite or PostgreSQL.

Double annotation: on a document assigned to two or more curators, each assignee sees
only their own decisions (independent judgements); everyone else, and every other
document, sees the latest decision whoever made it. ``Perspective`` captures this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bel_core.errors import ConcurrentDecisionError
from bel_core.types import Decision
from db import queries
from db.engine import queue_for_write
from db.mapping import DecisionContext, MentionKey, StoredDecision, to_stored_decision
from db.models import AssignmentRow, DecisionRow, DocumentRow, MentionRow
from db.repository import add_decision


@dataclass(frozen=True, slots=True)
class Perspective:
    """Whose decisions a curator sees: their own on double-annotated documents, else everyone's.

    Attributes:
        curator: the curator looking.
        independent_docs: doc_ids that are double-annotated with this curator as an assignee.
    """

    curator: str
    independent_docs: frozenset[str] = field(default_factory=frozenset)

    def own_only(self, doc_id: str) -> bool:
        """True when only the curator's own decisions count on ``doc_id``."""
        return doc_id in self.independent_docs


def perspective(session: Session, curator: str) -> Perspective:
    """The perspective of ``curator`` from the current assignments."""
    rows = session.execute(select(DocumentRow.doc_id, AssignmentRow.curator).join(AssignmentRow))
    assignees: dict[str, set[str]] = defaultdict(set)
    for doc_id, assignee in rows:
        assignees[doc_id].add(assignee)
    own = frozenset(d for d, names in assignees.items() if len(names) > 1 and curator in names)
    return Perspective(curator, own)


def history(session: Session, key: MentionKey) -> list[StoredDecision]:
    """Every decision on one mention with ids and context, oldest first."""
    rows = session.scalars(
        select(DecisionRow)
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .where(*queries.scope(key[0], key[1:]))
        .order_by(DecisionRow.id)
    )
    return [to_stored_decision(row, key) for row in rows]


def visible(decisions: Sequence[StoredDecision], view: Perspective) -> list[StoredDecision]:
    """The decisions of one mention that ``view`` counts, oldest first."""
    if not decisions or not view.own_only(decisions[0].decision.doc_id):
        return list(decisions)
    return [d for d in decisions if d.decision.curator == view.curator]


def latest_visible(session: Session, key: MentionKey, view: Perspective) -> StoredDecision | None:
    """The latest decision on ``key`` that ``view`` counts, or None."""
    shown = visible(history(session, key), view)
    return shown[-1] if shown else None


def visible_latest_all(session: Session, view: Perspective, doc_id: str | None = None) -> dict[MentionKey, Decision]:
    """Per mention (of one document, or of all), the latest decision ``view`` counts."""
    query = (
        select(DecisionRow, MentionRow.start, MentionRow.end, DocumentRow.doc_id)
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .where(*queries.scope(doc_id))
        .order_by(DecisionRow.id)
    )
    out: dict[MentionKey, Decision] = {}
    for row, start, end, d in session.execute(query):
        if view.own_only(d) and row.curator != view.curator:
            continue
        key = (d, start, end)
        out[key] = to_stored_decision(row, key).decision  # ascending ids: the last one wins
    return out


def add_checked_decision(
    session: Session,
    decision: Decision,
    context: DecisionContext,
    *,
    expected_latest_id: int | None,
    view: Perspective,
) -> int:
    """Append ``decision`` only if the latest decision ``view`` counts is still ``expected_latest_id``.

    Check and append run under a lock on the mention's row, held until the caller's
    transaction ends, so two curators deciding one mention are serialised: the second
    waits, then sees the first one's decision (PostgreSQL's READ COMMITTED gives each
    statement a fresh snapshot; SQLite's lock is the database's write lock, taken before
    the check reads anything).

    Returns:
        The new decision's id.

    Raises:
        ConcurrentDecisionError: another decision arrived since the curator looked;
            nothing was stored.
    """
    mention_id = queries.mention_id(session, decision.mention_key)
    _lock_mention(session, mention_id)
    query = select(func.max(DecisionRow.id)).where(DecisionRow.mention_id == mention_id)
    if view.own_only(decision.doc_id):
        query = query.where(DecisionRow.curator == view.curator)
    latest_id = session.scalar(query)
    if latest_id != expected_latest_id:
        found = next(d for d in history(session, decision.mention_key) if d.id == latest_id)
        raise ConcurrentDecisionError(found)
    return add_decision(session, decision, context=context)


def _lock_mention(session: Session, mention_id: int) -> None:
    # A write that changes nothing: a row lock on PostgreSQL (other rows and the foreign-key
    # checks of inserts referencing the mention are not blocked), the write lock on SQLite,
    # which has no row locks and ignores SELECT ... FOR UPDATE (queued for fairly).
    queue_for_write(session)
    session.execute(update(MentionRow).where(MentionRow.id == mention_id).values(label=MentionRow.label))


def undo_target(decisions: Sequence[StoredDecision]) -> tuple[StoredDecision, StoredDecision | None] | None:
    """What an undo takes back and what it restores, replaying the history as a stack.

    A verdict pushes; an undo (``undoes_id`` set) pops. Undoing again therefore walks
    further back instead of redoing.

    Args:
        decisions: one mention's visible decisions, oldest first.

    Returns:
        (the decision taken back, the decision whose state comes back or None when the
        mention returns to undecided), or None when there is nothing to undo.
    """
    stack: list[StoredDecision] = []
    for stored in decisions:
        if stored.context.undoes_id is not None:
            if stack:
                stack.pop()
        else:
            stack.append(stored)
    if not stack:
        return None
    return stack[-1], (stack[-2] if len(stack) > 1 else None)
