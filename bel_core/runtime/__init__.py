"""Model runtime: how trained models are stored and run.

Enters: a transformer to run, or a folder written by ``bel train``. Leaves: ONNX Runtime
sessions for the encoders, exported once and cached per weights digest (``onnx``, PyTorch
as the fallback), and the validated ``Manifest`` of a self-describing model directory
(``model_dir``: components, KB identity, linker options, training record). It links nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bel_core.lazy import exports

if TYPE_CHECKING:
    from bel_core.runtime.model_dir import (
        KBIdentity,
        Manifest,
        check_kb,
        component_path,
        read_manifest,
        write_manifest,
    )
    from bel_core.runtime.onnx import RUNTIMES, OnnxModel, in_length_order

__all__, __getattr__ = exports(
    __name__,
    {
        "model_dir": ("KBIdentity", "Manifest", "check_kb", "component_path", "read_manifest", "write_manifest"),
        "onnx": ("RUNTIMES", "OnnxModel", "in_length_order"),
    },
)
