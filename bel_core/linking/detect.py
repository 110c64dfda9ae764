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
* spelling variants match each other, by folding both sides to one key per word
  (:func:`variant`): British and American spellings (``haemorrhage``/``hemorrhage``,
  ``oedema``/``edema``, ``hyponatraemia``/``hyponatremia``, ``tumour``/``tumor``) and
  singular/plural (``seizure``/``seizures``, ``anomaly``/``anomalies``);
* a hyphenated compound matches its closed form both ways (``anti-diuretic``/``antidiuretic``);
* a name of two to four content words also matches with its words reordered, function
  words ``of``/``the`` aside (``renal cell carcinoma`` for MeSH's ``Carcinoma, Renal Cell``,
  ``cancer of the breast`` for ``breast cancer``), within one phrase (no punctuation between);
* longest match wins, scanning left to right; matches never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
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
_FUNCTION_WORDS = frozenset({"of", "the"})  # skipped when comparing reordered names
_MAX_BAG = 4  # content words of a name matched in any order
_DASHES = frozenset("-\u2010\u2011\u2012\u2013")


def _singular(word: str) -> str:
    """English plural to singular for the common medical endings; other words unchanged."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ys")):
        return word[:-1]
    return word


@lru_cache(maxsize=1 << 18)  # a KB's and a corpus's vocabulary: words repeat across aliases
def variant(word: str) -> str:
    """The key a normalised word is matched by: singular, then American spelling.

    British spellings fold to American ones only in words of 5+ letters, so short everyday
    words ("does", "toe", "hour") keep their own key: ``ae``/``oe`` -> ``e`` (anaemia,
    haemorrhage, oedema, diarrhoea, foetal) and a final ``our`` -> ``or`` (tumour).
    """
    key = _singular(word)
    if len(key) >= 5 and key.isalpha():
        key = key.replace("ae", "e").replace("oe", "e")
        if key.endswith("our"):
            key = key[:-3] + "or"
    return key


_STOP_KEYS = frozenset(" ".join(variant(w) for w in s.split()) for s in STOPWORDS)


def _is_abbreviation(alias: str) -> bool:
    """True for aliases written in ALL CAPS ("ASD", "GDD", "ADHD", "46,XX")."""
    return any(c.isalpha() for c in alias) and alias == alias.upper()


def _insert(trie: _Trie, keys: list[str]) -> None:
    node = trie
    for key in keys:
        node = node.setdefault(key, {})
    node[_END] = True


def _longest(trie: _Trie, keys: list[str], i: int, joined: list[str | None] | None = None) -> int:
    """Index one past the last token of the longest alias starting at token ``i`` (or ``i``).

    ``joined[k]``, when not None, is tokens ``k`` and ``k + 1`` as one closed compound: the
    walk may also take it as one key instead of two (a branch, followed recursively).
    """
    node, best = trie, i
    for k in range(i, len(keys)):
        closed = joined[k] if joined is not None else None
        if closed is not None and closed in node:
            branch = node[closed]
            if _END in branch:
                best = max(best, k + 2)
            further = _longest(branch, keys, k + 2, joined)  # returns k + 2 itself when nothing matches
            if further > k + 2:
                best = max(best, further)
        child = node.get(keys[k])
        if child is None:
            break
        node = child
        if _END in node:
            best = max(best, k + 1)
    return best


def _bag(keys: list[str]) -> tuple[str, ...] | None:
    """Sorted content words, when there are 2 to ``_MAX_BAG`` of them and no punctuation."""
    content = [k for k in keys if k not in _FUNCTION_WORDS]
    if not 2 <= len(content) <= _MAX_BAG or not all(k.isalnum() for k in content):
        return None
    return tuple(sorted(content))


def _joined(tokens: list[tuple[str, str, int, int]], text: str) -> list[str | None]:
    """Per token: it and the next as one closed compound key, when a single dash joins them."""
    out: list[str | None] = [None] * len(tokens)
    for k in range(len(tokens) - 1):
        end, start = tokens[k][3], tokens[k + 1][2]
        if start - end == 1 and text[end] in _DASHES and tokens[k][1].isalnum() and tokens[k + 1][1].isalnum():
            out[k] = variant(tokens[k][1] + tokens[k + 1][1])
    return out


# eq=False: the tries are large dicts; identity is the only useful equality and hash.
@dataclass(frozen=True, slots=True, eq=False)
class DictionaryMatcher:
    """Token-trie matcher over a KB's names and synonyms.

    Attributes:
        folded: trie over word keys (:func:`variant`; case-insensitive aliases), closed
            forms of hyphenated compounds included.
        exact: trie over tokens as written (ALL-CAPS abbreviations).
        n_aliases: number of aliases in the tries, after filtering.
        bags: sorted content-word keys of multi-word aliases (reordered matches).
        bag_words: every word in ``bags`` (most tokens are in none: a cheap first test).
        variants: match spelling, hyphen and word-order variants (off: normalised tokens as written).
    """

    folded: _Trie
    exact: _Trie
    n_aliases: int
    bags: frozenset[tuple[str, ...]] = frozenset()
    bag_words: frozenset[str] = frozenset()
    variants: bool = True

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, *, min_chars: int = 3, variants: bool = True) -> DictionaryMatcher:
        """Build the matcher from every name and synonym of ``kb``.

        Args:
            kb: the knowledge base.
            min_chars: aliases with fewer non-space characters are skipped ("ID" when 3).
            variants: also match spelling, hyphen and word-order variants (module docstring).

        Returns:
            The matcher.
        """
        folded: _Trie = {}
        exact: _Trie = {}
        seen: set[str] = set()
        bags: set[tuple[str, ...]] = set()
        for alias, _concept_id in kb.aliases():
            alias = alias.strip()
            norm = normalize(alias)
            abbreviation = _is_abbreviation(alias)
            key = "=" + alias if abbreviation else norm
            if len(alias.replace(" ", "")) < min_chars or key in seen:
                continue  # the same alias on several concepts is one trie path
            tokens = [(t, normalize(t), s, e) for t, s, e in tokenize(alias)]
            tokens = [tok for tok in tokens if tok[1]]
            if not tokens:
                continue
            if abbreviation:
                seen.add(key)
                _insert(exact, [t for t, _, _, _ in tokens])
                continue
            keys = [variant(n) if variants else n for _, n, _, _ in tokens]
            # An abbreviation is safe from the stopword list: "ALL" (the leukaemia) is not "all".
            if norm in STOPWORDS or " ".join(keys) in _STOP_KEYS:
                continue
            seen.add(norm)
            _insert(folded, keys)
            joined = _joined(tokens, alias) if variants and any(d in alias for d in _DASHES) else []
            if any(joined):  # "X-linked" is also "Xlinked"
                closed, k = [], 0
                while k < len(keys):
                    closed.append(joined[k] or keys[k])
                    k += 2 if joined[k] else 1
                _insert(folded, closed)
            # MeSH's inverted names ("Carcinoma, Renal Cell"): the comma is not part of the words.
            bag = _bag([k for k in keys if k != ","]) if variants and len(keys) > 1 else None
            if bag is not None:
                bags.add(bag)
        return cls(
            folded=folded,
            exact=exact,
            n_aliases=len(seen),
            bags=frozenset(bags),
            bag_words=frozenset(w for b in bags for w in b),
            variants=variants,
        )

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
        keys = [variant(n) if self.variants else n for _, n, _, _ in tokens]
        joined = _joined(tokens, document.text) if self.variants else None
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            j = max(_longest(self.folded, keys, i, joined), _longest(self.exact, raw, i), self._reordered(keys, i))
            if j == i:
                i += 1
                continue
            start, end = tokens[i][2], tokens[j - 1][3]
            mentions.append(
                Mention(document.doc_id, start, end, document.text[start:end], origin=MentionOrigin.DETECTED)
            )
            i = j
        return mentions

    def _reordered(self, keys: list[str], i: int) -> int:
        """End of the longest phrase from token ``i`` whose content words are an alias's, in any order."""
        if keys[i] not in self.bag_words:
            return i
        best = i
        for j in range(i + 2, min(i + 2 * _MAX_BAG, len(keys)) + 1):
            last = keys[j - 1]
            if last in _FUNCTION_WORDS:
                continue
            if last not in self.bag_words:
                break
            bag = _bag(keys[i:j])
            if bag is not None and bag in self.bags:
                best = j
        return best
