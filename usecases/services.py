"""Use cases of the curation store: store and link documents, record decisions, import gold decisions.

Each function is one unit of work for the caller's transaction
(``with factory.begin() as session: services.decide(session, ...)``): everything is
validated before anything is written, and on an error the caller's rollback leaves the
store as it was. The linker arrives as an object satisfying ``bel_core.linking.protocols.Linker``,
so this module never imports a model library.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Final

from sqlalchemy.orm import Session

from bel_core.errors import DecisionError, UnknownConceptError
from bel_core.formats.documents import check_mention
from bel_core.types import Decision, DecisionStatus, Document, LinkResult, Mention, MentionKey, MentionOrigin
from db import repository
from db.mapping import DecisionContext
from db.models import utcnow
from usecases import decisions

if TYPE_CHECKING:
    from bel_core.linking.protocols import Linker
    from bel_core.linking.protocols import MentionLinker as MentionLinker

logger = logging.getLogger(__name__)


class Unchecked(Enum):
    """Type of ``UNCHECKED``: "do not check what the curator saw" (None means "saw nothing")."""

    TOKEN = 0


UNCHECKED: Final = Unchecked.TOKEN


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What ``ingest_document`` did."""

    doc_id: str
    n_mentions: int  # mentions the document has now
    n_new_mentions: int  # of which stored by this call
    link_run_id: int | None  # the run that linked the new mentions, None if nothing was linked
    already_stored: bool  # the identical document was already there; nothing was changed


def _link_and_store(
    session: Session,
    linker: Linker,
    document: Document,
    mentions: Sequence[Mention],
    generator: MentionLinker | None = None,
) -> int | None:
    """Link ``mentions`` with their document as context and the document's decisions as memory.

    With a ``generator``, its ranking is stored too, as a run of the "generator" family.
    Returns the pipeline's run id.
    """
    if not mentions:
        return None
    decisions = tuple(repository.latest_decisions(session, document.doc_id).values())
    results = linker.link(mentions, documents={document.doc_id: document}, decisions=decisions)
    run_id = repository.add_link_run(session, document.doc_id, results)
    if generator is not None:
        _generate_and_store(session, generator, document, mentions)
    return run_id


def _generate_and_store(
    session: Session, generator: MentionLinker, document: Document, mentions: Sequence[Mention]
) -> int | None:
    results = generator.link(mentions, documents={document.doc_id: document})
    if not results:
        return None
    return repository.add_link_run(session, document.doc_id, results, linker="generator")


def link_with_generator(session: Session, generator: MentionLinker, doc_id: str) -> int | None:
    """Run the generative linker over every mention of a stored document; returns the run id.

    For documents stored before a generator was available, so the Review page can compare.

    Raises:
        DocumentNotFoundError: the document is not stored.
    """
    document = repository.get_document(session, doc_id)
    return _generate_and_store(session, generator, document, repository.list_mentions(session, doc_id))


def ingest_document(
    session: Session,
    linker: Linker,
    document: Document,
    mentions: Sequence[Mention] | None = None,
    *,
    detect: bool = True,
    generator: MentionLinker | None = None,
) -> IngestReport:
    """Store a document with its mentions and link the new ones.

    Args:
        session: the caller's session, inside a transaction.
        linker: detects and links mentions.
        document: the document to store.
        mentions: spans that came with the document (e.g. PubTator lines); they win over
            detected mentions of the same span.
        detect: also run ``linker.detect`` on the text.
        generator: also store the generative linker's ranking of the new mentions.

    Returns:
        The report; ``already_stored`` is True (and nothing changed) when the identical
        document was stored before.

    Raises:
        InputFormatError: a mention does not match the text, or the doc_id is stored with
            another text.
        ValueError: a mention belongs to another document.
    """
    given = list(mentions or ())
    strangers = [m.key for m in given if m.doc_id != document.doc_id]
    if strangers:
        raise ValueError(f"Mentions {strangers[:3]} belong to other documents than {document.doc_id!r}")
    if not repository.add_document(session, document):
        n_stored = len(repository.list_mentions(session, document.doc_id))
        return IngestReport(document.doc_id, n_stored, 0, None, already_stored=True)
    detected = linker.detect(document) if detect else []
    new = repository.add_mentions(session, [*given, *detected])
    run_id = _link_and_store(session, linker, document, new, generator)
    n_stored = len(repository.list_mentions(session, document.doc_id))
    logger.info("ingested %s: %d mentions, link run %s", document.doc_id, len(new), run_id)
    return IngestReport(document.doc_id, n_stored, len(new), run_id, already_stored=False)


