"""Dictionary augmentation and link priors learned from a gold corpus.

Stage: between the KB and retrieval, and right after retrieval. Gold mention texts of a
training corpus become extra aliases of their gold concepts (a KB *extension* stored in a
model directory; the base KB file is never changed), and how often the corpus links a
text to each concept becomes a prior: among candidates whose alias equals the mention
exactly, the most frequently linked one goes first. On NCBI-disease this is the largest
single gain (acc@1 0.73 -> 0.85, ../shared/RECIPES.md), much of it memorisation.
This module does not retrieve or calibrate.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from bel_core.calibrate.scores import EXACT
from bel_core.errors import UnknownConceptError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.text import normalize
from bel_core.types import Candidate


class AliasExtension:
    """Training links ``(mention text, concept id) -> count``, keyed on normalised text.

    Attributes:
        counts: ``(normalised text, primary concept id) -> times linked`` in training.
        surface: normalised text -> the first surface form seen (what becomes the alias).
    """

    def __init__(self, counts: Mapping[tuple[str, str], int], surface: Mapping[str, str]) -> None:
        self.counts = dict(counts)
        self.surface = dict(surface)
        self._by_text: dict[str, dict[str, int]] = {}
        for (text, cid), n in self.counts.items():
            self._by_text.setdefault(text, {})[cid] = n

    @classmethod
    def from_links(cls, links: Iterable[tuple[str, Sequence[str]]], kb: KnowledgeBase) -> AliasExtension:
        """Count gold links; ids resolve through ``kb`` (alt ids), unknown ids are skipped.

        Args:
            links: ``(mention text, gold concept ids)``; a composite mention counts for each id.
            kb: the base knowledge base.
        """
        counts: Counter[tuple[str, str]] = Counter()
        surface: dict[str, str] = {}
        for text, ids in links:
            key = normalize(text)
            if not key:
                continue
            for cid in ids:
                try:
                    counts[(key, kb.resolve_id(cid))] += 1
                except UnknownConceptError:
                    continue  # a gold id the vocabulary lacks cannot become an alias
                surface.setdefault(key, text.strip())
        return cls(counts, surface)

    def __len__(self) -> int:
        return len(self.counts)

    def prior(self, text: str, concept_id: str) -> int:
        """How often training linked ``text`` (any case/spacing) to ``concept_id``."""
        return self._by_text.get(normalize(text), {}).get(concept_id, 0)

    def extend(self, kb: KnowledgeBase) -> KnowledgeBase:
        """A new KB whose concepts carry the training texts as extra synonyms.

        The version gains ``+<n> training aliases``; name and ids are unchanged, so ids
        linked through the extension are ids of the base KB.
        """
        extra: dict[str, list[str]] = {}
        for text, cid in sorted(self.counts):
            extra.setdefault(cid, []).append(self.surface[text])
        concepts = []
        for concept in kb:
            known = {normalize(n) for n in concept.names}
            new = [a for a in extra.get(concept.concept_id, []) if normalize(a) not in known]
            concepts.append(replace(concept, synonyms=(*concept.synonyms, *new)) if new else concept)
        return KnowledgeBase(concepts, name=kb.name, version=f"{kb.version}+{len(self)} training aliases")

    def save(self, path: Path) -> None:
        """One JSON line per link: ``{"text", "alias", "concept_id", "count"}``, sorted."""
        rows = [
            {"text": text, "alias": self.surface[text], "concept_id": cid, "count": n}
            for (text, cid), n in sorted(self.counts.items())
        ]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AliasExtension:
        """Read :meth:`save` output."""
        counts: dict[tuple[str, str], int] = {}
        surface: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                counts[(row["text"], row["concept_id"])] = int(row["count"])
                surface.setdefault(row["text"], row["alias"])
        return cls(counts, surface)


def is_exact(candidate: Candidate) -> bool:
    """The candidate's alias equals the query after normalisation (TF-IDF pins those at 1.0)."""
    return dict(candidate.stage_scores).get("tfidf", 0.0) >= EXACT


def exact_first(
    query: str, ranked: Sequence[Candidate], priors: AliasExtension | None, *, seen_only: bool = False
) -> list[Candidate]:
    """Exact alias hits first, most often linked in training first; the rest keep their order.

    Args:
        query: the text that was retrieved for (priors are looked up by it).
        ranked: best-first candidates with TF-IDF ``stage_scores``.
        priors: training link counts, or None (exact hits then keep retrieval order).
        seen_only: move only exact hits that training linked this text to (used after
            reranking: the reranker keeps the order of everything training never saw).
    """

    def prior(c: Candidate) -> int:
        return priors.prior(query, c.concept_id) if priors else 0

    first = [c for c in ranked if is_exact(c) and (not seen_only or prior(c) > 0)]
    if not first:
        return list(ranked)
    moved = {id(c) for c in first}
    # sorted() is stable: equal priors keep the incoming order.
    return sorted(first, key=lambda c: -prior(c)) + [c for c in ranked if id(c) not in moved]


def annotate(query: str, ranked: Sequence[Candidate], priors: AliasExtension | None) -> list[Candidate]:
    """Record each candidate's retrieval score, rank and training prior in ``stage_scores``.

    The final calibrator (``link_calibration.CombinedCalibrator``) reads them after the
    reranker has re-sorted the list, when neither could be recovered otherwise.
    """
    return [
        replace(
            c,
            stage_scores=(
                *c.stage_scores,
                ("fused", c.raw_score),
                ("retrieval_rank", float(rank)),
                ("prior", float(priors.prior(query, c.concept_id) if priors else 0)),
            ),
        )
        for rank, c in enumerate(ranked)
    ]
