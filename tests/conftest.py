"""Shared test set-up: offline model hubs, the tiny KB, per-test settings on a temp data dir."""

from __future__ import annotations

import os
from pathlib import Path

# Set before anything imports transformers/huggingface_hub: tests must never reach a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_kb_path() -> Path:
    """15 HPO-like concepts with deliberately ambiguous aliases ('ASD', 'Short')."""
    return FIXTURES / "kb_tiny.jsonl"


@pytest.fixture(scope="session")
def tiny_kb(tiny_kb_path):
    from bel_core.kb_loaders import load_jsonl

    return load_jsonl(tiny_kb_path)
