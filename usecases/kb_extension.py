"""The KB extension: synonyms curators add from mentions ("add as synonym"), versioned and exportable.

Each synonym records who added it, when, to which KB version, and the mention it came
from. The retriever picks them up after a rebuild: ``extension_pairs`` returns them as
``(alias, concept_id)`` pairs, the shape of ``KnowledgeBase.aliases()``. The extension's
own version (``extension_version``) is a digest of its content, so an index built with a
given extension can be told apart from one built with another.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bel_core.errors import DecisionError
from bel_core.text import normalize
from db import queries
from db.mapping import MentionKey
from db.models import KbSynonymRow

if TYPE_CHECKING:
    from bel_core.linking.protocols import Linker


@dataclass(frozen=True, slots=True)
class Synonym:
    """One curator-added synonym."""

    alias: str
    concept_id: str
    kb_version: str
    curator: str
    created_at: datetime


def add_synonym(
    session: Session, linker: Linker, alias: str, concept_id: str, *, curator: str, mention: MentionKey | None = None
) -> bool:
    """Record ``alias`` as a synonym of ``concept_id`` (resolved to its primary id).

    Returns:
        True if stored; False when the concept already has this alias (in the KB or the extension).

    Raises:
        DecisionError: the alias is empty.
        UnknownConceptError: the concept is not in the KB.
    """
    alias = " ".join(alias.split())
    if not alias:
        raise DecisionError("A synonym needs some text; the mention text is empty")
    concept = linker.concept(concept_id)
    norm = normalize(alias)
    if norm in {normalize(name) for name in concept.names}:
        return False
    exists = session.scalar(
        select(KbSynonymRow.id).where(KbSynonymRow.alias_norm == norm, KbSynonymRow.concept_id == concept.concept_id)
    )
    if exists is not None:
        return False
    session.add(
        KbSynonymRow(
            alias=alias,
            alias_norm=norm,
            concept_id=concept.concept_id,
            kb_version=linker.kb_version,
            curator=curator,
            mention_id=queries.mention_id(session, mention) if mention else None,
        )
    )
    session.flush()
    return True


def list_synonyms(session: Session) -> list[Synonym]:
    """Every curator-added synonym, oldest first."""
    rows = session.scalars(select(KbSynonymRow).order_by(KbSynonymRow.id))
    return [Synonym(r.alias, r.concept_id, r.kb_version, r.curator, r.created_at) for r in rows]


def extension_pairs(session: Session) -> list[tuple[str, str]]:
    """(alias, concept_id) for every added synonym, for the retriever's next index build."""
    return [(s.alias, s.concept_id) for s in list_synonyms(session)]


def extension_version(session: Session) -> str:
    """A short digest of the extension's content ("none" when it is empty)."""
    pairs = extension_pairs(session)
    if not pairs:
        return "none"
    return "ext-" + hashlib.sha256(json.dumps(sorted(pairs)).encode("utf-8")).hexdigest()[:12]


def extension_jsonl(session: Session) -> str:
    """The extension as JSON Lines: alias, concept_id, kb_version, curator, added_at (ISO 8601)."""
    return "".join(
        json.dumps(
            {
                "alias": s.alias,
                "concept_id": s.concept_id,
                "kb_version": s.kb_version,
                "curator": s.curator,
                "added_at": s.created_at.isoformat(),
            },
            ensure_ascii=False,
        )
        + "\n"
        for s in list_synonyms(session)
    )
