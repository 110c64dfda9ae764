"""Training: gold mentions in, a model directory out (``bel train``, ``bel retrain``, ``bel calibrate``).

Enters: a KB, PubTator corpora or curated splits, and budgets. Leaves: a model directory
(``runtime.model_dir``) with priors, a fine-tuned bi-encoder, a cross-encoder, the final
calibration and the ``LinkOptions`` they were fitted for, or a generator. ``corpus`` and
``pairs`` make gold mentions, splits and hard-negative pairs, ``synthetic`` mentions from KB
names alone; ``cross_encoder``, ``bi_encoder`` and ``generator`` train the models through one
optimiser step (``optim``); ``train_linker`` runs it all; ``retrain`` and ``holdout`` retrain
from curator decisions and measure the held-out split. torch loads only when a trainer runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.training.corpus import LabelledSplit, corpus_splits
    from bel_core.training.generator import GeneratorTrainConfig, train_generator_linker
    from bel_core.training.holdout import evaluate_holdout
    from bel_core.training.retrain import CuratedSplit, RetrainConfig, RetrainResult, retrain
    from bel_core.training.train_linker import TrainLinkerConfig, recalibrate, train_linker

__all__, __getattr__ = exports(
    __name__,
    {
        "corpus": ("LabelledSplit", "corpus_splits"),
        "generator": ("GeneratorTrainConfig", "train_generator_linker"),
        "holdout": ("evaluate_holdout",),
        "retrain": ("CuratedSplit", "RetrainConfig", "RetrainResult", "retrain"),
        "train_linker": ("TrainLinkerConfig", "recalibrate", "train_linker"),
    },
)
