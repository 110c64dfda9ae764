"""The linker: detect mentions, retrieve candidates (TF-IDF + dense, fused), calibrate.

``LinkingPipeline`` is what the app, the CLI and ``db.services`` hold (through the
``Linker`` protocol). It is batch-first: ``link`` ranks every distinct mention text once.
It does not store anything: link results go to ``db`` via the services layer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Protocol

from bel_core.calibrate import FEATURES, CalibrationReport, ScoreCalibrator, fit_on_kb
from bel_core.config import Settings
from bel_core.dense import DenseRetriever, resolve_encoder
from bel_core.detect import DictionaryMatcher
from bel_core.kb import KnowledgeBase
from bel_core.kb_loaders import load_kb
from bel_core.retrieve import Exclusion, TfidfRetriever
from bel_core.types import Candidate, Concept, Document, LinkResult, Mention

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total): "kb", "tfidf", "dense", "calibrate"
CALIBRATION_QUERIES = 2000
CALIBRATION_SEED = 13


class Linker(Protocol):
    """What the storage and UI layers need from a linker (duck-typed, no model imports)."""

    kb_version: str

    @property
    def model_version(self) -> str: ...  # read-only: LinkingPipeline derives it

    def detect(self, document: Document) -> list[Mention]: ...
    def link(self, mentions: Sequence[Mention]) -> list[LinkResult]: ...
    def search_kb(self, query: str, limit: int = 20) -> list[Concept]: ...
    def concept(self, concept_id: str) -> Concept: ...


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
    fused: list[Candidate] = []
    for cid in dict.fromkeys([*by_stage["tfidf"], *by_stage["dense"]]):
        t, d = by_stage["tfidf"].get(cid), by_stage["dense"].get(cid)
        ts = t.raw_score if t else floors["tfidf"]
        ds = d.raw_score if d else floors["dense"]
        base = t if t and (d is None or ts >= ds) else d
        assert base is not None  # cid came from one of the two stages
        fused.append(
            replace(
                base,
                stage="hybrid",
                raw_score=(1 - weight) * ts + weight * ds,
                stage_scores=(("tfidf", ts), ("dense", ds)),
            )
        )
    # Stable sort: equal fused scores keep TF-IDF's order, which is deterministic.
    fused.sort(key=lambda c: -c.raw_score)
    return fused[:k]


class LinkingPipeline:
    """Detection, hybrid retrieval and calibration over one knowledge base.

    Attributes:
        kb: the knowledge base.
        model_version: retrievers, encoder version, weight and calibrator hash (stored with runs).
        kb_version: KB name, version and content fingerprint prefix.
        calibration_report: how well the calibrator did on held-out synthetic mentions, or None.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        tfidf: TfidfRetriever,
        detector: DictionaryMatcher,
        *,
        dense: DenseRetriever | None = None,
        dense_weight: float = 0.5,
        top_k: int = 10,
        calibrator: ScoreCalibrator | None = None,
        calibration_report: CalibrationReport | None = None,
    ) -> None:
        self.kb = kb
        self.tfidf = tfidf
        self.detector = detector
        self.dense = dense
        self.dense_weight = dense_weight
        self.top_k = top_k
        self.calibrator = calibrator
        self.calibration_report = calibration_report
        self.kb_version = f"{kb.name}:{kb.version}:{kb.fingerprint[:12]}"

    @property
    def retrieval_version(self) -> str:
        """Identifies the ranking (not the calibration): keys the calibrator cache."""
        lo, hi = self.tfidf.vectorizer.ngram_range
        sparse = f"tfidf-char{lo}-{hi}"
        if self.dense is None:
            return sparse
        return f"{sparse}+dense[{self.dense.spec.version}]@w{self.dense_weight:.2f}"

    @property
    def model_version(self) -> str:
        """``retrieval_version`` plus the calibrator's parameter hash."""
        cal = f"cal-{self.calibrator.digest}" if self.calibrator else "uncalibrated"
        return f"{self.retrieval_version}+{cal}"

    @property
    def depth(self) -> int:
        """Candidates asked from each stage before fusion."""
        return max(self.top_k * 3, 30)

    def rank(self, queries: Sequence[str], exclude: Exclusion | None = None) -> list[list[Candidate]]:
        """Fused, uncalibrated best-first candidates (``top_k``) per query text."""
        sparse_lists = self.tfidf.retrieve(queries, self.depth, exclude)
        if self.dense is None:
            return [
                [replace(c, stage_scores=(("tfidf", c.raw_score),)) for c in ranked[: self.top_k]]
                for ranked in sparse_lists
            ]
        dense_lists = self.dense.retrieve(queries, self.depth, exclude)
        return [
            fuse(t, d, weight=self.dense_weight, depth=self.depth, k=self.top_k)
            for t, d in zip(sparse_lists, dense_lists, strict=True)
        ]

    def detect(self, document: Document) -> list[Mention]:
        """Dictionary mentions in ``document`` (longest match, non-overlapping)."""
        return self.detector.detect(document)

    def link(self, mentions: Sequence[Mention]) -> list[LinkResult]:
        """Rank and calibrate candidates for every mention (each distinct text ranked once)."""
        texts = list(dict.fromkeys(m.text for m in mentions))
        ranked = dict(zip(texts, self.rank(texts), strict=True))
        if self.calibrator is not None:
            ranked = {t: self.calibrator.apply(r) for t, r in ranked.items()}
        return [LinkResult(m, tuple(ranked[m.text]), self.model_version, self.kb_version) for m in mentions]

    def search_kb(self, query: str, limit: int = 20) -> list[Concept]:
        """KB search by id or name (for curators correcting a link)."""
        return self.kb.search(query, limit=limit)

    def concept(self, concept_id: str) -> Concept:
        """The concept for an id or alt id; raises ``UnknownConceptError``."""
        return self.kb.get(concept_id)

    def fit_calibrator(self, cache_dir: Path | None = None) -> None:
        """Fit (or load from ``cache_dir/calibration/``) the calibrator for this ranking."""
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
            self.calibrator = ScoreCalibrator.from_json(data["calibrator"])
            self.calibration_report = CalibrationReport(**data["report"])
            logger.info("Calibrator cache hit: %s", path)
            return
        started = time.perf_counter()
        self.calibrator, self.calibration_report = fit_on_kb(
            self.rank, self.kb, n=CALIBRATION_QUERIES, seed=CALIBRATION_SEED
        )
        logger.info("Calibrator fitted in %.1f s", time.perf_counter() - started)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            data = {"calibrator": self.calibrator.to_json(), "report": asdict(self.calibration_report)}
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, path)  # atomic: two app processes may fit at once

    @classmethod
    def from_settings(cls, settings: Settings, *, progress: Progress | None = None) -> LinkingPipeline:
        """Load the KB, build or load the indexes, fit or load the calibrator.

        Args:
            settings: the application settings.
            progress: ``progress(stage, done, total)`` for the UI's start-up bar.

        Raises:
            KnowledgeBaseError: the KB cannot be loaded.
            ModelUnavailableError: dense retrieval is enabled but the encoder is unavailable.
        """
        report = progress or (lambda stage, done, total: None)
        cache_dir, retrieval = settings.cache_dir, settings.retrieval
        report("kb", 0, 1)
        kb = load_kb(settings.kb.source, format=settings.kb.format, cache_dir=cache_dir, roots=settings.kb.roots)
        report("kb", 1, 1)
        report("tfidf", 0, 1)
        started = time.perf_counter()
        tfidf = TfidfRetriever.from_kb(kb, ngram_range=(retrieval.tfidf_ngram_min, retrieval.tfidf_ngram_max))
        logger.info("TF-IDF index over %d aliases in %.1f s", len(tfidf.table), time.perf_counter() - started)
        report("tfidf", 1, 1)
        dense = None
        if retrieval.dense_enabled:
            spec = resolve_encoder(retrieval.dense_model, cache_dir=cache_dir)
            dense = DenseRetriever.build(
                kb,
                spec,
                cache_dir=cache_dir,
                batch_size=retrieval.dense_batch_size,
                progress=lambda done, total: report("dense", done, total),
            )
        pipeline = cls(
            kb,
            tfidf,
            DictionaryMatcher.from_kb(kb, min_chars=settings.detection.min_chars),
            dense=dense,
            dense_weight=retrieval.dense_weight,
            top_k=retrieval.top_k,
        )
        report("calibrate", 0, 1)
        pipeline.fit_calibrator(cache_dir)
        report("calibrate", 1, 1)
        return pipeline
