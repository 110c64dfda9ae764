"""Why a model scored a (mention, candidate) pair: token attributions with Integrated Gradients.

Captum's ``LayerIntegratedGradients`` over the input-embedding layer attributes the
explained quantity to each input token:

- reranker: the margin (``logit_1 - logit_0``, or the logit) of the cross-encoder on the
  BASILISK pair ``mention: <m> ; context: <ctx>`` / ``candidate: <name> ; tuis: <T>``;
  the score shown to curators is ``sigmoid(margin)``.
- generator: the log-probability of the chosen beam (the concept name) given the prompt.

The baseline keeps special tokens ([CLS], [SEP], BOS) and, for the generator, the target
tokens, and replaces every other token by [PAD] (or UNK/MASK): only words of the input
get attribution, and by IG's completeness property the attributions sum to
``f(input) - f(baseline)`` up to the convergence ``delta`` reported with them. Word
pieces are merged back into words through the tokenizer's offset mapping.

Nothing here touches a database; ``usecases/saliency_cache.py`` stores the JSON payload.
"""

from __future__ import annotations

import math
import re
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bel_core.errors import ModelUnavailableError
from bel_core.rerank.cross_encoder import mention_context, serialize_left, serialize_right
from bel_core.types import Concept, Document, Mention

if TYPE_CHECKING:  # torch/captum load only when something is explained
    import torch

    from bel_core.generate.model import GeneratorModel
    from bel_core.rerank.cross_encoder import CrossEncoderReranker

