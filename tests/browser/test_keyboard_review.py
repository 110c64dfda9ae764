"""Keyboard-only review in a real browser: every verdict is one key press, checked in the database.

Run explicitly: ``pytest -m browser tests/browser``. With ``BEL_SAVE_SCREENSHOTS=1`` the
span editor is saved as ``docs/screenshots/review-span-editor.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter

import pytest

from bel_core.types import DecisionStatus, MentionOrigin
from db import repository
from db.engine import open_store
from tests.browser.conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.browser

TEXT = "Seizures started at two. She has short stature and an ASD. Obesity was noted; migraine headache too."
DOC = "case-keys"


def _n_decisions(store) -> int:
    with store() as session:
        return sum(len(repository.decision_history(session, m.key)) for m in repository.list_mentions(session, DOC))


def _press(page, store, keys: list[str], n_decisions: int, timeout_s: float = 30.0) -> None:
    """Press ``keys`` in order, then wait until ``n_decisions`` decision rows exist (reruns are asynchronous)."""
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(400)  # let the rerun draw the buttons the next key needs
    deadline = time.monotonic() + timeout_s
    while _n_decisions(store) < n_decisions:
        assert time.monotonic() < deadline, f"expected {n_decisions} decisions after {keys}"
        time.sleep(0.2)
    page.wait_for_timeout(600)


def test_review_several_mentions_with_the_keyboard_only(page, server):
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_label("Document text").fill(TEXT)
    page.get_by_label("Document id (optional)").fill(DOC)
    page.get_by_role("button", name=re.compile("^Add document")).click()
    page.get_by_text(re.compile("stored with 5 mention")).wait_for()
    page.get_by_role("button", name=re.compile("^Open in Review")).click()
    page.get_by_text(re.compile(r"^Item 1 of 5")).wait_for()
    store = open_store(f"sqlite:///{server.data_dir / 'bel.db'}")
    page.get_by_role("heading", name="Review", exact=True).click()  # focus the page, not a field

    for key, n in (("1", 1), ("n", 2), ("x", 3), ("q", 4)):  # link top, NIL, not an entity, needs context
        _press(page, store, [key], n)  # one key per verdict, and the cursor moves on by itself
        # Wait for the redraw before the next key: on a loaded machine a rerun can take seconds.
        page.get_by_text(re.compile(rf"^Item {n + 1} of 5")).wait_for()
    page.keyboard.press("k")  # back to the deferred mention...
    page.get_by_text(re.compile(r"^Item 4 of 5")).wait_for()
    page.wait_for_timeout(400)
    _press(page, store, ["u"], 5)  # ...and undo its verdict
    with store() as session:
        latest = repository.latest_decisions(session, DOC)
    assert Counter(d.status for d in latest.values()) == Counter(
        {DecisionStatus.ACCEPTED: 1, DecisionStatus.NIL: 1, DecisionStatus.NOT_ENTITY: 1, DecisionStatus.SKIPPED: 1}
    )
    assert {d.curator for d in latest.values()} == {"browser-test"}

    # Wrong span: open the editor, widen the end by one token, save (3 keys); the concept is kept.
    current = next(iter(set(_mention_keys(store)) - set(latest)))
    page.keyboard.press("j")
    page.wait_for_timeout(800)
    page.keyboard.press("w")
    page.get_by_text(re.compile("^Correct the span")).wait_for()
    page.keyboard.press("ArrowRight")
    page.get_by_text(re.compile(r"now \d+-\d+")).wait_for()
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in the shot
    page.wait_for_timeout(600)
    page.screenshot(path=ARTIFACTS / "review-span-editor.png")
    if os.environ.get("BEL_SAVE_SCREENSHOTS") == "1":
        shutil.copyfile(ARTIFACTS / "review-span-editor.png", REPO / "docs" / "screenshots" / "review-span-editor.png")
    _press(page, store, ["Enter"], 7)  # WRONG_SPAN on the old span + a verdict on the new one
    with store() as session:
        latest = repository.latest_decisions(session, DOC)
        manual = [m for m in repository.list_mentions(session, DOC) if m.origin is MentionOrigin.MANUAL]
    assert latest[current].status is DecisionStatus.WRONG_SPAN
    [new] = manual
    assert (new.start, latest[current].corrected_span) == (current[1], (new.start, new.end))
    assert new.end > current[2] and latest[new.key].concept_ids


def _mention_keys(store) -> list[tuple[str, int, int]]:
    with store() as session:
        return [m.key for m in repository.list_mentions(session, DOC)]
