"""Many input files at once: zip archives, format detection, brat pairing, progress.

``iter_files`` is what the ingest use case (Documents page and ``bel import``) calls;
``read_any`` collects everything into one result for the commands that only link. It never stops at a bad file: a
file that cannot be read at all (malformed XML, not UTF-8, over the size limit) becomes
one problem and the other files are still read. Files are parsed one at a time and
``iter_inputs`` yields each file's result as soon as it is parsed, so a caller can store
document by document and draw progress without holding every parsed file.

Archives are read in memory and never extracted to disk. Because member names become doc
ids, names that are absolute or contain ``..`` are refused (path traversal), and a zip
bomb is stopped by capping the member count and the total uncompressed size, counting the
bytes actually read rather than trusting the sizes the archive declares.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from bel_core.errors import InputFormatError
from bel_core.formats.bigbio import read_bigbio
from bel_core.formats.bioc_io import read_bioc_json, read_bioc_xml
from bel_core.formats.brat import read_brat
from bel_core.formats.common import ARCHIVE_ERRORS
from bel_core.formats.documents import InputProblem, ParsedInput
from bel_core.formats.gsc import read_gsc
from bel_core.formats.pubtator import read_pubtator
from bel_core.formats.text import read_text
from bel_core.types import Progress

logger = logging.getLogger(__name__)

Reader = Callable[[str, bytes], ParsedInput]

READERS: dict[str, Reader] = {
    "pubtator": read_pubtator,
    "bioc-xml": read_bioc_xml,
    "bioc-json": read_bioc_json,
    "bigbio": read_bigbio,
    "gsc": read_gsc,
    "text": read_text,
}
IMPORT_FORMATS = ("auto", "pubtator", "bioc-xml", "bioc-json", "bigbio", "brat", "text", "gsc")
MAX_MEMBERS = 10_000
MAX_ARCHIVE_BYTES = 500_000_000

_PUBTATOR_HEAD = re.compile(r"^\S+\|[ta]\|")
_GSC_HEAD = re.compile(r"^\S+\n[^\n]+\n\d+\t\d+\t")
_EXTENSIONS = {".xml": "bioc-xml", ".bioc": "bioc-xml", ".pubtator": "pubtator", ".jsonl": "bigbio"}


def detect_format(name: str, data: bytes) -> str:
    """The reader for one file, from its extension and then its first bytes.

    ``.json`` is BioC JSON when the object has a ``documents`` list, else BigBio;
    ``.txt`` and unknown extensions are PubTator (``ID|t|`` first line), GSC+ (PMID, text,
    offset lines) or plain text. brat pairs are found by :func:`iter_inputs`.
    """
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    head = data[:4096].decode("utf-8", errors="replace").removeprefix("\ufeff").replace("\r\n", "\n").lstrip()
    if head.startswith("<"):
        return "bioc-xml"
    if head.startswith(("{", "[")) or suffix == ".json":
        return "bioc-json" if re.search(r'"documents"\s*:\s*\[', head) and '"entities"' not in head else "bigbio"
    if _PUBTATOR_HEAD.match(head):
        return "pubtator"
    return "gsc" if _GSC_HEAD.match(head) else "text"


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return not path.is_absolute() and ".." not in path.parts and not re.match(r"^[A-Za-z]:", name)


def _expand(name: str, data: bytes, max_bytes: int, problems: list[InputProblem]) -> list[tuple[str, bytes]]:
    """The files of one input: itself, or the members of a zip archive (checked, see module doc)."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return [(name, data)]
    files: list[tuple[str, bytes]] = []
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [i for i in archive.infolist() if not i.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise InputFormatError(name, f"the archive has {len(members):,} files, over the limit of {MAX_MEMBERS:,}")
        for info in members:
            where = f"{name}:{info.filename}"
            if not _safe_member(info.filename):
                problems.append(InputProblem(where, None, "unsafe path in the archive (absolute or '..'); skipped"))
                continue
            if info.filename.startswith("__MACOSX/") or PurePosixPath(info.filename).name.startswith("."):
                continue
            with archive.open(info) as member:
                content = member.read(max_bytes + 1)
            total += len(content)
            if total > MAX_ARCHIVE_BYTES:
                raise InputFormatError(name, f"the archive unpacks to more than {MAX_ARCHIVE_BYTES:,} bytes")
            if len(content) > max_bytes:
                problems.append(InputProblem(where, None, f"over the size limit of {max_bytes:,} bytes; skipped"))
                continue
            files.append((where, content))
    return files


def _units(files: Sequence[tuple[str, bytes]], fmt: str) -> Iterator[tuple[str, str, bytes, bytes | None]]:
    """(format, name, data, brat .ann data) per document source, pairing brat .txt/.ann by stem."""
    anns = {n.rsplit(".", 1)[0]: d for n, d in files if n.lower().endswith(".ann")}
    texts = {n.rsplit(".", 1)[0] for n, _ in files if not n.lower().endswith(".ann")}
    for name, data in files:
        stem, lower = name.rsplit(".", 1)[0], name.lower()
        if lower.endswith(".ann"):
            if stem not in texts:
                yield "brat-orphan", name, data, None
            continue
        if fmt == "brat" or (fmt == "auto" and stem in anns and lower.endswith(".txt")):
            yield "brat", name, data, anns.get(stem, b"")
        else:
            yield (detect_format(name, data) if fmt == "auto" else fmt), name, data, None


@dataclass(frozen=True, slots=True)
class ReadFile:
    """One input file (or brat pair, or archive member) with what it yielded.

    Attributes:
        name: the file's name (``archive.zip:member`` inside an archive); for a problem
            with the inputs themselves (size, archive), the name of the input.
        raw: the bytes the file's records were read from (brat: the .txt, then the .ann),
            for callers that point at a line; empty for input-level problems.
        parsed: the documents, mentions and problems of the file.
    """

    name: str
    raw: tuple[bytes, ...]
    parsed: ParsedInput


def iter_files(
    files: Sequence[tuple[str, bytes]],
    *,
    format: str = "auto",
    max_bytes: int,
    progress: Progress | None = None,
) -> Iterator[ReadFile]:
    """Parse each input file (or brat pair) in turn and yield it with its result.

    Args:
        files: (name, content) pairs; zip archives are expanded.
        format: one of :data:`IMPORT_FORMATS`; ``auto`` detects per file.
        max_bytes: size limit of one file (or archive member).
        progress: called as ``progress("read", done, total)`` after each file.

    Yields:
        First, when inputs themselves are refused (over the size limit, a broken or unsafe
        archive), one ReadFile holding only those problems; then one per file, a file
        that cannot be read holding only its problem.

    Raises:
        ValueError: unknown ``format``.
    """
    if format not in IMPORT_FORMATS:
        raise ValueError(f"Unknown import format {format!r}; use one of {', '.join(IMPORT_FORMATS)}")
    problems: list[InputProblem] = []
    expanded: list[tuple[str, bytes]] = []
    for name, data in files:
        try:
            if len(data) > max_bytes and not zipfile.is_zipfile(io.BytesIO(data)):
                raise InputFormatError(name, f"the file is {len(data):,} bytes, over the limit of {max_bytes:,}")
            expanded += _expand(name, data, max_bytes, problems)
        except ARCHIVE_ERRORS + (InputFormatError,) as e:
            problems.append(InputProblem(name, getattr(e, "line", None), getattr(e, "reason", str(e))))
    if problems:
        yield ReadFile(problems[0].filename, (), ParsedInput((), (), tuple(problems)))
    units = list(_units(expanded, format))
    for done, (fmt, name, data, ann) in enumerate(units, start=1):
        yield ReadFile(name, (data,) if ann is None else (data, ann), _parse(fmt, name, data, ann))
        if progress is not None:
            progress("read", done, len(units))


def iter_inputs(
    files: Sequence[tuple[str, bytes]],
    *,
    format: str = "auto",
    max_bytes: int,
    progress: Progress | None = None,
) -> Iterator[ParsedInput]:
    """The parsed inputs of :func:`iter_files`, without the file names and bytes."""
    return (read.parsed for read in iter_files(files, format=format, max_bytes=max_bytes, progress=progress))


def _parse(fmt: str, name: str, data: bytes, ann: bytes | None) -> ParsedInput:
    try:
        if fmt == "brat-orphan":
            return ParsedInput((), (), (InputProblem(name, None, "brat .ann file without its .txt; skipped"),))
        if fmt == "brat":
            return read_brat(name, data, ann or b"", ann_name=name.rsplit(".", 1)[0] + ".ann")
        return READERS[fmt](name, data)
    except InputFormatError as e:
        return ParsedInput((), (), (InputProblem(e.filename, e.line, e.reason),))
    except Exception as e:  # noqa: BLE001 - a reader bug must refuse this file, not end the whole import
        logger.exception("reader %s failed on %s", fmt, name)
        reason = f"could not be read ({type(e).__name__}; details in the server log); check that it is valid {fmt}"
        return ParsedInput((), (), (InputProblem(name, None, reason),))


def read_any(
    files: Sequence[tuple[str, bytes]],
    *,
    format: str = "auto",
    max_bytes: int,
    progress: Progress | None = None,
) -> ParsedInput:
    """Read every file (see :func:`iter_inputs`) into one ParsedInput, in file order."""
    parts = list(iter_inputs(files, format=format, max_bytes=max_bytes, progress=progress))
    return ParsedInput(
        tuple(d for p in parts for d in p.documents),
        tuple(m for p in parts for m in p.mentions),
        tuple(q for p in parts for q in p.problems),
    )
