"""``bel train``: everything the linker needs for one KB and corpus, into one model directory.

Steps, each logged with the elapsed time: load the KB and the corpora (dev split by
document when no dev file is given); training mention texts become aliases and link
priors (``augment``); the bi-encoder is fine-tuned on (mention, gold) pairs plus KB
synonym pairs; retrieval over the extended KB gives hard negatives; the cross-encoder is
trained on them, its size capped so the run fits ``max_minutes``; the dev split, linked
by the full pipeline, fits the final calibration (temperature+buckets vs isotonic vs
logistic, chosen by cross-validated ECE); the manifest records it all. With
``synthetic`` > 0, KB-generated mentions (SynCABEL's idea) add to or replace the corpus.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bel_core.calibrate import lists as link_calibration
from bel_core.retrieve.priors import AliasExtension
from bel_core.config import Settings
from bel_core.retrieve.dense import MINILM_PACKAGE, resolve_encoder
from bel_core.linking.detect import DictionaryMatcher
from bel_core.errors import ModelUnavailableError, TrainingDataError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.linking.builder import build_retrievers, load_settings_kb
from bel_core.runtime.model_dir import KBIdentity, Manifest, machine_info, now_iso, write_manifest
from bel_core.linking.pipeline import LinkingPipeline, LinkOptions
from bel_core.training.corpus import LabelledSplit, training_splits
from bel_core.training.pairs import GoldMention, build_pairs
from bel_core.types import Candidate

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
RERANK_MIN_GAIN = 0.005  # dev top-1 accuracy the reranker must add to be used at link time
SPARSE_CALIBRATION = "calibration-sparse.json"


@dataclass(frozen=True, slots=True)
class TrainLinkerConfig:
    """Inputs and budgets of one ``bel train`` run (all recorded in the manifest).

    Attributes:
        train: training PubTator corpus (None: synthetic mentions only).
        dev: dev PubTator corpus (None: ``dev_fraction`` of the training documents).
        types: keep only mentions of these PubTator types (empty: all).
        synthetic: KB-generated training mentions to add.
        max_minutes: wall-clock budget; the reranker's training pairs are capped to fit it.
        base_model: initial weights of both encoders.
        finetune_encoder: fine-tune the bi-encoder (else the base encoder retrieves).
        train_reranker: train the cross-encoder (else retrieval + priors + calibration only:
            the fast path that retraining from curator decisions uses by default).
    """

    out: Path
    train: Path | None = None
    dev: Path | None = None
    types: tuple[str, ...] = ()
    synthetic: int = 0
    seed: int = 13
    epochs: int = 1
    max_minutes: float = 55.0
    base_model: str = MINILM_PACKAGE
    finetune_encoder: bool = True
    train_reranker: bool = True
    dev_fraction: float = 0.15
    negatives_per_positive: int = 3
    max_length: int = 64
    rerank_depth: int = 16
    bi_encoder_pairs: int = 4000
    top_k: int = 10


class _Clock:
    def __init__(self, budget_s: float) -> None:
        self.started = time.perf_counter()
        self.budget_s = budget_s

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def left(self) -> float:
        return self.budget_s - self.elapsed

    def say(self, message: str, *args: object) -> None:
        logger.info(f"[%6.0f s] {message}", self.elapsed, *args)


def _splits(config: TrainLinkerConfig, kb: KnowledgeBase) -> tuple[LabelledSplit, LabelledSplit]:
    return training_splits(
        kb,
        train=config.train,
        dev=config.dev,
        types=config.types or None,
        synthetic=config.synthetic,
        dev_fraction=config.dev_fraction,
        seed=config.seed,
    )


def _pairs_budget(clock: _Clock, config: TrainLinkerConfig, n_dev_pairs: int, rate: float) -> int:
    """Training pairs that fit the time left, keeping a reserve for dev scoring and calibration."""
    reserve = 60.0 + n_dev_pairs / max(rate * 3, 1.0)
    return max(int(rate * max(clock.left - reserve, 30.0) / config.epochs), 256)


def _probe_rate(config: TrainLinkerConfig, sample: Sequence[Any]) -> float:
    """Training pairs per second of the base cross-encoder, timed on two batches."""
    from bel_core.training.cross_encoder import CrossEncoderTrainConfig, load_base

    model, tokenizer, _ = load_base(CrossEncoderTrainConfig(base_model=config.base_model, num_labels=1))
    batch = list(sample[:32])
    enc = tokenizer(
        [p.left for p in batch],
        [p.right for p in batch],
        truncation=True,
        max_length=config.max_length,
        padding=True,
        return_tensors="pt",
    )
    model(**enc).logits.sum().backward()  # warm-up
    started = time.perf_counter()
    for _ in range(2):
        model(**enc).logits.sum().backward()
    return 2 * len(batch) / (time.perf_counter() - started)


def _accuracy(pipeline: LinkingPipeline, dev: LabelledSplit) -> dict[str, float]:
    results = pipeline.link([g.mention for g in dev.golds], documents=dev.documents)
    hits = [[c.concept_id in g.gold_ids for c in r.candidates] for r, g in zip(results, dev.golds, strict=True)]
    n = max(len(hits), 1)
    return {"acc@1": sum(h[:1] == [True] for h in hits) / n, "acc@5": sum(any(h[:5]) for h in hits) / n}


def _augment(train: LabelledSplit, kb: KnowledgeBase, out: Path, components: dict[str, str]) -> AliasExtension:
    """Training mention texts -> aliases and priors, saved when there are any (synthetic ones are not)."""
    priors = AliasExtension.from_links(train.corpus_links(), kb)
    if len(priors):
        priors.save(out / "aliases.jsonl")
        components["aliases"] = "aliases.jsonl"
    return priors


def _finetune(
    config: TrainLinkerConfig, train: LabelledSplit, kb: KnowledgeBase, settings: Settings, progress: Progress | None
) -> str:
    """Fine-tune the bi-encoder on (mention, gold) + as many KB synonym pairs; return its folder."""
    from bel_core.training.bi_encoder import finetune_bi_encoder, synonym_pairs

    pairs = [(g.mention.text, g.gold_ids[0]) for g in train.golds]
    pairs += synonym_pairs(kb, len(train.golds), config.seed)
    base = resolve_encoder(config.base_model, cache_dir=settings.cache_dir)
    spec = finetune_bi_encoder(
        base, kb, pairs, config.out / "encoder", seed=config.seed, max_pairs=config.bi_encoder_pairs, progress=progress
    )
    return spec.path_or_id


def _recall(golds: Sequence[GoldMention], candidates: Sequence[Sequence[Candidate]]) -> float:
    hits = sum(bool(set(g.gold_ids) & {c.concept_id for c in r}) for g, r in zip(golds, candidates, strict=True))
    return hits / max(len(golds), 1)


def _reranker(
    config: TrainLinkerConfig,
    pipeline: LinkingPipeline,
    train: LabelledSplit,
    dev: LabelledSplit,
    clock: _Clock,
    progress: Progress | None,
) -> dict[str, Any]:
    """Hard-negative pairs from the pipeline's own candidates; train the cross-encoder within the budget."""
    from bel_core.training.cross_encoder import CrossEncoderTrainConfig, train_cross_encoder

    depth, kb = config.rerank_depth, pipeline.kb
    train_lists = pipeline.retrieve([g.mention for g in train.golds], documents=train.documents, k=depth)
    dev_lists = pipeline.retrieve([g.mention for g in dev.golds], documents=dev.documents, k=depth)
    n_neg = config.negatives_per_positive
    train_pairs = build_pairs(train.golds, train_lists, kb, negatives_per_positive=n_neg, seed=config.seed)
    dev_pairs = build_pairs(dev.golds, dev_lists, kb, negatives_per_positive=n_neg, seed=config.seed)
    rate = _probe_rate(config, train_pairs)
    budget = _pairs_budget(clock, config, len(dev_pairs), rate)
    recall = _recall(dev.golds, dev_lists)
    clock.say(
        "pairs: %d train, %d dev; dev recall@%d %.3f; %.0f pairs/s -> at most %d train pairs",
        len(train_pairs),
        len(dev_pairs),
        depth,
        recall,
        rate,
        budget,
    )
    ce_config = CrossEncoderTrainConfig(
        base_model=config.base_model,
        epochs=config.epochs,
        max_length=config.max_length,
        seed=config.seed,
        max_train_pairs=budget,
    )
    metrics = train_cross_encoder(train_pairs, dev_pairs, ce_config, config.out / "reranker", progress=progress)
    clock.say("reranker trained: dev pair F1 %.3f", metrics.f1)
    return {
        f"dev_recall@{depth}": recall,
        "train_pairs": len(train_pairs),
        "dev_pairs": len(dev_pairs),
        "train_pairs_used": min(budget, len(train_pairs)),
        "reranker_pairs": metrics.to_json(),
    }


