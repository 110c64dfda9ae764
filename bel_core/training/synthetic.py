"""Synthetic gold mentions from a KB alone (SynCABEL's idea), for KBs without an annotated corpus.

Each mention is a KB name or synonym, varied the way real mentions vary from dictionary
entries (initialisms defined in the sentence or not, a typo, reordered tokens, plural or
singular, case), placed in one of many clinical sentence templates next to another
concept's name, so the reranker sees context, not just the string. Deterministic per seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.rerank.cross_encoder import mention_context
from bel_core.training.pairs import GoldMention
from bel_core.types import Mention, MentionOrigin

# "{m}" is the mention, "{o}" another concept's name (a realistic distractor in the context).
TEMPLATES = (
    "The patient presented with {m} and a history of {o}.",
    "Physical examination revealed {m}.",
    "A {age}-year-old {sex} was referred for evaluation of {m}.",
    "{M} was noted at the age of {age} years, together with {o}.",
    "There was no evidence of {o}, but {m} was confirmed on follow-up.",
    "Family history was significant for {m} in two siblings.",
    "We describe a {sex} with {o} who later developed {m}.",
    "{M} has been reported in patients carrying this variant.",
    "The proband showed {m}; her mother had {o}.",
    "Clinical features included {o}, {m} and feeding difficulties.",
    "Risk of {m} was increased in carriers (odds ratio 2.{age}).",
    "Mutations in this gene cause {m}, an autosomal recessive disorder.",
    "Treatment was started after the diagnosis of {m}.",
    "Patients with {m} were compared with {age} controls.",
    "MRI at {age} months showed findings consistent with {m}.",
    "{M} and {o} segregated with the variant in the family.",
    "She was admitted because of worsening {m}.",
    "No patient developed {m} during the study period.",
)
_SEXES = ("boy", "girl", "man", "woman", "patient")
_WORD = re.compile(r"[A-Za-z]+")


def initialism(name: str) -> str | None:
    """Upper-case initials of a name with 2-6 alphabetic words ("atrial septal defect" -> "ASD")."""
    words = [w for w in _WORD.findall(name) if w.lower() not in {"of", "the", "and", "in", "with", "to"}]
    return "".join(w[0] for w in words).upper() if 2 <= len(words) <= 6 else None


def _typo(name: str, rng: random.Random) -> str:
    spots = [m for m in _WORD.finditer(name) if len(m.group()) >= 5]
    if not spots:
        return name
    word = rng.choice(spots)
    i = rng.randrange(word.start() + 1, word.end() - 1)  # keep the first letter, as most typos do
    kind = rng.randrange(4)
    if kind == 0:  # swap two neighbours
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:  # drop one
        return name[:i] + name[i + 1 :]
    if kind == 2:  # double one
        return name[:i] + name[i] + name[i:]
    return name[:i] + rng.choice("aeiourstn") + name[i + 1 :]


def _reorder(name: str, rng: random.Random) -> str:
    if ", " in name:  # "Hearing loss, sensorineural" -> "sensorineural Hearing loss"
        head, _, tail = name.partition(", ")
        return f"{tail} {head}"
    if " of " in name:  # "Abnormality of the heart" -> "heart abnormality"
        head, _, tail = name.partition(" of ")
        return f"{tail.removeprefix('the ')} {head.lower()}"
    words = name.split()
    return f"{words[-1]}, {' '.join(words[:-1])}" if len(words) >= 2 and rng.random() < 0.5 else name


def _number(name: str, rng: random.Random) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    if name.endswith("y") and len(name) > 3:
        return name[:-1] + "ies"
    return name + ("es" if name.endswith(("sh", "ch", "x")) else "s")


def _case(name: str, rng: random.Random) -> str:
    return rng.choice((name.lower(), name.upper(), name.title(), name[:1].lower() + name[1:]))


_VARIANTS: tuple[tuple[str, float, Callable[[str, random.Random], str]], ...] = (
    ("typo", 0.12, _typo),
    ("reorder", 0.12, _reorder),
    ("number", 0.12, _number),
    ("case", 0.12, _case),
)
_P_ABBREVIATION = 0.15  # the rest (~37%) keep the KB name as written


def synthetic_gold_mentions(
    kb: KnowledgeBase, *, n: int, seed: int, types: Sequence[str] | None = None
) -> list[GoldMention]:
    """``n`` generated mentions of KB concepts in clinical sentences, with their gold ids.

    Args:
        kb: the knowledge base (concepts with the ``types`` asked for, or all).
        n: number of mentions.
        seed: the output is identical for the same KB, ``n`` and seed.
        types: keep concepts having one of these types.

    Returns:
        Gold mentions with ``doc_id`` ``syn-<seed>-<i>``, label ``synthetic:<variant>``.
    """
    rng = random.Random(seed)
    concepts = [c for c in kb if types is None or set(c.types) & set(types)]
    if not concepts:
        return []
    out: list[GoldMention] = []
    for i in range(n):
        concept = rng.choice(concepts)
        name = rng.choice(concept.names)
        other = rng.choice(concepts).name.lower()
        template = rng.choice(TEMPLATES)
        prefix_text = ""
        variant, draw = "name", rng.random()
        short = initialism(name)
        if short and draw < _P_ABBREVIATION:
            variant, mention = "abbreviation", short
            if rng.random() < 0.6:  # defined earlier in the "document", as abstracts do
                prefix_text = f"{name[:1].upper()}{name[1:]} ({short}) is rare. "
        else:
            mention = name
            for label, share, fn in _VARIANTS:
                draw -= share
                if draw < 0:
                    variant, mention = label, fn(name, rng)
                    break
        head, _, tail = template.partition("{m}" if "{m}" in template else "{M}")
        if "{M}" in template:
            mention = mention[:1].upper() + mention[1:]  # sentence-initial
        fill = {"o": other, "age": str(rng.randint(2, 70)), "sex": rng.choice(_SEXES)}
        before = prefix_text + head.format(**fill)
        text = before + mention + tail.format(**fill)
        start, end = len(before), len(before) + len(mention)
        ids = (concept.concept_id,)
        m = Mention(f"syn-{seed}-{i}", start, end, mention, f"synthetic:{variant}", MentionOrigin.IMPORTED, ids)
        out.append(GoldMention(m, mention_context(text, m.start, m.end), ids))
    return out
