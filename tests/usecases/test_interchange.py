"""KB updates over the store: the stored decisions a new KB release retires or merges."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bel_core.kb.diff import kb_diff
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Concept
from usecases.ingest import IngestOptions, ingest_files
from usecases.interchange import decisions_affected

PUBTATOR = (
    "7|t|Seizures and microcephaly.\n7|a|Short stature too.\n"
    "7\t0\t8\tSeizures\tPhenotype\tHP:0001250\n7\t13\t25\tmicrocephaly\tPhenotype\tHP:0000252\n"
    "7\t27\t40\tShort stature\tPhenotype\t-1\n"
)


def _gold(factory: sessionmaker[Session], linker) -> None:
    options = IngestOptions(max_bytes=10_000, as_gold=True)
    assert ingest_files(factory, linker, [("c.pubtator", PUBTATOR.encode())], options=options).n_gold == 3


def test_decisions_affected_by_a_kb_update(factory: sessionmaker[Session], linker):
    _gold(factory, linker)
    old = KnowledgeBase(
        [Concept("HP:0001250", "Seizure"), Concept("HP:0000252", "Microcephaly")], name="K", version="1"
    )
    new = KnowledgeBase([Concept("HP:0000253", "Small head", alt_ids=("HP:0000252",))], name="K", version="2")
    with factory.begin() as session:
        affected = decisions_affected(session, kb_diff(old, new))
    assert [(a.key, a.concept_id, a.change, a.replacement) for a in affected] == [
        (("7", 0, 8), "HP:0001250", "retired", None),
        (("7", 13, 25), "HP:0000252", "merged", "HP:0000253"),
    ]