PAYLOAD_FORMAT = "saliency-1"  # bump when the JSON layout changes: cached payloads carry it
FAST_STEPS = 8
PRECISE_STEPS = 32
# A word: a run of letters/digits, or one other non-space character, so every visible
# character belongs to exactly one word and punctuation gets its own attribution.
WORD_PATTERN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class WordAttribution:
    """The summed attribution of one word's tokens.

    Attributes:
        segment: which input text the word is in (``left``/``right`` for a reranker pair,
            ``prompt`` for a generator).
        start, end: character offsets of the word in that segment's text.
        text: ``segment_text[start:end]``.
        score: attribution; positive words push the score up, negative ones down.
    """

    segment: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Saliency:
    """Attributions of one explained score, with what is needed to judge them.

    Attributes:
        linker: ``reranker`` or ``generator``.
        model_version: the explained model's version (cache key and provenance).
        explained: the attributed quantity: ``margin`` or ``log_prob``.
        score: the score curators see: ``sigmoid(margin)`` or ``exp(log_prob)``.
        output: the attributed quantity on the input, ``f(input)``.
        baseline_output: ``f(baseline)``.
        delta: IG convergence delta, ``sum(scores) - (output - baseline_output)``.
        n_steps: IG integration steps.
        segments: segment name -> the text that was attributed (word offsets refer to it).
        words: per word, in segment then text order; words cut off by truncation are absent.
        truncated: some input text did not fit in the model's max length.
        seconds: CPU/GPU time of the computation.
    """

    linker: str
    model_version: str
    explained: str
    score: float
    output: float
    baseline_output: float
    delta: float
    n_steps: int
    segments: Mapping[str, str]
    words: tuple[WordAttribution, ...]
    truncated: bool
    seconds: float

    def segment_words(self, segment: str) -> list[WordAttribution]:
        """The words of one segment, in text order."""
        return [w for w in self.words if w.segment == segment]

    def to_json(self) -> dict[str, Any]:
        """The payload written by ``bel explain`` and stored in the saliency cache."""
        return {
            "format": PAYLOAD_FORMAT,
            "linker": self.linker,
            "model_version": self.model_version,
            "explained": self.explained,
            "score": self.score,
            "output": self.output,
            "baseline_output": self.baseline_output,
            "delta": self.delta,
            "n_steps": self.n_steps,
            "segments": dict(self.segments),
            "truncated": self.truncated,
            "seconds": self.seconds,
            "words": [
                {"segment": w.segment, "start": w.start, "end": w.end, "text": w.text, "attribution": w.score}
                for w in self.words
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Saliency:
        """Read :meth:`to_json` output.

        Raises:
            ValueError: another payload format (the caller recomputes).
        """
        if data.get("format") != PAYLOAD_FORMAT:
            raise ValueError(f"saliency payload format {data.get('format')!r}, expected {PAYLOAD_FORMAT!r}")
        words = tuple(
            WordAttribution(w["segment"], int(w["start"]), int(w["end"]), w["text"], float(w["attribution"]))
            for w in data["words"]
        )
        return cls(
            linker=data["linker"],
            model_version=data["model_version"],
            explained=data["explained"],
            score=float(data["score"]),
            output=float(data["output"]),
            baseline_output=float(data["baseline_output"]),
            delta=float(data["delta"]),
            n_steps=int(data["n_steps"]),
            segments=dict(data["segments"]),
            words=words,
            truncated=bool(data["truncated"]),
            seconds=float(data["seconds"]),
        )


def merge_words(
    segment: str, text: str, offsets: Sequence[tuple[int, int]], scores: Sequence[float]
) -> list[WordAttribution]:
    """Sum token attributions into the words of ``text``.

    A token belongs to the word holding its first non-space character (a WordPiece
    ``##s`` joins its word; a BPE token with a leading space joins the word after the
    space). Tokens without characters (special tokens) are skipped, and words no token
    covers (truncated away) are left out.

    Args:
        segment: segment name stored in each word.
        text: the text the offsets refer to.
        offsets: per token, ``(start, end)`` in ``text`` (the tokenizer's offset mapping).
        scores: per token attribution, aligned with ``offsets``.
    """
    if len(offsets) != len(scores):
        raise ValueError(f"{len(offsets)} offsets but {len(scores)} scores")
    spans = [m.span() for m in WORD_PATTERN.finditer(text)]
    starts = [s for s, _ in spans]
    totals: dict[int, float] = {}
    for (start, end), score in zip(offsets, scores, strict=True):
        while start < end and text[start].isspace():
            start += 1
        if start >= end:
            continue
        i = bisect_right(starts, start) - 1
        if i >= 0 and start < spans[i][1]:
            totals[i] = totals.get(i, 0.0) + float(score)
    return [WordAttribution(segment, *spans[i], text[slice(*spans[i])], totals[i]) for i in sorted(totals)]


def _baseline_token(tokenizer: Any, fallback: int | None = None) -> int:
    """[PAD], else UNK, else MASK, else ``fallback``: a token that carries no meaning."""
    for token_id in (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.mask_token_id, fallback):
        if isinstance(token_id, int):
            return token_id
    raise ModelUnavailableError("The tokenizer has no pad, unk or mask token to build the saliency baseline from")


def _integrate(
    forward: Callable[..., torch.Tensor],
    layer: torch.nn.Module,
    input_ids: torch.Tensor,
    baseline_ids: torch.Tensor,
    extra: tuple[Any, ...],
    n_steps: int,
) -> tuple[list[float], float, float, float]:
    """Per-token attributions (summed over the embedding dimension), f(input), f(baseline), delta."""
    import torch
    from captum.attr import LayerIntegratedGradients

    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    lig = LayerIntegratedGradients(forward, layer)
    attributions, delta = lig.attribute(
        inputs=input_ids,
        baselines=baseline_ids,
        additional_forward_args=extra or None,
        n_steps=n_steps,
        return_convergence_delta=True,
    )
    with torch.no_grad():
        output = float(forward(input_ids, *extra)[0])
        baseline = float(forward(baseline_ids, *extra)[0])
    per_token = attributions.sum(dim=-1)[0].detach().float().cpu().tolist()
    return per_token, output, baseline, float(delta[0])


def pair_texts(mention: Mention, document: Document, concept: Concept, *, context_chars: int = 256) -> tuple[str, str]:
    """The reranker's (left, right) input for a mention in its document and a candidate concept."""
    context = mention_context(document.text, mention.start, mention.end, max_chars=context_chars)
    return serialize_left(mention.text, context), serialize_right(concept.name, concept.types)


def explain_pair(
    reranker: CrossEncoderReranker,
    left: str,
    right: str,
    *,
    n_steps: int = FAST_STEPS,
    max_length: int | None = None,
) -> Saliency:
    """Attribute a cross-encoder's margin on (``left``, ``right``) to the words of both texts.

    Args:
        reranker: a float (not quantized) cross-encoder with a fast tokenizer.
        left: the serialized mention side (``rerank.serialize_left``).
        right: the serialized candidate side (``rerank.serialize_right``).
        n_steps: IG steps: 8 is interactive on CPU, 32 converges closer (smaller delta).
        max_length: tokens of the pair to keep; default: the reranker's own (what it scores).

    Raises:
        ModelUnavailableError: the reranker is quantized or its tokenizer gives no offsets.
    """
    import torch

    if reranker.quantized:
        raise ModelUnavailableError(
            "Saliency needs gradients, which int8-quantized rerankers do not have; load the reranker without "
            "quantize (set 'quantize': false in the model directory's manifest linker block)"
        )
    tokenizer, model = reranker.tokenizer, reranker.model
    if not tokenizer.is_fast:
        raise ModelUnavailableError(f"Saliency needs a fast tokenizer (offset mapping); {reranker.version} has none")
    started = time.perf_counter()
    device = next(model.parameters()).device
    # The reranker's lock: fast tokenizers refuse concurrent use, and scoring shares this model.
    with reranker._lock:
        enc = tokenizer(
            left,
            right,
            truncation=True,
            max_length=max_length or reranker.max_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        sequence_ids = enc.sequence_ids(0)
        offsets = [tuple(o) for o in enc.pop("offset_mapping")[0].tolist()]
        input_ids = enc["input_ids"].to(device)
        baseline_ids = input_ids.clone()
        content = torch.tensor([s is not None for s in sequence_ids], device=device)
        baseline_ids[0, content] = _baseline_token(tokenizer)
        names = [k for k in ("attention_mask", "token_type_ids") if k in enc]  # not every model has token types
        extra = tuple(enc[k].to(device) for k in names)

        def forward(ids: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:
            logits = model(input_ids=ids, **dict(zip(names, args, strict=True))).logits
            return logits[:, 1] - logits[:, 0] if reranker.num_labels == 2 else logits[:, 0]

        scores, output, baseline, delta = _integrate(
            forward, model.get_input_embeddings(), input_ids, baseline_ids, extra, n_steps
        )
    words: list[WordAttribution] = []
    truncated = False
    for index, (segment, text) in enumerate((("left", left), ("right", right))):
        rows = [i for i, s in enumerate(sequence_ids) if s == index]
        words += merge_words(segment, text, [offsets[i] for i in rows], [scores[i] for i in rows])
        truncated |= max((offsets[i][1] for i in rows), default=0) < len(text.rstrip())
    return Saliency(
        linker="reranker",
        model_version=reranker.version,
        explained="margin",
        score=1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, output)))),
        output=output,
        baseline_output=baseline,
        delta=delta,
        n_steps=n_steps,
        segments={"left": left, "right": right},
        words=tuple(words),
        truncated=truncated,
        seconds=time.perf_counter() - started,
    )


