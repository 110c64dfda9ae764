"""usecases.export: every format, who sees whose decisions (double annotation), blind scores, given ids."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from bel_core.formats import read_any
from bel_core.types import DecisionStatus, Document, Mention, MentionOrigin
from db.models import Role
from usecases import assignments, curation, export, services
from usecases.auth import User

# Detected by FakeLinker over tiny_kb: seizures 12-20, small head 27-37, ASD 39-42,
# short stature 57-70, Short fingers 76-89.
TEXT = "The boy had seizures and a small head. ASD was noted; no short stature, but Short fingers."
OTHER = "A girl with migraine headache and obesity."
SEIZURES, HEAD, ASD = ("d1", 12, 20), ("d1", 27, 37), ("d1", 39, 42)
ANN, BOB = User("ann", Role.CURATOR), User("bob", Role.CURATOR)
JUDY = User("judy", Role.ADJUDICATOR)
DOCUMENT_FORMATS = ("pubtator", "bioc-xml", "bioc-json", "bigbio", "gsc", "brat")


def spans(fmt: str, files: dict[str, str]) -> set[tuple[str, int, int]]:
    """The (doc_id, start, end) of every mention an export holds."""
    if fmt == "jsonl":
        return {(r["doc_id"], r["start"], r["end"]) for r in map(json.loads, next(iter(files.values())).splitlines())}
    if fmt == "csv":
        return {(r["doc_id"], int(r["start"]), int(r["end"])) for r in csv.DictReader(io.StringIO(*files.values()))}
    back = read_any([(n, t.encode()) for n, t in files.items()], format=fmt, max_bytes=10**7)
    assert back.problems == ()
    return {m.key for m in back.mentions}


@pytest.fixture
def double(factory, linker):
    """d1 double-annotated by ann and bob, each deciding one mention, judy adjudicating a third;
    d2 assigned to ann alone and decided by her."""
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("d1", TEXT, source="t"))
        assignments.assign_documents(session, ["ann", "bob"], double_fraction=1.0)
        services.ingest_document(session, linker, Document("d2", OTHER, source="t"))
        assignments.assign_documents(session, ["ann"], double_fraction=0.0)
        services.decide(session, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann", note="ann-secret")
        services.decide(session, linker, HEAD, DecisionStatus.NIL, curator="bob", note="bob-secret")
        curation.adjudicate(
            session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729"], adjudicator="judy", role=Role.ADJUDICATOR
        )
        services.decide(session, linker, ("d2", 12, 29), DecisionStatus.ACCEPTED, curator="ann", note="ann-open")
    return factory


def test_every_format_is_offered_and_written(double):
    assert set(export.EXPORT_FORMATS) == {"pubtator", "bioc-xml", "bioc-json", "bigbio", "brat", "csv", "jsonl", "gsc"}
    with double() as session:
        for fmt in export.EXPORT_FORMATS:
            assert spans(fmt, export.gold_files(session, fmt, JUDY)) == {SEIZURES, HEAD, ASD, ("d2", 12, 29)}, fmt
        with pytest.raises(ValueError, match="Unknown export format 'doc'"):
            export.gold_files(session, "doc", JUDY)
    brat = zipfile.ZipFile(io.BytesIO(export.as_download("brat", {"d1.txt": TEXT, "d1.ann": ""})))
    assert sorted(brat.namelist()) == ["d1.ann", "d1.txt"]


@pytest.mark.parametrize("fmt", export.EXPORT_FORMATS)
def test_a_curator_never_exports_another_curators_independent_verdicts(double, fmt: str):
    with double() as session:
        bob = export.gold_files(session, fmt, BOB)
        ann = export.gold_files(session, fmt, ANN)
    # Own and adjudicated decisions on the double-annotated d1; everything on d2, which is not.
    assert spans(fmt, bob) == {HEAD, ASD, ("d2", 12, 29)}
    assert spans(fmt, ann) == {SEIZURES, ASD, ("d2", 12, 29)}
    assert "ann-secret" not in "".join(bob.values()) and "bob-secret" not in "".join(ann.values())


def test_blind_decisions_carry_no_scores_in_any_export(factory, linker):
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("d1", TEXT, source="t"))
        decision = services.decide(
            session, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann", suggestions_hidden=True
        )
        shown = services.decide(session, linker, ASD, DecisionStatus.ACCEPTED, curator="ann")
    assert decision.shown == () and shown.shown  # what the audit trail keeps
    scores = {f"{c.raw_score}" for c in shown.shown} | {f"{c.calibrated_score}" for c in shown.shown}
    scores = {s for s in scores if len(s) >= 5}  # "1.0" is also XML's version
    assert scores
    with factory() as session:
        for fmt in export.EXPORT_FORMATS:
            text = "".join(export.gold_files(session, fmt, ANN).values())
            assert not [s for s in scores if s in text], fmt


def test_imported_ids_are_written_as_given_unless_normalized(factory, linker):
    mentions = [
        Mention("d1", 12, 20, "seizures", origin=MentionOrigin.IMPORTED, annotated_ids=("HP:0002279",)),
        Mention("d1", 27, 37, "small head", origin=MentionOrigin.IMPORTED, annotated_ids=("OMIM:613825",)),
    ]
    with factory.begin() as session:
        services.ingest_document(session, linker, Document("d1", TEXT, source="t"), mentions, detect=False)
        services.import_gold_decisions(session, linker, mentions, curator="import:t")
    with factory() as session:
        given = export.gold_files(session, "pubtator", JUDY)["bel_gold.pubtator"]
        normalized = export.gold_files(session, "pubtator", JUDY, normalized=True)["bel_gold.pubtator"]
        services.decide(session, linker, SEIZURES, DecisionStatus.CORRECTED, ["HP:0001156"], curator="ann")
        session.commit()
        corrected = export.gold_files(session, "pubtator", JUDY)["bel_gold.pubtator"]
    assert "\tHP:0002279\n" in given and "\tOMIM:613825\n" in given
    assert "\tHP:0001250\n" in normalized and "\tOMIM:613825\n" in normalized  # no primary id to give
    assert "\tHP:0001156\n" in corrected  # a curator's later verdict is theirs, not the file's
