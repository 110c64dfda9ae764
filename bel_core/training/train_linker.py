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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bel_core.calibrate import lists as link_calibration
from bel_core.calibrate.lists import ListCalibrator
from bel_core.config import Settings
from bel_core.errors import ModelUnavailableError, TrainingDataError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.linking.builder import build_retrievers, load_reranker, load_settings_kb
from bel_core.linking.detect import DictionaryMatcher
from bel_core.linking.options import RERANKER_BATCH_SIZE, LinkOptions
from bel_core.linking.pipeline import LinkingPipeline
from bel_core.linking.stages import Stages
from bel_core.retrieve.dense import MINILM_PACKAGE, resolve_encoder
from bel_core.retrieve.priors import AliasExtension
from bel_core.runtime.model_dir import KBIdentity, Manifest, machine_info, now_iso, write_manifest
from bel_core.training.corpus import LabelledSplit, corpus_splits
from bel_core.training.pairs import GoldMention, PairExample, build_pairs
from bel_core.types import Candidate, Progress

logger = logging.getLogger(__name__)

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


def pairs_budget(seconds_left: float, epochs: int, n_dev_pairs: int, rate: float) -> int:
    """Reranker training pairs that fit ``seconds_left`` at ``rate`` pairs/s, with a reserve for dev and calibration.

    The reserve is a minute plus the dev pairs' scoring (about 3x faster than training); at
    least 30 s of training and 256 pairs are always planned.
    """
    reserve = 60.0 + n_dev_pairs / max(rate * 3, 1.0)
    return max(int(rate * max(seconds_left - reserve, 30.0) / epochs), 256)


def _probe_rate(config: TrainLinkerConfig, sample: Sequence[PairExample]) -> float:
    """Training pairs per second of the base cross-encoder, timed on two batches."""
    from bel_core.training.cross_encoder import CrossEncoderTrainConfig, encode_pairs, load_base

    model, tokenizer, _ = load_base(CrossEncoderTrainConfig(base_model=config.base_model, num_labels=1))
    batch = list(sample[:32])
    enc = encode_pairs(tokenizer, batch, config.max_length)
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
    budget = pairs_budget(clock.left, config.epochs, len(dev_pairs), rate)
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


def dev_lists(pipeline: LinkingPipeline, dev: LabelledSplit) -> tuple[list[list[Candidate]], list[list[int]]]:
    """The dev split linked by the pipeline, uncalibrated, with per-candidate gold labels.

    With a reranker the lists keep all ``rerank_depth`` candidates: at link time the final
    calibrator re-sorts that many before the cut to ``top_k``, so it is fitted on as many.
    """
    options = pipeline.options
    if pipeline.reranker is not None:
        options = replace(options, top_k=max(options.top_k, options.rerank_depth))
    uncalibrated = pipeline.evolve(options=options, calibrator=None)
    results = uncalibrated.link([g.mention for g in dev.golds], documents=dev.documents)
    lists = [list(r.candidates) for r in results]
    return lists, [[int(c.concept_id in g.gold_ids) for c in r] for r, g in zip(lists, dev.golds, strict=True)]


def _calibrate(
    pipeline: LinkingPipeline, dev: LabelledSplit, out: Path, clock: _Clock, components: dict[str, str]
) -> tuple[LinkingPipeline, dict[str, Any]]:
    """Fit the final calibration on dev, with and without the reranker; keep the reranker only if it helps.

    Writes ``calibration.json`` (and, with a dense stage, the fast profile's own file) and
    records them in ``components``. Returns the calibrated pipeline (``pipeline`` itself is
    unchanged) and the report.

    The reranker stays when it raises the cross-validated dev top-1 accuracy by at least
    ``RERANK_MIN_GAIN``: it costs two orders of magnitude in speed.
    """
    groups = [g.mention.doc_id for g in dev.golds]
    fits: dict[bool, tuple[ListCalibrator, dict[str, Any]]] = {}
    for use in (False, True) if pipeline.reranker is not None else (False,):
        lists, labels = dev_lists(pipeline if use else pipeline.evolve(reranker=None), dev)
        methods = link_calibration.METHODS if use else ("logistic", "combined")
        fits[use] = link_calibration.fit_best(lists, labels, groups, methods)
        clock.say("dev calibration %s reranker: %s", "with" if use else "without", fits[use][1]["methods"])
    gain = fits[True][1]["top1_accuracy"] - fits[False][1]["top1_accuracy"] if True in fits else 0.0
    use = gain >= RERANK_MIN_GAIN
    calibrator, report = fits[use]
    chosen = pipeline if use else pipeline.evolve(reranker=None)
    link_calibration.save(calibrator, out / "calibration.json")
    components["calibration"] = "calibration.json"
    sparse = _calibrate_sparse(chosen, dev, groups, out) if chosen.dense is not None else None
    if sparse is not None:
        components["calibration_sparse"] = SPARSE_CALIBRATION
        clock.say("dev calibration of the TF-IDF-only profile: %s", sparse["methods"])
    return chosen.evolve(calibrator=calibrator), {
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
    lists, labels = dev_lists(pipeline.evolve(dense=None), dev)
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
        TrainingDataError: no training mentions.
        KnowledgeBaseError, ModelUnavailableError: the KB or a base model cannot be loaded.
    """
    clock = _Clock(config.max_minutes * 60)
    config.out.mkdir(parents=True, exist_ok=True)
    kb = load_settings_kb(settings)
    train, dev = splits if splits is not None else corpus_splits(config, kb)
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
    options = LinkOptions(
        exact_first=True, rerank_depth=config.rerank_depth, top_k=config.top_k, dense_weight=retrieval.dense_weight
    )
    reranking = {
        "reranker_max_length": config.max_length,
        "reranker_batch_size": RERANKER_BATCH_SIZE,
        "quantize": False,
    }
    # Memory is applied after calibration at link time: calibration is fitted without it.
    pipeline = LinkingPipeline(
        Stages(indexed, tfidf, DictionaryMatcher.from_kb(kb), dense=dense, priors=priors),
        replace(options, memory=None),
    )
    clock.say("retrieval index ready")
    metrics: dict[str, Any] = {}
    if config.train_reranker:
        metrics = _reranker(config, pipeline, train, dev, clock, progress)
        components["reranker"] = "reranker"
        # The final calibration replaces the reranker's own probabilities, as when the directory is loaded.
        reranker = load_reranker(config.out / "reranker", reranking, settings, calibrated=False)
        pipeline = pipeline.evolve(reranker=reranker)
    pipeline, metrics["calibration"] = _calibrate(pipeline, dev, config.out, clock, components)
    calibration = metrics["calibration"]
    clock.say(
        "calibration: %s, reranker %s; dev top-1 ECE raw %.3f -> %.3f (in-sample)",
        calibration["chosen"],
        "kept" if calibration["rerank"] else "dropped (no dev gain)" if config.train_reranker else "not trained",
        calibration["ece_raw"],
        calibration["ece_in_sample"],
    )
    metrics["dev"] = _accuracy(pipeline.evolve(options=options), dev)
    linker = {**options.to_json(), "rerank": calibration["rerank"], **reranking}
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
    # As in bel train: memory is applied after calibration, so calibration is fitted without it.
    pipeline = pipeline.evolve(options=replace(pipeline.options, memory=None))
    components = dict(manifest.components)
    _, calibration = _calibrate(pipeline, dev, model_dir, clock, components)
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


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}
