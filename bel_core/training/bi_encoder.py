"""Fine-tune the dense retriever's bi-encoder, SapBERT-style, on (text, concept) pairs.

Each pair is (a mention or a KB synonym, its concept id); the anchor is the text and its
positive the concept's preferred name. MultipleNegativesRankingLoss uses the other names
of the batch as negatives, so a batch must not hold two pairs of one concept (they would
be each other's false negatives) nor two identical names.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path

from bel_core.errors import TrainingDataError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.retrieve.dense import EncoderSpec, load_encoder, resolve_encoder
from bel_core.text import normalize
from bel_core.training.optim import linear_schedule, optimizer_step, seed_everything
from bel_core.types import Progress

logger = logging.getLogger(__name__)


def synonym_pairs(kb: KnowledgeBase, n: int, seed: int) -> list[tuple[str, str]]:
    """Up to ``n`` (synonym, concept_id) pairs: KB synonyms that differ from their concept's name."""
    pairs = [(alias, cid) for alias, cid in kb.aliases() if normalize(alias) != normalize(kb.get(cid).name)]
    rng = random.Random(seed)
    return rng.sample(pairs, min(n, len(pairs)))


def distinct_batches(
    triples: list[tuple[str, str, str]], batch_size: int, rng: random.Random
) -> list[list[tuple[str, str, str]]]:
    """Shuffled batches of (anchor, name, concept_id) with no concept or name twice in a batch.

    Pairs that would collide wait for a later batch (as sentence-transformers'
    ``NoDuplicatesBatchSampler`` does); the last batches may be smaller.
    """
    pool = list(triples)
    rng.shuffle(pool)
    batches = []
    while pool:
        batch: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        rest = []
        for item in pool:
            keys = {f"id:{item[2]}", f"name:{normalize(item[1])}"}
            if len(batch) < batch_size and not keys & seen:
                batch.append(item)
                seen |= keys
            else:
                rest.append(item)
        batches.append(batch)
        pool = rest
    return batches


def finetune_bi_encoder(
    base: EncoderSpec,
    kb: KnowledgeBase,
    pairs: Sequence[tuple[str, str]],
    out_dir: Path,
    *,
    epochs: int = 1,
    batch_size: int = 64,
    seed: int = 13,
    max_pairs: int | None = None,
    learning_rate: float = 2e-5,
    progress: Progress | None = None,
) -> EncoderSpec:
    """Contrastive fine-tuning of ``base``; saves a sentence-transformers folder to ``out_dir``.

    Args:
        base: the encoder to start from (see :func:`bel_core.retrieve.dense.resolve_encoder`).
        kb: resolves each pair's concept id to its preferred name (the positive).
        pairs: (mention or synonym, concept id); pairs whose text is the concept's name
            (nothing to learn) and ids missing from the KB are skipped.
        out_dir: where the fine-tuned model goes.
        epochs: passes over the pairs.
        batch_size: pairs per batch; each pair's negatives are the batch's other names.
        seed: seeds shuffling, subsampling and torch.
        max_pairs: subsample to this many pairs (seeded), for quick runs.
        learning_rate: AdamW learning rate (SapBERT's 2e-5), linear warm-up over 10%.
        progress: ``progress("bi_encoder", step, total)`` after each step; tqdm otherwise.

    Returns:
        A spec for the saved folder (``version`` is its weights' sha256 prefix).

    Raises:
        TrainingDataError: no usable pair.
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from tqdm.auto import tqdm

    seed_everything(seed)
    rng = random.Random(seed)
    triples = [
        (text, kb.get(cid).name, kb.resolve_id(cid))
        for text, cid in pairs
        if cid in kb and normalize(text) != normalize(kb.get(cid).name)
    ]
    if max_pairs is not None and len(triples) > max_pairs:
        triples = rng.sample(triples, max_pairs)
    if not triples:
        raise TrainingDataError(
            "No usable (text, concept_id) pair: every text equals its concept's name or the id is unknown; "
            "train on mentions written otherwise than their concept's name, or keep the base encoder "
            "(--no-encoder-finetune)"
        )
    model = load_encoder(base)
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    plan = [distinct_batches(triples, batch_size, rng) for _ in range(epochs)]
    total = sum(len(p) for p in plan)
    scheduler = linear_schedule(optimizer, int(0.1 * total), total)
    bar = tqdm(total=total, desc="bi-encoder", disable=progress is not None or not logger.isEnabledFor(logging.INFO))
    model.train()
    step = 0
    for batches in plan:
        for batch in batches:
            features = [model.tokenize([t[0] for t in batch]), model.tokenize([t[1] for t in batch])]
            optimizer_step(loss_fn(features, torch.empty(0)), model, optimizer, scheduler)
            step += 1
            bar.update(1)
            if progress:
                progress("bi_encoder", step, total)
    bar.close()
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    logger.info("Bi-encoder fine-tuned on %d pairs x %d epochs -> %s", len(triples), epochs, out_dir)
    return resolve_encoder(str(out_dir))
