"""Shared test set-up: offline model hubs, the tiny KB, per-test settings on a temp data dir."""

from __future__ import annotations

import os
from pathlib import Path

# Set before anything imports transformers/huggingface_hub: tests must never reach a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import ipaddress
import socket

import pytest


def _refuse_remote(connect):  # noqa: ANN001, ANN202 - wraps socket.socket.connect / connect_ex
    """Let tests reach loopback (the app server, Chromium) and local sockets, nothing else."""

    def guarded(self: socket.socket, address: object):  # noqa: ANN202
        if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            host = str(address[0])
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise OSError(f"tests never use the network: refused a connection to {address!r}")
        return connect(self, address)

    return guarded


# The variables above keep the hub libraries offline; this makes any other attempt fail loudly.
socket.socket.connect = _refuse_remote(socket.socket.connect)  # type: ignore[method-assign]
socket.socket.connect_ex = _refuse_remote(socket.socket.connect_ex)  # type: ignore[method-assign]

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_kb_path() -> Path:
    """15 HPO-like concepts with deliberately ambiguous aliases ('ASD', 'Short')."""
    return FIXTURES / "kb_tiny.jsonl"


@pytest.fixture(scope="session")
def tiny_kb(tiny_kb_path):
    from bel_core.kb.loaders import load_jsonl

    return load_jsonl(tiny_kb_path)
