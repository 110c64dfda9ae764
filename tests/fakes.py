"""Test doubles for the ``bel_core.linking.pipeline.Linker`` seam (no models, no indexes).

``FakeLinker`` answers like the real pipeline but from plain string comparisons over a
``KnowledgeBase`` (normally the ``tiny_kb`` fixture), so storage and UI tests run in
milliseconds and assert exact ids, ranks and scores. It is deterministic: the same KB
and the same mentions always give the same candidates in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.text import normalize
from bel_core.types import Candidate, Concept, Document, LinkResult, Mention, MentionOrigin


class FakeLinker:
    """A Linker whose detection is exact alias lookup and whose scores are string similarity.

    * ``detect``: every KB name or synonym found in the text, case-insensitively, on word
      boundaries; the longest alias wins where matches overlap, then the leftmost.
    * ``link``: per mention, the ``top_k`` concepts whose best alias is most similar
      (``difflib`` ratio on normalised strings), ties broken by concept id; candidates
      below ``min_score`` are dropped, so nonsense mentions get no candidates.
      ``raw_score`` is the ratio, ``calibrated_score`` its square (monotone, in [0, 1],
      and lower than raw, like a cautious calibrator), ``stage`` is ``"fake"``.
    """

    model_version = "fake-linker-1"

    def __init__(self, kb: KnowledgeBase, *, top_k: int = 5, min_score: float = 0.3) -> None:
        """Index the KB's aliases.

        Args:
            kb: the concepts to detect and link.
            top_k: most candidates per mention.
            min_score: candidates with a lower raw score are dropped.
        """
        self.kb = kb
        self.kb_version = kb.version
        self.top_k = top_k
        self.min_score = min_score
        self._aliases = [(alias, normalize(alias), concept) for concept in kb for alias in concept.names]
        # Longest aliases first, so "Atrial septal defects" is tried before "ASD"-like prefixes.
        names = sorted({alias for alias, _, _ in self._aliases}, key=lambda a: (-len(a), a.casefold()))
        self._pattern = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in names) + r")\b", re.IGNORECASE)

    def detect(self, document: Document) -> list[Mention]:
        """Exact case-insensitive alias matches, non-overlapping, sorted by start."""
        return [
            Mention(document.doc_id, m.start(), m.end(), m.group(), origin=MentionOrigin.DETECTED)
            for m in self._pattern.finditer(document.text)
        ]

    def _candidates(self, text: str) -> tuple[Candidate, ...]:
        query = normalize(text)
        best: dict[str, tuple[float, str, Concept]] = {}
        for alias, alias_norm, concept in self._aliases:
            score = round(SequenceMatcher(None, query, alias_norm).ratio(), 4)
            if score > best.get(concept.concept_id, (-1.0, "", concept))[0]:
                best[concept.concept_id] = (score, alias, concept)
        ranked = sorted(best.values(), key=lambda t: (-t[0], t[2].concept_id))
        return tuple(
            Candidate(
                concept.concept_id,
                concept.name,
                alias,
                "fake",
                score,
                round(score * score, 4),
                (("fake", score),),
            )
            for score, alias, concept in ranked[: self.top_k]
            if score >= self.min_score
        )

    def link(self, mentions: Sequence[Mention], **context: object) -> list[LinkResult]:
        """Ranked candidates for each mention, in input order."""
        return [LinkResult(m, self._candidates(m.text), self.model_version, self.kb_version) for m in mentions]

    def search_kb(self, query: str, limit: int = 20, types: Sequence[str] | None = None) -> list[Concept]:
        """The KB's own search (id, exact name, prefix, substring), optionally of some types."""
        return self.kb.search(query, limit=limit, types=types)

    def concept(self, concept_id: str) -> Concept:
        """The concept for a primary or alt id; UnknownConceptError otherwise."""
        return self.kb.get(concept_id)


class FakeGenerator:
    """A second-opinion linker for side-by-side tests: the FakeLinker's top 3, reversed for
    mentions written in lower case and kept as they are otherwise.

    So the generator disagrees with the pipeline on lower-case mentions with two or more
    candidates and agrees on capitalised ones, and tests can tell both cases apart.
    """

    model_version = "fake-generator-1"

    def __init__(self, kb: KnowledgeBase) -> None:
        """Rank with a FakeLinker over ``kb``, then reverse."""
        self._inner = FakeLinker(kb, top_k=3)

    def link(self, mentions: Sequence[Mention], documents: object = None) -> list[LinkResult]:
        """The FakeLinker's top 3 (reversed for lower-case mentions) as generator results."""
        return [
            LinkResult(
                r.mention,
                tuple(reversed(r.candidates)) if r.mention.text[:1].islower() else r.candidates,
                self.model_version,
                r.kb_version,
            )
            for r in self._inner.link(mentions)
        ]
