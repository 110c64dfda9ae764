"""The optimisation loop's shared parts: seeding, the linear warm-up/decay schedule, one optimiser step.

Every trainer (cross-encoder, bi-encoder, generator) takes its steps through :func:`optimizer_step`,
so gradient clipping and the order of the updates are the same everywhere. torch loads on first use.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch.optim.lr_scheduler import LRScheduler

MAX_GRAD_NORM = 1.0


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU) random generators."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def linear_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int) -> LRScheduler:
    """Learning rate rising linearly over ``warmup_steps``, then falling linearly to 0 at ``total_steps``."""
    from torch.optim.lr_scheduler import LambdaLR

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return LambdaLR(optimizer, factor)


def optimizer_step(
    loss: Any, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: LRScheduler
) -> None:
    """Back-propagate ``loss``, clip the gradient norm, step the optimiser and the schedule, clear the gradients."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
