"""The generator ``bel train --linker generator`` trains: an LM to fine-tune, or a small Llama built from an encoder.

From an encoder (the default, all-MiniLM-L6-v2): its WordPiece tokenizer cut to the tokens the KB and the
training text use, and token embeddings initialised from a PCA of its own, for a small Llama with tied
input/output embeddings that trains on two CPU cores and fits the repository in fp16.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class ModelConfig(Protocol):
    """What :func:`build_model` reads of a training config (``training.generator.GeneratorTrainConfig``)."""

    @property
    def base_model(self) -> str: ...
    @property
    def hidden(self) -> int: ...
    @property
    def layers(self) -> int: ...
    @property
    def heads(self) -> int: ...
    @property
    def intermediate(self) -> int: ...
    @property
    def seed(self) -> int: ...


def _pca_embeddings(encoder_dir: Path, dim: int) -> torch.Tensor:
    """The encoder's word embeddings projected on their ``dim`` principal components (std 0.02)."""
    import torch
    from transformers import AutoModel

    weights = AutoModel.from_pretrained(str(encoder_dir), local_files_only=True).get_input_embeddings().weight
    centred = weights.detach().float() - weights.detach().float().mean(0)
    _, _, v = torch.pca_lowrank(centred, q=dim, center=False, niter=4)
    projected = centred @ v
    return projected * (0.02 / projected.std())


def trim_wordpiece(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> tuple[Any, list[int]] | None:
    """A WordPiece tokenizer keeping only the tokens ``texts`` use, plus specials and every single character.

    WordPiece matches greedily longest-first, so the kept texts tokenize exactly as before and any other text
    still tokenizes (into shorter pieces). Returns the new tokenizer and, per new id, the old id; None when the
    tokenizer is not WordPiece. A 30k vocabulary cut to the ~10k a KB uses makes training about 2x faster.
    """
    import tempfile

    from transformers import BertTokenizer

    if not isinstance(tokenizer, BertTokenizer):
        return None
    vocab = tokenizer.get_vocab()
    used = set(tokenizer.all_special_ids)
    for start in range(0, len(texts), 4096):
        for ids in tokenizer(list(texts[start : start + 4096]), add_special_tokens=False)["input_ids"]:
            used.update(ids)
    used.update(i for tok, i in vocab.items() if len(tok) == 1 or (tok.startswith("##") and len(tok) == 3))
    keep = sorted(used)
    by_id = {i: tok for tok, i in vocab.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocab.txt"
        path.write_text("".join(f"{by_id[i]}\n" for i in keep), encoding="utf-8")
        trimmed = BertTokenizer(str(path), do_lower_case=tokenizer.do_lower_case)  # vocab_file before v5
    return trimmed, keep


def build_model(
    config: ModelConfig, texts: Sequence[str] = ()
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str]:
    """The model to train, its tokenizer, and how it was made (for the manifest).

    ``texts`` (KB names, training prompts) choose the kept vocabulary of a small Llama built from an encoder.
    """
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
        LlamaConfig,
        LlamaForCausalLM,
    )

    from bel_core.rerank.cross_encoder import resolve_model_dir

    folder, name = resolve_model_dir(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    base = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    if base.is_encoder_decoder:
        return (
            AutoModelForSeq2SeqLM.from_pretrained(str(folder), local_files_only=True),
            tokenizer,
            f"fine-tuned {name}",
        )
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in base.architectures or ()):
        return (
            AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True),
            tokenizer,
            f"fine-tuned {name}",
        )
    old_ids = list(range(len(tokenizer)))
    trimmed = trim_wordpiece(tokenizer, texts) if texts else None
    if trimmed is not None:
        tokenizer, old_ids = trimmed
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
    end = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    llama = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden,
        intermediate_size=config.intermediate,
        num_hidden_layers=config.layers,
        num_attention_heads=config.heads,
        num_key_value_heads=config.heads,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=start,
        eos_token_id=end,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(llama)
    with torch.no_grad():
        weight = cast("torch.Tensor", model.get_input_embeddings().weight)
        weight.copy_(_pca_embeddings(folder, config.hidden)[old_ids])
    made = f"small Llama {config.layers}x{config.hidden}, vocabulary {len(tokenizer)}"
    made += f": tokenizer + PCA embeddings of {name}"
    return model, tokenizer, made
