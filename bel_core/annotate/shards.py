"""Shards of a corpus pre-annotation: what one worker reads, links and writes in one go.

A shard is one input file (PubTator, BioC XML/JSON, BigBio, JSONL, plain text; ``.gz`` is
decompressed). Its outputs are a PubTator file with the top-1 concept of every mention and
the shared scorer's JSONL with the ranked candidates. A shard is finished when its marker
``<name>.done.json`` exists and the outputs still have the digests it records; outputs are
written to temporary names and renamed, and the marker is written last, so a crash or a
kill leaves a shard either finished or not started, never half-written.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import resource
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bel_core.errors import InputFormatError
from bel_core.formats import read_any, write_pubtator
from bel_core.linking.protocols import Linker
from bel_core.types import Document, LinkResult, Mention

MARKER = ".done.json"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Shard:
    """One input file and where its outputs go.

    Attributes:
        source: the input file.
        name: output stem, unique within a run (the source's path relative to its input root).
        out_dir: the run's output folder.
    """

    source: str
    name: str
    out_dir: str

    @property
    def pubtator(self) -> Path:
        return Path(self.out_dir) / f"{self.name}.pubtator"

    @property
    def jsonl(self) -> Path:
        return Path(self.out_dir) / f"{self.name}.jsonl"

    @property
    def marker(self) -> Path:
        return Path(self.out_dir) / f"{self.name}{MARKER}"


@dataclass(frozen=True, slots=True)
class ShardResult:
    """What one finished shard holds, as recorded in its marker.

    Attributes:
        name: the shard's output stem.
        documents, mentions: counts written.
        problems: input problems (file, line, message) reported by the reader.
        seconds: wall time linking the shard (not loading the linker).
        peak_rss_mb: the worker process's peak resident memory when the shard finished.
        worker: process id of the worker (several shards share one).
        skipped: the shard was already finished by an earlier run.
        digests: sha256 of each output file; empty when the input was refused whole (see
            ``problems``), in which case nothing was written.
    """

    name: str
    documents: int
    mentions: int
    problems: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    worker: int
    skipped: bool
    digests: dict[str, str]

    @property
    def refused(self) -> bool:
        return not self.digests

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "problems": list(self.problems)}

    @classmethod
    def from_json(cls, data: dict[str, object], *, skipped: bool) -> ShardResult:
        return cls(
            name=str(data["name"]),
            documents=int(data["documents"]),  # type: ignore[call-overload]
            mentions=int(data["mentions"]),  # type: ignore[call-overload]
            problems=tuple(str(p) for p in data["problems"]),  # type: ignore[attr-defined]
            seconds=float(data["seconds"]),  # type: ignore[arg-type]
            peak_rss_mb=float(data["peak_rss_mb"]),  # type: ignore[arg-type]
            worker=int(data["worker"]),  # type: ignore[call-overload]
            skipped=skipped,
            digests=dict(data["digests"]),  # type: ignore[call-overload]
        )


def plan_shards(inputs: Sequence[str | Path], out_dir: str | Path) -> list[Shard]:
    """One shard per input file; folders are walked (sorted), so the plan is the same every run.

    Raises:
        InputFormatError: an input does not exist, or two inputs would write the same outputs.
    """
    shards: list[Shard] = []
    for given in inputs:
        root = Path(given)
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
            shards += [Shard(str(p), _stem(p.relative_to(root)), str(out_dir)) for p in files]
        elif root.is_file():
            shards.append(Shard(str(root), _stem(Path(root.name)), str(out_dir)))
        else:
            raise InputFormatError(str(root), "no such file or folder")
    seen: dict[str, str] = {}
    for shard in shards:
        if shard.name in seen:
            raise InputFormatError(shard.source, f"writes the same output as {seen[shard.name]}; rename one")
        seen[shard.name] = shard.source
    return shards


def _stem(relative: Path) -> str:
    name = str(relative)
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    name = re.sub(r"\.(pubtator|txt|xml|bioc|json|jsonl)$", "", name, flags=re.I)
    return re.sub(r"[^\w.-]+", "_", name.replace(os.sep, "__"))


def finished(shard: Shard) -> ShardResult | None:
    """The recorded result when the shard's outputs are complete and unchanged, else None."""
    try:
        data = json.loads(shard.marker.read_text(encoding="utf-8"))
        if all(_sha256(Path(shard.out_dir) / f) == d for f, d in data["digests"].items()):
            return ShardResult.from_json(data, skipped=True)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def read_source(path: str, max_bytes: int) -> tuple[list[Document], list[Mention], list[str]]:
    """Documents, given mentions and problems of one input file (gzip decompressed, size-checked)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputFormatError(path, f"cannot be read ({e.strerror or e})") from None
    name = Path(path).name
    if raw[:2] == _GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                raw = fh.read(max_bytes + 1)  # a gzip bomb stops at the limit
        except (OSError, EOFError) as e:
            raise InputFormatError(path, f"not a readable gzip file ({e})") from None
        name = name.removesuffix(".gz")
    if len(raw) > max_bytes:
        raise InputFormatError(path, f"over the size limit of {max_bytes:,} bytes (decompressed)")
    parsed = read_any([(name, raw)], max_bytes=max_bytes)
    problems = [f"{p.filename}:{p.line or '-'}: {p.message}" for p in parsed.problems]
    return list(parsed.documents), list(parsed.mentions), problems


def prediction_row(result: LinkResult) -> dict[str, object]:
    """One line of the shared scorer's JSONL: span, ranked ids, calibrated probabilities, raw scores."""
    m = result.mention
    return {
        "doc_id": m.doc_id,
        "start": m.start,
        "end": m.end,
        "mention": m.text,
        "ranked": [c.concept_id for c in result.candidates],
        "probs": [round(c.calibrated_score or 0.0, 6) for c in result.candidates],
        "scores": [round(c.raw_score, 6) for c in result.candidates],
        "names": [c.name for c in result.candidates],
        "model_version": result.model_version,
    }


def predictions_jsonl(results: Iterable[LinkResult]) -> str:
    return "".join(json.dumps(prediction_row(r), ensure_ascii=False) + "\n" for r in results)


def annotate_shard(shard: Shard, linker: Linker, *, max_bytes: int, gold_spans: bool = False) -> ShardResult:
    """Read, detect (or take the file's spans), link and write one shard; skip it when already finished.

    Documents are linked together so abbreviations and document memory work as in ``bel link``;
    a shard is linked the same way whichever engine runs it, so the outputs are byte-identical.
    """
    done = finished(shard)
    if done is not None:
        return done
    started = time.perf_counter()
    try:
        documents, given, problems = read_source(shard.source, max_bytes)
    except InputFormatError as e:
        # Refused whole: reported, no marker, so the next run tries the (fixed) file again.
        return ShardResult(shard.name, 0, 0, (str(e),), 0.0, _peak_rss_mb(), os.getpid(), False, {})
    if gold_spans:
        mentions = given
    else:
        mentions = [m for d in documents for m in linker.detect(d)]
    results = linker.link(mentions, documents={d.doc_id: d for d in documents}) if mentions else []
    annotations: dict[str, list[tuple[Mention, tuple[str, ...]]]] = {}
    for r in results:
        top = (r.candidates[0].concept_id,) if r.candidates else ()
        annotations.setdefault(r.mention.doc_id, []).append((r.mention, top))
    outputs = {shard.pubtator: write_pubtator(documents, annotations), shard.jsonl: predictions_jsonl(results)}
    Path(shard.out_dir).mkdir(parents=True, exist_ok=True)
    for path, text in outputs.items():
        _atomic_write(path, text)
    result = ShardResult(
        name=shard.name,
        documents=len(documents),
        mentions=len(results),
        problems=tuple(problems),
        seconds=round(time.perf_counter() - started, 3),
        peak_rss_mb=_peak_rss_mb(),
        worker=os.getpid(),
        skipped=False,
        digests={p.name: _sha256(p) for p in outputs},
    )
    _atomic_write(shard.marker, json.dumps(result.to_json(), indent=1))
    return result


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


LinkerFactory = Callable[[], Linker]
