"""Figures of one linker on a held-out labelled split: what the model registry records per version.

Stage: after training, before promotion. The linker links the held-out mentions exactly as
it would in the app (documents given, so abbreviations, memory and calibration all apply);
the figures compare versions on the Model page: accuracy at 1 and 5, recall of candidate
generation at ``recall_k``, calibration of the top-1 probability (ECE, Brier, reliability
bins, binned as the shared scorer does), the share of mentions it would call NIL, and
accuracy per mention type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from bel_core.calibrate.reliability import brier_score, expected_calibration_error, reliability_bins
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.training.corpus import LabelledSplit
from bel_core.types import Document, Mention

NIL_THRESHOLD = 0.5  # P(NIL) at or above which the linker's answer counts as "no concept"
UNTYPED = "untyped"


def evaluate_holdout(
    pipeline: LinkingPipeline,
    split: LabelledSplit,
    *,
    nil_mentions: Sequence[Mention] = (),
    documents: Mapping[str, Document] | None = None,
    recall_k: int = 64,
) -> dict[str, Any]:
    """Link ``split`` (and the curator-NIL mentions) with ``pipeline``; return the registry's metrics.

    Args:
        pipeline: the linker to judge, loaded as the app loads it.
        split: held-out gold mentions with their documents.
        nil_mentions: held-out mentions the curators called NIL (they count for the NIL rates only).
        documents: documents of ``nil_mentions`` not already in ``split``.
        recall_k: depth at which candidate generation's recall is measured.

    Returns:
        ``n``, ``acc@1``, ``acc@5``, ``recall@<k>``, ``ece``, ``brier``, ``reliability``
        ([mean probability, accuracy, count] per non-empty bin), ``nil_rate`` (share of all
        held-out mentions whose P(NIL) >= ``NIL_THRESHOLD``), ``gold_nil_rate``, ``n_nil`` and
        ``per_type`` (label -> {n, acc@1}); all zero when there is nothing to evaluate.
    """
    docs = {**(documents or {}), **split.documents}
    golds = list(split.golds)
    mentions = [g.mention for g in golds] + list(nil_mentions)
    results = pipeline.link(mentions, documents=docs) if mentions else []
    linked = results[: len(golds)]
    hits = [[c.concept_id in g.gold_ids for c in r.candidates] for r, g in zip(linked, golds, strict=True)]
    probs = [float(r.candidates[0].calibrated_score or 0.0) if r.candidates else 0.0 for r in linked]
    right = [int(h[:1] == [True]) for h in hits]
    recall_lists = pipeline.retrieve([g.mention for g in golds], documents=docs, k=recall_k) if golds else []
    recalled = [bool(set(g.gold_ids) & {c.concept_id for c in r}) for g, r in zip(golds, recall_lists, strict=True)]
    called_nil = [r.nil_probability is None or r.nil_probability >= NIL_THRESHOLD for r in results]
    types: dict[str, list[int]] = defaultdict(list)
    for g, ok in zip(golds, right, strict=True):
        types[g.mention.label or UNTYPED].append(ok)
    n, total = len(golds), len(results)
    return {
        "n": n,
        "acc@1": sum(right) / n if n else 0.0,
        "acc@5": sum(any(h[:5]) for h in hits) / n if n else 0.0,
        f"recall@{recall_k}": sum(recalled) / n if n else 0.0,
        "ece": expected_calibration_error(probs, right),
        "brier": brier_score(probs, right),
        "reliability": [list(b) for b in reliability_bins(probs, right)],
        "nil_rate": sum(called_nil) / total if total else 0.0,
        "gold_nil_rate": len(nil_mentions) / total if total else 0.0,
        "n_nil": len(nil_mentions),
        "per_type": {t: {"n": len(v), "acc@1": sum(v) / len(v)} for t, v in sorted(types.items())},
    }
