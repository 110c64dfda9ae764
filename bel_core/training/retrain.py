"""Retraining the linker from curated mentions: ``train_linker`` on a fast path, then a held-out check.

Stage: the learning loop (``bel retrain``, started by the Model page). The caller (``usecases.retrain``)
reads curator decisions and splits documents into train/dev/test; this module turns each split
into gold mentions, trains a model directory with ``train_linker`` and loads it back exactly as
the app will (``LinkingPipeline.from_model_dir``), so the version string the registry records
is the one every link run made with it stores. The held-out test split gives the metrics.

The default is the fast path: training mention texts become aliases and link priors, and the
final calibration is refitted on the dev split; the bi-encoder fine-tune and the cross-encoder
(the slow parts of ``bel train``: 16 and 11 of its 43 minutes on NCBI) are opt-in.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bel_core.config import Settings
from bel_core.errors import TrainingDataError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.linking.builder import load_settings_kb
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.retrieve.dense import DenseRetriever, resolve_encoder
from bel_core.retrieve.priors import AliasExtension
from bel_core.training.corpus import LabelledSplit
from bel_core.training.holdout import evaluate_holdout
from bel_core.training.pairs import gold_mentions_from_pubtator
from bel_core.training.train_linker import TrainLinkerConfig, train_linker
from bel_core.types import Document, Mention, Progress

MIN_TRAIN_MENTIONS = 5  # fewer linked training mentions than this teach nothing worth a version
MIN_DEV_DOCUMENTS = 2  # calibration is chosen by 2-fold cross-validation over dev documents


@dataclass(frozen=True, slots=True)
class RetrainConfig:
    """Options of one retraining (recorded as the version's config).

    Attributes:
        seed: seeds the document split and every training step.
        ratios: train, dev (calibration), test (held-out evaluation) shares of the documents.
        finetune_encoder: fine-tune the bi-encoder (minutes; needs dense retrieval).
        train_reranker: train the cross-encoder; enables temperature + bucket calibration of its margins.
        max_minutes: time budget of ``train_linker`` (caps the cross-encoder's pairs).
        base_model: initial weights of the encoders ("": the app's dense model, so that the
            calibration is fitted on the ranking the app will produce).
        recall_k: depth of the candidate-generation recall reported.
    """

    seed: int = 13
    ratios: tuple[float, float, float] = (0.7, 0.15, 0.15)
    finetune_encoder: bool = False
    train_reranker: bool = False
    max_minutes: float = 10.0
    base_model: str = ""
    recall_k: int = 64


@dataclass(frozen=True, slots=True)
class CuratedSplit:
    """Curated mentions of one split: ``annotated_ids`` are the curated concepts, empty for NIL."""

    documents: Mapping[str, Document]
    mentions: tuple[Mention, ...]

    @property
    def nil_mentions(self) -> tuple[Mention, ...]:
        """Mentions the curators called NIL."""
        return tuple(m for m in self.mentions if not m.annotated_ids)

    def labelled(self, kb: KnowledgeBase, source: str) -> LabelledSplit:
        """Gold mentions whose curated ids the KB knows (alt ids resolve to primary ids)."""
        linked = [m for m in self.mentions if m.annotated_ids]
        golds = gold_mentions_from_pubtator(list(self.documents.values()), linked, kb)
        docs = {g.mention.doc_id for g in golds}
        return LabelledSplit(tuple(golds), {d: doc for d, doc in self.documents.items() if d in docs}, (source,))


@dataclass(frozen=True, slots=True)
class RetrainResult:
    """What a retraining produced: where, which version string, and how it did."""

    model_dir: Path
    version: str
    metrics: dict[str, Any]
    training: dict[str, Any]
    seconds: float


def retrain(
    splits: Mapping[str, CuratedSplit],
    settings: Settings,
    out: Path,
    config: RetrainConfig,
    *,
    command: str = "",
    progress: Progress | None = None,
) -> RetrainResult:
    """Train a model directory in ``out`` from curated train/dev splits; evaluate it on test.

    Args:
        splits: ``train``, ``dev`` and ``test`` curated mentions (no document in two of them).
        settings: KB and retrieval settings of the app (the model must match its KB).
        out: the new model directory (created).
        config: retraining options.
        command: recorded in the manifest.
        progress: ``progress(stage, done, total)``; stages ``train``, ``load``, ``evaluate`` plus
            ``train_linker``'s own.

    Raises:
        TrainingDataError: too few curated mentions or documents to train and calibrate.
        KnowledgeBaseError, ModelUnavailableError: the KB or a base model cannot be loaded.
    """
    report = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    kb = load_settings_kb(settings)
    train, dev = (splits[s].labelled(kb, f"curated:{s}") for s in ("train", "dev"))
    n_dev_docs = len({g.mention.doc_id for g in dev.golds})
    if len(train.golds) < MIN_TRAIN_MENTIONS or n_dev_docs < MIN_DEV_DOCUMENTS:
        raise TrainingDataError(
            f"Not enough curated links to retrain: {len(train.golds)} training mentions (need "
            f"{MIN_TRAIN_MENTIONS}) and {n_dev_docs} calibration documents (need {MIN_DEV_DOCUMENTS}); "
            "accept or correct more suggestions in more documents first"
        )
    linker_config = TrainLinkerConfig(
        out=out,
        seed=config.seed,
        max_minutes=config.max_minutes,
        base_model=config.base_model or settings.retrieval.dense_model,
        finetune_encoder=config.finetune_encoder and settings.retrieval.dense_enabled,
        train_reranker=config.train_reranker,
    )
    if settings.retrieval.dense_enabled and not linker_config.finetune_encoder:
        _warm_dense_index(settings, kb, train, linker_config.base_model, report)
    report("train", 0, 1)
    manifest = train_linker(linker_config, settings, command=command, progress=progress, splits=(train, dev))
    report("train", 1, 1)
    report("load", 0, 1)
    pipeline = LinkingPipeline.from_model_dir(out, settings)
    report("load", 1, 1)
    report("evaluate", 0, 1)
    test = splits["test"]
    metrics = evaluate_holdout(
        pipeline,
        test.labelled(kb, "curated:test"),
        nil_mentions=test.nil_mentions,
        documents=test.documents,
        recall_k=config.recall_k,
    )
    report("evaluate", 1, 1)
    calibration = manifest.metrics.get("calibration", {})
    metrics |= {"calibration": calibration.get("chosen"), "rerank": bool(calibration.get("rerank"))}
    training = {"train": train.summary(), "dev": dev.summary(), "components": sorted(manifest.components)}
    return RetrainResult(out, pipeline.model_version, metrics, training, time.perf_counter() - started)


def _warm_dense_index(
    settings: Settings, kb: KnowledgeBase, train: LabelledSplit, encoder: str, report: Progress
) -> None:
    """Cache the dense index of the KB plus the training aliases, copying the base index's vectors.

    ``train_linker`` and the app (loading the version) then find it in the cache: only the new
    training aliases are encoded, not every alias of the KB again.
    """
    spec = resolve_encoder(encoder, cache_dir=settings.cache_dir)
    cache, batch = settings.cache_dir, settings.retrieval.dense_batch_size
    base = DenseRetriever.build(
        kb, spec, cache_dir=cache, batch_size=batch, progress=lambda done, total: report("dense", done, total)
    )
    priors = AliasExtension.from_links(train.corpus_links(), kb)
    if len(priors):
        DenseRetriever.build(priors.extend(kb), spec, cache_dir=cache, batch_size=batch, reuse=base)


def config_json(config: RetrainConfig) -> dict[str, Any]:
    """The config as plain JSON (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def split_counts(splits: Mapping[str, CuratedSplit]) -> dict[str, dict[str, int]]:
    """Documents, mentions and NIL mentions per split (the registry's ``data`` record)."""
    return {
        name: {
            "documents": len({m.doc_id for m in s.mentions}),
            "mentions": len(s.mentions),
            "nil": len(s.nil_mentions),
        }
        for name, s in splits.items()
    }
