"""Training export from curated decisions: formats, hard negatives, document splits, datasheet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bel_core.errors import UnknownConceptError
from bel_core.kb.knowledge_base import KnowledgeBase
from bel_core.types import Concept, DecisionStatus, Document
from tests.conftest import TEXT
from usecases import services
from usecases.training_export import (
    TRAINING_FORMATS,
    TrainingConfig,
    build_rows,
    curated_examples,
    export_training,
    split_documents,
)

ALL_TRAIN = TrainingConfig(ratios=(1.0, 0.0, 0.0), negatives_per_positive=2)


@pytest.fixture
def curated(factory: sessionmaker[Session], linker) -> sessionmaker[Session]:
    """Ten documents with the same text, each: 2 accepted, 1 corrected, 1 NIL, 1 not-an-entity."""
    verdicts = [
        ((12, 20), DecisionStatus.ACCEPTED, ()),
        ((27, 37), DecisionStatus.ACCEPTED, ()),
        ((39, 42), DecisionStatus.CORRECTED, ("HP:0001631",)),
        ((57, 70), DecisionStatus.NIL, ()),
        ((76, 89), DecisionStatus.NOT_ENTITY, ()),
    ]
    for n in range(10):
        with factory.begin() as session:
            services.ingest_document(session, linker, Document(f"doc{n}", TEXT, source="test"))
            for (start, end), status, ids in verdicts:
                services.decide(session, linker, (f"doc{n}", start, end), status, ids, curator="ann")
    return factory


def lookup(kb: KnowledgeBase):
    def concept(concept_id: str) -> Concept | None:
        try:
            return kb.get(concept_id)
        except UnknownConceptError:
            return None

    return concept


def test_basilisk_pairs_with_hard_negatives_from_what_the_curator_saw(curated, tiny_kb):
    with curated.begin() as session:
        examples = [e for e in curated_examples(session) if e.mention.doc_id == "doc0"]
    rows = build_rows(examples, "basilisk", lookup(tiny_kb), ALL_TRAIN)["train"]
    assert list(rows[0]) == ["query", "passage", "label"]
    assert rows[0]["query"] == (
        "mention: seizures ; context: The boy had seizures and a small head. "
        "ASD was noted; no short stature, but Short fingers."
    )
    assert [(r["passage"], r["label"]) for r in rows[:3]] == [
        ("candidate: Seizure ; tuis: Abnormality of the nervous system", 1),
        ("candidate: Migraine ; tuis: Abnormality of the nervous system", 0),
        ("candidate: Brachydactyly ; tuis: Abnormality of limbs", 0),
    ]
    corrected = [r["passage"].split(" ; ")[0] for r in rows if r["query"].startswith("mention: ASD")]
    assert corrected == [
        "candidate: Atrial septal defect",
        "candidate: Autistic behavior",
        "candidate: Ventricular septal defect",
    ]
    nil = [r["label"] for r in rows if r["query"].startswith("mention: short stature")]
    assert nil == [0, 0]  # NIL: every shown candidate was rejected
    assert len(rows) == 11 and sum(r["label"] for r in rows) == 3


def test_splits_are_by_document_deterministic_and_seeded():
    ids = [f"d{i}" for i in range(20)]
    splits = split_documents(ids, 7, (0.8, 0.1, 0.1))
    assert splits == split_documents(list(reversed(ids)), 7, (0.8, 0.1, 0.1))
    assert sorted(list(splits.values()).count(s) for s in ("train", "dev", "test")) == [2, 2, 16]
    assert splits != split_documents(ids, 8, (0.8, 0.1, 0.1))


def test_export_writes_splits_and_a_datasheet(curated, tiny_kb, tmp_path: Path):
    with curated.begin() as session:
        sheet = export_training(session, "basilisk", tmp_path, concept=lookup(tiny_kb), config=TrainingConfig(seed=3))
    sizes = {name: (s["documents"], s["mentions"]) for name, s in sheet["splits"].items()}
    assert sizes == {"train": (8, 32), "dev": (1, 4), "test": (1, 4)}
    with curated.begin() as session:
        config = TrainingConfig(seed=3, text_free=True)
        export_training(session, "basilisk", tmp_path / "free", concept=lookup(tiny_kb), config=config)
    docs = [
        {json.loads(line)["doc_id"] for line in (tmp_path / "free" / f"{s}.jsonl").read_text().splitlines()}
        for s in ("train", "dev", "test")
    ]
    assert [len(d) for d in docs] == [8, 1, 1] and len(set.union(*docs)) == 10  # no document in two splits
    train = sheet["splits"]["train"]
    assert (train["positives"], train["negatives"], train["statuses"]) == (
        24,
        96,
        {"accepted": 16, "corrected": 8, "nil": 8},
    )
    assert json.loads((tmp_path / "datasheet.json").read_text()) == sheet
    assert "| train | 8 | 32 | 120 | 24 | 96 | 20.0% |" in (tmp_path / "datasheet.md").read_text()


def test_text_free_rows_carry_ids_and_offsets_only(curated, tiny_kb):
    with curated.begin() as session:
        examples = curated_examples(session)
    config = TrainingConfig(ratios=(1.0, 0.0, 0.0), text_free=True)
    for fmt in TRAINING_FORMATS:
        dumped = json.dumps(build_rows(examples, fmt, lookup(tiny_kb), config))
        assert "seizures" not in dumped.lower() and "Seizure" not in dumped, fmt
    first = build_rows(examples, "basilisk", lookup(tiny_kb), config)["train"][0]
    assert first == {"doc_id": "doc0", "start": 12, "end": 20, "concept_id": "HP:0001250", "label": 1}


def test_generative_and_preference_formats(curated, tiny_kb):
    with curated.begin() as session:
        examples = [e for e in curated_examples(session) if e.mention.doc_id == "doc0"]
    concept = lookup(tiny_kb)
    rows = {fmt: build_rows(examples, fmt, concept, ALL_TRAIN)["train"] for fmt in TRAINING_FORMATS}
    assert rows["biencoder"][0] == {"query": "seizures", "passage": "Seizure"}
    assert rows["syncabel"][0]["source"].startswith("The boy had [seizures]{Abnormality of the nervous system} and")
    assert [r["target"] for r in rows["syncabel"]] == ["Seizure", "Microcephaly", "Atrial septal defect"]
    assert rows["preference"][0] == {
        "prompt": rows["syncabel"][0]["source"],
        "chosen": "Seizure",
        "rejected": "Migraine",
    }
    (document,) = rows["longbel"]
    entities = document["entities"]
    assert document["document_id"] == "doc0" and document["text"] == TEXT
    assert [e["memory"] for e in entities] == [
        [],
        [["seizures", "Seizure"]],
        [["seizures", "Seizure"], ["small head", "Microcephaly"]],
    ]
    assert entities[2]["normalized"] == [{"db_name": "HP", "db_id": "HP:0001631"}]
    with pytest.raises(ValueError, match="Unknown training format 'gpt'"):
        build_rows(examples, "gpt", concept, ALL_TRAIN)
