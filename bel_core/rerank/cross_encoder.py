"""Candidate reranking with a cross-encoder over (mention in context, candidate) pairs.

The serialization is BASILISK's, exactly, so its published model and the project's own
models read the same inputs: left ``mention: <m> ; context: <ctx>``, right
``candidate: <name> ; tuis: <T1,T2>``. A two-label model scores ``logit_1 - logit_0``, a
one-label model its logit; this *margin* goes through a sigmoid (``raw_score``) and, when
the model folder carries ``calibration.json``, through a margin calibrator. Nothing here
downloads: every load is ``local_files_only``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np

from bel_core.calibrate.margin import MarginCalibrator, margin_calibrator_from_json, sigmoid
from bel_core.errors import ModelUnavailableError, UnknownConceptError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.retrieve.dense import MINILM_PACKAGE, file_sha256, resolve_encoder
from bel_core.runtime import onnx as onnx_inference
from bel_core.runtime.onnx import RUNTIMES, OnnxModel, in_length_order
from bel_core.types import Candidate, Mention

if TYPE_CHECKING:  # torch/transformers load only when a reranker is used
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

SERIALIZATION_VERSION = "basilisk-1"  # bump if serialize_left/right change: saved models record it
DEFAULT_MAX_LENGTH = 128
FOLDER_CALIBRATION: Final = "folder"  # load(calibration=...): the model folder's own calibration file, if any
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


def serialize_left(mention: str, context: str) -> str:
    """BASILISK's left sequence: ``mention: <mention> ; context: <context>``."""
    return f"mention: {mention} ; context: {context}"


def serialize_right(name: str, types: Sequence[str]) -> str:
    """BASILISK's right sequence: ``candidate: <name> ; tuis: <T1,T2>``."""
    return f"candidate: {name} ; tuis: {','.join(types)}"


def mention_context(text: str, start: int, end: int, *, max_chars: int = 256) -> str:
    """A window of ``text`` around ``text[start:end]``, cut at word boundaries, whitespace collapsed.

    The characters left over after the mention are shared evenly between both sides; a
    side that reaches the text's edge gives its rest to the other. The mention is always
    included whole, even when it alone is longer than ``max_chars``.
    """
    budget = max(max_chars - (end - start), 0)
    left = min(start, budget // 2)
    right = min(len(text) - end, budget - left)
    left = min(start, budget - right)
    lo, hi = start - left, end + right
    if lo > 0 and not text[lo - 1].isspace():  # cut inside a word: drop the partial word
        match = re.search(r"\s", text[lo:start])
        lo = lo + match.end() if match else start
    if hi < len(text) and not text[hi].isspace():
        cut = max(text.rfind(" ", end, hi), text.rfind("\n", end, hi))
        hi = cut if cut >= end else end
    return " ".join(text[lo:hi].split())


def resolve_model_dir(path_or_id: str, revision: str | None = None) -> tuple[Path, str]:
    """Local folder of a model and a display name: a folder, the MiniLM package, or a cached HF id.

    Raises:
        ModelUnavailableError: no such folder, and not in the local Hugging Face cache.
    """
    if path_or_id.replace("_", "-").lower() == MINILM_PACKAGE:
        return Path(resolve_encoder(path_or_id).path_or_id), MINILM_PACKAGE
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        return path.resolve(), path.resolve().name
    if path_or_id.startswith(("/", ".", "~")) or path_or_id.count("/") > 1:
        raise ModelUnavailableError(f"Model folder {path_or_id!r} does not exist. Fix the path.")
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id=path_or_id, revision=revision, local_files_only=True)
    except Exception as e:  # the hub raises several types (not cached, bad id, offline): all mean "absent"
        at = f" at revision {revision}" if revision else ""
        raise ModelUnavailableError(
            f"Model {path_or_id!r}{at} is not a local folder and is not in the local Hugging Face cache "
            f"({type(e).__name__}); this app never downloads. Fix: on a connected machine run "
            f"`huggingface-cli download {path_or_id}{f' --revision {revision}' if revision else ''}` and copy "
            "~/.cache/huggingface/hub here, or save the model to a folder and pass that folder."
        ) from e
    return Path(folder), path_or_id


def _weights_digest(folder: Path) -> str:
    for name in _WEIGHT_FILES:
        if (folder / name).is_file():
            return file_sha256(folder / name)[:12]
    raise ModelUnavailableError(f"No weights file ({' or '.join(_WEIGHT_FILES)}) in {folder}")


def folder_calibration(folder: Path) -> Path | None:
    """A reranker folder's own margin calibration: ``calibration.json``, or BASILISK's one ``calibration/*.json``."""
    if (folder / "calibration.json").is_file():
        return folder / "calibration.json"
    found = sorted((folder / "calibration").glob("*.json")) if (folder / "calibration").is_dir() else []
    return found[0] if len(found) == 1 else None  # BASILISK ships calibration/<model>.json


def _logits(model: PreTrainedModel, features: dict[str, Any]) -> torch.Tensor:
    return model(**features).logits


