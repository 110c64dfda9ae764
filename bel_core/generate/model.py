"""A Hugging Face generator (causal LM or seq2seq) wrapped for linking and for saliency.

The project runs its own decoding (``decode.py``), so the model only has to give next-token
logits: any ``AutoModelForCausalLM`` (Llama-, GPT-2-style, BERT with ``is_decoder``) or
``AutoModelForSeq2SeqLM`` (BART/mBART/T5) loads, never with ``trust_remote_code``.

Token layout, the one place it is defined (the trie, the decoder, training and saliency all use it):

- causal: ``input_ids = [bos] + prompt + target``; ``target = name tokens + [eos]``.
- seq2seq: ``input_ids = tokenizer(prompt)`` (with its special tokens), ``labels = tokenizer(text_target=name)``
  and ``decoder_input_ids = [decoder_start] + labels[:-1]``.

``target_token_ids(name)`` is what the model must emit for a name, ending with the end token, so the
constrained decoder's trie holds exactly these sequences.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bel_core.errors import ModelUnavailableError
from bel_core.rerank.cross_encoder import resolve_model_dir
from bel_core.retrieve.dense import file_sha256

if TYPE_CHECKING:  # torch/transformers load only when a generator is used
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


@dataclass(frozen=True)
class EncodedTarget:
    """One (prompt, target) pair as token tensors, batch size 1.

    Attributes:
        input_ids: encoder input (seq2seq) or ``[bos] + prompt + target`` tokens (causal), shape (1, L).
        attention_mask: ones, shape (1, L).
        decoder_input_ids: shifted target for seq2seq, shape (1, T); None for causal.
        prompt_positions: ``[start, end)`` of the prompt tokens in ``input_ids`` (what saliency attributes to).
        target_text: the target name.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    decoder_input_ids: torch.Tensor | None
    prompt_positions: tuple[int, int]
    target_text: str


