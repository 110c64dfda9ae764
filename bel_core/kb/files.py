"""File-reading helpers shared by the KB loaders, and the project's own JSONL KB format.

Malformed input is never skipped: a KB with silently missing concepts gives wrong links
that nobody notices, so every reader raises ``KnowledgeBaseError`` naming the file and the
line. Plain and gzipped files are both read (detected by content, not by name).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from bel_core.errors import KnowledgeBaseError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Concept

logger = logging.getLogger(__name__)

_LIST_FIELDS = ("synonyms", "types", "parents", "xrefs", "alt_ids")


def malformed(path: Path, line: int, reason: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"{path}, line {line}: {reason}")


def require_file(path: Path) -> None:
    if not path.is_file():
        raise KnowledgeBaseError(f"KB file {path} does not exist; check the path (kb.source in the config)")


MAX_LINE_BYTES = 16 * 2**20
"""Longest line a KB file may have (real ones stay under 100 KB); a gzip bomb without
line breaks would otherwise be read into memory whole."""


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its newline) from a plain or gzipped file.

    Raises:
        KnowledgeBaseError: missing or unreadable file, a corrupt or truncated .gz, a line
            that is not UTF-8 or longer than :data:`MAX_LINE_BYTES` (file + line).
    """
    require_file(path)
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"  # by content: a .txt.gz renamed .txt still reads
        with gzip.open(path, "rb") if gzipped else path.open("rb") as f:
            # Decoded line by line (not by a text wrapper, which decodes ahead in chunks) so
            # that an encoding error names the right line.
            for lineno, data in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), start=1):
                if len(data) > MAX_LINE_BYTES:
                    raise malformed(path, lineno, f"line longer than {MAX_LINE_BYTES:,} bytes; is this a KB file?")
                try:
                    line = data.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise malformed(path, lineno, "not UTF-8 text; re-save the file as UTF-8") from e
                if lineno == 1:
                    line = line.removeprefix("\ufeff")  # byte-order mark of files saved by Excel
                yield lineno, line.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as e:
        raise KnowledgeBaseError(f"{path}: cannot read the file ({e}); is it a truncated .gz?") from e


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for an error message."""
    return text if len(text) <= limit else text[:limit] + "..."


def file_version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def file_stem(path: Path) -> str:
    return Path(path.name.removesuffix(".gz")).stem


def check_new_id(seen: dict[str, int], cid: str, path: Path, lineno: int) -> None:
    if cid in seen:
        raise malformed(path, lineno, f"concept id {cid!r} already defined on line {seen[cid]}; ids must be unique")
    seen[cid] = lineno


def split_field(field: str, sep: str = "|") -> tuple[str, ...]:
    return tuple(part.strip() for part in field.split(sep) if part.strip())


def build_kb(concepts: Sequence[Concept], path: Path, name: str, version: str | None, started: float) -> KnowledgeBase:
    try:
        kb = KnowledgeBase(concepts, name=name, version=version or file_version(path))
    except KnowledgeBaseError as e:
        raise KnowledgeBaseError(f"{path}: {e}") from e
    logger.info(
        "Loaded %s (%s): %d concepts from %s in %.2f s",
        kb.name,
        kb.version,
        len(kb),
        path,
        time.perf_counter() - started,
    )
    return kb


def drop_ambiguous_alt_ids(concepts: list[Concept], path: Path) -> list[Concept]:
    primary = {c.concept_id for c in concepts}
    owners = Counter(alt for c in concepts for alt in set(c.alt_ids))
    bad = {alt for alt, n in owners.items() if n > 1 or alt in primary}
    if bad:
        logger.info("%s: dropped %d alt ids that are primary ids or name several concepts", path, len(bad))
    return [replace(c, alt_ids=tuple(a for a in dict.fromkeys(c.alt_ids) if a not in bad)) for c in concepts]


def load_jsonl(path: str | Path) -> KnowledgeBase:
    """Load the project's JSONL format (what ``KnowledgeBase.to_jsonl`` writes).

    One concept object per line with keys ``concept_id`` and ``name`` (required) and
    ``synonyms``, ``types``, ``parents``, ``xrefs``, ``alt_ids`` (lists of strings) and
    ``definition`` (string or null). The first line may be ``{"_meta": {"name", "version"}}``.

    Raises:
        KnowledgeBaseError: missing file, or a line that is not such an object (file + line).
    """
    started, path = time.perf_counter(), Path(path)
    meta: dict[str, str] = {}
    concepts: list[Concept] = []
    seen: dict[str, int] = {}
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        record = _json_line(line, path, lineno)
        if isinstance(record, dict) and "_meta" in record and not concepts and not meta:
            meta = record["_meta"]
            if not isinstance(meta, dict) or not all(isinstance(meta.get(k, ""), str) for k in ("name", "version")):
                raise malformed(path, lineno, '"_meta" must be an object {"name": string, "version": string}')
            continue
        concept = _concept_from_json(record, path, lineno)
        check_new_id(seen, concept.concept_id, path, lineno)
        concepts.append(concept)
    return build_kb(concepts, path, str(meta.get("name") or file_stem(path)), meta.get("version"), started)


def _json_line(line: str, path: Path, lineno: int) -> object:
    try:
        record = json.loads(line)
        if "\\u" in line:  # a lone surrogate escape decodes to a string that cannot be encoded
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        return record
    except UnicodeEncodeError as e:
        raise malformed(
            path, lineno, "a \\u escape of half a surrogate pair (\\ud800-\\udfff): not a character"
        ) from e
    except json.JSONDecodeError as e:
        raise malformed(path, lineno, f"not valid JSON ({e.msg})") from e
    except RecursionError as e:  # the C decoder stops near the interpreter's recursion limit
        raise malformed(path, lineno, "JSON nested too deeply; a concept is one flat object") from e
    except ValueError as e:  # e.g. an integer literal of more than 4300 digits
        raise malformed(path, lineno, f"not valid JSON ({e})") from e


def _concept_from_json(record: object, path: Path, lineno: int) -> Concept:
    if not isinstance(record, dict):
        raise malformed(path, lineno, "expected a JSON object with 'concept_id' and 'name'")
    cid, name, definition = record.get("concept_id"), record.get("name"), record.get("definition")
    if not (isinstance(cid, str) and cid.strip() and isinstance(name, str) and name.strip()):
        raise malformed(path, lineno, "'concept_id' and 'name' must be non-empty strings")
    if definition is not None and not isinstance(definition, str):
        raise malformed(path, lineno, "'definition' must be a string or null")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_FIELDS:
        value = record.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            # The type, not the value: repr() of a deeply nested list recurses.
            raise malformed(path, lineno, f"{key!r} must be a list of strings, got {_json_type(value)}")
        lists[key] = tuple(value)
    return Concept(concept_id=cid.strip(), name=name.strip(), definition=definition, **lists)


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "a list with a non-string item"
    return {dict: "an object", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
