"""Reading what the Review page shows, from the store, for the acting curator's perspective.

Two reads per run: the queue (filters applied, across documents) and, for the mention
under the cursor, its document, neighbours, candidates, decisions and near-duplicates.
Nothing here draws; the page and its side tabs do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import BelError
from bel_core.linking.protocols import Linker
from bel_core.types import DecisionStatus, Document, LinkResult, Mention, MentionKey
from db import repository
from db.mapping import StoredDecision
from db.queries import OPEN_STATUSES
from usecases import decisions
from usecases.queue import QueueFilters, QueueItem, review_queue


def concept_types(linker: Linker, concept_id: str) -> tuple[str, ...]:
    """Semantic types of a concept; none when the KB no longer has it."""
    try:
        return linker.concept(concept_id).types
    except BelError:
        return ()


def load_queue(store: sessionmaker[Session], linker: Linker, curator: str, filters: QueueFilters) -> list[QueueItem]:
    """The filtered queue, decided mentions included (last), as ``curator`` sees it."""
    with store() as session:
        view = decisions.perspective(session, curator)
        latest = decisions.visible_latest_all(session, view)
        return review_queue(
            session,
            include_decided=True,
            filters=filters,
            latest=latest,
            types_of=lambda cid: concept_types(linker, cid),
        )


def n_settled(queue: Sequence[QueueItem]) -> int:
    """Items with a verdict that settles them (not undecided, skipped or waiting for context)."""
    return sum(1 for item in queue if item.status is not None and item.status not in OPEN_STATUSES)


def near_duplicate_group(queue: Sequence[QueueItem], item: QueueItem) -> list[QueueItem]:
    """The items sharing ``item``'s normalised text and top concept (``item`` included); [] if none."""
    if item.group_key is None:
        return []
    members = [other for other in queue if other.group_key == item.group_key]
    return members if len(members) > 1 else []


@dataclass(frozen=True)
class GroupMember:
    """A near-duplicate of the current mention: where it is and what the curator last saw on it."""

    mention: Mention
    document: Document
    latest_id: int | None


@dataclass(frozen=True)
class MentionView:
    """Everything shown about the mention under the cursor."""

    document: Document
    mentions: list[Mention]
    results: dict[MentionKey, LinkResult]
    statuses: dict[MentionKey, DecisionStatus]
    history: list[StoredDecision]  # visible decisions on the current mention, oldest first
    group: list[GroupMember]  # undecided near-duplicates, the current mention first
    generator_results: dict[MentionKey, LinkResult] = field(default_factory=dict)  # the second model family

    @property
    def latest(self) -> StoredDecision | None:
        """The latest decision on the current mention that this curator counts."""
        return self.history[-1] if self.history else None


def load_mention(
    store: sessionmaker[Session], curator: str, key: MentionKey, group: Sequence[QueueItem]
) -> MentionView:
    """Read the current mention's surroundings; ``group`` lists its near-duplicates from the queue."""
    with store() as session:
        view = decisions.perspective(session, curator)
        latest = decisions.visible_latest_all(session, view, key[0])
        members = []
        for item in group:
            if item.status is None or item.mention.key == key:
                document = repository.get_document(session, item.mention.doc_id)
                shown = decisions.latest_visible(session, item.mention.key, view)
                members.append(GroupMember(item.mention, document, shown.id if shown else None))
        return MentionView(
            document=repository.get_document(session, key[0]),
            mentions=repository.list_mentions(session, key[0]),
            results=repository.latest_link_results(session, key[0]),
            generator_results=repository.latest_link_results(session, key[0], linker="generator"),
            statuses={k: d.status for k, d in latest.items()},
            history=decisions.visible(decisions.history(session, key), view),
            group=sorted(members, key=lambda m: m.mention.key != key),
        )
