"""The self-describing model directory written by ``bel train`` and read by the linker.

Layout (every component optional; paths in the manifest are relative to the directory)::

    MODEL_DIR/
      manifest.json        format version, KB identity, components, linker options,
                           training data summary, metrics, seeds, wall time, machine, command
      encoder/             fine-tuned bi-encoder (sentence-transformers folder)
      reranker/            cross-encoder (rerank.CrossEncoderReranker.save layout)
      calibration.json     final probability calibration fitted on the dev split
      calibration-sparse.json  the same, fitted on the lists of the TF-IDF-only profile (--no-dense)
      aliases.jsonl        training mention texts as aliases + link counts (augment.AliasExtension)
      generator/           generative linker's model + tokenizer (``linker_kind`` "generator",
                           bel_core.generate; calibration.json is then a margin calibrator)

This module reads, writes and validates manifests; it loads no model (``pipeline`` does).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bel_core.errors import ModelUnavailableError
from bel_core.kb.knowledge_base import KnowledgeBase

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
COMPONENTS = ("encoder", "reranker", "calibration", "calibration_sparse", "aliases", "generator")
LINKER_KINDS = ("retriever", "generator")


@dataclass(frozen=True, slots=True)
class KBIdentity:
    """Which knowledge base the models were trained for (the fingerprint is what is checked)."""

    name: str
    version: str
    fingerprint: str
    source: str = ""

    @classmethod
    def of(cls, kb: KnowledgeBase, source: str = "") -> KBIdentity:
        """The identity of a loaded KB."""
        return cls(kb.name, kb.version, kb.fingerprint, source)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Contents of ``manifest.json``.

    Attributes:
        kb: the base KB the models were trained against.
        components: component name (one of ``COMPONENTS``) -> path relative to the directory.
        linker: options the linker must use with these models (top-k, depths, modes).
        training: what the models were trained on (corpora, counts, splits, synthetic).
        metrics: dev/test figures measured at training time.
        seeds: every seed used.
        wall_time_s: total training time.
        machine: where it was trained (CPU count, platform, torch device).
        command: the command line that wrote the directory.
        created_at: ISO time of writing.
        format_version: layout version; readers refuse newer ones.
        linker_kind: ``retriever`` (retrieval + reranker pipeline) or ``generator``; manifests
            written before the field existed are retriever directories.
    """

    kb: KBIdentity
    components: Mapping[str, str] = field(default_factory=dict)
    linker: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    seeds: Mapping[str, int] = field(default_factory=dict)
    wall_time_s: float = 0.0
    machine: Mapping[str, Any] = field(default_factory=dict)
    command: str = ""
    created_at: str = ""
    format_version: int = FORMAT_VERSION
    linker_kind: str = "retriever"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (mappings become dicts)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = MANIFEST) -> Manifest:
        """Validate and read :meth:`to_json` output.

        Raises:
            ModelUnavailableError: a newer format, a missing KB block, an unknown component or linker kind.
        """
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelUnavailableError(
                f"{where}: format_version {version!r} is not supported (this code reads <= {FORMAT_VERSION}); "
                "retrain with `bel train` or update BEL Curator"
            )
        kb = data.get("kb")
        if not isinstance(kb, Mapping) or not {"name", "version", "fingerprint"} <= set(kb):
            raise ModelUnavailableError(f"{where}: the 'kb' block needs name, version and fingerprint, got {kb!r}")
        components = dict(data.get("components", {}))
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ModelUnavailableError(f"{where}: unknown components {sorted(unknown)}; known: {list(COMPONENTS)}")
        kind = str(data.get("linker_kind", "retriever"))
        if kind not in LINKER_KINDS:
            raise ModelUnavailableError(f"{where}: linker_kind {kind!r} is not one of {list(LINKER_KINDS)}")
        fields = {k: data[k] for k in ("linker", "training", "metrics", "seeds", "machine") if k in data}
        return cls(
            kb=KBIdentity(**{k: str(kb.get(k, "")) for k in ("name", "version", "fingerprint", "source")}),
            components=components,
            wall_time_s=float(data.get("wall_time_s", 0.0)),
            command=str(data.get("command", "")),
            created_at=str(data.get("created_at", "")),
            format_version=version,
            linker_kind=kind,
            **fields,
        )


def write_manifest(model_dir: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` atomically (a crash never leaves half a manifest)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MANIFEST
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_manifest(model_dir: Path) -> Manifest:
    """Read and validate a model directory's manifest; every listed component must exist.

    Raises:
        ModelUnavailableError: no such directory, no manifest, invalid JSON or content,
            or a component path that is missing.
    """
    if not model_dir.is_dir():
        raise ModelUnavailableError(f"Model directory {model_dir} does not exist; create one with `bel train`")
    path = model_dir / MANIFEST
    if not path.is_file():
        raise ModelUnavailableError(
            f"{model_dir} has no {MANIFEST}: it is not a model directory written by `bel train`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ModelUnavailableError(f"{path} is not valid JSON ({e}); retrain with `bel train`") from e
    if not isinstance(data, dict):
        raise ModelUnavailableError(f"{path}: expected a JSON object, got {type(data).__name__}")
    manifest = Manifest.from_json(data, where=str(path))
    for name, rel in manifest.components.items():
        if not (model_dir / rel).exists():
            raise ModelUnavailableError(f"{path}: component {name!r} points at {rel}, which is missing in {model_dir}")
    return manifest


def component_path(model_dir: Path, manifest: Manifest, name: str) -> Path | None:
    """Absolute path of a component, or None when the directory has none."""
    rel = manifest.components.get(name)
    return model_dir / rel if rel else None


def check_kb(manifest: Manifest, kb: KnowledgeBase, model_dir: Path | str = "the model directory") -> None:
    """Refuse models trained for another KB content (an extension of their KB by curator synonyms is fine).

    Raises:
        ModelUnavailableError: the fingerprints differ (the message names both KBs).
    """
    want = manifest.kb
    if want.fingerprint not in (kb.fingerprint, kb.base_fingerprint):
        raise ModelUnavailableError(
            f"{model_dir} was trained for KB {want.name} {want.version} (fingerprint {want.fingerprint[:12]}), "
            f"but the loaded KB is {kb.name} {kb.version} (fingerprint {kb.fingerprint[:12]}). "
            f"Load the KB it was trained for ({want.source or 'see manifest.json'}) or retrain with `bel train`."
        )


def machine_info() -> dict[str, Any]:
    """Where training runs: platform, Python, CPU count, torch version and device."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "torch_threads": None,
        "device": "cpu",
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["device"] = f"cuda:{torch.cuda.get_device_name(0)}"
    except ImportError:  # the manifest is still written without torch
        pass
    return info


def now_iso() -> str:
    """Current UTC time, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