@dataclass(frozen=True)
class GeneratorModel:
    """A loaded generator: model (eval mode), tokenizer, kind and a stable version id."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    is_seq2seq: bool
    version: str
    _target_cache: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def device(self) -> torch.device:
        """Where the weights are (inputs are moved there)."""
        return next(self.model.parameters()).device

    @property
    def eos_id(self) -> int:
        """The token that ends a generated name."""
        tok = self.tokenizer
        for candidate in (tok.eos_token_id, tok.sep_token_id, self.model.config.eos_token_id):
            if isinstance(candidate, int):
                return candidate
        raise ModelUnavailableError("The generator's tokenizer has no end token (eos or sep); set eos_token")

    @property
    def pad_id(self) -> int:
        """Padding token (falls back to the end token, as GPT-2 has none)."""
        pad = self.tokenizer.pad_token_id
        return pad if isinstance(pad, int) else self.eos_id

    def prompt_embeddings(self) -> torch.nn.Module:
        """The embedding layer the prompt tokens go through (for saliency hooks).

        For seq2seq models this is the encoder's own layer: BART's ``get_input_embeddings()`` is a
        shared module that the encoder does not call, so a hook on it would see nothing.
        """
        if self.is_seq2seq:
            return self.model.get_encoder().get_input_embeddings()
        return self.model.get_input_embeddings()

    def prompt_token_ids(self, prompt: str) -> tuple[list[int], tuple[int, int]]:
        """Encoder input (seq2seq) or decoder prefix (causal) for a prompt, and the prompt's token span."""
        tok = self.tokenizer
        if self.is_seq2seq:
            ids = list(tok(prompt, truncation=True)["input_ids"])
            bare = tok(prompt, add_special_tokens=False)["input_ids"]
            start = 1 if bare and ids[0] != bare[0] else 0  # BART/mBART put <s> or a language code first
            return ids, (start, start + min(len(bare), len(ids) - start - 1))
        bos = tok.bos_token_id if isinstance(tok.bos_token_id, int) else tok.cls_token_id
        body = list(tok(prompt, add_special_tokens=False)["input_ids"])
        head = [bos] if isinstance(bos, int) else []
        return head + body, (len(head), len(head) + len(body))

    def target_token_ids(self, name: str) -> tuple[int, ...]:
        """Tokens the model emits for ``name``, ending with the end token (cached: the trie asks for every name)."""
        if name not in self._target_cache:
            self.prefetch_targets([name])
        return self._target_cache[name]

    def prefetch_targets(self, names: Sequence[str]) -> None:
        """Tokenize many names in batches into the cache behind :meth:`target_token_ids` (KB tries need all)."""
        todo = [n for n in dict.fromkeys(names) if n not in self._target_cache]
        for start in range(0, len(todo), 4096):
            chunk = todo[start : start + 4096]
            if self.is_seq2seq:
                encoded = self.tokenizer(text_target=chunk)["input_ids"]
            else:
                encoded = self.tokenizer(chunk, add_special_tokens=False)["input_ids"]
            for name, ids in zip(chunk, encoded, strict=True):
                # causal: name tokens + end; seq2seq: the tokenizer's target sequence, which normally ends with it
                done = ids and ids[-1] == self.eos_id and self.is_seq2seq
                self._target_cache[name] = tuple(ids) if done else (*ids, self.eos_id)

    def decoder_start_ids(self) -> list[int]:
        """What the seq2seq decoder starts from (``decoder_start_token_id``)."""
        start = self.model.config.decoder_start_token_id
        if not isinstance(start, int):
            start = self.pad_id
        return [start]

    def encode(self, prompt: str, target: str) -> EncodedTarget:
        """Token tensors for scoring ``target`` after ``prompt`` (see the module docstring for the layout)."""
        import torch

        prompt_ids, span = self.prompt_token_ids(prompt)
        target_ids = list(self.target_token_ids(target))
        if self.is_seq2seq:
            input_ids = torch.tensor([prompt_ids], device=self.device)
            decoder = torch.tensor([self.decoder_start_ids() + target_ids[:-1]], device=self.device)
        else:
            input_ids = torch.tensor([prompt_ids + target_ids], device=self.device)
            decoder = None
        return EncodedTarget(input_ids, torch.ones_like(input_ids), decoder, span, target)

    def target_logprob(self, input_ids: torch.Tensor, encoded: EncodedTarget) -> torch.Tensor:
        """Sum of log p(target tokens | prompt), shape (B,).

        ``input_ids`` (B, L) may be perturbed copies of ``encoded.input_ids`` (captum expands the batch);
        the target tokens are always read from ``encoded``. Differentiable through the input embeddings.
        """
        import torch

        batch = input_ids.shape[0]
        mask = encoded.attention_mask.expand(batch, -1)
        target = torch.tensor([self.target_token_ids(encoded.target_text)], device=input_ids.device)
        n = target.shape[1]
        if self.is_seq2seq:
            assert encoded.decoder_input_ids is not None
            decoder = encoded.decoder_input_ids.expand(batch, -1)
            logits = self.model(input_ids=input_ids, attention_mask=mask, decoder_input_ids=decoder).logits
        else:  # the logits at position t predict token t + 1: the target's come from the n positions before it
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits[:, -n - 1 : -1]
        logp = torch.log_softmax(logits.float(), dim=-1)
        return logp.gather(-1, target.expand(batch, -1).unsqueeze(-1)).squeeze(-1).sum(-1)


def _weights_digest(folder: Path) -> str:
    for name in _WEIGHT_FILES:
        if (folder / name).is_file():
            return file_sha256(folder / name)[:12]
    raise ModelUnavailableError(f"No weights file ({' or '.join(_WEIGHT_FILES)}) in {folder}")


def select_device(device: str | None = None) -> str:
    """``device`` when given, else CUDA when available, else CPU."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_generator(path_or_id: str, revision: str | None = None, *, device: str | None = None) -> GeneratorModel:
    """Load a generator from a local folder or a Hugging Face id already in the local cache.

    Causal LMs and seq2seq models both load (the config's ``is_encoder_decoder`` decides), never with
    remote code. On CUDA the weights are kept in the dtype they were saved in; on CPU in float32.

    Raises:
        ModelUnavailableError: not a folder and not cached, or not loadable as either kind of model.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    folder, name = resolve_model_dir(path_or_id, revision)
    target = select_device(device)
    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        is_seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        auto = AutoModelForSeq2SeqLM if is_seq2seq else AutoModelForCausalLM
        dtype = "auto" if target.startswith("cuda") else torch.float32
        model = auto.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False, dtype=dtype)
    except (OSError, ValueError, KeyError) as e:
        raise ModelUnavailableError(f"Cannot load generator {path_or_id!r} offline from {folder}: {e}") from e
    model.to(target).eval()  # type: ignore[arg-type]  # transformers types the wrapped ``to`` as unbound
    version = f"{name}@{_weights_digest(folder)}"
    logger.info("Generator %s loaded (%s, %s)", version, "seq2seq" if is_seq2seq else "causal", target)
    return GeneratorModel(model, tokenizer, is_seq2seq, version)