def add_manual_mention(
    session: Session,
    linker: Linker,
    doc_id: str,
    start: int,
    end: int,
    label: str | None = None,
    generator: MentionLinker | None = None,
) -> Mention:
    """Add a curator-given span as a MANUAL mention and link it (with the generator too, when given).

    Returns:
        The new mention; if the span is already a mention, that stored mention, unchanged
        and not re-linked (so a double click adds nothing).

    Raises:
        DocumentNotFoundError: the document is not stored.
        InputFormatError: the span is outside the text, empty or only whitespace.
    """
    document = repository.get_document(session, doc_id)
    mention = replace(check_mention(document, start, end), label=label, origin=MentionOrigin.MANUAL)
    new = repository.add_mentions(session, [mention])
    if not new:
        return next(m for m in repository.list_mentions(session, doc_id) if m.key == mention.key)
    _link_and_store(session, linker, document, new, generator)
    return mention


def _resolve(linker: Linker, concept_ids: Sequence[str]) -> tuple[str, ...]:
    # Alt ids become primary ids so that gold never carries retired identifiers; dict keeps
    # the curator's order while dropping ids that resolve to the same concept.
    return tuple(dict.fromkeys(linker.concept(cid).concept_id for cid in concept_ids))


def resolve_given(linker: Linker, concept_ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Imported ids as primary ids, and the ids the KB lacks.

    An id the KB lacks is kept verbatim among the primary ids (a corpus's gold is its
    data, not a NIL); alternate ids become their primary id. Order is kept, repeats dropped.
    """
    primary: list[str] = []
    missing: list[str] = []
    for cid in concept_ids:
        try:
            primary.append(linker.concept(cid).concept_id)
        except UnknownConceptError:
            primary.append(cid)
            missing.append(cid)
    return tuple(dict.fromkeys(primary)), tuple(missing)


def _new_decision(
    key: MentionKey,
    status: DecisionStatus,
    ids: tuple[str, ...],
    result: LinkResult | None,
    *,
    curator: str,
    note: str,
    suggestions_hidden: bool = False,
    corrected_span: tuple[int, int] | None = None,
) -> Decision:
    """A decision made now, with the candidates the curator was shown (none in blind review)."""
    return Decision(
        *key,
        status=status,
        concept_ids=ids,
        curator=curator,
        decided_at=utcnow(),
        note=note,
        shown=result.candidates if result and not suggestions_hidden else (),
        corrected_span=corrected_span,
    )


def decide(
    session: Session,
    linker: Linker,
    key: MentionKey,
    status: DecisionStatus,
    concept_ids: Sequence[str] = (),
    *,
    curator: str,
    note: str = "",
    corrected_span: tuple[int, int] | None = None,
    expected_latest_decision_id: int | None | Unchecked = UNCHECKED,
    suggestions_hidden: bool = False,
    adjudicated: bool = False,
) -> Decision:
    """Record a curator's verdict on one mention (appended; the latest decision wins).

    Args:
        session: the caller's session, inside a transaction.
        linker: resolves concept ids (alt ids to primary ids); names the KB version.
        key: the mention's (doc_id, start, end).
        status: the verdict.
        concept_ids: linked concepts for ACCEPTED/CORRECTED; ACCEPTED without ids takes the
            top candidate. Several ids link a composite mention.
        curator: who decides.
        note: free text.
        corrected_span: the right (start, end) for a WRONG_SPAN verdict, if known.
        expected_latest_decision_id: the id of the latest decision the curator saw (None:
            they saw none); when given, a decision stored meanwhile by someone else raises
            instead of being superseded silently.
        suggestions_hidden: blind review: the curator saw no candidates or scores.
        adjudicated: an adjudicator's resolution of a disagreement (becomes gold).

    Returns:
        The stored decision, with the candidates the curator was shown.

    Raises:
        DecisionError: the mention is unknown, or the verdict and ids do not fit together.
        UnknownConceptError: a concept id is not in the KB; nothing is stored.
        ConcurrentDecisionError: someone decided the mention since the curator looked.
    """
    repository.get_mention(session, key)  # DecisionError before anything else when unknown
    if corrected_span is not None:
        text_length = len(repository.get_document(session, key[0]).text)
        if not 0 <= corrected_span[0] < corrected_span[1] <= text_length:
            raise DecisionError(
                f"Corrected span {corrected_span} is not a non-empty span of the text (0-{text_length})"
            )
    ids = _resolve(linker, concept_ids)
    result, run_id = repository.latest_link_result(session, key) or (None, None)
    if status is DecisionStatus.ACCEPTED and not ids:
        if result is None or result.top is None:
            raise DecisionError("There is no candidate to accept; pick a concept by KB search, or mark it NIL")
        ids = (result.top.concept_id,)
    if status.links_concept != bool(ids):
        need = "needs at least one concept id" if status.links_concept else "takes no concept ids"
        raise DecisionError(f"A {status.value} decision {need}; got {list(ids)}")
    decision = _new_decision(
        key,
        status,
        ids,
        result,
        curator=curator,
        note=note,
        suggestions_hidden=suggestions_hidden,
        corrected_span=corrected_span,
    )
    context = DecisionContext(
        link_run_id=run_id,
        kb_version=linker.kb_version,
        model_version=result.model_version if result else linker.model_version,
        suggestions_hidden=suggestions_hidden,
        adjudicated=adjudicated,
    )
    if isinstance(expected_latest_decision_id, Unchecked):
        repository.add_decision(session, decision, context=context)
    else:
        view = decisions.perspective(session, curator)
        decisions.add_checked_decision(
            session, decision, context, expected_latest_id=expected_latest_decision_id, view=view
        )
    return decision


def import_gold_decisions(session: Session, linker: Linker, mentions: Sequence[Mention], *, curator: str) -> int:
    """Record the ids that came with imported, stored mentions as decisions (corpus gold).

    The ids are kept as the file wrote them (``DecisionContext.given_ids``, what exports
    write) and stored as primary ids for linking and evaluation (``resolve_given``: an
    alternate id becomes its primary id, an id the KB lacks stays as it is, never NIL).
    Ids that are exactly the top candidate make the decision ACCEPTED, other ids CORRECTED,
    no ids (PubTator ``-1``) NIL. Mentions already decided are left alone, so importing a
    file twice records nothing new.

    Returns:
        How many decisions were recorded.

    Raises:
        DecisionError: a mention is not stored.
    """
    decided: dict[MentionKey, Decision] = {}
    for doc_id in {m.doc_id for m in mentions}:
        decided |= repository.latest_decisions(session, doc_id)
    n = 0
    for mention in mentions:
        if mention.key in decided:
            continue
        result, run_id = repository.latest_link_result(session, mention.key) or (None, None)
        top_id = result.top.concept_id if result and result.top else None
        ids, missing = resolve_given(linker, mention.annotated_ids)
        if not ids:
            status = DecisionStatus.NIL
        else:
            status = DecisionStatus.ACCEPTED if ids == (top_id,) else DecisionStatus.CORRECTED
        note = f"not in KB {linker.kb_version}: {'|'.join(missing)}" if missing else ""
        decision = _new_decision(mention.key, status, ids, result, curator=curator, note=note)
        context = DecisionContext(
            link_run_id=run_id,
            kb_version=linker.kb_version,
            model_version=linker.model_version,
            given_ids=mention.annotated_ids,
        )
        repository.add_decision(session, decision, context=context)
        decided[mention.key] = decision
        n += 1
    return n