class CrossEncoderReranker:
    """A sequence-classification transformer that scores (left, right) pairs.

    Thread-safe for scoring (Streamlit sessions share one instance): fast tokenizers
    refuse concurrent use, so scoring holds a lock.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        version: str,
        max_length: int = DEFAULT_MAX_LENGTH,
        batch_size: int = 32,
        calibrator: MarginCalibrator | None = None,
    ) -> None:
        num_labels = int(model.config.num_labels or 0)
        if num_labels not in (1, 2):
            raise ModelUnavailableError(f"A reranker needs a model with 1 or 2 labels, got num_labels={num_labels}")
        self.model = model
        self.tokenizer = tokenizer
        self.version = version
        self.max_length = max_length
        self.batch_size = batch_size
        self.calibrator = calibrator
        self.num_labels = num_labels
        self.quantized = False
        self.onnx: OnnxModel | None = None  # scores through ONNX Runtime when set; ``model`` stays for saliency
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path_or_id: str,
        *,
        revision: str | None = None,
        max_length: int | None = None,
        batch_size: int = 32,
        quantize: bool = False,
        calibration: Path | Literal["folder"] | None = FOLDER_CALIBRATION,
        runtime: str = "torch",
        cache_dir: Path | None = None,
    ) -> CrossEncoderReranker:
        """Load a reranker from a folder or a Hugging Face id already in the local cache.

        Args:
            path_or_id: model folder (as written by :meth:`save`), or an HF id such as
                ``Bam3752/basilisk-el-ce-biomedbert-ab-v1``.
            revision: HF revision (commit) to load; ignored for folders.
            max_length: tokens per pair; default: the folder's ``reranker.json``, else 128.
            batch_size: pairs per forward pass.
            quantize: dynamic int8 quantization of the Linear layers (faster on CPU), in
                PyTorch or, with ``runtime="onnx"``, in ONNX Runtime (the PyTorch model stays float).
            calibration: a calibration JSON file, None for none (raw ``sigmoid(margin)`` only), or
                ``FOLDER_CALIBRATION`` (the default): the folder's own (:func:`folder_calibration`).
            runtime: ``torch``, or ``onnx`` to score with ONNX Runtime (exported once to
                ``cache_dir/onnx/``; PyTorch is kept when there is no ``cache_dir`` or export fails).
            cache_dir: root cache folder for the ONNX file.

        Raises:
            ModelUnavailableError: files absent, unreadable, or not a 1/2-label classifier.
        """
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
        folder, name = resolve_model_dir(path_or_id, revision)
        meta: dict[str, Any] = {}
        if (folder / "reranker.json").is_file():
            meta = json.loads((folder / "reranker.json").read_text(encoding="utf-8"))
            if meta.get("serialization", SERIALIZATION_VERSION) != SERIALIZATION_VERSION:
                logger.warning("%s was trained with serialization %s", folder, meta.get("serialization"))
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as e:
            raise ModelUnavailableError(f"Cannot load reranker {path_or_id!r} offline from {folder}: {e}") from e
        model.eval()
        version = f"{name}@{_weights_digest(folder)}"
        own = calibration == FOLDER_CALIBRATION
        calibration_path = folder_calibration(folder) if own else Path(calibration) if calibration else None
        calibrator = None
        if calibration_path is not None:
            calibrator = margin_calibrator_from_json(json.loads(calibration_path.read_text(encoding="utf-8")))
            logger.info("Reranker calibration loaded from %s", calibration_path)
        reranker = cls(
            model,
            tokenizer,
            version=version,
            max_length=max_length or int(meta.get("max_length", DEFAULT_MAX_LENGTH)),
            batch_size=batch_size,
            calibrator=calibrator,
        )
        if runtime == "onnx" and cache_dir is not None:
            example = reranker._tokenize([("mention: a ; context: a", "candidate: b ; tuis: "), ("a b c d", "e f")])
            reranker.onnx = onnx_inference.load(
                model, _logits, example, cache_dir=cache_dir, version=version, quantize=quantize
            )
            if reranker.onnx is not None and quantize:
                reranker.version += "+int8-onnx"
        if quantize and reranker.onnx is None:
            reranker.quantize()
        logger.info(
            "Reranker %s loaded (%d labels, max_length %d, %s)",
            reranker.version,
            reranker.num_labels,
            reranker.max_length,
            "ONNX Runtime" if reranker.onnx is not None else "PyTorch",
        )
        return reranker

    def quantize(self) -> None:
        """Replace Linear layers by dynamic int8 ones (CPU inference only; see bench/bench_reranker_speed.py)."""
        import torch
        from torch.ao.quantization import quantize_dynamic

        if not self.quantized:
            self.model = quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
            self.version += "+int8"
            self.quantized = True

    def _margin(self, logits: torch.Tensor) -> np.ndarray:
        return self._margin_values(logits.float().cpu().numpy())

    def _margin_values(self, logits: np.ndarray) -> np.ndarray:
        return np.asarray(logits[:, 1] - logits[:, 0] if self.num_labels == 2 else logits[:, 0], dtype=np.float64)

    def _tokenize(self, pairs: list[tuple[str, str]], tensors: str = "np") -> Any:
        """Pairs -> features truncated to ``max_length`` (numpy for ONNX Runtime, ``pt`` for PyTorch)."""
        return self.tokenizer(
            [left for left, _ in pairs],
            [right for _, right in pairs],
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors=tensors,
        )

    def margins(self, lefts: Sequence[str], rights: Sequence[str]) -> np.ndarray:
        """Raw margins (``logit_1 - logit_0``, or the logit) for aligned pairs.

        Pairs are scored in order of length so each batch pads little (about 2x faster on CPU).
        """
        import torch

        if len(lefts) != len(rights):
            raise ValueError(f"lefts and rights differ in length: {len(lefts)} != {len(rights)}")
        if not lefts:
            return np.zeros(0, dtype=np.float64)
        pairs = list(zip(lefts, rights, strict=True))
        if self.onnx is not None:
            onnx = self.onnx
            with self._lock:
                return self._margin_values(
                    in_length_order(pairs, self.batch_size, lambda batch: onnx.run(self._tokenize(batch)))
                )
        device = next(self.model.parameters()).device if not self.quantized else torch.device("cpu")

        def run(batch: list[tuple[str, str]]) -> np.ndarray:
            return self._margin(self.model(**self._tokenize(batch, "pt").to(device)).logits)

        with self._lock, torch.inference_mode():
            return in_length_order(pairs, self.batch_size, run)

    def score_pairs(self, lefts: Sequence[str], rights: Sequence[str]) -> np.ndarray:
        """Uncalibrated P(right) per pair: ``sigmoid(margin)``."""
        return sigmoid(self.margins(lefts, rights))

    def rerank(
        self,
        items: Sequence[tuple[Mention, str]],
        candidates: Sequence[Sequence[Candidate]],
        kb: KnowledgeBase,
    ) -> list[list[Candidate]]:
        """Re-sort each mention's candidates by cross-encoder probability (best first).

        Args:
            items: ``(mention, context)`` per mention (see :func:`mention_context`).
            candidates: the retrieval stage's candidates per mention.
            kb: where candidate names and types come from (a concept missing from it is
                scored by its snapshot name, without types).

        Returns:
            Per mention, copies of its candidates with ``stage="reranker"``, ``raw_score =
            sigmoid(margin)``, ``calibrated_score`` when a calibrator is loaded (else None) and
            ``("reranker", margin)`` appended to ``stage_scores``; ties keep retrieval order.
        """
        if len(items) != len(candidates):
            raise ValueError(f"{len(items)} mentions but {len(candidates)} candidate lists")
        pairs: dict[tuple[str, str], int] = {}  # identical pairs (a repeated mention) are scored once
        keys: list[list[int]] = []
        for (mention, context), ranked in zip(items, candidates, strict=True):
            left = serialize_left(mention.text, context)
            keys.append([pairs.setdefault((left, self._right(c, kb)), len(pairs)) for c in ranked])
        unique = list(pairs)
        margins = self.margins([p[0] for p in unique], [p[1] for p in unique])
        probs = sigmoid(margins)
        calibrated = self.calibrator.predict(margins) if self.calibrator is not None else None
        out = []
        for ranked, idx in zip(candidates, keys, strict=True):
            scored = [
                replace(
                    c,
                    stage="reranker",
                    raw_score=float(probs[k]),
                    calibrated_score=None if calibrated is None else float(calibrated[k]),
                    stage_scores=(*c.stage_scores, ("reranker", float(margins[k]))),
                )
                for c, k in zip(ranked, idx, strict=True)
            ]
            out.append(sorted(scored, key=lambda c: -c.raw_score))  # stable: ties keep retrieval order
        return out

    @staticmethod
    def _right(candidate: Candidate, kb: KnowledgeBase) -> str:
        try:
            concept = kb.get(candidate.concept_id)
        except UnknownConceptError:
            return serialize_right(candidate.name, ())
        return serialize_right(concept.name, concept.types)

    def save(self, out_dir: Path) -> None:
        """Write model, tokenizer, ``calibration.json`` (if any) and ``reranker.json`` to ``out_dir``.

        Raises:
            ValueError: the model is quantized (save the float model, quantize at load time).
        """
        if self.quantized:
            raise ValueError("A quantized reranker cannot be saved; save the float model and load with quantize=True")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out_dir)
        self.tokenizer.save_pretrained(out_dir)
        if self.calibrator is not None:
            (out_dir / "calibration.json").write_text(json.dumps(self.calibrator.to_json(), indent=1), "utf-8")
        meta = {
            "max_length": self.max_length,
            "num_labels": self.num_labels,
            "serialization": SERIALIZATION_VERSION,
            "left": serialize_left("<mention>", "<context>"),
            "right": serialize_right("<name>", ["<type>"]),
        }
        (out_dir / "reranker.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
