"""Quick in-process evaluation of link results against the ids imported with their mentions.

The reference numbers of the project come from ``../shared/eval/score.py`` (bench scripts
call it); this module gives the CLI and the app the same all-mentions acc@k, plus ECE and
Brier of the calibrated top-1 probability, without leaving the process. Rules follow the
reference scorer: ``MESH:`` prefixes are stripped, alt ids map to primary ids, and a
composite gold (``A|B``) is right when any of its parts is predicted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bel_core.calibrate.scores import brier_score, expected_calibration_error
from bel_core.types import LinkResult


def _canonical(concept_id: str, alt_ids: Mapping[str, tuple[str, ...]]) -> set[str]:
    cid = concept_id.strip()
    if cid.upper().startswith("MESH:"):
        cid = cid[5:]
    return set(alt_ids.get(cid, (cid,)))


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """All-mentions accuracy at k, and calibration of the top-1 probability."""

    n: int
    accuracy_at: tuple[tuple[int, float], ...]
    ece: float | None
    brier: float | None

    def as_text(self) -> str:
        """One line per figure, as printed by ``bel evaluate``."""
        lines = [f"mentions scored: {self.n}"]
        lines += [f"acc@{k}: {acc:.4f}" for k, acc in self.accuracy_at]
        if self.ece is not None:
            lines.append(f"ECE (top-1, 15 bins): {self.ece:.4f}")
            lines.append(f"Brier (top-1): {self.brier:.4f}")
        return "\n".join(lines)


def score_link_results(
    results: Sequence[LinkResult],
    *,
    alt_ids: Mapping[str, tuple[str, ...]] | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> EvaluationReport:
    """Score results whose mentions carry gold ids in ``Mention.annotated_ids``.

    Mentions without gold ids (NIL) are skipped, as the reference scorer does.
    """
    alt_ids = alt_ids or {}
    correct = dict.fromkeys(ks, 0)
    probs: list[float] = []
    top1_right: list[int] = []
    n = 0
    for result in results:
        gold: set[str] = set()
        for gid in result.mention.annotated_ids:
            gold |= _canonical(gid, alt_ids)
        if not gold:
            continue
        n += 1
        ranks = [_canonical(c.concept_id, alt_ids) for c in result.candidates]
        first_hit = next((i for i, ids in enumerate(ranks) if ids & gold), None)
        for k in ks:
            correct[k] += int(first_hit is not None and first_hit < k)
        top = result.top
        if top is not None and top.calibrated_score is not None:
            probs.append(top.calibrated_score)
            top1_right.append(int(first_hit == 0))
    accuracy = tuple((k, correct[k] / n if n else 0.0) for k in ks)
    has_probs = n > 0 and len(probs) == n
    return EvaluationReport(
        n=n,
        accuracy_at=accuracy,
        ece=expected_calibration_error(probs, top1_right) if has_probs else None,
        brier=brier_score(probs, top1_right) if has_probs else None,
    )
