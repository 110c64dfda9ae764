"""End to end in a real browser: paste a document, review it by mouse and by keyboard.

Run explicitly: ``pytest -m browser tests/browser``. Screenshots land in
``tests/browser/artifacts/``; with ``BEL_SAVE_SCREENSHOTS=1`` the Review page is also
saved as ``docs/screenshots/review.png`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from bel_core.types import DecisionStatus
from db import repository
from db.engine import open_store
from tests.browser.conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.browser

TEXT = (
    "A 6-year-old girl was referred for seizures and short stature. Echocardiography showed an ASD. "
    "Her mother reports migraine headache; her brother has hearing loss and obesity."
)
DOC = "case-browser"


def _wait_for_decisions(store, n: int, timeout_s: float = 30.0) -> dict:
    """Poll the database until ``n`` decisions are stored (the click's rerun is asynchronous)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with store() as session:
            decisions = repository.latest_decisions(session, DOC)
        if len(decisions) >= n or time.monotonic() > deadline:
            return decisions
        time.sleep(0.25)


def test_paste_then_accept_by_click_and_by_keyboard(page, server):
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_label("Document text").fill(TEXT)
    page.get_by_label("Document id (optional)").fill(DOC)
    page.get_by_role("button", name=re.compile("^Add document")).click()
    page.get_by_text(re.compile("stored with 6 mention")).wait_for()
    page.wait_for_timeout(1000)  # the document table is a canvas drawn after it appears
    page.screenshot(path=ARTIFACTS / "documents.png")

    page.get_by_role("button", name=re.compile("^Open in Review")).click()
    page.locator(".bel-position", has_text=re.compile(r"^Item 1 of 6")).wait_for()
    store = open_store(f"sqlite:///{server.data_dir / 'bel.db'}")

    page.locator(".bel-cand").first.click()  # the mouse: link the top candidate
    page.locator(".bel-position", has_text=re.compile(r"^Item 2 of 6")).wait_for()
    assert len(_wait_for_decisions(store, 1)) == 1

    page.keyboard.press("a")
    page.locator(".bel-position", has_text=re.compile(r"^Item 3 of 6")).wait_for()
    decisions = _wait_for_decisions(store, 2)
    assert [d.status for d in decisions.values()] == [DecisionStatus.ACCEPTED] * 2
    assert {d.curator for d in decisions.values()} == {"browser-test"}

    page.locator(".bel-saved[data-state=saved]").wait_for()
    page.locator(".bel-doc-body mark.bel-decided").nth(1).wait_for()
    page.mouse.move(0, 0)
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS / "review.png")
    if os.environ.get("BEL_SAVE_SCREENSHOTS") == "1":
        target = REPO / "docs" / "screenshots" / "review.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACTS / "review.png", target)

    page.get_by_role("link", name="Export").click()
    page.locator("code", has_text=DOC).first.wait_for()
    page.screenshot(path=ARTIFACTS / "export.png")
    page.get_by_role("link", name="Models & KB").click()
    page.get_by_text("Agreement with curators").wait_for()
    page.wait_for_timeout(1500)  # plotly draws after the element appears
    page.screenshot(path=ARTIFACTS / "status.png", full_page=True)
