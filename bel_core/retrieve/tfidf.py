"""Candidate generation, sparse stage: character n-gram TF-IDF over every KB alias.

Each KB name and synonym is one row (an *alias*); a query is scored against every alias
by exact cosine similarity, then aliases are folded into one candidate per concept (the
best alias wins). This module does not fuse stages or calibrate scores (see
``pipeline`` and ``calibrate``); ``AliasTable`` is shared with the dense stage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.retrieve.protocols import Exclusion
from bel_core.text import normalize
from bel_core.types import Candidate

_QUERY_CHUNK = 128  # queries scored per sparse matrix product: bounds the block's memory
_WORKERS = 2  # sparse products in flight (this targets 2-core machines; more cores, more is fine)


@dataclass(frozen=True, slots=True)
class AliasTable:
    """The KB's aliases as parallel rows: text, normalised text, concept index.

    Attributes:
        aliases: original alias strings (shown to curators as ``matched_alias``).
        normalized: ``normalize(alias)`` per row; this is what gets indexed.
        concept_index: row -> position in ``concept_ids``.
        concept_ids: primary ids, in KB order.
        concept_names: preferred names aligned with ``concept_ids``.
        rows_by_text: normalised alias -> its rows, for exact-match lookups.
    """

    aliases: tuple[str, ...]
    normalized: tuple[str, ...]
    concept_index: np.ndarray
    concept_ids: tuple[str, ...]
    concept_names: tuple[str, ...]
    rows_by_text: Mapping[str, tuple[int, ...]]

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> AliasTable:
        """Build the table from ``kb.aliases()`` (deterministic order)."""
        ids = tuple(c.concept_id for c in kb)
        position = {cid: i for i, cid in enumerate(ids)}
        pairs = kb.aliases()
        normalized = tuple(normalize(a) for a, _ in pairs)
        rows: dict[str, list[int]] = {}
        for row, text in enumerate(normalized):
            rows.setdefault(text, []).append(row)
        return cls(
            aliases=tuple(a for a, _ in pairs),
            normalized=normalized,
            concept_index=np.array([position[cid] for _, cid in pairs], dtype=np.int64),
            concept_ids=ids,
            concept_names=tuple(kb.get(cid).name for cid in ids),
            rows_by_text={text: tuple(r) for text, r in rows.items()},
        )

    def __len__(self) -> int:
        return len(self.aliases)

    def rows(self, exclude: Exclusion | None) -> np.ndarray:
        """Resolve an exclusion list to sorted alias row ids (unknown pairs are ignored)."""
        if not exclude:
            return np.empty(0, dtype=np.int64)
        wanted_pairs = {(normalize(e[0]), e[1]) for e in exclude if isinstance(e, tuple)}
        rows = {int(e) for e in exclude if not isinstance(e, tuple)}
        if wanted_pairs:
            rows.update(
                r
                for r, (text, ci) in enumerate(zip(self.normalized, self.concept_index, strict=True))
                if (text, self.concept_ids[ci]) in wanted_pairs
            )
        return np.array(sorted(rows), dtype=np.int64)

    def candidates(self, rows: np.ndarray, scores: np.ndarray, k: int, stage: str) -> list[Candidate]:
        """Fold alias hits (best first) into at most ``k`` candidates, one per concept."""
        out: list[Candidate] = []
        seen: set[int] = set()
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            ci = int(self.concept_index[row])
            if ci in seen:
                continue  # a better alias of this concept came first: max over aliases
            seen.add(ci)
            out.append(
                Candidate(
                    concept_id=self.concept_ids[ci],
                    name=self.concept_names[ci],
                    matched_alias=self.aliases[row],
                    stage=stage,
                    raw_score=float(score),
                )
            )
            if len(out) == k:
                break
        return out


def balanced_chunks(items: Sequence[str], size: int, workers: int) -> list[Sequence[str]]:
    """``items`` in consecutive, near-equal chunks of at most ``size``, a whole number of rounds of ``workers``.

    369 queries in chunks of 128 would leave one core idle in the second round (128 + 128,
    then 113 alone); four chunks of 93 or 92 keep both busy in both rounds.
    """
    if not items:
        return []
    rounds = -(-len(items) // (size * workers))
    n = min(len(items), rounds * workers)
    step = -(-len(items) // n)
    return [items[s : s + step] for s in range(0, len(items), step)]


def top_concepts(
    table: AliasTable, scores: np.ndarray, k: int, stage: str, rows: np.ndarray | None = None
) -> list[Candidate]:
    """Best ``k`` concepts from one query's alias scores (``-inf`` = masked).

    ``scores[i]`` belongs to alias row ``rows[i]``; without ``rows`` it covers every alias
    (row ``i``). Passing only the non-zero entries of a sparse score row keeps the cost
    proportional to the aliases sharing an n-gram with the query, not to the KB's size.
    Takes the top ``4k`` with ``argpartition`` and widens the window only when several of
    them belong to the same concepts, so a query costs O(n) rather than O(n log n).
    """
    rows = np.arange(scores.shape[0]) if rows is None else rows
    n = scores.shape[0]
    if n == 0:
        return []
    window = min(n, 4 * k)
    while True:
        part = np.argpartition(-scores, window - 1)[:window] if window < n else np.arange(n)
        part = part[np.isfinite(scores[part]) & (scores[part] > 0)]
        # Stable sort on (-score, row): ties keep KB order, so ranks are reproducible.
        order = part[np.lexsort((rows[part], -scores[part]))]
        found = table.candidates(rows[order], scores[order], k, stage)
        if len(found) == k or window >= n or len(order) < window:
            return found
        window = min(n, window * 4)


class TfidfRetriever:
    """Character n-gram TF-IDF (``char_wb``) with exact sparse cosine and exact-match shortcut.

    A normalised query equal to a normalised alias scores exactly 1.0 for that alias (the
    cosine would be 1.0 up to rounding; pinning it keeps exact hits tied, and visibly so).
    """

    name = "tfidf"

    def __init__(self, table: AliasTable, vectorizer: TfidfVectorizer, matrix: sparse.csr_matrix) -> None:
        self.table = table
        self.vectorizer = vectorizer
        self._matrix_t = matrix.T.tocsr()  # (features x aliases): one product per query chunk

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, *, ngram_range: tuple[int, int] = (2, 4)) -> TfidfRetriever:
        """Fit the vectorizer on the KB's normalised aliases.

        Args:
            kb: the knowledge base.
            ngram_range: character n-gram sizes (inclusive).

        Raises:
            ValueError: the KB has no aliases.
        """
        table = AliasTable.from_kb(kb)
        if not len(table):
            raise ValueError(f"Knowledge base {kb.name!r} has no names to index")
        # Text is already normalised (casefolded): lowercase=False keeps one normalisation.
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, lowercase=False, dtype=np.float32)
        matrix = vectorizer.fit_transform(table.normalized)
        return cls(table, vectorizer, matrix.tocsr())

    @property
    def version(self) -> str:
        """``tfidf-char<lo>-<hi>``: the n-gram sizes decide the ranking."""
        lo, hi = self.vectorizer.ngram_range
        return f"tfidf-char{lo}-{hi}"

    def warm_up(self) -> None:
        """Nothing to load: the index is built in memory."""

    def retrieve(self, queries: Sequence[str], k: int, exclude: Exclusion | None = None) -> list[list[Candidate]]:
        """Rank concepts for each query.

        Args:
            queries: mention texts (normalised here).
            k: candidates per query.
            exclude: alias rows or (alias, concept_id) pairs hidden from every query.

        Returns:
            Per query, at most ``k`` candidates (cosine > 0), best first, ``stage="tfidf"``.
        """
        masked = self.table.rows(exclude)
        normalized = [normalize(q) for q in queries]
        results: list[list[Candidate]] = []
        for found in self._chunked(balanced_chunks(normalized, _QUERY_CHUNK, _WORKERS), masked, k):
            results += found
        return results

    def _chunked(self, chunks: Sequence[Sequence[str]], masked: np.ndarray, k: int) -> Iterator[list[list[Candidate]]]:
        """Each chunk's candidate lists, in order. A single query (one chunk) needs no threads."""
        if len(chunks) < 2:
            yield from (self._ranked(chunk, masked, k) for chunk in chunks)
            return
        # scipy's sparse product releases the GIL, so one chunk's product overlaps the other's
        # top-k selection. Only _WORKERS score blocks are alive at once: memory stays bounded.
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            for first in range(0, len(chunks), _WORKERS):
                yield from pool.map(lambda chunk: self._ranked(chunk, masked, k), chunks[first : first + _WORKERS])

    def _ranked(self, chunk: Sequence[str], masked: np.ndarray, k: int) -> list[list[Candidate]]:
        block = self._scores(chunk)
        return [self._top(text, block, i, masked, k) for i, text in enumerate(chunk)]

    def _scores(self, chunk: Sequence[str]) -> sparse.csr_matrix:
        """Cosine of each query in ``chunk`` with every alias sharing an n-gram (stays sparse)."""
        return (self.vectorizer.transform(chunk) @ self._matrix_t).tocsr()

    def _top(self, text: str, block: sparse.csr_matrix, i: int, masked: np.ndarray, k: int) -> list[Candidate]:
        lo, hi = block.indptr[i], block.indptr[i + 1]
        rows, scores = block.indices[lo:hi], block.data[lo:hi].copy()
        exact = self.table.rows_by_text.get(text)
        if exact:  # an exact alias always shares n-grams, so it is among the rows
            scores[np.isin(rows, exact)] = 1.0
        if len(masked):
            scores[np.isin(rows, masked)] = -np.inf
        return top_concepts(self.table, scores, k, self.name, rows)
