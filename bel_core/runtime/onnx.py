"""ONNX Runtime inference for the transformer encoders: export once, cache the file, run it.

Stage: model loading, under the dense stage (``dense``: query and alias encoder) and the
reranker (``rerank``: cross-encoder). On the 2-core CPU, ONNX Runtime runs the same
MiniLM 1.5x (cross-encoder pairs) to 2x (query texts) as fast as PyTorch, with the same
outputs to 1e-5 (bench/README.md), so the app uses it by default (``[inference] runtime``).

A model is exported with PyTorch's exporter (``torch.onnx.export(..., dynamo=True)``, the
supported one; the TorchScript exporter made 8-22% faster graphs here but is deprecated)
into ``<cache_dir>/onnx/<key>.onnx``, keyed by the weights' version and this module's
recipe, so it happens once per model; ``quantize`` adds ONNX Runtime's dynamic int8
quantization of the MatMul weights (per output channel). The PyTorch model stays loaded: training, saliency
(gradients) and the fallback use it. An export that fails (an architecture the exporter
cannot trace) is logged and the caller keeps PyTorch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

RUNTIMES = ("onnx", "torch")
# Bump when the export below changes: cached files are keyed by it.
EXPORT_RECIPE = "dynamo-1+int8-per-channel"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

Item = TypeVar("Item", str, tuple[str, str])  # a text, or a (left, right) pair for a cross-encoder


class ExportError(RuntimeError):
    """The model could not be exported to ONNX (the caller falls back to PyTorch)."""


def onnx_file(cache_dir: Path, version: str, *, quantize: bool) -> Path:
    """Where the exported model of weights ``version`` lives (``-int8`` when quantized)."""
    import torch

    key = hashlib.sha256(f"{version}|{EXPORT_RECIPE}|torch-{torch.__version__}".encode()).hexdigest()[:16]
    return cache_dir / "onnx" / f"{key}{'-int8' if quantize else ''}.onnx"


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence warnings and log records up to WARNING for a few seconds.

    The exporter and the quantizer report every graph pass and tensor (hundreds of lines,
    some on the root logger); none of it concerns the user. Failures still raise.
    ``logging.disable`` is process-wide: other threads' records are dropped meanwhile too.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def export(
    module: torch.nn.Module,
    output: Callable[[Any, dict[str, Any]], torch.Tensor],
    example: Mapping[str, Any],
    path: Path,
    *,
    quantize: bool = False,
) -> None:
    """Export ``output(module, features)`` to ``path`` (atomically), with dynamic batch and length.

    Args:
        module: the PyTorch model (put in eval mode here).
        output: picks the tensor to export, e.g. ``lambda m, f: m(**f).logits``.
        example: features of a batch of at least two texts of different lengths.
        path: the ``.onnx`` file to write; with ``quantize`` the float file is written
            next to it first (``onnx_file(..., quantize=False)`` names the same key).
        quantize: also apply dynamic int8 quantization (ONNX Runtime's ``quantize_dynamic``).

    Raises:
        ExportError: the exporter or the quantizer failed.
    """
    import torch

    class Outputs(torch.nn.Module):
        """Keyword inputs -> one tensor: what the exporter traces."""

        def __init__(self) -> None:
            super().__init__()
            self.module = module

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
        ) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                features["token_type_ids"] = token_type_ids
            return output(self.module, features)

    path.parent.mkdir(parents=True, exist_ok=True)
    float_path = path.with_name(path.name.replace("-int8", "")) if quantize else path
    names = [n for n in _INPUTS if n in example]
    if names[:2] != ["input_ids", "attention_mask"]:
        raise ExportError(f"Cannot export a model whose inputs are {sorted(example)}")
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    tmp_dir = Path(tempfile.mkdtemp(dir=path.parent, prefix=".export-"))
    try:
        if not float_path.exists():
            tmp = tmp_dir / "model.onnx"
            kwargs = {n: torch.as_tensor(np.asarray(example[n]), dtype=torch.long) for n in names}
            try:
                with torch.no_grad(), _quiet():
                    program = torch.onnx.export(
                        Outputs().eval(),
                        (),
                        kwargs=kwargs,
                        input_names=names,
                        output_names=["bel_output"],  # not "logits"/"embedding": those name inner values
                        dynamic_shapes={n: {0: batch, 1: length} for n in names},
                        dynamo=True,
                        external_data=False,
                        verbose=False,
                    )
                    if program is None:  # the dynamo exporter returns its program; None would be a bug there
                        raise ExportError("torch.onnx.export returned no program")
                    program.save(str(tmp))
            except Exception as e:  # the exporter raises many types; all mean "cannot export"
                raise ExportError(f"ONNX export failed ({type(e).__name__}: {e})") from e
            os.replace(tmp, float_path)  # atomic: two processes may export at once
        if quantize and not path.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = tmp_dir / "model-int8.onnx"
            try:
                with _quiet():
                    # Per-channel scales: same speed here, margins drift 0.96 instead of 2.44 (bench/README.md).
                    quantize_dynamic(str(float_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            except Exception as e:  # as above, for the quantizer
                raise ExportError(f"ONNX int8 quantization failed ({type(e).__name__}: {e})") from e
            os.replace(tmp, path)
    finally:
        for leftover in tmp_dir.iterdir():
            leftover.unlink()
        tmp_dir.rmdir()


class OnnxModel:
    """An ONNX Runtime session over an exported encoder; thread-safe (``run`` is)."""

    def __init__(self, path: Path) -> None:
        """Open ``path`` with as many intra-op threads as PyTorch uses (``OMP_NUM_THREADS`` applies to both)."""
        import onnxruntime as ort
        import torch

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Idle workers sleep instead of spinning: TF-IDF runs on the same cores right after a batch.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self._lock = threading.Lock()  # fast tokenizers refuse concurrent use

    def run(self, features: Mapping[str, Any]) -> np.ndarray:
        """The exported output for one batch of features (tensors or arrays), as float32."""
        feed = {n: np.asarray(features[n], dtype=np.int64) for n in self.input_names}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)

    def encode(
        self, items: Sequence[Item], tokenize: Callable[[list[Item]], Mapping[str, Any]], batch_size: int
    ) -> np.ndarray:
        """Run every item through ``tokenize`` and the model in length order (see :func:`in_length_order`)."""
        with self._lock:
            return in_length_order(items, batch_size, lambda batch: self.run(tokenize(batch)))


def in_length_order(items: Sequence[Item], batch_size: int, run: Callable[[list[Item]], np.ndarray]) -> np.ndarray:
    """``run`` over batches of items (texts or text pairs), shortest first; rows back in input order.

    Batches of similar length pad little: about 2x faster on CPU than input order.
    """
    order = sorted(range(len(items)), key=lambda i: _size(items[i]))
    out: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        values: np.ndarray = run([items[i] for i in rows])
        if out is None:
            out = np.empty((len(items), *values.shape[1:]), dtype=values.dtype)
        out[rows] = values
    return out if out is not None else np.empty(0, dtype=np.float32)


def _size(item: str | tuple[str, str]) -> int:
    return len(item) if isinstance(item, str) else sum(map(len, item))


def load(
    module: torch.nn.Module,
    output: Callable[[Any, dict[str, Any]], torch.Tensor],
    example: Mapping[str, Any],
    *,
    cache_dir: Path,
    version: str,
    quantize: bool = False,
) -> OnnxModel | None:
    """The cached ONNX model for weights ``version``, exported first if needed; None if export fails.

    Args:
        module: the loaded PyTorch model (exported from when no cached file exists).
        output: picks the exported tensor from ``module(features)``.
        example: features of two inputs of different lengths (traced by the exporter).
        cache_dir: root cache folder (files go to ``onnx/``).
        version: identifies the weights (a digest), so retrained models get new files.
        quantize: dynamic int8 weights.
    """
    path = onnx_file(cache_dir, version, quantize=quantize)
    if not path.exists():
        try:
            export(module, output, example, path, quantize=quantize)
        except ExportError as e:
            logger.warning("%s; falling back to PyTorch for %s", e, version)
            return None
        logger.info("Exported %s to %s", version, path)
    return OnnxModel(path)
