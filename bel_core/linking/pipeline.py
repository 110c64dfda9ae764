"""The linker: detect mentions, retrieve, (optionally) rerank, calibrate, make documents consistent.

``link`` runs, per batch of mentions: short forms defined in the document expanded
(``abbrev``) -> sparse + dense retrieval, fused -> exact alias hits first by training
link counts (``retrieve.priors``) -> reranking with document context (``rerank``) ->
calibrated probabilities (``calibrate.lists`` or the synthetic ``ScoreCalibrator``) ->
document memory (``memory``) -> an explicit NIL probability. Without documents each
distinct mention text is ranked once, alone.

The stages are injected (``Stages``), each typed by a protocol, and the options
(``LinkOptions``) are a frozen record: a variant of a pipeline (no reranker, another
calibrator, more candidates) is a new pipeline over the same stages (:meth:`evolve`),
never a mutated one. ``LinkingPipeline`` is what the app, the CLI and ``usecases`` hold
(through the ``Linker`` protocol); it stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bel_core.calibrate.scores import FEATURES, CalibrationReport, ScoreCalibrator, fit_on_kb
from bel_core.config import Settings
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.search import check_query
from bel_core.linking.abbrev import abbreviation_map, expand
from bel_core.linking.builder import NO_SYNONYMS, Assembly, SynonymExtension, build_from_model_dir, build_from_settings
from bel_core.linking.memory import remember
from bel_core.linking.options import LinkOptions
from bel_core.linking.stages import Detector, KBSearch, Stages
from bel_core.retrieve.fusion import fuse, merge_best
from bel_core.retrieve.priors import AliasExtension, annotate, exact_first
from bel_core.retrieve.protocols import Exclusion, Retriever
from bel_core.types import Candidate, Concept, Decision, Document, LinkResult, Mention, Progress

if TYPE_CHECKING:
    from bel_core.calibrate.lists import ListCalibrator
    from bel_core.rerank.protocols import Reranker

logger = logging.getLogger(__name__)

CALIBRATION_QUERIES = 2000
CALIBRATION_SEED = 13


def nil_probability(candidates: Sequence[Candidate]) -> float | None:
    """P(no candidate is right) = 1 - sum of calibrated candidate probabilities, clipped to [0, 1].

    At most one concept is right for a (non-composite) mention, so the events "candidate i
    is right" are disjoint and their probabilities add up; what is left is the NIL mass.
    None when the candidates are uncalibrated.
    """
    if any(c.calibrated_score is None for c in candidates):
        return None
    return min(max(1.0 - sum(c.calibrated_score or 0.0 for c in candidates), 0.0), 1.0)


def calibrate_lists(calibrator: ListCalibrator, lists: Sequence[list[Candidate]]) -> list[list[Candidate]]:
    """``calibrator.apply`` per list, computed once per distinct list.

    Lists of the same candidate objects (mentions sharing a query, without reranking; see
    :meth:`LinkingPipeline.retrieve`) share one calibrated list.
    """
    done: dict[tuple[int, ...], list[Candidate]] = {}
    out = []
    for ranked in lists:
        key = tuple(map(id, ranked))  # the objects stay alive in ``lists``: ids are not reused
        if key not in done:
            done[key] = calibrator.apply(ranked)
        out.append(done[key])
    return out


class LinkingPipeline:
    """Detection, hybrid retrieval, optional priors and reranking, calibration over one KB.

    Attributes:
        stages: the injected parts (read them through the properties below).
        options: how ``link`` ranks (a model directory records them).
        calibration_report: how well the calibrator did on held-out mentions, or None.
        extension_version: version of the curator synonyms indexed with the KB ("none": none).
        kb_version: KB name, version and content fingerprint prefix.
    """

    def __init__(
        self,
        stages: Stages,
        options: LinkOptions | None = None,
        *,
        calibration_report: CalibrationReport | None = None,
        extension_version: str = "none",
    ) -> None:
        self.stages = stages
        self.options = options or LinkOptions()
        self.calibration_report = calibration_report
        self.extension_version = extension_version
        kb = stages.kb
        self.kb_version = f"{kb.name}:{kb.version}:{kb.fingerprint[:12]}"

    def evolve(self, *, options: LinkOptions | None = None, **stages: Any) -> LinkingPipeline:
        """A new pipeline over the same stages, with ``options`` and the named stages replaced.

        ``pipeline.evolve(reranker=None)`` is the same linker without its reranker; this one is unchanged.
        The calibration report stays only while the calibrator does.
        """
        report = None if "calibrator" in stages else self.calibration_report
        return LinkingPipeline(
            replace(self.stages, **stages),
            options or self.options,
            calibration_report=report,
            extension_version=self.extension_version,
        )

    # Read-only views of the stages and of the options the UI shows.
    @property
    def kb(self) -> KnowledgeBase:
        return self.stages.kb

    @property
    def tfidf(self) -> Retriever:
        return self.stages.tfidf

    @property
    def detector(self) -> Detector:
        return self.stages.detector

    @property
    def dense(self) -> Retriever | None:
        return self.stages.dense

    @property
    def reranker(self) -> Reranker | None:
        return self.stages.reranker

    @property
    def calibrator(self) -> ListCalibrator | None:
        return self.stages.calibrator

    @property
    def priors(self) -> AliasExtension | None:
        return self.stages.priors

    @property
    def search_index(self) -> KBSearch | None:
        return self.stages.search_index

    @property
    def top_k(self) -> int:
        return self.options.top_k

    @property
    def dense_weight(self) -> float:
        return self.options.dense_weight

    @property
    def retrieval_version(self) -> str:
        """Identifies the ranking (not the calibration): keys the calibrator cache."""
        if self.dense is None:
            return self.tfidf.version
        return f"{self.tfidf.version}+dense[{self.dense.version}]@w{self.dense_weight:.2f}"

    @property
    def model_version(self) -> str:
        """``retrieval_version``, priors, reranker, plus the calibrator's parameter hash."""
        parts = [self.retrieval_version]
        if self.priors is not None and self.options.exact_first:
            parts.append(f"priors[{len(self.priors)}]")
        if self.reranker is not None:
            parts.append(f"rerank[{self.reranker.version}]@{self.options.rerank_depth}")
        parts.append(f"cal-{self.calibrator.digest}" if self.calibrator else "uncalibrated")
        return "+".join(parts)

    @property
    def depth(self) -> int:
        """Candidates asked from each stage before fusion."""
        return max(self.top_k * 3, 30)

    def rank(
        self, queries: Sequence[str], exclude: Exclusion | None = None, *, k: int | None = None
    ) -> list[list[Candidate]]:
        """Fused, uncalibrated best-first candidates (``k``, default ``top_k``) per query text."""
        k = k or self.top_k
        depth = max(self.depth, 3 * k)
        sparse_lists = self.tfidf.retrieve(queries, depth, exclude)
        if self.dense is None:
            return [
                [replace(c, stage_scores=(("tfidf", c.raw_score),)) for c in ranked[:k]] for ranked in sparse_lists
            ]
        dense_lists = self.dense.retrieve(queries, depth, exclude)
        return [
            fuse(t, d, weight=self.dense_weight, depth=depth, k=k)
            for t, d in zip(sparse_lists, dense_lists, strict=True)
        ]

    def warm_up(self) -> None:
        """Load what the retrievers load lazily (the query encoder) now, so that the first ``link`` is not slow."""
        self.tfidf.warm_up()
        if self.dense is not None:
            self.dense.warm_up()

    def detect(self, document: Document) -> list[Mention]:
        """Dictionary mentions in ``document`` (longest match, non-overlapping)."""
        return self.detector.detect(document)

    def queries(self, mentions: Sequence[Mention], documents: Mapping[str, Document] | None) -> list[str]:
        """The text retrieved for each mention: with documents, defined short forms are expanded."""
        abbreviations = self._abbreviations(documents)
        return [expand(m.text, abbreviations.get(m.doc_id, {})) for m in mentions]

    def retrieve(
        self,
        mentions: Sequence[Mention],
        *,
        documents: Mapping[str, Document] | None = None,
        k: int | None = None,
        queries: Sequence[str] | None = None,
    ) -> list[list[Candidate]]:
        """Candidate generation per mention: abbreviation expansion, retrieval, exact-first priors.

        Each distinct query text is ranked and annotated once; mentions with the same query get
        copies of one list of the same candidate objects. Without ``documents`` the query is the
        mention text; ``queries`` (from :meth:`queries`) saves recomputing them.
        """
        queries = queries if queries is not None else self.queries(mentions, documents)
        both = self.options.abbreviations == "both"
        texts = list(dict.fromkeys([*queries, *(m.text for m in mentions if both)]))
        ranked = dict(zip(texts, self.rank(texts, k=k) if k else self.rank(texts), strict=True))
        done: dict[tuple[str, str | None], list[Candidate]] = {}
        out = []
        for mention, query in zip(mentions, queries, strict=True):
            key = (query, mention.text if both and query != mention.text else None)
            if key not in done:
                found = ranked[query]
                if key[1] is not None:
                    found = merge_best(found, ranked[key[1]], k or self.top_k)
                found = exact_first(query, found, self.priors) if self.options.exact_first else found
                done[key] = annotate(query, found, self.priors)
            out.append(list(done[key]))
        return out

    def link(
        self,
        mentions: Sequence[Mention],
        *,
        documents: Mapping[str, Document] | None = None,
        decisions: Sequence[Decision] = (),
    ) -> list[LinkResult]:
        """Rank, rerank, calibrate and (with documents) make each document consistent.

        Args:
            mentions: mentions to link, from any documents.
            documents: the mentions' documents by id; enables abbreviation expansion, context
                for the reranker and document memory. Without them each text is linked alone.
            decisions: curator decisions in these documents (memory propagates their links).

        Returns:
            One result per mention, in input order, with ``nil_probability`` when calibrated.
        """
        if not mentions:
            return []
        queries = self.queries(mentions, documents)
        depth = max(self.top_k, self.options.rerank_depth) if self.reranker is not None else None
        lists = self.retrieve(mentions, k=depth, queries=queries)
        if self.reranker is not None:
            items = [(m, self._context(m, documents)) for m in mentions]
            lists = self.reranker.rerank(items, [r[: self.options.rerank_depth] for r in lists], self.kb)
            if self.options.exact_first and self.options.prior_over_reranker:
                lists = [exact_first(q, r, self.priors, seen_only=True) for q, r in zip(queries, lists, strict=True)]
        if self.calibrator is not None:
            lists = calibrate_lists(self.calibrator, lists)
        results = [
            LinkResult(m, tuple(r[: self.top_k]), self.model_version, self.kb_version)
            for m, r in zip(mentions, lists, strict=True)
        ]
        if documents and self.options.memory is not None:
            abbreviations = self._abbreviations(documents)
            known = [self._resolved(d) for d in decisions]
            decided = [d for d in known if d is not None]
            results = remember(results, documents, decided, abbreviations, self.options.memory, self._name)
        return [replace(r, nil_probability=nil_probability(r.candidates)) for r in results]

    def _abbreviations(self, documents: Mapping[str, Document] | None) -> dict[str, dict[str, str]]:
        if not documents or self.options.abbreviations == "off":
            return {}
        return {doc_id: abbreviation_map(doc.text) for doc_id, doc in documents.items()}

    def _context(self, mention: Mention, documents: Mapping[str, Document] | None) -> str:
        from bel_core.rerank.cross_encoder import mention_context

        doc = documents.get(mention.doc_id) if documents else None
        if doc is None:
            return ""
        return mention_context(doc.text, mention.start, mention.end, max_chars=self.options.context_chars)

    def _resolved(self, decision: Decision) -> Decision | None:
        """The decision with primary ids; None for a link to ids this KB lacks (another KB version)."""
        if not decision.status.links_concept:
            return decision
        ids = tuple(self.kb.resolve_id(c) for c in decision.concept_ids if c in self.kb)
        return replace(decision, concept_ids=ids) if ids else None

    def _name(self, concept_id: str) -> str:
        return self.kb.get(concept_id).name

    def search_kb(self, query: str, limit: int = 20, types: Sequence[str] | None = None) -> list[Concept]:
        """KB search by id or name (for curators correcting a link), optionally of some semantic types.

        Same order either way: from the disk index when the KB is large, else ``KnowledgeBase.search``.
        """
        check_query(query)  # too long a query is refused the same way on both paths
        if self.search_index is not None:
            return [self.kb.get(cid) for cid in self.search_index.search(query, limit=limit, types=types)]
        return self.kb.search(query, limit=limit, types=types)

    def concept(self, concept_id: str) -> Concept:
        """The concept for an id or alt id; raises ``UnknownConceptError``."""
        return self.kb.get(concept_id)

    def with_fitted_calibrator(self, cache_dir: Path | None = None) -> LinkingPipeline:
        """This linker calibrated on synthetic mentions (fitted, or loaded from ``cache_dir/calibration/``)."""
        # Everything the fitted parameters depend on: a change refits instead of loading stale JSON.
        recipe = "|".join(
            [
                self.kb.fingerprint,
                self.retrieval_version,
                f"k{self.top_k}",
                f"n{CALIBRATION_QUERIES}",
                f"s{CALIBRATION_SEED}",
                ",".join(FEATURES),
            ]
        )
        key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
        path = cache_dir / "calibration" / f"{key}.json" if cache_dir else None
        if path and path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            logger.info("Calibrator cache hit: %s", path)
            return self._calibrated(ScoreCalibrator.from_json(data["calibrator"]), CalibrationReport(**data["report"]))
        started = time.perf_counter()
        calibrator, report = fit_on_kb(self.rank, self.kb, n=CALIBRATION_QUERIES, seed=CALIBRATION_SEED)
        logger.info("Calibrator fitted in %.1f s", time.perf_counter() - started)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            data = {"calibrator": calibrator.to_json(), "report": asdict(report)}
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, path)  # atomic: two app processes may fit at once
        return self._calibrated(calibrator, report)

    def _calibrated(self, calibrator: ScoreCalibrator, report: CalibrationReport) -> LinkingPipeline:
        stages = replace(self.stages, calibrator=calibrator)
        version = self.extension_version
        return LinkingPipeline(stages, self.options, calibration_report=report, extension_version=version)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, progress: Progress | None = None, synonyms: SynonymExtension | None = None
    ) -> LinkingPipeline:
        """Load the KB, build or load the indexes, fit or load the calibrator.

        When ``settings.retrieval.models_dir`` names a model directory, load that instead
        (see :meth:`from_model_dir`).

        Args:
            settings: the application settings.
            progress: ``progress(stage, done, total)`` for the UI's start-up bar.
            synonyms: curator-added synonyms to index with the KB (retrieval, detection, search).

        Raises:
            KnowledgeBaseError: the KB cannot be loaded, or synonyms name ids it lacks.
            ModelUnavailableError: an enabled model is unavailable, or the model directory is invalid.
        """
        extension = synonyms or NO_SYNONYMS
        if settings.retrieval.models_dir:
            models = Path(settings.retrieval.models_dir).expanduser()
            return cls._assemble(build_from_model_dir(models, settings, progress, extension), settings, progress)
        return cls._assemble(build_from_settings(settings, progress, extension), settings, progress)

    @classmethod
    def from_model_dir(
        cls, model_dir: Path, settings: Settings, *, progress: Progress | None = None
    ) -> LinkingPipeline:
        """Load a model directory written by ``bel train`` over the KB that ``settings`` names.

        Raises:
            ModelUnavailableError: the directory is invalid or was trained for another KB content.
        """
        return cls._assemble(build_from_model_dir(model_dir, settings, progress), settings, progress)

    @classmethod
    def _assemble(cls, parts: Assembly, settings: Settings, progress: Progress | None) -> LinkingPipeline:
        pipeline = cls(parts.stages, parts.options, extension_version=parts.extension_version)
        if parts.fit_calibrator:
            report = progress or (lambda stage, done, total: None)
            report("calibrate", 0, 1)
            pipeline = pipeline.with_fitted_calibrator(settings.cache_dir)
            report("calibrate", 1, 1)
        logger.info("Linker ready from %s: %s", parts.source, pipeline.model_version)
        return pipeline
