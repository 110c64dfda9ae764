"""The Review page's "Why this score?" expander: heat map on demand, cached, escaped.

The real app runs with a model directory holding a tiny random cross-encoder for the tiny
KB, so the linker reranks and the expander explains its margins.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from bel_core.config import Settings
from bel_core.explain.saliency import Saliency, WordAttribution
from bel_core.linking.builder import load_settings_kb
from bel_core.runtime.model_dir import KBIdentity, Manifest, write_manifest
from db.models import SaliencyCacheRow
from pages.components.review_saliency import heatmap_html
from pages.components.widgets import md
from tests.app.conftest import CLINICAL_TEXT, click, paste
from tests.core.tiny_cross_encoder import save_tiny_cross_encoder


@pytest.fixture
def with_reranker(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model directory (reranker only) for the tiny KB, and 2/4 IG steps to keep the test quick."""
    models = app_env / "models"
    save_tiny_cross_encoder(models / "reranker", num_labels=2)
    kb = load_settings_kb(Settings.load(env=os.environ))
    write_manifest(models, Manifest(KBIdentity.of(kb), {"reranker": "reranker"}, {"rerank": True}))
    config = app_env / "bel.toml"
    config.write_text("[saliency]\nfast_steps = 2\nprecise_steps = 4\n", encoding="utf-8")
    monkeypatch.setenv("BEL_CONFIG", str(config))
    monkeypatch.setenv("BEL_MODELS_DIR", str(models))
    return models


def _expander_markdown(at) -> list[str]:
    return [m.value for m in at.markdown if "bel-saliency" in m.value]


def test_heat_map_is_computed_on_demand_then_cached(app, store, with_reranker):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    click(at, "Open in Review")
    assert not _expander_markdown(at)
    at.button(key="saliency-compute").click().run()
    assert not at.exception, at.exception
    (heat_map,) = _expander_markdown(at)
    assert "Mention and context" in heat_map and "Candidate" in heat_map and "raises</span>" in heat_map
    summary = [c.value for c in at.caption if "Explaining the reranker" in c.value]
    assert summary and "2 steps" in summary[0] and md("(cached)") not in summary[0]
    with store() as session:
        rows = session.scalars(select(SaliencyCacheRow)).all()
    assert [(r.linker, r.settings) for r in rows] == [("reranker", "ig;steps=2;max_length=128")]
    assert rows[0].model_version.startswith("reranker@")

    at.run()  # a later look reads the stored map: no button, same picture
    assert not [b for b in at.button if b.key == "saliency-compute"]
    assert _expander_markdown(at) == [heat_map]
    assert any(md("(cached)") in c.value for c in at.caption)

    at.radio(key=next(r.key for r in at.radio if r.key.startswith("saliency-steps"))).set_value("precise").run()
    assert [b.key for b in at.button if b.key == "saliency-compute"] == ["saliency-compute"]


def test_the_generators_beam_is_explained_over_its_prompt(app, app_env, store, monkeypatch):
    from tests.core.tiny_generators import save_tiny_llama

    models = app_env / "generator"
    save_tiny_llama(models / "generator")
    kb = load_settings_kb(Settings.load(env=os.environ))
    linker = {"prompt_style": "syncabel", "num_beams": 2}
    write_manifest(models, Manifest(KBIdentity.of(kb), {"generator": "generator"}, linker, linker_kind="generator"))
    config = app_env / "bel.toml"
    config.write_text("[saliency]\nfast_steps = 2\nprecise_steps = 4\n", encoding="utf-8")
    monkeypatch.setenv("BEL_CONFIG", str(config))
    monkeypatch.setenv("BEL_GENERATOR_DIR", str(models))
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    click(at, "Open in Review")
    at.button(key="saliency-compute").click().run()
    assert not at.exception, at.exception
    (heat_map,) = _expander_markdown(at)
    assert "Prompt" in heat_map and "Mention and context" not in heat_map
    with store() as session:
        assert [r.linker for r in session.scalars(select(SaliencyCacheRow))] == ["generator"]


def test_without_a_transformer_the_expander_says_how_to_get_one(app):
    at = app()
    paste(at, CLINICAL_TEXT, doc_id="case-1")
    click(at, "Open in Review")
    assert any("No transformer scores candidates here" in c.value for c in at.caption)


def test_heat_map_escapes_text_and_shades_by_sign():
    saliency = Saliency(
        linker="reranker",
        model_version="m",
        explained="margin",
        score=0.6,
        output=0.4,
        baseline_output=0.0,
        delta=0.0,
        n_steps=8,
        segments={"left": "mention: <b>x</b> & y", "right": "candidate: z"},
        words=(
            WordAttribution("left", 12, 13, "x", 0.5),
            WordAttribution("left", 18, 19, "&", -0.25),
            WordAttribution("right", 11, 12, "z", 0.0),
        ),
        truncated=False,
        seconds=0.1,
    )
    page = heatmap_html(saliency)
    assert "<b>" not in page and "&lt;b&gt;" in page
    assert 'title="x: +0.500">x</span>' in page and "rgba(26,152,80,0.85)" in page
    assert 'title="&amp;: -0.250">&amp;</span>' in page and "rgba(215,48,39,0.42)" in page
    assert "full colour = |attribution| 0.500" in page


def test_heatmap_of_text_with_blank_lines_stays_one_html_block():
    """A blank line would end Streamlit's HTML block and let the rest be read as Markdown."""
    text = "context: first\n\n[link](http://evil.example/x) # heading\nend"
    saliency = Saliency(
        linker="reranker",
        model_version="m",
        explained="margin",
        score=0.6,
        output=0.4,
        baseline_output=0.0,
        delta=0.0,
        n_steps=8,
        segments={"left": text},
        words=(WordAttribution("left", 9, 14, "first", 0.5),),
        truncated=False,
        seconds=0.1,
    )
    page = heatmap_html(saliency)
    assert "\n" not in page and "&#10;&#10;[link](http://evil.example/x)" in page
