"""Abbreviations defined in a document (Schwartz & Hearst 2003), and short-form expansion.

Stage: before retrieval. A third of NCBI-disease test mentions are short forms (``DM``,
``A-T``, ``APC``) whose KB names are long forms; when the document defines the short form
("long form (SF)" or "SF (long form)"), querying with the long form finds the concept.
This module only reads the document text; it does not guess undefined abbreviations and
does not rank anything.

The matcher is the published algorithm: every alphanumeric character of the short form
must appear, right to left, in the long form, and the first one must start a word. Two
additions fix its known misses:

- when the preceding words' initials spell the short form in order, those words are the
  long form: the shortest-match rule alone reads "attenuated adenomatous polyposis coli
  (AAPC)" as "adenomatous polyposis coli" (its A and P match inside words);
- a relaxed fallback accepts a short form whose letters are the initials of the preceding
  words in any order ("myotonic dystrophy (DM)", a Latin-order abbreviation the strict
  rule rejects).

A long form that uses another defined short form ("isolated DMS (IDMS)") is stored with it
expanded, so the query is all words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_PAREN = re.compile(r"\(([^()]{1,100})\)")
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?;]\s")
_REPEATED_WORD = re.compile(r"\b(\w+)(?: \1\b)+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """One definition found in a text: ``short`` stands for ``long``.

    Attributes:
        short: the short form as written (case kept: ``AT`` is not ``at``).
        long: the long form as written.
        start: offset of the short form in the text.
    """

    short: str
    long: str
    start: int


def is_short_form(candidate: str) -> bool:
    """Schwartz–Hearst short-form test: 2-10 characters, <= 2 words, a letter, alphanumeric first."""
    return (
        2 <= len(candidate) <= 10
        and len(candidate.split()) <= 2
        and candidate[0].isalnum()
        and any(c.isalpha() for c in candidate)
    )


def best_long_form(short: str, candidate: str) -> str | None:
    """The shortest suffix of ``candidate`` that the short form's characters spell, or None.

    Characters are matched right to left, case-insensitively; the short form's first
    character must match at the start of a word.
    """
    s, lf = len(short) - 1, len(candidate) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while lf >= 0 and (candidate[lf].lower() != c or (s == 0 and lf > 0 and candidate[lf - 1].isalnum())):
            lf -= 1
        if lf < 0:
            return None
        lf -= 1
        s -= 1
    start = candidate.rfind(" ", 0, lf + 1) + 1
    return candidate[start:].strip()


def _initials_long_form(short: str, candidate: str, *, ordered: bool) -> str | None:
    """The last n words when their initials are the short form's n letters, else None.

    ``ordered``: initials in the short form's order (an all-letter short form only);
    otherwise in any order (the relaxed fallback for Latin-order abbreviations).
    """
    letters = [c.lower() for c in short if c.isalpha()]
    words = candidate.split()
    if len(letters) < 2 or len(words) < len(letters) or (ordered and not short.isalpha()):
        return None
    tail = words[-len(letters) :]
    initials = [w[0].lower() for w in tail]
    if not ordered:
        initials, letters = sorted(initials), sorted(letters)
    return " ".join(tail) if initials == letters else None


def _preceding_words(text: str, end: int, n: int) -> str:
    """At most ``n`` words before ``end``, not crossing a sentence end."""
    window = text[max(0, end - 300) : end]
    breaks = list(_SENTENCE_END.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    return " ".join(_WORD.findall(window)[-n:])


def _accept(short: str, long: str | None) -> bool:
    """A long form must be longer than its short form and not contain it as a word."""
    return long is not None and len(long) > len(short) and short.lower() not in long.lower().split()


def find_abbreviations(text: str, *, relaxed: bool = True) -> list[Abbreviation]:
    """Every short-form definition in ``text``, in text order.

    Args:
        text: the document text.
        relaxed: also accept initials in any order when the strict match fails.

    Returns:
        Definitions of both patterns, "long form (SF)" and "SF (long form)".
    """
    found: list[Abbreviation] = []
    for match in _PAREN.finditer(text):
        inside = re.split(r"[;,]", match.group(1))[0].strip()
        if is_short_form(inside):  # "long form (SF)"
            window = _preceding_words(text, match.start(), min(len(inside) + 5, 2 * len(inside)))
            long = _initials_long_form(inside, window, ordered=True)
            if not _accept(inside, long):
                long = best_long_form(inside, window)
            if not _accept(inside, long) and relaxed:
                long = _initials_long_form(inside, window, ordered=False)
            if long is not None and _accept(inside, long):  # "is not None" narrows the type for mypy
                found.append(Abbreviation(inside, long, match.start(1) + match.group(1).find(inside)))
            continue
        before = _WORD.findall(text[max(0, match.start() - 20) : match.start()])
        short = before[-1] if before else ""
        if is_short_form(short) and len(inside.split()) >= 2:  # "SF (long form)"
            long = best_long_form(short, inside)
            if long is not None and _accept(short, long):
                found.append(Abbreviation(short, long, text.rfind(short, 0, match.start())))
    return found


def abbreviation_map(text: str, *, relaxed: bool = True) -> dict[str, str]:
    """Short form -> long form for a document; the first definition of a short form wins.

    Long forms are returned with the document's other short forms expanded (one level).
    """
    table: dict[str, str] = {}
    for abbreviation in find_abbreviations(text, relaxed=relaxed):
        table.setdefault(abbreviation.short, abbreviation.long)
    return {short: expand(long, {s: lf for s, lf in table.items() if s != short}) for short, long in table.items()}


def expand(mention: str, abbreviations: Mapping[str, str]) -> str:
    """The mention with every defined short form replaced by its long form.

    A whole-mention short form (``DM``) becomes its long form; a short form inside a
    longer mention (``DM type 1``) is replaced in place. Matching is case-sensitive and
    bounded by non-word characters, so ``AT`` never rewrites ``at`` or ``ATM``.

    Args:
        mention: the mention text.
        abbreviations: short form -> long form (see :func:`abbreviation_map`).
    """
    if not abbreviations:
        return mention
    if mention in abbreviations:
        return abbreviations[mention]
    shorts = "|".join(re.escape(s) for s in sorted(abbreviations, key=len, reverse=True))  # "A-T" before "A"
    # A mention that contains its own definition ("G6PD dehydrogenase (G6PD) deficiency")
    # loses the parenthesis rather than getting the long form twice.
    text = re.sub(r"\s*\((" + shorts + r")\)", "", mention)
    text = re.sub(r"(?<![\w-])(" + shorts + r")(?![\w-])", lambda m: abbreviations[m.group(1)], text)
    # "HPT-JT syndrome" -> "hyperparathyroidism-jaw tumor syndrome", not "... syndrome syndrome".
    return _REPEATED_WORD.sub(r"\1", text)
