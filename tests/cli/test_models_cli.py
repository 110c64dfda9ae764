"""`bel retrain` and `bel models list|promote|rollback` end to end on the tiny KB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bel_core.kb.loaders import load_jsonl
from cli import main
from db.engine import open_store
from db.models import JobStatus
from tests.curated_store import seed_curated
from usecases import jobs, registry


@pytest.fixture
def db_url(tmp_path: Path, tiny_kb_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store with 16 curated documents; the CLI reads the tiny KB, TF-IDF only."""
    monkeypatch.setenv("BEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEL_KB", str(tiny_kb_path))
    monkeypatch.setenv("BEL_DENSE_ENABLED", "0")
    monkeypatch.delenv("BEL_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'bel.db'}"
    seed_curated(open_store(url), load_jsonl(tiny_kb_path), 16)
    return url


def _listed(db_url: str, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert main(["--db", db_url, "models", "list", "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_retrain_promote_rollback_and_list(db_url, tmp_path, tiny_kb_path, capsys):
    assert main(["--db", db_url, "models", "list"]) == 0
    assert "built-in default linker is serving" in capsys.readouterr().out

    assert main(["--db", db_url, "retrain", "--promote", "--out", str(tmp_path / "m1")]) == 0
    out = capsys.readouterr().out
    assert "(promoted)" in out and "held-out test: 9 mentions, acc@1 1.0000" in out
    first = _listed(db_url, capsys)
    assert [(r["status"], r["n_decisions"], r["path"]) for r in first] == [("promoted", 64, str(tmp_path / "m1"))]

    # The same decisions give the same model: refused, nothing registered.
    assert main(["--db", db_url, "retrain", "--out", str(tmp_path / "again")]) == 2
    assert "is registered already" in capsys.readouterr().err and not (tmp_path / "again").exists()

    # More decisions -> another version, child of the promoted one.
    seed_curated(open_store(db_url), load_jsonl(tiny_kb_path), 24)
    assert main(["--db", db_url, "retrain", "--out", str(tmp_path / "m2")]) == 0
    capsys.readouterr()
    second, _ = _listed(db_url, capsys)
    assert second["status"] == "candidate" and second["parent_version"] == first[0]["version"]
    assert second["n_decisions"] == 96

    assert main(["--db", db_url, "models", "promote", second["version"]]) == 0
    assert capsys.readouterr().out.strip() == f"promoted {second['version']}"
    assert [r["status"] for r in _listed(db_url, capsys)] == ["promoted", "retired"]

    assert main(["--db", db_url, "models", "rollback"]) == 0
    assert capsys.readouterr().out.strip() == f"rolled back to {first[0]['version']}"
    assert [r["status"] for r in _listed(db_url, capsys)] == ["retired", "promoted"]


def test_retrain_job_id_reads_the_job_parameters_and_ends_the_job(db_url, tmp_path, capsys):
    store = open_store(db_url)
    job_id = jobs.create_job(store, "retrain", {"seed": 7, "ratios": [0.6, 0.2, 0.2]}, "tester")
    assert main(["--db", db_url, "retrain", "--job-id", str(job_id), "--out", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    with store() as session:
        job = jobs.get_job(session, job_id)
        row = registry.get_version(session, job.result_version)
    assert job.status is JobStatus.SUCCEEDED and row.config["seed"] == 7 and row.config["ratios"] == [0.6, 0.2, 0.2]
    # A job runs once: rerunning it is refused with a message, not a traceback.
    assert main(["--db", db_url, "retrain", "--job-id", str(job_id)]) == 2
    assert "is succeeded, not queued" in capsys.readouterr().err


def test_models_errors_are_reported_with_exit_status_2(db_url, tmp_path, capsys):
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    assert main(["--db", db_url, "retrain", "--out", str(keep)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err and (keep / "notes.txt").read_text() == "mine"
    assert main(["--db", db_url, "models", "promote", "no-such-version"]) == 2
    assert "No registered model version 'no-such-version'" in capsys.readouterr().err
    assert main(["--db", db_url, "models", "rollback"]) == 2
    assert "built-in default is serving" in capsys.readouterr().err
