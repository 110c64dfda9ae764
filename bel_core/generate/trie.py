"""Prefix trie over the token sequences of KB names, for constrained decoding.

Each KB name (preferred names and synonyms) is tokenized the way the generator emits it
(``GeneratorModel.target_token_ids``: tokens then the end token); the trie answers
"which tokens may follow this prefix" and, at a leaf, which (name, concept id) pairs the
sequence spells. Several concepts can share a name, and one concept has several names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bel_core.kb.knowledge_base import KnowledgeBase


@dataclass(slots=True)
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    names: list[tuple[str, str]] = field(default_factory=list)  # (name, concept id) ending here


class NameTrie:
    """Token-id prefix trie; a complete sequence ends with the end token and carries its names."""

    def __init__(self) -> None:
        self._root = _Node()
        self.size = 0

    def add(self, token_ids: Sequence[int], name: str, concept_id: str) -> None:
        """Insert one name's token sequence (which must end with the end token)."""
        node = self._root
        for token in token_ids:
            node = node.children.setdefault(token, _Node())
        if (name, concept_id) not in node.names:
            node.names.append((name, concept_id))
            self.size += 1

    def _walk(self, prefix: Sequence[int]) -> _Node | None:
        node: _Node | None = self._root
        for token in prefix:
            node = node.children.get(token) if node is not None else None
        return node

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        """Tokens that may follow ``prefix`` (empty when the prefix is complete or not in the trie)."""
        node = self._walk(prefix)
        return list(node.children) if node is not None else []

    def names_at(self, sequence: Sequence[int]) -> list[tuple[str, str]]:
        """(name, concept id) pairs spelled by a complete sequence (empty when it is not one)."""
        node = self._walk(sequence)
        return list(node.names) if node is not None else []

    def __len__(self) -> int:
        return self.size


def concept_groups(types: Iterable[str], group_of: Callable[[str], str | None] | None = None) -> set[str]:
    """The groups a concept belongs to: its types, mapped through ``group_of`` when given (unmapped kept)."""
    return {(group_of(t) if group_of else None) or t for t in types}


def build_trie(
    kb: KnowledgeBase,
    tokenize: Callable[[str], Sequence[int]],
    *,
    groups: Iterable[str] | None = None,
    group_of: Callable[[str], str | None] | None = None,
) -> NameTrie:
    """A trie of every KB name, or of the names of concepts in one of ``groups`` (types or semantic groups).

    Args:
        kb: the knowledge base.
        tokenize: name -> the token ids the generator emits for it (ending with the end token).
        groups: keep concepts with a type (or a group, via ``group_of``) in this set; None keeps all.
        group_of: maps a KB type (e.g. a UMLS TUI) to its semantic group, when mentions carry groups.
    """
    wanted = None if groups is None else set(groups)
    trie = NameTrie()
    for name, cid in kb.aliases():
        if wanted is not None and not concept_groups(kb.get(cid).types, group_of) & wanted:
            continue
        trie.add(tokenize(name), name, cid)
    return trie
