"""String normalisation and tokenisation shared by every matcher.

Stage: below detection, retrieval and KB search. Every component that compares a mention
with a KB name goes through :func:`normalize`, so that one string normalises the same way
everywhere (a KB alias that matches in search also matches in detection). This module does
not stem, lemmatise or drop stop words: those choices belong to the matchers.
"""

from __future__ import annotations

import re
import unicodedata

# Hyphen-like dashes (Unicode category Pd: '-', '‐', '‑', '–', '—', ...) and the underscore
# all become a space. Biomedical names are written inconsistently with and without them
# ("X-linked" / "X linked", "non-small-cell" / "non small cell"), so they must not decide
# whether two names match. Other punctuation ("46,XX", "Alzheimer's") is kept: it carries
# meaning and is rarely written two ways.
# The class below is exactly Unicode category Pd (Unicode 14), listed rather than computed
# because scanning every code point at import time costs ~0.3 s.
_SEPARATORS = re.compile(
    r"[_\u002d\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    r"\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead]"
)
_WHITESPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def normalize(s: str) -> str:
    """Normalise a name or a mention for comparison.

    Steps, in order: Unicode NFKC (full-width and ligature forms become plain ones),
    casefold, hyphen-like dashes and underscores to spaces, whitespace runs to one
    space, strip.

    Args:
        s: any string.

    Returns:
        The normalised string; ``""`` when ``s`` has only whitespace, dashes or underscores.

    Example:
        >>> normalize("  X-Linked\\tIchthyosis ")
        'x linked ichthyosis'
    """
    folded = unicodedata.normalize("NFKC", s).casefold()
    return _WHITESPACE.sub(" ", _SEPARATORS.sub(" ", folded)).strip()


def tokenize(s: str) -> list[tuple[str, int, int]]:
    """Split text into word tokens and single punctuation characters.

    Word tokens are maximal runs of ``\\w`` characters (letters, digits, underscore);
    every other non-space character is a token of its own. Offsets point into ``s``
    itself (no normalisation is applied), so ``s[start:end] == token`` always holds.

    Args:
        s: the original text.

    Returns:
        ``(token, start, end)`` triples in text order.

    Example:
        >>> tokenize("46,XX male")
        [('46', 0, 2), (',', 2, 3), ('XX', 3, 5), ('male', 6, 10)]
    """
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(s)]