def _dev_lists(pipeline: LinkingPipeline, dev: LabelledSplit) -> tuple[list[list[Candidate]], list[list[int]]]:
    """The dev split linked by the pipeline (uncalibrated), with per-candidate gold labels.

    With a reranker the lists keep all ``rerank_depth`` candidates: at link time the final
    calibrator re-sorts that many before the cut to ``top_k``, so it is fitted on as many.
    """
    pipeline.calibrator = None
    top_k = pipeline.top_k
    if pipeline.reranker is not None:
        pipeline.top_k = max(top_k, pipeline.options.rerank_depth)
    try:
        results = pipeline.link([g.mention for g in dev.golds], documents=dev.documents)
    finally:
        pipeline.top_k = top_k
    lists = [list(r.candidates) for r in results]
    return lists, [[int(c.concept_id in g.gold_ids) for c in r] for r, g in zip(lists, dev.golds, strict=True)]


def _calibrate(
    pipeline: LinkingPipeline, dev: LabelledSplit, out: Path, clock: _Clock, components: dict[str, str]
) -> dict[str, Any]:
    """Fit the final calibration on dev, with and without the reranker; keep the reranker only if it helps.

    Writes ``calibration.json`` (and, with a dense stage, the fast profile's own file) and
    records them in ``components``.

    The reranker stays when it raises the cross-validated dev top-1 accuracy by at least
    ``RERANK_MIN_GAIN``: it costs two orders of magnitude in speed.
    """
    groups = [g.mention.doc_id for g in dev.golds]
    reranker, fits = pipeline.reranker, {}
    for use in (False, True) if reranker is not None else (False,):
        pipeline.reranker = reranker if use else None
        lists, labels = _dev_lists(pipeline, dev)
        methods = link_calibration.METHODS if use else ("logistic", "combined")
        fits[use] = link_calibration.fit_best(lists, labels, groups, methods)
        clock.say("dev calibration %s reranker: %s", "with" if use else "without", fits[use][1]["methods"])
    gain = fits[True][1]["top1_accuracy"] - fits[False][1]["top1_accuracy"] if True in fits else 0.0
    use = gain >= RERANK_MIN_GAIN
    calibrator, report = fits[use]
    pipeline.reranker = reranker if use else None
    link_calibration.save(calibrator, out / "calibration.json")
    components["calibration"] = "calibration.json"
    sparse = _calibrate_sparse(pipeline, dev, groups, out) if pipeline.dense is not None else None
    if sparse is not None:
        components["calibration_sparse"] = SPARSE_CALIBRATION
        clock.say("dev calibration of the TF-IDF-only profile: %s", sparse["methods"])
    pipeline.calibrator = calibrator
    return {
        **report,
        "rerank": use,
        "rerank_gain_dev_acc@1": gain,
        "without_reranker": fits[False][1],
        "with_reranker": fits[True][1] if True in fits else None,
        "sparse_profile": sparse,
    }


