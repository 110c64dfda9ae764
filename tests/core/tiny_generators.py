"""Tiny random generators (Llama, GPT-2, BART) saved to disk, for generator, saliency and CLI tests.

Two layers, hidden size 32. Llama and BART use the character-level WordPiece vocabulary of
``tiny_cross_encoder`` (any ASCII text tokenizes); GPT-2 gets a byte-level BPE trained on a
handful of names with ``tokenizers``, so both tokenizer families run through the real loading
code. Weights are random but seeded: outputs are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.core.tiny_cross_encoder import tiny_vocab


def _bert_tokenizer() -> object:
    from transformers import BertTokenizer

    return BertTokenizer(vocab=tiny_vocab(), do_lower_case=True)


def save_tiny_llama(folder: Path, *, seed: int = 0) -> Path:
    """A random 2-layer ``LlamaForCausalLM`` with a character WordPiece tokenizer ([CLS] starts, [SEP] ends)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    vocab = tiny_vocab()
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=vocab["[CLS]"],
        eos_token_id=vocab["[SEP]"],
        pad_token_id=vocab["[PAD]"],
        initializer_range=0.5,  # large: distinct prompts give clearly distinct beams
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    _bert_tokenizer().save_pretrained(folder)  # type: ignore[attr-defined]
    return folder


def save_tiny_gpt2(folder: Path, names: Sequence[str], *, seed: int = 0) -> Path:
    """A random 2-layer ``GPT2LMHeadModel`` with a byte-level BPE trained on ``names`` (plus filler text)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator([*names, "the patient presented with a history of"], trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    eos = tokenizer.eos_token_id
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=512,
        bos_token_id=eos,
        eos_token_id=eos,
        initializer_range=0.5,
    )
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_bart(folder: Path, *, seed: int = 0) -> Path:
    """A random 2+2-layer ``BartForConditionalGeneration`` with the character WordPiece tokenizer."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    vocab = tiny_vocab()
    config = BartConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=512,
        bos_token_id=vocab["[CLS]"],
        eos_token_id=vocab["[SEP]"],
        pad_token_id=vocab["[PAD]"],
        decoder_start_token_id=vocab["[SEP]"],
        forced_bos_token_id=None,
        init_std=0.5,
    )
    torch.manual_seed(seed)
    BartForConditionalGeneration(config).save_pretrained(folder)
    _bert_tokenizer().save_pretrained(folder)  # type: ignore[attr-defined]
    return folder
