"""The in-memory knowledge base: concepts by id, alt-id resolution, hierarchy and name search.

Stage: the vocabulary every other stage links into. This module holds and queries concepts;
it does not read vocabulary files (``bel_core.kb.loaders`` does) and does not rank
candidates for mentions (the retrievers do). ``search`` is the curator's lookup box: exact
ids and names first, then prefixes, then substrings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from bel_core.errors import KnowledgeBaseError, UnknownConceptError
from bel_core.text import normalize
from bel_core.types import Concept

logger = logging.getLogger(__name__)


class KnowledgeBase:
    """An immutable set of concepts with lookup indexes built once at construction.

    Attributes:
        name: display name, e.g. ``"HPO"``.
        version: release of the source, e.g. ``"hp/releases/2025-01-16"``.
        fingerprint: sha256 (hex) over ids, names, synonyms and types in id order; the
            same content gives the same fingerprint in every run, so caches key on it.
        base_fingerprint: for a KB made by :meth:`with_synonyms`, the fingerprint of the KB
            it extends (models trained for that KB serve the extension too); else ``fingerprint``.
    """

    def __init__(self, concepts: Iterable[Concept], *, name: str, version: str) -> None:
        """Index the concepts.

        Args:
            concepts: the concepts, in any order.
            name: display name of the KB.
            version: release string of the source.

        Raises:
            KnowledgeBaseError: two concepts share an id, or an alt id is another concept's
                primary id or the alt id of two concepts (it could not resolve to one concept).
        """
        self.name = name
        self.version = version
        by_id: dict[str, Concept] = {}
        for concept in concepts:
            if concept.concept_id in by_id:
                raise KnowledgeBaseError(f"{name}: concept id {concept.concept_id!r} occurs twice; ids must be unique")
            by_id[concept.concept_id] = concept
        self._concepts = {cid: by_id[cid] for cid in sorted(by_id)}
        self._alt = self._index_alt_ids()
        # Ids typed in the search box may differ in case ("hp:0001250").
        self._id_lookup = {cid.casefold(): cid for cid in self._concepts}
        self._id_lookup.update({alt.casefold(): cid for alt, cid in self._alt.items()})
        self._children = self._index_children()
        self._aliases, self._by_name = self._index_names()
        self._sorted_names = sorted(self._by_name)
        self.fingerprint = self._compute_fingerprint()
        self.base_fingerprint = self.fingerprint

    def _index_alt_ids(self) -> dict[str, str]:
        alt: dict[str, str] = {}
        for cid, concept in self._concepts.items():
            for alt_id in concept.alt_ids:
                if alt_id in self._concepts or alt.get(alt_id, cid) != cid:
                    raise KnowledgeBaseError(
                        f"{self.name}: alt id {alt_id!r} of {cid!r} is also a primary id or the alt id of "
                        "another concept; drop it from the source so every id resolves to one concept"
                    )
                alt[alt_id] = cid
        return alt

    def _index_children(self) -> dict[str, tuple[str, ...]]:
        children: dict[str, list[str]] = {}
        for cid, concept in self._concepts.items():
            for parent in concept.parents:
                children.setdefault(parent, []).append(cid)
        return {parent: tuple(kids) for parent, kids in children.items()}

    def _index_names(self) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        """Build ``aliases()`` and the normalised-name -> concept ids map in one pass."""
        aliases: list[tuple[str, str]] = []
        hits: dict[str, list[tuple[int, str]]] = {}
        for cid, concept in self._concepts.items():
            seen: set[str] = set()
            for alias in concept.names:
                key = normalize(alias)
                if key and key not in seen:
                    seen.add(key)
                    aliases.append((alias, cid))
                    # Concepts whose *preferred* name matches rank before synonym matches.
                    hits.setdefault(key, []).append((0 if alias == concept.name else 1, cid))
        return aliases, {key: [cid for _, cid in sorted(ranked)] for key, ranked in hits.items()}

    def _compute_fingerprint(self) -> str:
        digest = hashlib.sha256()
        for c in self._concepts.values():
            record = [c.concept_id, c.name, list(c.synonyms), list(c.types)]
            digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
            digest.update(b"\n")
        return digest.hexdigest()

    def __len__(self) -> int:
        return len(self._concepts)

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._concepts or concept_id in self._alt

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._concepts.values())

    def __repr__(self) -> str:
        return f"KnowledgeBase(name={self.name!r}, version={self.version!r}, concepts={len(self)})"

    def resolve_id(self, concept_id: str) -> str:
        """Map a primary or alt id to the primary id.

        Raises:
            UnknownConceptError: the id is neither a primary nor an alt id here.
        """
        if concept_id in self._concepts:
            return concept_id
        if concept_id in self._alt:
            return self._alt[concept_id]
        raise UnknownConceptError(concept_id, self.name)

    def get(self, concept_id: str) -> Concept:
        """Return the concept for a primary or alt id.

        Raises:
            UnknownConceptError: the id is not in this KB.
        """
        return self._concepts[self.resolve_id(concept_id)]

    def aliases(self) -> list[tuple[str, str]]:
        """Every (alias, concept_id) pair, preferred name first, in concept-id order.

        Names of one concept that normalise to the same string ("Seizure" / "seizure")
        appear once, as first written; the same alias on two concepts appears twice (the
        ambiguity is real and the retrievers must see it).
        """
        return list(self._aliases)

    def children(self, concept_id: str) -> tuple[str, ...]:
        """Direct children (ids whose ``parents`` include this concept), sorted.

        Raises:
            UnknownConceptError: the id is not in this KB.
        """
        return self._children.get(self.resolve_id(concept_id), ())

    def search(self, query: str, *, limit: int = 20, types: Sequence[str] | None = None) -> list[Concept]:
        """Find concepts by id or name, best matches first.

        Order: the concept with that id (or alt id, any case); then concepts with a name or
        synonym equal to the normalised query (preferred-name matches first); then names
        starting with it (shortest first); then names containing it (alphabetical).

        Args:
            query: an id or (part of) a name.
            limit: maximum number of concepts returned.
            types: when given, keep only concepts with at least one of these types.

        Returns:
            At most ``limit`` distinct concepts.
        """
        wanted = set(types) if types is not None else None
        found: dict[str, Concept] = {}

        def add(cids: Iterable[str]) -> bool:
            """Add matches in order; True once ``limit`` concepts are found."""
            for cid in cids:
                concept = self._concepts[cid]
                if cid not in found and (wanted is None or wanted.intersection(concept.types)):
                    found[cid] = concept
                    if len(found) >= limit:
                        return True
            return len(found) >= limit

        key = normalize(query)
        if limit <= 0 or not key:
            return []
        id_hit = self._id_lookup.get(query.strip().casefold())
        if (id_hit is not None and add([id_hit])) or add(self._by_name.get(key, ())):
            return list(found.values())
        start = bisect_left(self._sorted_names, key)
        end = bisect_left(self._sorted_names, key + "\U0010ffff", lo=start)
        prefixed = sorted(self._sorted_names[start:end], key=lambda n: (len(n), n))
        if add(cid for name in prefixed for cid in self._by_name[name]):
            return list(found.values())
        # A linear scan, but it stops as soon as ``limit`` concepts are found.
        add(cid for name in self._sorted_names if key in name for cid in self._by_name[name])
        return list(found.values())

    def with_synonyms(self, pairs: Iterable[tuple[str, str]], *, extension: str) -> KnowledgeBase:
        """A new KB whose concepts also carry ``pairs`` as synonyms (curator-added names, say).

        Ids may be alt ids (they resolve to their concept); an alias a concept already has
        (after normalisation) is not added twice. The result's fingerprint covers the new
        synonyms, so indexes and calibrators cached per fingerprint are rebuilt for it.

        Args:
            pairs: ``(alias, concept id)``, the shape of :meth:`aliases`.
            extension: the extension's version, appended to ``version`` ("hp/2025+ext-1a2b").

        Returns:
            This KB itself when ``pairs`` is empty, else the extended KB.

        Raises:
            KnowledgeBaseError: some ids are not in this KB (the message lists them).
        """
        pairs = list(pairs)
        if not pairs:
            return self
        unknown = sorted({cid for _, cid in pairs if cid not in self})
        if unknown:
            raise KnowledgeBaseError(
                f"{self.name} {self.version} lacks concept ids {unknown} that synonyms were added to; "
                "load the KB version they were added for, or remove those synonyms from the extension"
            )
        extra: dict[str, list[str]] = {}
        for alias, cid in pairs:
            extra.setdefault(self.resolve_id(cid), []).append(" ".join(alias.split()))
        concepts = []
        for concept in self:
            known = {normalize(n) for n in concept.names}
            new = []
            for alias in extra.get(concept.concept_id, ()):
                key = normalize(alias)
                if key and key not in known:
                    known.add(key)
                    new.append(alias)
            concepts.append(replace(concept, synonyms=(*concept.synonyms, *new)) if new else concept)
        extended = KnowledgeBase(concepts, name=self.name, version=f"{self.version}+{extension}")
        extended.base_fingerprint = self.base_fingerprint
        return extended

    def to_jsonl(self, path: Path) -> None:
        """Write the KB in the format ``kb_loaders.load_jsonl`` reads.

        The first line is ``{"_meta": {"name", "version"}}``, then one concept per line in id
        order. The file is written next to ``path`` and renamed into place, so a reader
        never sees half a file (the HPO cache relies on this).

        Args:
            path: destination; missing parent directories are created.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.write(json.dumps({"_meta": {"name": self.name, "version": self.version}}) + "\n")
            for c in self._concepts.values():
                record = {
                    "concept_id": c.concept_id,
                    "name": c.name,
                    "synonyms": list(c.synonyms),
                    "types": list(c.types),
                    "definition": c.definition,
                    "parents": list(c.parents),
                    "xrefs": list(c.xrefs),
                    "alt_ids": list(c.alt_ids),
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        logger.info("Wrote %s (%d concepts) to %s", self.name, len(self), path)
