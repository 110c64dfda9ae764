"""UMLS Metathesaurus subsets (RRF files) as a :class:`~bel_core.kb.knowledge_base.KnowledgeBase`.

Stage: KB loading. Reads ``MRCONSO.RRF`` (names), and when present ``MRSTY.RRF``
(semantic types) and ``MRDEF.RRF`` (definitions), plain or gzipped, from a release
directory or given files. Filters on MRCONSO rows: language (``LAT``, default English),
source vocabularies (``SAB``), and suppression (``SUPPRESS`` O/E/Y rows are dropped unless
asked for). A CUI with no row left is not in the KB.

Concept: ``concept_id`` = CUI; ``name`` = the preferred row's string (TS=P, STT=PF,
ISPREF=Y first, then file order); ``synonyms`` = the other distinct strings; ``types`` =
the TUIs from MRSTY followed by their semantic groups (``("T047", "DISO")``), so a type
filter can name either; ``definition`` = the first MRDEF definition; ``xrefs`` =
``SAB:CODE`` of the kept rows. UMLS data needs a UMLS licence: nothing here ships any.

Malformed rows raise ``KnowledgeBaseError`` with file and line, as every KB loader does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bel_core.errors import KnowledgeBaseError
from bel_core.kb.files import build_kb, file_version, malformed, read_lines
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Concept

# The UMLS semantic groups (McCray et al. 2001; NLM's SemGroups.txt): group -> its TUIs.
_GROUP_TUIS = {
    "ACTI": "T051 T052 T053 T054 T055 T056 T057 T064 T066",
    "ANAT": "T017 T018 T021 T022 T023 T024 T025 T026 T029 T030 T031",
    "CHEM": "T103 T104 T109 T114 T116 T120 T121 T122 T123 T125 T126 T127 T129 T130 T131 T192 T195 T196 T197 T200",
    "CONC": "T077 T078 T079 T080 T081 T082 T089 T102 T169 T170 T171 T185",
    "DEVI": "T074 T075 T203",
    "DISO": "T019 T020 T033 T037 T046 T047 T048 T049 T050 T184 T190 T191",
    "GENE": "T028 T085 T086 T087 T088",
    "GEOG": "T083",
    "LIVB": "T001 T002 T004 T005 T007 T008 T010 T011 T012 T013 T014 T015 T016 T096 T097 T098 T099 T100 T101 T194 T204",
    "OBJC": "T071 T072 T073 T167 T168",
    "OCCU": "T090 T091",
    "ORGA": "T092 T093 T094 T095",
    "PHEN": "T034 T038 T067 T068 T069 T070",
    "PHYS": "T032 T039 T040 T041 T042 T043 T044 T045 T201",
    "PROC": "T058 T059 T060 T061 T062 T063 T065",
}
SEMANTIC_GROUP: dict[str, str] = {tui: group for group, tuis in _GROUP_TUIS.items() for tui in tuis.split()}
"""TUI -> semantic group abbreviation (127 semantic types, 15 groups)."""

_SUPPRESSED = frozenset("OEY")  # obsolete, suppressed by the editors, suppressed by the source
_RELEASE = re.compile(r"\b(\d{4}A[AB])\b")
_FIELDS = {"MRCONSO": 18, "MRSTY": 6, "MRDEF": 8}


def semantic_groups(tuis: Sequence[str]) -> tuple[str, ...]:
    """The semantic groups of some TUIs, in first-seen order (unknown TUIs are ignored)."""
    return tuple(dict.fromkeys(SEMANTIC_GROUP[t] for t in tuis if t in SEMANTIC_GROUP))


def _rrf_files(paths: Sequence[str | Path]) -> dict[str, Path]:
    """MRCONSO/MRSTY/MRDEF by table name, from files or release directories."""
    found: dict[str, Path] = {}
    for path in map(Path, paths):
        try:
            candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        except OSError as e:
            raise KnowledgeBaseError(f"{path}: cannot list the directory ({e.strerror or e})") from e
        for file in candidates:
            table = file.name.upper().split(".")[0]
            if table in _FIELDS:
                found[table] = file
    if "MRCONSO" not in found:
        raise KnowledgeBaseError(
            f"No MRCONSO.RRF among {[str(p) for p in paths]}; give the RRF files or the directory holding them"
        )
    return found


def _rows(path: Path, table: str) -> Iterator[tuple[int, list[str]]]:
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < _FIELDS[table]:
            raise malformed(path, lineno, f"expected {_FIELDS[table]} '|'-separated {table} fields, got {len(fields)}")
        yield lineno, fields


def _names(
    path: Path, languages: Sequence[str], sources: Sequence[str] | None, include_suppressed: bool
) -> dict[str, tuple[list[tuple[tuple[bool, bool, bool], str]], list[str]]]:
    """Per CUI: ([(rank key, string)], [SAB:CODE]) of the kept MRCONSO rows, in file order."""
    wanted_sab = set(sources) if sources else None
    concepts: dict[str, tuple[list[tuple[tuple[bool, bool, bool], str]], list[str]]] = {}
    for _, f in _rows(path, "MRCONSO"):
        cui, lat, ts, stt, ispref, sab, code, text, suppress = f[0], f[1], f[2], f[4], f[6], f[11], f[13], f[14], f[16]
        if lat not in languages or (wanted_sab is not None and sab not in wanted_sab) or not text.strip():
            continue
        if suppress in _SUPPRESSED and not include_suppressed:
            continue
        names, xrefs = concepts.setdefault(cui, ([], []))
        names.append(((ts != "P", stt != "PF", ispref != "Y"), text.strip()))
        if code and code != "NOCODE":
            xrefs.append(f"{sab}:{code}")
    return concepts


def load_umls_rrf(
    paths: Sequence[str | Path],
    *,
    languages: Sequence[str] = ("ENG",),
    sources: Sequence[str] | None = None,
    include_suppressed: bool = False,
    version: str | None = None,
) -> KnowledgeBase:
    """Load a UMLS subset from RRF files (see the module docstring for the mapping).

    Args:
        paths: the RRF files, or directories holding them (e.g. ``2024AA/META``).
        languages: MRCONSO ``LAT`` values to keep.
        sources: MRCONSO ``SAB`` values to keep (all when None), e.g. ``("MSH", "HPO")``.
        include_suppressed: keep rows marked suppressible (SUPPRESS O, E or Y).
        version: release name; default the ``2024AA``-style name in the path, else a
            hash of MRCONSO.

    Raises:
        KnowledgeBaseError: no MRCONSO file, a row with too few fields (file + line).
    """
    started = time.perf_counter()
    files = _rrf_files(paths)
    names = _names(files["MRCONSO"], languages, sources, include_suppressed)
    tuis: dict[str, list[str]] = {}
    if "MRSTY" in files:
        for _, f in _rows(files["MRSTY"], "MRSTY"):
            if f[0] in names:
                tuis.setdefault(f[0], []).append(f[1])
    definitions: dict[str, str] = {}
    if "MRDEF" in files:
        for _, f in _rows(files["MRDEF"], "MRDEF"):
            if f[0] in names and f[5].strip() and (include_suppressed or f[6] not in _SUPPRESSED):
                definitions.setdefault(f[0], f[5].strip())
    concepts = []
    for cui, (rows, xrefs) in names.items():
        ordered = [text for _, text in sorted(rows, key=lambda r: r[0])]  # stable: file order within a rank
        types = tuple(dict.fromkeys(tuis.get(cui, ())))
        concepts.append(
            Concept(
                cui,
                ordered[0],
                synonyms=tuple(n for n in dict.fromkeys(ordered) if n != ordered[0]),
                types=types + semantic_groups(types),
                definition=definitions.get(cui),
                xrefs=tuple(dict.fromkeys(xrefs)),
            )
        )
    release = _RELEASE.search(str(files["MRCONSO"].resolve()))
    version = version or (release[1] if release else file_version(files["MRCONSO"]))
    return build_kb(concepts, files["MRCONSO"], "UMLS", version, started)
