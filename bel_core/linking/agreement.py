"""Inter-annotator agreement over pairs of decisions on the same mention (pure functions).

A pair is two curators' latest verdicts on one double-annotated mention. Deferred
verdicts (SKIPPED, NEEDS_CONTEXT) are not judgements and are left out by the caller.

* span agreement: both see the same span outcome (the span as is, the same corrected
  span, or no entity at all);
* concept agreement given the span: among pairs that agree it is an entity at this span,
  the share with the same concept set (NIL counts as its own answer);
* NIL agreement: among pairs where at least one says NIL, the share where both do;
* Cohen's kappa over the full outcome (concept set, NIL, not an entity, corrected span),
  overall and per semantic type: agreement corrected for what chance alone would give.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bel_core.types import Decision, DecisionStatus


@dataclass(frozen=True, slots=True)
class AgreementPair:
    """Two curators' verdicts on one mention.

    Attributes:
        a: one curator's latest verdict.
        b: another curator's latest verdict.
        semantic_type: the mention's type (label or top concept type), None if unknown.
        suggestions_hidden: either curator reviewed it blind.
    """

    a: Decision
    b: Decision
    semantic_type: str | None = None
    suggestions_hidden: bool = False

    @property
    def decided_on(self) -> date:
        """The day the later of the two verdicts was made (when the pair became comparable)."""
        times = [d.decided_at for d in (self.a, self.b) if d.decided_at is not None]
        return max(times).date() if times else date.min


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Agreement figures; a figure is None when no pair qualifies for it."""

    n_pairs: int
    span: float | None
    concept_given_span: float | None
    nil: float | None
    kappa: float | None
    kappa_by_type: dict[str, float | None]


def outcome(decision: Decision) -> str:
    """The full categorical outcome of a verdict, the label kappa compares."""
    if decision.status.links_concept:
        return "concept:" + "|".join(sorted(decision.concept_ids))
    if decision.status is DecisionStatus.WRONG_SPAN:
        span = decision.corrected_span
        return f"span:{span[0]}-{span[1]}" if span else "span:?"
    return decision.status.value


def span_outcome(decision: Decision) -> str:
    """What a verdict says about the span alone."""
    if decision.status is DecisionStatus.NOT_ENTITY:
        return "none"
    if decision.status is DecisionStatus.WRONG_SPAN:
        return outcome(decision)
    return "as-is"


def _share(hits: Iterable[bool]) -> float | None:
    values = list(hits)
    return sum(values) / len(values) if values else None


def cohen_kappa(labels_a: Sequence[str], labels_b: Sequence[str]) -> float | None:
    """Cohen's kappa of two label sequences; None when empty, 1.0 when chance agreement is total.

    Raises:
        ValueError: the sequences differ in length.
    """
    if len(labels_a) != len(labels_b):
        raise ValueError(f"kappa needs paired labels; got {len(labels_a)} and {len(labels_b)}")
    n = len(labels_a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(labels_a, labels_b, strict=True)) / n
    count_a, count_b = Counter(labels_a), Counter(labels_b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected == 1.0:
        # Both always gave the same single label: perfect agreement, nothing for chance to explain.
        return 1.0
    return (observed - expected) / (1.0 - expected)


def _kappa(pairs: Sequence[AgreementPair]) -> float | None:
    return cohen_kappa([outcome(p.a) for p in pairs], [outcome(p.b) for p in pairs])


def report(pairs: Sequence[AgreementPair]) -> AgreementReport:
    """Every agreement figure for ``pairs``."""
    entity = {DecisionStatus.NIL} | {s for s in DecisionStatus if s.links_concept}
    same_span = [p for p in pairs if span_outcome(p.a) == span_outcome(p.b) == "as-is"]
    by_type: dict[str, list[AgreementPair]] = defaultdict(list)
    for p in pairs:
        by_type[p.semantic_type or "(no type)"].append(p)
    return AgreementReport(
        n_pairs=len(pairs),
        span=_share(span_outcome(p.a) == span_outcome(p.b) for p in pairs),
        concept_given_span=_share(
            outcome(p.a) == outcome(p.b) for p in same_span if p.a.status in entity and p.b.status in entity
        ),
        nil=_share(p.a.status is p.b.status for p in pairs if DecisionStatus.NIL in (p.a.status, p.b.status)),
        kappa=_kappa(pairs),
        kappa_by_type={t: _kappa(members) for t, members in sorted(by_type.items())},
    )


def by_blindness(pairs: Sequence[AgreementPair]) -> dict[str, AgreementReport]:
    """Reports for pairs reviewed with suggestions shown and with suggestions hidden."""
    return {
        "suggestions shown": report([p for p in pairs if not p.suggestions_hidden]),
        "suggestions hidden": report([p for p in pairs if p.suggestions_hidden]),
    }


def over_time(pairs: Sequence[AgreementPair]) -> list[tuple[date, float | None, int]]:
    """Cumulative kappa by day: (day, kappa of all pairs comparable by then, number of pairs)."""
    days = sorted({p.decided_on for p in pairs})
    return [(day, _kappa(upto := [p for p in pairs if p.decided_on <= day]), len(upto)) for day in days]


def top1_agreement(decisions: Iterable[tuple[Decision, str | None, bool]], hidden: bool) -> tuple[float | None, int]:
    """How often curators linked the model's top-1 concept, for blind or for shown reviews.

    With suggestions shown, a higher rate than blind suggests anchoring on the suggestion.

    Args:
        decisions: (verdict, the model's top-1 concept id, whether suggestions were hidden).
        hidden: measure blind reviews (True) or reviews with suggestions (False).

    Returns:
        (share of verdicts that are exactly the top-1 concept, number of verdicts counted);
        only linking and NIL verdicts count.
    """
    hits = [
        d.concept_ids == (top,)
        for d, top, was_hidden in decisions
        if was_hidden is hidden and top is not None and (d.status.links_concept or d.status is DecisionStatus.NIL)
    ]
    return _share(hits), len(hits)
