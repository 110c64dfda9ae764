"""The Review loop's server side: a window of the queue to prefetch, and the client's queued actions.

The Review page's browser component shows one mention at a time from a window of the
queue it already holds (the mention, its document, its top candidates with probabilities,
its status) and applies keys locally, so the next mention never waits on the server. What
the curator decided travels back as ``Action`` records, each with a client-made id; the
page persists them here through the ordinary use cases (``services.decide``,
``curation.undo``: optimistic concurrency unchanged) and answers each id with an
``Outcome``. Resending an action that is already stored (a reload after the tab closed
before the answer came) is recognised and answered as stored, not as a conflict.

Blind mentions (``assignments.hash_fraction``) carry no candidates and no probability in
the window at all: what is never sent cannot leak through a colour or a hover text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import BelError
from bel_core.text import normalize
from bel_core.types import Candidate, DecisionStatus, Document, Mention, MentionKey
from db import queries, repository
from db.mapping import StoredDecision
from db.models import DecisionRow, DocumentRow, LinkRunRow, MentionRow
from usecases import curation, decisions, services
from usecases.assignments import hash_fraction

if TYPE_CHECKING:
    from bel_core.linking.protocols import Linker

Kind = Literal["decide", "undo", "span", "add", "group"]
KINDS: tuple[Kind, ...] = ("decide", "undo", "span", "add", "group")
TOP_CANDIDATES = 9  # one number key each


def is_blind(key: MentionKey, fraction: float) -> bool:
    """True for the ``fraction`` of mentions reviewed without suggestions (the same ones every time)."""
    return fraction > 0 and hash_fraction("blind", *key) < fraction


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the curator did in the browser, queued there until the server answers it.

    Attributes:
        id: made by the client, unique per action; answers are keyed by it.
        kind: "decide" (a verdict on ``key``), "undo" (take back the latest verdict on
            ``key``, or on each of ``keys``), "span" (``key``'s span is wrong: ``span`` is
            right, the concept is kept), "add" (``span`` of ``key``'s document is a mention
            the detector missed) or "group" (the verdict on ``key`` and on every undecided
            mention with the same normalized text in its document, or with ``corpus``, in
            every document).
        key: the mention.
        status: the verdict (decide and group).
        concept_ids: linked concepts (decide and group).
        expected: id of the latest decision the curator saw on ``key`` (None: none).
        hidden: the mention was reviewed blind.
        after: instead of ``expected``, the id of an earlier action on ``key`` not yet
            answered when this one was queued: the decision it stored is the one seen.
    """

    id: str
    kind: Kind
    key: MentionKey
    status: DecisionStatus | None = None
    concept_ids: tuple[str, ...] = ()
    expected: int | None = None
    hidden: bool = False
    after: str | None = None
    span: tuple[int, int] | None = None
    corpus: bool = False
    keys: tuple[MentionKey, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """The server's answer to one action.

    Attributes:
        ok: stored (or found already stored).
        decision_id: the id of the decision now latest on the mention, when ok.
        status: the mention's status after the action (None: undecided), when ok.
        error: why it was refused, in words for the curator.
        retry: the failure is transient (a locked database): the client sends it again.
        new_key: the mention a span fix or an addition created.
        keys: every mention a group verdict (or its undo) decided, ``key`` first.
    """

    ok: bool
    decision_id: int | None = None
    status: str | None = None
    error: str = ""
    retry: bool = False
    new_key: MentionKey | None = None
    keys: tuple[MentionKey, ...] = ()

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Outcome:
        """An answer kept in the page's session state."""
        new_key = value.get("new_key")
        return cls(
            bool(value["ok"]),
            value.get("decision_id"),
            value.get("status"),
            str(value.get("error", "")),
            new_key=_key(new_key) if new_key else None,
            keys=tuple(_key(k) for k in value.get("keys") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """The answer as the browser component reads it."""
        return {
            "ok": self.ok,
            "decision_id": self.decision_id,
            "status": self.status,
            "error": self.error,
            "retry": self.retry,
            "new_key": list(self.new_key) if self.new_key else None,
            "keys": [list(k) for k in self.keys],
        }


class ActionError(ValueError):
    """A queued action from the browser is malformed (never from a well-behaved client)."""


def _key(value: Any) -> MentionKey:
    doc_id, start, end = value
    return (str(doc_id), int(start), int(end))


def parse_action(raw: Mapping[str, Any]) -> Action:
    """An ``Action`` from the component's JSON; ActionError naming the bad field otherwise."""
    try:
        kind = raw["kind"]
        if kind not in KINDS:
            raise ActionError(f"unknown action kind {kind!r}")
        status = DecisionStatus(raw["status"]) if kind in ("decide", "group") else None
        expected = raw.get("expected")
        span = raw.get("span")
        return Action(
            id=str(raw["id"]),
            kind=kind,
            key=_key(raw["key"]),
            status=status,
            concept_ids=tuple(str(c) for c in raw.get("concept_ids") or ()),
            expected=None if expected is None else int(expected),
            hidden=bool(raw.get("hidden", False)),
            after=None if raw.get("after") is None else str(raw["after"]),
            span=None if span is None else (int(span[0]), int(span[1])),
            corpus=bool(raw.get("corpus", False)),
            keys=tuple(_key(k) for k in raw.get("keys") or ()),
        )
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ActionError(f"malformed review action {dict(raw)!r}: {e}") from e


def _latest_visible(session: Session, key: MentionKey, curator: str) -> tuple[int | None, str | None]:
    view = decisions.perspective(session, curator)
    latest = decisions.latest_visible(session, key, view)
    if latest is None:
        return None, None
    return latest.id, restored_status(latest.decision.status)


def restored_status(status: DecisionStatus) -> str | None:
    """A stored status as the queue reads it: "undecided" is no verdict at all."""
    return None if status is DecisionStatus.UNDECIDED else status.value


def _already_stored(error: decisions.ConcurrentDecisionError, action: Action, curator: str) -> bool:
    # A resent action whose first send was stored: the "concurrent" decision is our own, identical one.
    latest = error.latest
    if not isinstance(latest, StoredDecision) or action.kind != "decide":
        return False
    d = latest.decision
    if d.curator != curator or latest.context.undoes_id is not None:
        return False
    return d.status is action.status and (not action.concept_ids or tuple(d.concept_ids) == action.concept_ids)


def apply(session: Session, linker: Linker, action: Action, *, curator: str) -> Outcome:
    """Persist one action in ``session``; commits what is stored, rolls back what is refused.

    Raises:
        OperationalError: the database is locked or gone (nothing stored); the caller
            answers ``retry`` (see ``apply_all``).
    """
    try:
        if action.kind == "undo" and action.keys:
            for key in action.keys:
                curation.undo(
                    session,
                    key,
                    curator=curator,
                    expected_latest_decision_id=_latest_visible(session, key, curator)[0],
                )
        elif action.kind == "undo":
            curation.undo(session, action.key, curator=curator, expected_latest_decision_id=action.expected)
        elif action.kind in ("span", "add"):
            return _change_span(session, linker, action, curator=curator)
        elif action.kind == "group":
            return _decide_group(session, linker, action, curator=curator)
        else:
            assert action.status is not None  # parse_action sets it for every decide
            services.decide(
                session,
                linker,
                action.key,
                action.status,
                action.concept_ids,
                curator=curator,
                expected_latest_decision_id=action.expected,
                suggestions_hidden=action.hidden,
            )
    except decisions.ConcurrentDecisionError as e:
        session.rollback()  # removes the row just inserted; nothing was overwritten
        if not _already_stored(e, action, curator):
            return Outcome(False, error=str(e))
    except BelError as e:
        session.rollback()
        return Outcome(False, error=str(e))
    else:
        session.commit()
    decision_id, status = _latest_visible(session, action.key, curator)
    return Outcome(True, decision_id, status, keys=action.keys)


def _change_span(session: Session, linker: Linker, action: Action, *, curator: str) -> Outcome:
    assert action.span is not None
    if action.kind == "span":
        new_key = curation.correct_span(
            session, linker, action.key, action.span, curator=curator, expected_latest_decision_id=action.expected
        )
    else:
        new_key = services.add_manual_mention(session, linker, action.key[0], *action.span).key
    session.commit()
    decision_id, status = _latest_visible(session, new_key, curator)
    return Outcome(True, decision_id, status, new_key=new_key)


def same_text(session: Session, key: MentionKey, *, corpus: bool) -> list[MentionKey]:
    """Mentions whose normalized text equals ``key``'s, in its document (or in every one), ``key`` first."""
    wanted = normalize(repository.get_mention(session, key).text)
    query = select(DocumentRow.doc_id, MentionRow.start, MentionRow.end, MentionRow.text).join(DocumentRow)
    if not corpus:
        query = query.where(DocumentRow.doc_id == key[0])
    found = [(d, s, e) for d, s, e, text in session.execute(query) if normalize(text) == wanted]
    return [key, *(k for k in found if k != key)]


def group_members(session: Session, key: MentionKey, *, corpus: bool, curator: str) -> dict[MentionKey, int | None]:
    """``key`` and the undecided mentions with its text: mention -> latest decision id the curator counts."""
    keys = same_text(session, key, corpus=corpus)
    latest = latest_by_mention(session, curator, list(dict.fromkeys(k[0] for k in keys)))
    members: dict[MentionKey, int | None] = {}
    for k in keys:
        seen = latest.get(k)
        if k == key or seen is None or seen.status is None:
            members[k] = seen.decision_id if seen else None
    return members


def _decide_group(session: Session, linker: Linker, action: Action, *, curator: str) -> Outcome:
    assert action.status is not None
    members = group_members(session, action.key, corpus=action.corpus, curator=curator)
    members[action.key] = action.expected  # what the curator saw on the mention they pressed the key on
    curation.decide_group(
        session, linker, members, action.status, action.concept_ids, curator=curator, suggestions_hidden=action.hidden
    )
    session.commit()
    decision_id, status = _latest_visible(session, action.key, curator)
    return Outcome(True, decision_id, status, keys=tuple(members))


def apply_all(
    sessions: sessionmaker[Session],
    linker: Linker,
    actions: Iterable[Action],
    *,
    curator: str,
    answered: Mapping[str, Outcome],
) -> dict[str, Outcome]:
    """Persist ``actions`` in order, one transaction each; ``answered`` holds earlier answers.

    An action queued ``after`` another sees the decision that one stored; if that one was
    refused, so is this one. A refused action does not stop the others; a transient
    database failure is answered ``retry`` for that action and every later one, so they
    are sent again in their order.
    """
    answers: dict[str, Outcome] = {}
    pending = list(actions)
    for index, action in enumerate(pending):
        if action.after is not None:
            base = answers.get(action.after) or answered.get(action.after)
            if base is None or not base.ok:
                answers[action.id] = Outcome(
                    False, error="An earlier action on this mention was not saved; decide again"
                )
                continue
            # An undo of a group verdict takes back every mention it decided.
            keys = base.keys if action.kind == "undo" and len(base.keys) > 1 else action.keys
            action = replace(action, expected=base.decision_id, after=None, keys=keys)
        try:
            with sessions() as session:
                answers[action.id] = apply(session, linker, action, curator=curator)
        except OperationalError:
            for later in pending[index:]:
                answers[later.id] = Outcome(False, error="The database is busy; retrying", retry=True)
            break
    return answers


@dataclass(frozen=True, slots=True)
class LatestSeen:
    """The latest decision a curator counts on one mention: its id and status (None: undecided)."""

    decision_id: int
    status: str | None


def latest_by_mention(session: Session, curator: str, doc_ids: Sequence[str]) -> dict[MentionKey, LatestSeen]:
    """Per mention of ``doc_ids``, the latest decision ``curator`` counts (one query)."""
    if not doc_ids:
        return {}
    view = decisions.perspective(session, curator)
    query = (
        select(
            DecisionRow.id,
            DecisionRow.status,
            DecisionRow.curator,
            MentionRow.start,
            MentionRow.end,
            DocumentRow.doc_id,
        )
        .join(MentionRow, MentionRow.id == DecisionRow.mention_id)
        .join(DocumentRow, DocumentRow.id == MentionRow.document_id)
        .where(DocumentRow.doc_id.in_(list(doc_ids)))
        .order_by(DecisionRow.id)
    )
    out: dict[MentionKey, LatestSeen] = {}
    for decision_id, status, who, start, end, doc_id in session.execute(query):
        if view.own_only(doc_id) and who != curator:
            continue
        out[(doc_id, start, end)] = LatestSeen(decision_id, restored_status(DecisionStatus(status)))
    return out


@dataclass(frozen=True, slots=True)
class DocumentView:
    """What the component needs of one document: its text and every mention with its top candidates."""

    document: Document
    mentions: tuple[Mention, ...]
    candidates: Mapping[MentionKey, tuple[dict[str, Any], ...]]
    nil_probability: Mapping[MentionKey, float | None]
    generated: Mapping[MentionKey, tuple[dict[str, Any], ...]]  # the generative linker's ranking, when it ran


def store_version(session: Session) -> tuple[int | None, ...]:
    """What the queue order depends on: the newest decision, the newest link run, the number of mentions."""
    return (
        session.scalar(select(func.max(DecisionRow.id))),
        session.scalar(select(func.max(LinkRunRow.id))),
        session.scalar(select(func.count(MentionRow.id))),
    )


def link_versions(session: Session, doc_ids: Sequence[str]) -> dict[str, int | None]:
    """Per document, the id of its newest link run (None: never linked), one query.

    A document's mentions and candidates change only with a new run (a mention added, a
    span fixed, a re-link), so (doc_id, this id) names what ``load_documents`` reads.
    """
    query = (
        select(DocumentRow.doc_id, func.max(LinkRunRow.id))
        .outerjoin(LinkRunRow, LinkRunRow.document_id == DocumentRow.id)
        .where(DocumentRow.doc_id.in_(list(doc_ids)))
        .group_by(DocumentRow.doc_id)
    )
    return {doc_id: run_id for doc_id, run_id in session.execute(query)}


def load_documents(session: Session, doc_ids: Iterable[str]) -> dict[str, DocumentView]:
    """Text, mentions and top candidates of each document (what a window shows of it)."""
    out: dict[str, DocumentView] = {}
    for doc_id in dict.fromkeys(doc_ids):
        results = queries.latest_results(session, doc_id)
        generated = queries.latest_results(session, doc_id, linker="generator")
        out[doc_id] = DocumentView(
            repository.get_document(session, doc_id),
            tuple(repository.list_mentions(session, doc_id)),
            {key: _rows(stored.result.candidates) for key, stored in results.items()},
            {key: stored.nil_probability for key, stored in results.items()},
            {key: _rows(stored.result.candidates) for key, stored in generated.items()},
        )
    return out


def _rows(candidates: Sequence[Candidate]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "id": c.concept_id,
            "name": c.name,
            "alias": c.matched_alias,
            "stage": c.stage,
            "p": c.calibrated_score,
            "raw": round(c.raw_score, 4),
        }
        for c in candidates[:TOP_CANDIDATES]
    )


@dataclass(frozen=True, slots=True)
class TextCounts:
    """How many mentions share each normalized text, in the corpus and per document (group previews)."""

    corpus: Mapping[str, int]
    per_document: Mapping[tuple[str, str], int]


def text_counts(session: Session) -> TextCounts:
    """Count every stored mention by normalized text (one query over the mentions)."""
    corpus: dict[str, int] = {}
    per_document: dict[tuple[str, str], int] = {}
    query = select(DocumentRow.doc_id, MentionRow.text).join(DocumentRow)
    for doc_id, text in session.execute(query):
        norm = normalize(text)
        corpus[norm] = corpus.get(norm, 0) + 1
        per_document[(doc_id, norm)] = per_document.get((doc_id, norm), 0) + 1
    return TextCounts(corpus, per_document)


def _top_probability(candidates: Sequence[Mapping[str, Any]]) -> float | None:
    if not candidates:
        return None
    top = candidates[0]
    return top["p"] if top["p"] is not None else top["raw"]


def window(
    order: Sequence[MentionKey],
    lo: int,
    hi: int,
    documents: Mapping[str, DocumentView],
    latest: Mapping[MentionKey, LatestSeen],
    *,
    blind_fraction: float,
    caption: Callable[[Mention], str],
    counts: TextCounts,
) -> dict[str, Any]:
    """The JSON the component shows: queue items ``order[lo:hi]`` and their documents.

    Every string in it is data: the component sets it as text, never as markup.
    """
    items = []
    for index in range(lo, hi):
        key = order[index]
        view = documents[key[0]]
        mention = next((m for m in view.mentions if m.key == key), None)
        if mention is None:
            continue  # replaced meanwhile (a span fix elsewhere); the order is refreshed on the next load
        blind = is_blind(key, blind_fraction)
        seen = latest.get(key)
        items.append(
            {
                "i": index,
                "key": list(key),
                "text": mention.text,
                "caption": caption(mention),
                "status": seen.status if seen else None,
                "latest_id": seen.decision_id if seen else None,
                "blind": blind,
                "candidates": [] if blind else list(view.candidates.get(key, ())),
                "generated": [] if blind else list(view.generated.get(key, ())),
                "nil_p": None if blind else view.nil_probability.get(key),
                # Others with the same text, for the group verdicts' preview.
                "same_document": counts.per_document.get((key[0], normalize(mention.text)), 1) - 1,
                "same_corpus": counts.corpus.get(normalize(mention.text), 1) - 1,
            }
        )
    docs: dict[str, Any] = {}
    for doc_id in dict.fromkeys(order[i][0] for i in range(lo, hi)):
        view = documents[doc_id]
        spans = []
        for m in sorted(view.mentions, key=lambda m: (m.start, -m.end)):
            blind = is_blind(m.key, blind_fraction)
            seen = latest.get(m.key)
            spans.append(
                {
                    "s": m.start,
                    "e": m.end,
                    "p": None if blind else _top_probability(view.candidates.get(m.key, ())),
                    "blind": blind,
                    "status": seen.status if seen else None,
                }
            )
        docs[doc_id] = {"text": view.document.text, "title_end": view.document.title_end, "mentions": spans}
    return {"items": items, "docs": docs}


def doc_ids_of(order: Sequence[MentionKey], lo: int, hi: int) -> list[str]:
    """The documents of ``order[lo:hi]``, in first-seen order."""
    return list(dict.fromkeys(order[i][0] for i in range(lo, hi)))
