"""Blind review in a real browser: a blind mention shows no score and no confidence colour anywhere.

With ``blind_fraction`` 0.5 about half the mentions are blind (the same ones every time,
``usecases.review.is_blind``). Whichever mention is selected, no blind mention's highlight
carries a confidence colour or a ``p = ...`` hover text, and a selected blind mention shows
no candidates. Run explicitly: ``pytest -m browser tests/browser``.
"""

from __future__ import annotations

import re

import pytest

from usecases.review import is_blind

pytestmark = pytest.mark.browser

TEXT = "Seizures started at two. She has short stature and an ASD. Obesity was noted; migraine headache too."
DOC = "case-blind"
FRACTION = 0.5


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"BEL_BLIND_FRACTION": str(FRACTION)}


def test_blind_mentions_show_no_score_whatever_is_selected(page, server):
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_label("Document text").fill(TEXT)
    page.get_by_label("Document id (optional)").fill(DOC)
    page.get_by_role("button", name=re.compile("^Add document")).click()
    page.get_by_text(re.compile("stored with 5 mention")).wait_for()
    page.goto(f"{server.url}/review")
    page.locator(".bel-review[data-rendered='0']").wait_for()
    page.locator(".bel-title").click()
    seen_blind = seen_open = False
    for step in range(5):
        page.locator(f".bel-review[data-rendered='{step}']").wait_for()
        key = page.locator(".bel-review").get_attribute("data-rendered-key").split("|")
        selected_blind = is_blind((key[0], int(key[1]), int(key[2])), FRACTION)
        marks = page.locator(".bel-doc-body mark")
        for i in range(marks.count()):
            mark = marks.nth(i)
            start = TEXT.index(mark.text_content().rstrip("✓"))
            end = start + len(mark.text_content())
            if is_blind((DOC, start, end), FRACTION):
                seen_blind = True
                assert "p = " not in (mark.get_attribute("title") or "")
                assert not re.search(r"bel-(low|mid|high)", mark.get_attribute("class") or "")
            else:
                seen_open = True
                assert "p = " in (mark.get_attribute("title") or "")
        if selected_blind:
            assert page.locator(".bel-cand").count() == 0
            assert page.locator(".bel-notice", has_text="Blind review").count() == 1
        page.keyboard.press("j")
    assert seen_blind and seen_open  # the fraction gave both kinds here