def _calibrate_sparse(
    pipeline: LinkingPipeline, dev: LabelledSplit, groups: Sequence[str], out: Path
) -> dict[str, Any]:
    """Fit ``calibration-sparse.json``: the calibration of the same linker without the dense stage.

    ``--no-dense`` (the fast profile) ranks differently (TF-IDF scores only, no dense
    candidates), so the main calibration, fitted on hybrid lists, misjudges its lists.
    """
    dense, pipeline.dense = pipeline.dense, None
    try:
        lists, labels = _dev_lists(pipeline, dev)
    finally:
        pipeline.dense = dense
    methods = link_calibration.METHODS if pipeline.reranker is not None else ("logistic", "combined")
    calibrator, report = link_calibration.fit_best(lists, labels, groups, methods)
    link_calibration.save(calibrator, out / SPARSE_CALIBRATION)
    return report


def train_linker(
    config: TrainLinkerConfig,
    settings: Settings,
    *,
    command: str = "",
    progress: Progress | None = None,
    splits: tuple[LabelledSplit, LabelledSplit] | None = None,
) -> Manifest:
    """Train and write a model directory; returns its manifest (also in ``out/manifest.json``).

    Args:
        config: corpora, budgets and hyper-parameters.
        settings: KB source, cache directory and retrieval settings (n-grams, dense weight).
        command: the command line, recorded in the manifest.
        progress: ``progress(stage, done, total)`` for the bars of the stages that have steps.
        splits: (train, dev) given by the caller (curated decisions) instead of ``config``'s corpora.

    Raises:
        ValueError: no training mentions.
        KnowledgeBaseError, ModelUnavailableError: the KB or a base model cannot be loaded.
    """
    from bel_core.rerank.cross_encoder import CrossEncoderReranker

    clock = _Clock(config.max_minutes * 60)
    config.out.mkdir(parents=True, exist_ok=True)
    kb = load_settings_kb(settings)
    train, dev = splits if splits is not None else _splits(config, kb)
    clock.say("KB %s: %d concepts; train %s; dev %s", kb.name, len(kb), train.summary(), dev.summary())
    components: dict[str, str] = {}
    priors = _augment(train, kb, config.out, components)
    clock.say("dictionary: %d training links added as aliases", len(priors))
    encoder = config.base_model
    if config.finetune_encoder:
        encoder, components["encoder"] = _finetune(config, train, kb, settings, progress), "encoder"
        clock.say("bi-encoder fine-tuned")
    retrieval = replace(settings.retrieval, dense_model=encoder)
    indexed = priors.extend(kb) if len(priors) else kb
    tfidf, dense = build_retrievers(indexed, replace(settings, retrieval=retrieval), encoder, progress)
    options = LinkOptions(exact_first=True, rerank_depth=config.rerank_depth)
    pipeline = LinkingPipeline(
        indexed,
        tfidf,
        DictionaryMatcher.from_kb(kb),
        dense=dense,
        dense_weight=retrieval.dense_weight,
        top_k=config.top_k,
        priors=priors,
        options=replace(options, memory=None),
    )
    clock.say("retrieval index ready")
    metrics: dict[str, Any] = {}
    if config.train_reranker:
        metrics = _reranker(config, pipeline, train, dev, clock, progress)
        components["reranker"] = "reranker"
        pipeline.reranker = CrossEncoderReranker.load(
            str(config.out / "reranker"),
            batch_size=64,
            runtime=settings.inference.runtime,
            cache_dir=settings.cache_dir,
        )
    metrics["calibration"] = _calibrate(pipeline, dev, config.out, clock, components)
    calibration = metrics["calibration"]
    clock.say(
        "calibration: %s, reranker %s; dev top-1 ECE raw %.3f -> %.3f (in-sample)",
        calibration["chosen"],
        "kept" if calibration["rerank"] else "dropped (no dev gain)" if config.train_reranker else "not trained",
        calibration["ece_raw"],
        calibration["ece_in_sample"],
    )
    pipeline.options = options
    metrics["dev"] = _accuracy(pipeline, dev)
    linker = {
        **_options_json(options),
        "rerank": calibration["rerank"],
        "top_k": config.top_k,
        "dense_weight": retrieval.dense_weight,
        "reranker_max_length": config.max_length,
        "reranker_batch_size": 64,
        "quantize": False,
    }
    training = {"config": _jsonable(asdict(config)), "train": train.summary(), "dev": dev.summary()}
    manifest = Manifest(
        kb=KBIdentity.of(kb, settings.kb.source),
        components=components,
        linker=linker,
        training=training,
        metrics=metrics,
        seeds={"seed": config.seed},
        wall_time_s=round(clock.elapsed, 1),
        machine=machine_info(),
        command=command,
        created_at=now_iso(),
    )
    write_manifest(config.out, manifest)
    clock.say("dev acc@1 %.4f acc@5 %.4f -> %s", metrics["dev"]["acc@1"], metrics["dev"]["acc@5"], config.out)
    return manifest


