"""Dictionary mention detection: find KB names and synonyms in a document.

Stage: after document input, before linking. The matcher proposes spans only; it does not
say which concept a span means (an alias like "ASD" belongs to several concepts, and
ranking them is the retrievers' job), so detected mentions carry no ids and no label.

Matching works on tokens (:func:`bel_core.text.tokenize`), compared after
:func:`bel_core.text.normalize`, through a token trie built once from ``kb.aliases()``:

* case-insensitive, except for aliases written in ALL CAPS in the KB (abbreviations such as
  "ASD", "GDD"), which match only as written: lower-cased they are ordinary words or
  fragments ("asd", "id"), so matching them case-insensitively floods the review queue;
* whole tokens only, so "seizures" never matches inside "nonseizures";
* tokens that normalise to nothing (dashes) are ignored on both sides, as ``normalize``
  ignores them: "X-linked" matches the alias "X linked";
* longest match wins, scanning left to right; matches never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.text import normalize, tokenize
from bel_core.types import Document, Mention, MentionOrigin

# Words that are HPO names or synonyms (mostly clinical modifiers, frequencies and onset
# terms outside the phenotype subtree, plus a few everyday synonyms) but that, standing
# alone, nearly always have their ordinary English sense in a case report: "all" (HPO's
# root term "All"), "short" in "a short course", "fits" in "fits the criteria". A longer
# alias containing them ("short stature", "mild intellectual disability") still matches.
STOPWORDS = frozenset(
    {
        "all", "abnormal", "normal", "short", "tall", "small", "large", "long", "mild",
        "moderate", "severe", "profound", "onset", "frequent", "frequency", "occasional",
        "very frequent", "obligate", "excluded", "acute", "chronic", "episodic", "recurrent",
        "progressive", "variable", "bilateral", "unilateral", "left", "right", "distal",
        "proximal", "central", "lateral", "focal", "diffuse", "axial", "generalized",
        "localized", "healthy", "affected", "borderline", "fits", "falls", "death",
    }
)  # fmt: skip

_END = ""  # trie key marking "an alias ends here"; no token normalises to ""
_Trie = dict[str, Any]


def _is_abbreviation(alias: str) -> bool:
    """True for aliases written in ALL CAPS ("ASD", "GDD", "ADHD", "46,XX")."""
    return any(c.isalpha() for c in alias) and alias == alias.upper()


def _insert(trie: _Trie, keys: list[str]) -> None:
    node = trie
    for key in keys:
        node = node.setdefault(key, {})
    node[_END] = True


def _longest(trie: _Trie, keys: list[str], i: int) -> int:
    """Index one past the last token of the longest alias starting at token ``i`` (or ``i``)."""
    node, best = trie, i
    for j in range(i, len(keys)):
        child = node.get(keys[j])
        if child is None:
            break
        node = child
        if _END in node:
            best = j + 1
    return best


# eq=False: the tries are large dicts; identity is the only useful equality and hash.
@dataclass(frozen=True, slots=True, eq=False)
class DictionaryMatcher:
    """Token-trie matcher over a KB's names and synonyms.

    Attributes:
        folded: trie over normalised tokens (case-insensitive aliases).
        exact: trie over tokens as written (ALL-CAPS abbreviations).
        n_aliases: number of aliases in the tries, after filtering.
    """

    folded: _Trie
    exact: _Trie
    n_aliases: int

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, *, min_chars: int = 3) -> DictionaryMatcher:
        """Build the matcher from every name and synonym of ``kb``.

        Args:
            kb: the knowledge base.
            min_chars: aliases with fewer non-space characters are skipped ("ID" when 3).

        Returns:
            The matcher.
        """
        folded: _Trie = {}
        exact: _Trie = {}
        seen: set[str] = set()
        for alias, _concept_id in kb.aliases():
            alias = alias.strip()
            norm = normalize(alias)
            abbreviation = _is_abbreviation(alias)
            # An abbreviation is safe from the stopword list: "ALL" (the leukaemia) is not "all".
            if len(alias.replace(" ", "")) < min_chars or (norm in STOPWORDS and not abbreviation):
                continue
            tokens = [t for t, _, _ in tokenize(alias) if normalize(t)]
            if not tokens:
                continue
            if abbreviation:
                key, trie, keys = "=" + alias, exact, tokens
            else:
                key, trie, keys = norm, folded, [normalize(t) for t in tokens]
            if key not in seen:  # the same alias on several concepts is one trie path
                seen.add(key)
                _insert(trie, keys)
        return cls(folded=folded, exact=exact, n_aliases=len(seen))

    def detect(self, document: Document) -> list[Mention]:
        """Find alias occurrences in ``document``.

        Args:
            document: the document to scan.

        Returns:
            Non-overlapping mentions sorted by start, ``origin=DETECTED``, ``label=None``;
            each mention's text is ``document.text[start:end]``.
        """
        tokens = [(t, normalize(t), s, e) for t, s, e in tokenize(document.text)]
        tokens = [tok for tok in tokens if tok[1]]
        raw = [t for t, _, _, _ in tokens]
        norm = [n for _, n, _, _ in tokens]
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            j = max(_longest(self.folded, norm, i), _longest(self.exact, raw, i))
            if j == i:
                i += 1
                continue
            start, end = tokens[i][2], tokens[j - 1][3]
            mentions.append(
                Mention(document.doc_id, start, end, document.text[start:end], origin=MentionOrigin.DETECTED)
            )
            i = j
        return mentions
