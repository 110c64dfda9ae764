"""Fusion of candidate lists: the TF-IDF and dense stages' weighted sum, and best-of-two merges.

Stage: inside retrieval (``pipeline.LinkingPipeline.rank``). Pure functions over
candidate lists; nothing here retrieves or calibrates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bel_core.types import Candidate


def fuse(tfidf: list[Candidate], dense: list[Candidate], *, weight: float, depth: int, k: int) -> list[Candidate]:
    """Weighted sum of the two stages' scores per concept, best first, top ``k``.

    A concept one stage did not return gets that stage's last returned score when the
    stage returned a full list of ``depth`` (its true score is at most that; the bound
    keeps a strong hit of the other stage from being buried), and 0 when the list was
    shorter (TF-IDF stops at cosine 0, so absent means no shared n-gram). ``stage_scores``
    record the values used. ``matched_alias`` comes from the stage that scored it higher.

    Args:
        tfidf: the TF-IDF stage's best-first candidates.
        dense: the dense stage's best-first candidates.
        weight: ``w`` in ``(1 - w) * tfidf + w * dense``.
        depth: how many candidates each stage was asked for.
        k: candidates to keep.
    """
    by_stage = {"tfidf": {c.concept_id: c for c in tfidf}, "dense": {c.concept_id: c for c in dense}}
    floors = {
        name: (ranked[-1].raw_score if len(ranked) >= depth else 0.0)
        for name, ranked in (("tfidf", tfidf), ("dense", dense))
    }
    scored: list[tuple[float, float, float, Candidate]] = []
    for cid in dict.fromkeys([*by_stage["tfidf"], *by_stage["dense"]]):
        t, d = by_stage["tfidf"].get(cid), by_stage["dense"].get(cid)
        ts = t.raw_score if t else floors["tfidf"]
        ds = d.raw_score if d else floors["dense"]
        base = t if t and (d is None or ts >= ds) else d
        assert base is not None  # cid came from one of the two stages
        scored.append(((1 - weight) * ts + weight * ds, ts, ds, base))
    # Stable sort: equal fused scores keep TF-IDF's order, which is deterministic. Only the
    # kept ones become new candidates (up to 2 x depth are scored, k are kept).
    scored.sort(key=lambda row: -row[0])
    return [
        replace(base, stage="hybrid", raw_score=score, stage_scores=(("tfidf", ts), ("dense", ds)))
        for score, ts, ds, base in scored[:k]
    ]


def merge_best(a: Sequence[Candidate], b: Sequence[Candidate], k: int) -> list[Candidate]:
    """Union of two best-first lists, one entry per concept with its better score, best first."""
    best: dict[str, Candidate] = {}
    for c in [*a, *b]:
        if c.concept_id not in best or c.raw_score > best[c.concept_id].raw_score:
            best[c.concept_id] = c
    return sorted(best.values(), key=lambda c: -c.raw_score)[:k]