def recalibrate(
    model_dir: Path,
    settings: Settings,
    dev_path: Path,
    *,
    types: tuple[str, ...] = (),
    command: str = "",
) -> Manifest:
    """Refit the calibration of an existing model directory on a dev corpus; models stay as they are.

    The same code path as ``bel train``'s last step (:func:`_calibrate`): the final calibration,
    with and without the reranker when the directory uses one, and the TF-IDF-only profile's.
    A directory written before a calibration change gets the current method this way, in
    minutes instead of a retraining. The manifest records the previous calibration metrics.

    Raises:
        TrainingDataError: no dev mention has an id the KB knows.
        InputFormatError: the dev corpus is not valid PubTator.
        ModelUnavailableError: the directory is invalid, holds a generator, or was trained for another KB.
    """
    from bel_core.runtime.model_dir import read_manifest
    from bel_core.training.corpus import load_split

    clock = _Clock(float("inf"))
    manifest = read_manifest(model_dir)
    if manifest.linker_kind != "retriever":
        raise ModelUnavailableError(
            f"{model_dir} holds a {manifest.linker_kind} linker; `bel calibrate` refits retriever linkers "
            "(a generator's calibration is fitted by `bel train --linker generator`)"
        )
    # The main calibration is fitted on hybrid lists even where the settings switch the dense stage off.
    hybrid = replace(settings, retrieval=replace(settings.retrieval, dense_enabled=True))
    pipeline = LinkingPipeline.from_model_dir(model_dir, hybrid)
    dev = load_split(dev_path, pipeline.kb, types or None)
    if not dev.golds:
        raise TrainingDataError(f"{dev_path}: no mention with an id in {pipeline.kb.name}; nothing to calibrate on")
    clock.say("recalibrating %s on %s", model_dir, dev.summary())
    options = pipeline.options
    pipeline.options = replace(options, memory=None)  # as in bel train: memory is applied after calibration
    components = dict(manifest.components)
    calibration = _calibrate(pipeline, dev, model_dir, clock, components)
    pipeline.options = options
    metrics = {
        **manifest.metrics,
        "calibration": calibration,
        "recalibrated": {
            "dev": dev.summary(),
            "previous_calibration": manifest.metrics.get("calibration"),
            "command": command,
            "at": now_iso(),
        },
    }
    updated = replace(
        manifest,
        components=components,
        linker={**manifest.linker, "rerank": calibration["rerank"]},
        metrics=metrics,
    )
    write_manifest(model_dir, updated)
    clock.say(
        "calibration: %s; dev top-1 ECE raw %.3f -> %.3f (in-sample)",
        calibration["chosen"],
        calibration["ece_raw"],
        calibration["ece_in_sample"],
    )
    return updated


def _options_json(options: LinkOptions) -> dict[str, Any]:
    return {
        "abbreviations": options.abbreviations,
        "exact_first": options.exact_first,
        "rerank_depth": options.rerank_depth,
        "context_chars": options.context_chars,
        "memory": None if options.memory is None else asdict(options.memory),
    }


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}
