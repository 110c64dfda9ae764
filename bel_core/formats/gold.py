"""Gold export: curator decisions as JSON Lines or PubTator.

Stage: the last one, after curation. It formats the decisions it is given; choosing them
(latest decision per mention, SKIPPED left out) is the repository's job, and nothing here
reads a database or changes a decision.

JSON Lines schema (``gold_jsonl``): one object per decided mention, lines sorted by
(doc_id, start, end), keys always present and always in this order:

====================  ==================  ================================================
key                   JSON type           meaning
====================  ==================  ================================================
``doc_id``            string              the document's external id (PMID, file stem...)
``start``             integer             character offset of the span in the document text
``end``               integer             end offset (exclusive); ``text == doc[start:end]``
``text``              string              the mention text as it appears in the document
``label``             string or null      entity type from the imported file, else null
``status``            string              ``accepted``, ``corrected``, ``nil``,
                                          ``wrong_span``, ``not_entity`` or ``skipped``
``concept_ids``       array of strings    linked KB ids (one or more for accepted /
                                          corrected, composite mentions have several);
                                          empty for every other status
``curator``           string              who decided
``decided_at``        string or null      ISO 8601 time of the decision
                                          (``2025-03-01T12:30:00+00:00``), null if unknown
``note``              string              the curator's free-text note (may be empty)
====================  ==================  ================================================

PubTator (``gold_pubtator``): every document given, with one mention line per decision
that links a concept (accepted, corrected: ids joined with ``|``) or says NIL (id ``-1``);
WRONG_SPAN, NOT_ENTITY and SKIPPED decisions are left out because they are not gold links.
The type column is the mention's label, or ``Entity`` when it has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bel_core.formats.common import Annotations
from bel_core.formats.pubtator import write_pubtator
from bel_core.types import Decision, DecisionStatus, Document, Mention


@dataclass(frozen=True, slots=True)
class GoldAnnotation:
    """A mention together with the decision that settles it."""

    mention: Mention
    decision: Decision

    def __post_init__(self) -> None:
        if self.mention.key != self.decision.mention_key:
            raise ValueError(f"decision {self.decision.mention_key} does not belong to mention {self.mention.key}")


def _row(record: GoldAnnotation) -> dict[str, object]:
    """One JSONL object; the dict literal fixes the key order of the schema."""
    mention, decision = record.mention, record.decision
    return {
        "doc_id": mention.doc_id,
        "start": mention.start,
        "end": mention.end,
        "text": mention.text,
        "label": mention.label,
        "status": decision.status.value,
        "concept_ids": list(decision.concept_ids),
        "curator": decision.curator,
        "decided_at": decision.decided_at.isoformat() if decision.decided_at else None,
        "note": decision.note,
    }


def gold_jsonl(records: Iterable[GoldAnnotation]) -> str:
    """Write decisions as JSON Lines (schema in the module docstring).

    Args:
        records: one per decided mention.

    Returns:
        One compact JSON object per line (UTF-8 text kept as is, not ``\\u`` escaped),
        each line ending in a newline; ``""`` when there are no records.
    """
    ordered = sorted(records, key=lambda r: r.mention.key)
    return "".join(json.dumps(_row(r), ensure_ascii=False) + "\n" for r in ordered)


def gold_links(records: Iterable[GoldAnnotation]) -> Annotations:
    """The annotations the document formats write: per doc id, (mention, ids) of each
    concept-linking or NIL decision (NIL has no ids: the format's "no id", PubTator ``-1``).

    WRONG_SPAN, NOT_ENTITY and SKIPPED decisions are not gold links and are left out.
    """
    annotations: dict[str, list[tuple[Mention, tuple[str, ...]]]] = {}
    for record in records:
        status = record.decision.status
        if status.links_concept or status is DecisionStatus.NIL:
            annotations.setdefault(record.mention.doc_id, []).append((record.mention, record.decision.concept_ids))
    return annotations


def gold_pubtator(documents: Sequence[Document], records: Iterable[GoldAnnotation]) -> str:
    """Write the concept-linking and NIL decisions (:func:`gold_links`) as PubTator.

    Args:
        documents: every document to write (documents without gold are written too).
        records: decisions; only ACCEPTED, CORRECTED and NIL ones become mention lines.

    Raises:
        ValueError: a record's document is not in ``documents``.
    """
    return write_pubtator(documents, gold_links(records))
