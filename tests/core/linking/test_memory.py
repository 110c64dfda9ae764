"""Document memory: earlier confident links and curator decisions inform later mentions."""

from __future__ import annotations

from bel_core.linking.memory import (
    DECISION_PROBABILITY,
    MemoryConfig,
    apply_memory,
    mention_key,
    suggestions_from_decision,
)
from bel_core.types import Candidate, Decision, DecisionStatus, Document, LinkResult, Mention

TEXT = "Myotonic dystrophy (DM) is inherited. DM patients and myotonic dystrophies; later dystrophy."
DOC = Document("d1", TEXT)
ABBR = {"DM": "Myotonic dystrophy"}


def _mention(surface: str, occurrence: int = 0) -> Mention:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(surface, start + 1)
    return Mention("d1", start, start + len(surface), surface)


def _result(mention: Mention, *ranked: tuple[str, float]) -> LinkResult:
    cands = tuple(Candidate(cid, cid.lower(), cid.lower(), "hybrid", p, calibrated_score=p) for cid, p in ranked)
    return LinkResult(mention, cands, "m", "kb")


def test_mention_key_joins_abbreviation_case_and_plural():
    assert mention_key("DM", ABBR) == mention_key("myotonic dystrophies", ABBR) == "myotonic dystrophy"
    assert mention_key("glass", {}) == "glass"  # "ss" is not a plural


def test_confident_earlier_link_promotes_later_same_key():
    first = _result(_mention("Myotonic dystrophy"), ("D009223", 0.95), ("D004485", 0.02))
    later = _result(_mention("DM", 1), ("D003920", 0.40), ("D009223", 0.30))
    out = apply_memory([later, first], abbreviations=ABBR)  # input order kept, text order processed
    assert [c.concept_id for c in out[0].candidates] == ["D009223", "D003920"]
    assert out[0].candidates[0].calibrated_score == 0.95
    assert out[0].candidates[0].stage_scores[-1] == ("memory:link", 0.95)
    assert out[1] == first


def test_unconfident_or_weaker_links_change_nothing():
    first = _result(_mention("Myotonic dystrophy"), ("D009223", 0.6))
    later = _result(_mention("DM", 1), ("D003920", 0.4))
    assert apply_memory([first, later], abbreviations=ABBR)[1] == later  # 0.6 < threshold 0.9
    strong = _result(_mention("DM", 1), ("D003920", 0.97))
    confident = _result(_mention("Myotonic dystrophy"), ("D009223", 0.95))
    assert apply_memory([confident, strong], abbreviations=ABBR)[1] == strong  # own top is surer
    assert apply_memory([confident, later], abbreviations=ABBR, config=MemoryConfig(links=False))[1] == later


def test_decisions_insert_their_concept_everywhere_in_the_document():
    later = _result(_mention("DM", 1), ("D003920", 0.8))
    decided = _mention("DM")
    decision = Decision("d1", decided.start, decided.end, DecisionStatus.CORRECTED, ("D009223",))
    out = apply_memory(
        [later, _result(decided, ("D003920", 0.8))],
        abbreviations=ABBR,
        decisions=[(decision, "DM")],
        name_of=lambda cid: f"name of {cid}",
    )
    top = out[0].candidates[0]
    assert (top.concept_id, top.name, top.stage, top.calibrated_score) == (
        "D009223",
        "name of D009223",
        "memory",
        DECISION_PROBABILITY,
    )
    assert out[1].candidates[0].concept_id == "D003920"  # the decided mention itself is left alone


def test_related_head_noun_rule_is_opt_in_and_only_reorders():
    first = _result(_mention("myotonic dystrophies"), ("D009223", 0.95))
    later = _result(_mention("dystrophy", 1), ("D004485", 0.5), ("D009223", 0.3))
    assert apply_memory([first, later], abbreviations=ABBR)[1] == later
    related = apply_memory([first, later], abbreviations=ABBR, config=MemoryConfig(related=True))[1]
    assert [c.concept_id for c in related.candidates] == ["D009223", "D004485"]
    absent = _result(_mention("dystrophy", 1), ("D004485", 0.5))
    assert apply_memory([first, absent], abbreviations=ABBR, config=MemoryConfig(related=True))[1] == absent


def test_suggestions_from_a_correction():
    mentions = [_mention("Myotonic dystrophy"), _mention("DM"), _mention("DM", 1), _mention("myotonic dystrophies")]
    decision = Decision("d1", mentions[1].start, mentions[1].end, DecisionStatus.CORRECTED, ("D009223",))
    with_doc = suggestions_from_decision(mentions, decision, document=DOC)
    assert with_doc == [(mentions[0], "D009223"), (mentions[2], "D009223"), (mentions[3], "D009223")]
    assert suggestions_from_decision(mentions, decision) == [(mentions[2], "D009223")]  # no abbreviations
    nil = Decision("d1", mentions[1].start, mentions[1].end, DecisionStatus.NIL)
    assert suggestions_from_decision(mentions, nil, document=DOC) == []
