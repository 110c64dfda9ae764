"""Beam search written for linking: batched over beams, KV cache, optional prefix-trie constraint.

The project decodes itself (no ``generate()``, no remote code) so that every causal LM and
seq2seq model behaves the same, the trie can mask each beam's next tokens, and the scores
mean something:

- Scores are **summed log-probabilities**. When a trie constrains decoding, each step's
  distribution is renormalised over the allowed tokens, so a beam's score is
  ``log P(name | prompt)`` under a distribution over KB names that sums to one: a token the
  trie forces costs nothing, long names are not penalised for their length, and there is
  nothing for length normalisation to correct. Probabilities of names, and sums of them per
  concept, are then well defined.
- Unconstrained beams are scored the same way over the whole vocabulary; they end with the
  end token or are dropped at ``max_new_tokens``.

Summed log-probs only decrease as a beam grows, so the search stops as soon as the best live
beam scores below the ``num_beams``-th finished one: the kept beams are then exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bel_core.generate.trie import NameTrie

if TYPE_CHECKING:
    import torch

    from bel_core.generate.model import GeneratorModel


@dataclass(frozen=True, slots=True)
class Beam:
    """A finished hypothesis: emitted tokens (ending with the end token) and their summed log-prob."""

    token_ids: tuple[int, ...]
    logprob: float


def _cache_keyword(model: object) -> str:
    """``cache`` in transformers >= 5 (``past_key_values`` still works there, with a warning), else the old name."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"  # type: ignore[attr-defined]


class _Stepper:
    """Next-token logits for a growing batch of beams, with the model's KV cache reordered between steps."""

    def __init__(self, generator: GeneratorModel, prompt_ids: Sequence[int]) -> None:
        import torch

        self.generator = generator
        self.model = generator.model
        self.cache_kw = _cache_keyword(self.model)
        device = generator.device
        prompt = torch.tensor([list(prompt_ids)], device=device)
        self.encoder_out: torch.Tensor | None = None
        self.encoder_mask: torch.Tensor | None = None
        if generator.is_seq2seq:
            self.encoder_mask = torch.ones_like(prompt)
            self.encoder_out = self.model.get_encoder()(input_ids=prompt, attention_mask=self.encoder_mask)[0]
            first = torch.tensor([generator.decoder_start_ids()], device=device)
            out = self._decoder(first, None, 1)
        else:
            out = self.model(input_ids=prompt, use_cache=True)
        self.past = out[self.cache_kw]
        self.logits = out.logits[:, -1].float()

    def _decoder(self, tokens: torch.Tensor, past: object, n: int) -> Any:
        from transformers.modeling_outputs import BaseModelOutput

        assert self.encoder_out is not None and self.encoder_mask is not None
        return self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=self.encoder_out.expand(n, -1, -1)),
            attention_mask=self.encoder_mask.expand(n, -1),
            decoder_input_ids=tokens,
            use_cache=True,
            **({self.cache_kw: past} if past is not None else {}),
        )

    def advance(self, parents: list[int], tokens: list[int]) -> None:
        """Keep the beams ``parents`` (with repeats), append ``tokens`` to them, compute the next logits."""
        import torch

        device = self.generator.device
        self.past.reorder_cache(torch.tensor(parents, device=device))
        step = torch.tensor([[t] for t in tokens], device=device)
        if self.generator.is_seq2seq:
            out = self._decoder(step, self.past, len(tokens))
        else:
            out = self.model(input_ids=step, use_cache=True, **{self.cache_kw: self.past})
        self.past = out[self.cache_kw]
        self.logits = out.logits[:, -1].float()


def _constrained_logprobs(logits: torch.Tensor, live: list[tuple[int, ...]], trie: NameTrie) -> torch.Tensor:
    """Log-softmax over each beam's allowed tokens only (-inf elsewhere)."""
    import torch

    mask = torch.full_like(logits, float("-inf"))
    for row, seq in enumerate(live):
        allowed = trie.allowed(seq)
        if allowed:
            mask[row, allowed] = 0.0
    return torch.log_softmax(logits + mask, dim=-1)


def beam_search(
    generator: GeneratorModel,
    prompt_ids: Sequence[int],
    *,
    num_beams: int = 5,
    max_new_tokens: int = 48,
    trie: NameTrie | None = None,
) -> list[Beam]:
    """The ``num_beams`` best finished sequences after a prompt, best first.

    Args:
        generator: the model (its ``is_seq2seq`` decides encoder input vs decoder prefix).
        prompt_ids: encoder input (seq2seq) or decoder prefix (causal), from ``prompt_token_ids``.
        num_beams: beams kept per step and hypotheses returned (fewer when the trie allows fewer).
        max_new_tokens: longest sequence; unfinished beams are dropped then.
        trie: when given, every returned sequence is a complete name of the trie.
    """
    import torch

    if num_beams < 1:
        raise ValueError(f"num_beams must be >= 1, got {num_beams}")
    eos = generator.eos_id
    finished: list[Beam] = []
    with torch.inference_mode():
        stepper = _Stepper(generator, prompt_ids)
        live: list[tuple[int, ...]] = [()]
        scores = torch.zeros(1, device=stepper.logits.device)
        for _ in range(max_new_tokens):
            if trie is None:
                logp = torch.log_softmax(stepper.logits, dim=-1)
            else:
                logp = _constrained_logprobs(stepper.logits, live, trie)
            total = (scores[:, None] + logp).flatten()
            k = min(2 * num_beams, int(torch.isfinite(total).sum()))
            if k == 0:
                break
            top_scores, top_index = total.topk(k)
            vocab = logp.shape[1]
            parents: list[int] = []
            tokens: list[int] = []
            next_live: list[tuple[int, ...]] = []
            next_scores: list[float] = []
            for score, index in zip(top_scores.tolist(), top_index.tolist(), strict=True):
                parent, token = divmod(index, vocab)
                seq = (*live[parent], token)
                if token == eos:
                    finished.append(Beam(seq, score))
                elif len(next_live) < num_beams:
                    parents.append(parent)
                    tokens.append(token)
                    next_live.append(seq)
                    next_scores.append(score)
            finished = sorted(finished, key=lambda b: -b.logprob)[:num_beams]
            done = len(finished) == num_beams and (not next_scores or max(next_scores) <= finished[-1].logprob)
            if done or not next_live:
                break
            live, scores = next_live, torch.tensor(next_scores, device=scores.device)
            stepper.advance(parents, tokens)
    return finished
