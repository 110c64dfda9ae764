"""A tiny random BERT sequence classifier saved to disk, for reranker and trainer tests.

Two layers, hidden size 32, a character-level WordPiece vocabulary (any ASCII text
tokenizes): loading it runs the real ``AutoModelForSequenceClassification`` code in
well under a second, and its random scores are still deterministic.
"""

from __future__ import annotations

import string
from pathlib import Path


def tiny_vocab() -> dict[str, int]:
    """Special tokens, single characters and their ``##`` continuations."""
    chars = string.ascii_lowercase + string.digits + string.punctuation
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    return {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}


def save_tiny_cross_encoder(folder: Path, *, num_labels: int, seed: int = 0) -> Path:
    """Write a random 2-layer BERT classifier with ``num_labels`` outputs and its tokenizer to ``folder``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    tokenizer = BertTokenizer(vocab=tiny_vocab(), do_lower_case=True)
    config = BertConfig(
        vocab_size=len(tokenizer.get_vocab()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=160,
        num_labels=num_labels,
        initializer_range=0.5,  # large: distinct pairs get clearly distinct logits
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
