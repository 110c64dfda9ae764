"""Two model families' rankings for one mention, side by side.

The retrieve-then-rerank pipeline and the generative linker each produce a ``LinkResult``
for the same mention. Curators see one merged list: every concept either proposed, with
the pipeline's retriever rank and calibrated probability next to the generator's, ordered
by whichever model the curator chooses, and a flag when the two top-1 concepts differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bel_core.types import Candidate, LinkResult

OrderBy = Literal["reranker", "generator"]


@dataclass(frozen=True, slots=True)
class ComparedCandidate:
    """One concept and what each model said about it (None: that model did not propose it).

    Attributes:
        candidate: the pipeline's candidate when it has one (it carries the matched alias
            and stage scores), else the generator's.
        retriever_rank: 1-based rank in the pipeline's list.
        reranker_probability: the pipeline's calibrated probability (reranker or retrieval
            calibrator, whichever the pipeline ran last).
        generator_rank: 1-based rank among the generator's beams merged to concepts.
        generator_probability: the generator's calibrated probability, or its beam probability
            mass (softmax over beams) when it has no calibrator: both are probabilities.
        generator_calibrated: whether ``generator_probability`` is calibrated.
    """

    candidate: Candidate
    retriever_rank: int | None
    reranker_probability: float | None
    generator_rank: int | None
    generator_probability: float | None
    generator_calibrated: bool = False

    @property
    def concept_id(self) -> str:
        """The concept both columns refer to."""
        return self.candidate.concept_id


@dataclass(frozen=True, slots=True)
class Comparison:
    """The merged list, ordered, and whether the two models disagree on the top concept."""

    rows: tuple[ComparedCandidate, ...]
    order_by: OrderBy
    disagree: bool


def top_concept(result: LinkResult | None) -> str | None:
    """The top-1 concept id of a result, None without candidates."""
    return result.candidates[0].concept_id if result is not None and result.candidates else None


def disagree(primary: LinkResult | None, generator: LinkResult | None) -> bool:
    """True when both models proposed a top-1 concept and the two differ."""
    a, b = top_concept(primary), top_concept(generator)
    return a is not None and b is not None and a != b


def compare(primary: LinkResult | None, generator: LinkResult | None, order_by: OrderBy = "reranker") -> Comparison:
    """Merge two results for one mention into one list ordered by ``order_by``'s ranking.

    Concepts the ordering model did not propose follow its own, in the other model's order.
    """
    pipeline = primary.candidates if primary is not None else ()
    generated = generator.candidates if generator is not None else ()
    by_pipeline = {c.concept_id: (rank, c) for rank, c in enumerate(pipeline, start=1)}
    by_generator = {c.concept_id: (rank, c) for rank, c in enumerate(generated, start=1)}
    first, second = (generated, pipeline) if order_by == "generator" else (pipeline, generated)
    order = list(dict.fromkeys(c.concept_id for c in (*first, *second)))
    rows = []
    for concept_id in order:
        p = by_pipeline.get(concept_id)
        g = by_generator.get(concept_id)
        base = p[1] if p is not None else g[1]  # type: ignore[index]  # one of the two proposed it
        rows.append(
            ComparedCandidate(
                candidate=base,
                retriever_rank=p[0] if p else None,
                reranker_probability=p[1].calibrated_score if p else None,
                generator_rank=g[0] if g else None,
                # A generator's raw score is already a probability (its share of the beams).
                generator_probability=(g[1].calibrated_score if g[1].calibrated_score is not None else g[1].raw_score)
                if g
                else None,
                generator_calibrated=g is not None and g[1].calibrated_score is not None,
            )
        )
    return Comparison(tuple(rows), order_by, disagree(primary, generator))
