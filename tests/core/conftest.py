"""Core-engine fixtures: a tiny random sentence-transformers model saved to disk.

The model is a 2-layer BERT with random weights and a small WordPiece vocabulary. Its
embeddings mean nothing, but loading it runs the real ``SentenceTransformer(path)`` code,
and identical strings still get identical vectors, which is what the exact tests rely on.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest

TINY_HIDDEN = 32


def _vocab() -> dict[str, int]:
    """Special tokens, single characters and their ``##`` continuations: any ASCII text tokenizes."""
    chars = string.ascii_lowercase + string.digits + string.punctuation
    words = ["seizure", "head", "short", "defect", "delay", "hearing", "loss"]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars), *words]
    return {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a saved sentence-transformers folder (Transformer + mean Pooling + Normalize)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizer

    root = tmp_path_factory.mktemp("tiny_model")
    hf_dir, st_dir = root / "hf", root / "st"
    # transformers 5 ignores a vocab_file argument (everything becomes [UNK]); pass the dict.
    tokenizer = BertTokenizer(vocab=_vocab(), do_lower_case=True)
    config = BertConfig(
        vocab_size=len(tokenizer.get_vocab()),
        hidden_size=TINY_HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        initializer_range=0.5,  # larger than BERT's 0.02: distinct strings get distinct vectors
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=32)
    model = SentenceTransformer(modules=[transformer, Pooling(TINY_HIDDEN, "mean"), Normalize()], device="cpu")
    model.save(str(st_dir))
    return st_dir