def explain_generation(generator: GeneratorModel, prompt: str, target: str, *, n_steps: int = FAST_STEPS) -> Saliency:
    """Attribute the log-probability of ``target`` (the chosen beam) to the words of ``prompt``.

    Args:
        generator: a loaded generator (``bel_core.generate.model``).
        prompt: the linker's prompt for the mention (``GenerativeLinker.prompt_for``).
        target: the generated name whose probability is explained.
        n_steps: IG steps.

    Raises:
        ModelUnavailableError: the tokenizer gives no offsets, or has no baseline token.
    """
    tokenizer, model = generator.tokenizer, generator.model
    if not tokenizer.is_fast:
        raise ModelUnavailableError(f"Saliency needs a fast tokenizer (offset mapping); {generator.version} has none")
    started = time.perf_counter()
    encoded = generator.encode(prompt, target)
    start, end = encoded.prompt_positions
    baseline_ids = encoded.input_ids.clone()
    baseline_ids[:, start:end] = _baseline_token(tokenizer, generator.pad_id)
    # A seq2seq model embeds encoder and decoder tokens with separate modules (weights tied):
    # only the encoder's sees the prompt.
    layer = model.get_encoder().get_input_embeddings() if generator.is_seq2seq else model.get_input_embeddings()

    def forward(ids: torch.Tensor) -> torch.Tensor:
        return generator.target_logprob(ids, encoded)

    scores, output, baseline, delta = _integrate(forward, layer, encoded.input_ids, baseline_ids, (), n_steps)
    bare = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    offsets = [tuple(o) for o in bare[: end - start]]
    return Saliency(
        linker="generator",
        model_version=generator.version,
        explained="log_prob",
        score=math.exp(min(output, 0.0)),
        output=output,
        baseline_output=baseline,
        delta=delta,
        n_steps=n_steps,
        segments={"prompt": prompt, "target": target},
        words=tuple(merge_words("prompt", prompt, offsets, scores[start:end])),
        truncated=end - start < len(bare),
        seconds=time.perf_counter() - started,
    )
