"""Accounts, the KB extension, agreement figures and the Quality page's figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bel_core.linking import agreement
from bel_core.linking.agreement import AgreementPair
from bel_core.types import Decision, DecisionStatus
from db.models import Role, UserRow
from usecases import auth, kb_extension, quality, services

ASD = ("doc1", 39, 42)
SEIZURES = ("doc1", 12, 20)


def test_accounts_hash_with_a_salt_and_refuse_bad_logins(factory):
    with factory.begin() as session:
        auth.add_user(session, "ann", "correct horse battery", Role.ADMIN)
        auth.add_user(session, "bob", "correct horse battery", Role.CURATOR)
        with pytest.raises(auth.AccountError, match="already exists"):
            auth.add_user(session, "ann", "another long password", Role.CURATOR)
        with pytest.raises(auth.AccountError, match="at least 10"):
            auth.add_user(session, "cy", "short", Role.CURATOR)
    with factory() as session:
        hashes = session.scalars(select(UserRow.password_hash)).all()
        assert all(h.startswith("$argon2id$") for h in hashes) and hashes[0] != hashes[1]  # salted
        assert auth.authenticate(session, "ann", "correct horse battery") == auth.User("ann", Role.ADMIN)
        for name, password in [("ann", "wrong password!"), ("nobody", "correct horse battery")]:
            with pytest.raises(auth.AccountError, match="Unknown user or wrong password"):
                auth.authenticate(session, name, password)
        assert [u.name for u in auth.list_users(session)] == ["ann", "bob"]
    assert auth.User("x", Role.ADJUDICATOR).can(Role.CURATOR) and not auth.User("x", Role.CURATOR).can(Role.ADMIN)


def test_synonyms_extend_the_kb_once_and_export(factory, linker, ingested):
    with factory.begin() as session:
        assert kb_extension.add_synonym(
            session, linker, " tonic  fits ", "HP:0002279", curator="ann", mention=SEIZURES
        )
        assert not kb_extension.add_synonym(session, linker, "Tonic fits", "HP:0001250", curator="bob")
        assert not kb_extension.add_synonym(session, linker, "seizures", "HP:0001250", curator="bob")  # in the KB
    with factory() as session:
        assert kb_extension.extension_pairs(session) == [("tonic fits", "HP:0001250")]
        [row] = [json.loads(line) for line in kb_extension.extension_jsonl(session).splitlines()]
        assert kb_extension.extension_version(session).startswith("ext-")
    assert (row["alias"], row["concept_id"], row["kb_version"], row["curator"]) == (
        "tonic fits", "HP:0001250", "tiny-1", "ann",
    )  # fmt: skip


def _d(status, ids=(), span=None, day=1):
    return Decision("d", 0, 3, status, tuple(ids), decided_at=datetime(2025, 1, day, tzinfo=UTC), corrected_span=span)


def test_agreement_figures():
    c, n, x = DecisionStatus.CORRECTED, DecisionStatus.NIL, DecisionStatus.NOT_ENTITY
    pairs = [
        AgreementPair(_d(c, ["A"]), _d(c, ["A"]), "T1"),
        AgreementPair(_d(c, ["A"]), _d(c, ["B"]), "T1"),
        AgreementPair(_d(n), _d(n), "T2", suggestions_hidden=True),
        AgreementPair(_d(n), _d(c, ["A"]), "T2", suggestions_hidden=True),
        AgreementPair(_d(x), _d(c, ["A"], day=3), None),
    ]
    r = agreement.report(pairs)
    assert (r.n_pairs, r.span, r.concept_given_span, r.nil) == (5, 0.8, 0.5, 0.5)
    # Observed 2/5; chance: A-labels 2/5*3/5 + B 0 + nil 2/5*1/5 = 8/25 -> (0.4-0.32)/(0.68)
    assert r.kappa == pytest.approx((0.4 - 0.32) / 0.68)
    assert set(r.kappa_by_type) == {"T1", "T2", "(no type)"}
    assert agreement.cohen_kappa(["a", "a"], ["a", "a"]) == 1.0
    assert agreement.cohen_kappa([], []) is None
    split = agreement.by_blindness(pairs)
    assert (split["suggestions shown"].n_pairs, split["suggestions hidden"].n_pairs) == (3, 2)
    assert [(day.day, n) for day, _, n in agreement.over_time(pairs)] == [(1, 4), (3, 5)]
    outcomes = [(_d(c, ["A"]), "A", False), (_d(c, ["B"]), "A", True), (_d(x), "A", False)]
    assert agreement.top1_agreement(outcomes, hidden=False) == (1.0, 1)
    assert agreement.top1_agreement(outcomes, hidden=True) == (0.0, 1)


def test_quality_figures_from_decisions(factory, linker, ingested):
    with factory.begin() as session:
        services.decide(session, linker, SEIZURES, DecisionStatus.ACCEPTED, curator="ann")
        services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729"], curator="ann")
        services.decide(session, linker, ASD, DecisionStatus.CORRECTED, ["HP:0000729"], curator="bob")
    with factory() as session:
        per_day = quality.decisions_per_curator_day(session)
        [(day, total, remaining)] = quality.burn_down(session)
        points = quality.calibration_points(session)
        pairs = quality.agreement_pairs(session, lambda cid: linker.kb.get(cid).types)
        outcomes = quality.top1_outcomes(session)
    assert sorted(per_day.values()) == [1, 2]
    assert (total, remaining) == (5, 3)
    assert sorted(accepted for _, accepted in points) == [False, True]
    assert [(p.a.curator, p.b.curator, p.semantic_type) for p in pairs] == [("ann", "bob", "Behavioral abnormality")]
    assert {top for _, top, _ in outcomes} == {"HP:0001250", "HP:0000729"}  # FakeLinker: ASD ties, lower id first


def test_cli_creates_the_first_admin_without_a_default_password(tmp_path, monkeypatch, capsys):
    import io

    from cli import main
    from db.engine import open_store

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin password\n"))
    assert main(["--db", url, "user", "add", "root", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--db", url, "user", "add", "ann", "--password-stdin"]) == 2
    assert main(["--db", url, "user", "list"]) == 0
    out = capsys.readouterr()
    assert "created admin root" in out.out and "root\tadmin" in out.out
    assert "at least 10 characters" in out.err
    with open_store(url)() as session:
        assert auth.authenticate(session, "root", "a long admin password").role is Role.ADMIN
