"""Nothing reaches a model hub or the network: every load path is local-only, and tests are fenced.

``tests/conftest.py`` sets ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` and refuses any
non-loopback connection, so a load path that tried to download would fail here loudly.
"""

from __future__ import annotations

import socket

import pytest

from bel_core.errors import ModelUnavailableError
from bel_core.generate.model import load_generator
from bel_core.rerank.cross_encoder import resolve_model_dir
from bel_core.retrieve.dense import resolve_encoder

UNCACHED = "bel-curator-tests/never-downloaded"


def test_the_test_session_refuses_remote_connections():
    with pytest.raises(OSError, match="never use the network"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1: unroutable anyway


@pytest.mark.parametrize(
    "load",
    [
        lambda: resolve_model_dir(UNCACHED),  # reranker, cross-encoder training, generator folders
        lambda: resolve_model_dir(UNCACHED, revision="9b11786be83352196058af654d255e8441a75356"),
        lambda: resolve_encoder(UNCACHED),  # dense retriever
        lambda: load_generator(UNCACHED),  # generative linker (also GenerativeLinker.from_pretrained)
    ],
)
def test_an_uncached_hub_id_is_refused_with_how_to_fix_it(load):
    with pytest.raises(ModelUnavailableError, match="not in the local Hugging Face cache"):
        load()
