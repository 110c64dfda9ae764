"""Assigning documents to curators, with double annotation of a configurable fraction.

Whether a document is double-annotated is decided by a hash of its doc_id, not by a
random generator: the same document gets the same answer on every run and machine, and
adding documents never reshuffles earlier ones. Load is balanced by giving each document
to the curators with the fewest assignments so far.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AssignmentRow, DecisionRow, DocumentRow, MentionRow, UserRow


def hash_fraction(*parts: object) -> float:
    """A deterministic pseudo-random number in [0, 1) from ``parts`` (sha256 based)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assignments(session: Session) -> dict[str, list[str]]:
    """doc_id -> assigned curators (sorted), for documents with at least one assignment."""
    rows = session.execute(select(DocumentRow.doc_id, AssignmentRow.curator).join(AssignmentRow))
    out: dict[str, list[str]] = defaultdict(list)
    for doc_id, curator in rows:
        out[doc_id].append(curator)
    return {d: sorted(names) for d, names in out.items()}


def assign_documents(session: Session, curators: Sequence[str], *, double_fraction: float) -> dict[str, list[str]]:
    """Assign every unassigned document to one curator, or two for ``double_fraction`` of them.

    Args:
        session: the caller's session.
        curators: who can be assigned (at least one; two for double annotation).
        double_fraction: share of documents to double-annotate, in [0, 1].

    Returns:
        The new assignments, doc_id -> curators.

    Raises:
        ValueError: no curators, or a fraction outside [0, 1].
    """
    if not curators:
        raise ValueError("assign_documents needs at least one curator")
    if not 0.0 <= double_fraction <= 1.0:
        raise ValueError(f"double_fraction must be in [0, 1], got {double_fraction}")
    current = assignments(session)
    load = Counter(c for names in current.values() for c in names)
    new: dict[str, list[str]] = {}
    documents = session.execute(select(DocumentRow.id, DocumentRow.doc_id).order_by(DocumentRow.id))
    for document_id, doc_id in documents:
        if doc_id in current:
            continue
        wanted = 2 if len(curators) > 1 and hash_fraction("double", doc_id) < double_fraction else 1
        chosen = sorted(curators, key=lambda c: (load[c], c))[:wanted]
        for curator in chosen:
            session.add(AssignmentRow(document_id=document_id, curator=curator))
            load[curator] += 1
        new[doc_id] = chosen
    session.flush()
    return new


def curator_names(session: Session) -> list[str]:
    """Everyone who has an account, an assignment or a decision, sorted."""
    names = set(session.scalars(select(UserRow.name)))
    names |= set(session.scalars(select(AssignmentRow.curator).distinct()))
    names |= set(session.scalars(select(DecisionRow.curator).distinct()))
    return sorted(names)


def mention_labels(session: Session) -> list[str]:
    """The distinct labels mentions came with (e.g. PubTator types), sorted."""
    return sorted(label for label in session.scalars(select(MentionRow.label).distinct()) if label)
