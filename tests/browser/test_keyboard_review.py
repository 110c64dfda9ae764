"""Keyboard-only review in a real browser, checked in the database afterwards.

The Review component applies each key in the page and sends the verdicts in the
background: these tests press keys without waiting for the server, then check that every
decision (and every undo) is stored, that the next mention was shown at once, that a
decision survives the tab being closed right after the key press, and that the mention,
its context and its top five candidates fit the screen at 1366x768 and 1440x900.
Run explicitly: ``pytest -m browser tests/browser``. With ``BEL_SAVE_SCREENSHOTS=1`` the
two layouts are saved as ``docs/screenshots/review-1366.png`` and ``review-1440.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable

import pytest

from db import repository
from db.engine import open_store
from tests.browser.conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.browser

TEXT = "Seizures started at two. She has short stature and an ASD. Obesity was noted; migraine headache too."
DOC = "case-keys"


def _add_document(page, server):
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_label("Document text").fill(TEXT)
    page.get_by_label("Document id (optional)").fill(DOC)
    page.get_by_role("button", name=re.compile("^Add document")).click()
    page.get_by_text(re.compile("stored with 5 mention")).wait_for()
    page.goto(f"{server.url}/review")
    page.locator(".bel-review[data-rendered='0']").wait_for()
    return open_store(f"sqlite:///{server.data_dir / 'bel.db'}")


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _histories(store) -> dict[tuple[str, int, int], list[str]]:
    with store() as session:
        return {
            m.key: [d.status.value for d in repository.decision_history(session, m.key)]
            for m in repository.list_mentions(session, DOC)
        }


PANEL = (
    "[...document.querySelectorAll('.stBidiComponent *')]"
    ".map((e) => e.shadowRoot).find((r) => r && r.querySelector('.bel-review'))"
)


def _press_now(page, key: str, ctrl: bool = False) -> dict:
    """Dispatch one key and read the panel in the same task: what shows without any server round trip."""
    return page.evaluate(
        f"""([key, ctrl]) => {{
            document.body.dispatchEvent(new KeyboardEvent('keydown', {{key, ctrlKey: ctrl, bubbles: true}}));
            const panel = {PANEL};
            return {{
                index: Number(panel.querySelector('.bel-review').dataset.rendered),
                title: panel.querySelector('.bel-title').textContent,
                status: panel.querySelector('.bel-status').textContent,
            }};
        }}""",
        [key, ctrl],
    )


def test_decide_and_undo_with_the_keyboard_only_never_waiting_on_the_server(page, server):
    store = _add_document(page, server)
    shown = [_press_now(page, key) for key in ("1", "n", "x", "q")]  # link top, NIL, not entity, needs context
    # Every press showed the next mention in the same task as the key: nothing waited on the server.
    assert [s["index"] for s in shown] == [1, 2, 3, 4]
    assert len({s["title"] for s in shown}) == 4
    _wait(lambda: sum(len(h) for h in _histories(store).values()) == 4, "4 stored decisions")
    page.locator(".bel-saved[data-state=saved]").wait_for()
    assert sorted(h[0] for h in _histories(store).values() if h) == ["accepted", "needs_context", "nil", "not_entity"]

    # u and Ctrl+Z walk back the stack: the cursor returns to each mention, which is undecided again.
    back = _press_now(page, "u")
    assert (back["index"], back["status"]) == (3, "Undecided")
    back = _press_now(page, "z", ctrl=True)
    assert (back["index"], back["status"]) == (2, "Undecided")
    _wait(lambda: sum(len(h) for h in _histories(store).values()) == 6, "2 undo rows")
    assert sorted(h for h in _histories(store).values() if h) == sorted(
        [["accepted"], ["nil"], ["not_entity", "undecided"], ["needs_context", "undecided"]]
    )
    with store() as session:
        assert {d.curator for d in repository.latest_decisions(session, DOC).values()} == {"browser-test"}


def test_undo_works_after_the_filter_changed(page, server):
    store = _add_document(page, server)
    statuses = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect")
    statuses.click()
    page.get_by_role("option", name="undecided", exact=True).click()
    page.keyboard.press("Escape")
    page.locator(".bel-position", has_text=re.compile(r"of 5$")).wait_for()
    assert _press_now(page, "x")["index"] == 1  # decided under the "undecided" filter...
    _wait(lambda: ["not_entity"] in _histories(store).values(), "the decision")
    # ...then the filter changes to one that leaves the mention out; u still takes the decision back,
    # and the cursor returns to it.
    statuses.click()
    page.get_by_role("option", name="accepted", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(2000)
    page.locator(".bel-review[data-rendered]").wait_for()
    page.locator(".bel-title").click()  # keys go to the filter's text field while it has the focus
    page.keyboard.press("u")
    _wait(lambda: ["not_entity", "undecided"] in _histories(store).values(), "the undo row")
    undone = next(k for k, h in _histories(store).items() if h == ["not_entity", "undecided"])
    assert page.locator(".bel-review").get_attribute("data-rendered-key") == "|".join(map(str, undone))


def test_a_decision_is_kept_when_the_tab_is_closed_right_after_the_key(page, server):
    store = _add_document(page, server)
    _press_now(page, "n")
    page.close()  # no wait at all: the action is on the wire or in localStorage
    stored = lambda: any(h == ["nil"] for h in _histories(store).values())  # noqa: E731
    deadline = time.monotonic() + 10
    while not stored() and time.monotonic() < deadline:
        time.sleep(0.2)
    if not stored():  # not sent before the close: the next visit sends it from localStorage
        again = page.context.new_page()
        again.goto(f"{server.url}/review")
        _wait(stored, "the decision from localStorage")
    assert sorted(h for h in _histories(store).values() if h) == [["nil"]]


@pytest.mark.parametrize("size", [(1366, 768), (1440, 900)])
def test_mention_context_and_top_five_candidates_fit_the_screen(page, server, size):
    _add_document(page, server)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.wait_for_timeout(800)
    inside = []
    for selector in (".bel-title", ".bel-context", *(f".bel-cand:nth-child({i})" for i in range(1, 6))):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        inside.append(0 <= box["y"] and box["y"] + box["height"] <= size[1])
    assert all(inside), inside
    assert page.locator(".bel-cand:nth-child(5) .bel-p").text_content().strip()  # its probability is shown
    current = page.locator(".bel-doc-body mark.bel-current").bounding_box()
    body = page.locator(".bel-doc-body").bounding_box()
    assert current and body and body["y"] <= current["y"] <= body["y"] + body["height"]
    page.mouse.move(0, 0)
    name = f"review-{size[0]}.png"
    page.screenshot(path=ARTIFACTS / name)
    if os.environ.get("BEL_SAVE_SCREENSHOTS") == "1":
        shutil.copyfile(ARTIFACTS / name, REPO / "docs" / "screenshots" / name)


GROUP_TEXT = "ASD was seen. Her brother has ASD too, and an uncle has ASD."


def test_group_verdict_over_the_same_text_with_one_undo(page, server):
    page.get_by_role("heading", name="Documents", exact=True).wait_for()
    page.get_by_label("Document text").fill(GROUP_TEXT)
    page.get_by_label("Document id (optional)").fill("case-group")
    page.get_by_role("button", name=re.compile("^Add document")).click()
    page.get_by_text(re.compile("stored with 3 mention")).wait_for()
    page.goto(f"{server.url}/review")
    page.locator(".bel-review[data-rendered='0']").wait_for()
    store = open_store(f"sqlite:///{server.data_dir / 'bel.db'}")
    page.locator(".bel-title").click()
    page.keyboard.press("g")
    page.locator(".bel-mode", has_text="2 more “ASD” in this document").wait_for()  # the preview count
    page.keyboard.press("x")
    with store() as session:
        keys = [m.key for m in repository.list_mentions(session, "case-group")]

    def statuses() -> list[list[str]]:
        with store() as session:
            return [[d.status.value for d in repository.decision_history(session, k)] for k in keys]

    _wait(lambda: statuses() == [["not_entity"]] * 3, "three group decisions")
    page.locator(".bel-saved[data-state=saved]").wait_for()
    page.keyboard.press("u")  # one undo for the whole group
    _wait(lambda: statuses() == [["not_entity", "undecided"]] * 3, "three undo rows")


def test_span_fixed_by_keys_and_a_mention_added_by_selection(page, server):
    store = _add_document(page, server)
    first = page.locator(".bel-review").get_attribute("data-rendered-key")
    page.locator(".bel-title").click()
    page.keyboard.press("w")
    page.keyboard.press("Shift+ArrowLeft")  # the start moves one token left
    page.locator(".bel-mode", has_text="Span").wait_for()
    page.keyboard.press("Enter")
    _wait(lambda: any("wrong_span" in h for h in _histories(store).values()), "the span fix")
    # The fixed mention keeps its place: still item 1, now with the wider span.
    page.locator(".bel-position", has_text=re.compile(r"^Item 1 of 5")).wait_for()
    page.wait_for_function(
        f"() => {{ const r = {PANEL}; return r.querySelector('.bel-review').dataset.renderedKey !== '{first}'; }}"
    )
    doc_id, start, end = first.split("|")
    fixed = page.locator(".bel-review").get_attribute("data-rendered-key").split("|")
    assert fixed[0] == doc_id and int(fixed[1]) < int(start) and fixed[2] == end

    # Select "started at" with the mouse and add it as a mention with "m".
    page.evaluate(
        f"""() => {{
            const body = {PANEL}.querySelector('.bel-doc-body');
            const node = [...body.childNodes].find((n) => n.nodeType === 3 && n.textContent.includes('started at'));
            const at = node.textContent.indexOf('started at');
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + 'started at'.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            body.dispatchEvent(new MouseEvent('mouseup', {{bubbles: true}}));
        }}"""
    )
    page.locator(".bel-mode", has_text="“started at”").wait_for()
    page.keyboard.press("m")
    start = TEXT.index("started at")
    _wait(lambda: (DOC, start, start + len("started at")) in _histories(store), "the added mention")
    page.locator(".bel-review", has=page.locator(".bel-title", has_text="started at")).wait_for()


def test_kb_search_as_you_type_links_with_enter_and_is_cleared_on_the_next_mention(page, server):
    store = _add_document(page, server)
    first = page.locator(".bel-review").get_attribute("data-rendered-key").split("|")
    page.locator(".bel-title").click()
    page.keyboard.press("/")
    page.keyboard.type("hearing lo", delay=40)  # no Enter: hits come while typing
    page.locator(".bel-hit", has_text="Hearing impairment").first.wait_for()
    page.locator(".bel-search").fill("HP:9999999x")
    page.locator(".bel-search-error", has_text="No concept matches").wait_for()  # next to the field
    page.locator(".bel-search").fill("hearing loss")
    page.locator(".bel-hit", has_text="Hearing impairment").first.wait_for()
    page.keyboard.press("Enter")
    key = (first[0], int(first[1]), int(first[2]))
    _wait(lambda: _histories(store)[key] == ["corrected"], "the link from search")
    with store() as session:
        assert repository.latest_decisions(session, DOC)[key].concept_ids == ("HP:0000365",)
    assert page.locator(".bel-search").input_value() == ""  # the next mention starts empty
    assert page.locator(".bel-hit").count() == 0
