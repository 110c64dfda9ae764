"""In a real browser: the generator's ranking beside the reranker's, and its saliency heat map.

A tiny random Llama is fine-tuned for a few steps on the tiny KB through the real
``bel train --linker generator`` code path; the app server loads it with
``BEL_GENERATOR_DIR``. The model learns nothing useful, so the test checks what the curator
sees (the order switch, the merged list, the heat map), not what the model proposes.
Screenshots: ``tests/browser/artifacts/side_by_side.png`` and ``saliency.png`` (with
``BEL_SAVE_SCREENSHOTS=1`` also ``docs/screenshots/review-saliency.png``).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from cli import main
from db import repository
from db.engine import open_store
from tests.browser.conftest import ARTIFACTS, REPO
from tests.cli.test_train_cli import DOCS, pubtator
from tests.core.tiny_generators import save_tiny_llama

pytestmark = pytest.mark.browser

TEXT = "The girl had seizures and short stature. Echocardiography showed an ASD."
DOC = "case-two-models"


@pytest.fixture(scope="module")
def generator_dir(tmp_path_factory: pytest.TempPathFactory, tiny_kb_path: Path) -> Path:
    root = tmp_path_factory.mktemp("generator")
    base = save_tiny_llama(root / "base")
    (root / "train.pubtator").write_text(pubtator(DOCS, 100), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("BEL_DATA_DIR", str(root / "data"))
    args = ["train", "--linker", "generator", "--kb", str(tiny_kb_path), "--train", str(root / "train.pubtator")]
    args += ["--out", str(root / "model"), "--base-model", str(base), "--synthetic", "20", "--seed", "3"]
    try:
        assert main([*args, "--batch-size", "8", "--beams", "3"]) == 0
    finally:
        mp.undo()
    return root / "model"


@pytest.fixture
def server_env(generator_dir: Path) -> dict[str, str]:
    return {"BEL_GENERATOR_DIR": str(generator_dir)}


def test_both_rankings_side_by_side_and_the_generator_heat_map(page, server):
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_label("Document text").fill(TEXT)
    page.get_by_label("Document id (optional)").fill(DOC)
    page.get_by_role("button", name=re.compile("^Add document")).click()
    page.get_by_text(re.compile("stored with 3 mention")).wait_for()
    store = open_store(f"sqlite:///{server.data_dir / 'bel.db'}")
    with store() as session:
        generated = repository.latest_link_results(session, DOC, linker="generator")
    assert len(generated) == 3 and all(r.candidates for r in generated.values())

    page.get_by_role("button", name=re.compile("^Open in Review")).click()
    page.locator(".bel-position", has_text=re.compile(r"^Item 1 of 3")).wait_for()
    page.locator(".bel-gen", has_text=re.compile(r"gen (\d|–)")).first.wait_for()
    page.locator(".bel-notice", has_text="Ordered by the reranker").wait_for()

    # "m" orders by the generator (the pipeline on the tiny KB has no reranker, so the
    # generator is the only transformer and the heat map explains its beam).
    page.locator(".bel-title").click()
    page.keyboard.press("m")
    page.locator(".bel-notice", has_text="Ordered by the generator").wait_for()
    page.set_viewport_size({"width": 1440, "height": 1350})
    page.screenshot(path=ARTIFACTS / "side_by_side.png")

    page.get_by_text("Why this score? (word attributions)").click()
    page.get_by_role("button", name=re.compile("^Explain the score of")).click()
    page.locator("span.bel-saliency").first.wait_for()
    assert page.locator("span.bel-saliency").count() >= 3
    page.get_by_text(re.compile("log-probability of the beam")).wait_for()
    page.wait_for_timeout(1000)
    page.screenshot(path=ARTIFACTS / "saliency.png")
    if os.environ.get("BEL_SAVE_SCREENSHOTS") == "1":
        target = REPO / "docs" / "screenshots" / "review-saliency.png"
        shutil.copyfile(ARTIFACTS / "saliency.png", target)
