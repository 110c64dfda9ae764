"""Finding 5, without a browser: the escapers leave nothing for Markdown, HTML or plotly to interpret.

The browser test (``tests/browser/test_security_browser.py``) checks the DOM of every page;
these check the strings the pages hand to Streamlit, for every payload.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest

from bel_core.types import Concept, Document, Mention
from pages.components import charts, model_charts, quality_charts
from pages.components.widgets import _MARKDOWN_SPECIAL, concept_card, context_html, highlighted_text_html, md
from tests.security.payloads import PAYLOADS, text_with_payloads

APP_TAGS = {"div", "span", "mark", "b", "code"}  # what widgets.py itself writes


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_escapes_every_markdown_special_and_breaks_autolinks(payload: str) -> None:
    out = md(payload)
    decoded = html.unescape(out)
    # Each special character comes after a backslash; nothing but a backslash escape is special.
    i = 0
    while i < len(decoded):
        if decoded[i] == "\\":
            assert decoded[i + 1] in _MARKDOWN_SPECIAL, (payload, decoded[i : i + 2])
            i += 2
            continue
        assert decoded[i] not in _MARKDOWN_SPECIAL, (payload, decoded[i])
        i += 1
    assert "<" not in out and ">" not in out
    unescaped = decoded.replace("\\", "")
    assert "://" not in unescaped and "www." not in unescaped.lower()
    assert all(unescaped[k + 1] == "\u2060" for k, ch in enumerate(unescaped) if ch == "@")
    # Shown as written, apart from the invisible word joiners.
    assert unescaped.replace("\u2060", "") == payload.replace("\\", "")


def test_html_builders_keep_payloads_as_one_text_block() -> None:
    text = text_with_payloads("The girl had seizures.", "Later the seizures stopped.")
    doc = Document("d", text)
    start = text.index("seizures")
    mention = Mention("d", start, start + 8, "seizures", label=PAYLOADS[6])
    concept = Concept("PL:1", PAYLOADS[6], synonyms=PAYLOADS[:6], definition=text, types=(PAYLOADS[13],))
    for markup in (
        highlighted_text_html(doc, [mention], {mention.key: 0.9}, mention.key),
        context_html(doc, mention, window=len(text)),
        concept_card(concept),
    ):
        # No line break at all: a blank line would end the HTML block and let Markdown in.
        assert "\n" not in markup and "\r" not in markup
        parsed = _parse(markup)
        assert parsed.tags <= APP_TAGS
    assert "".join(_parse(context_html(doc, mention, window=len(text))).text) == text


def test_chart_labels_are_escaped_for_plotly() -> None:
    curators = {(None, p): 1 for p in PAYLOADS[:3]}
    figure = quality_charts.per_curator_day_figure(curators)
    assert [trace.name for trace in figure.data] == sorted(charts.plain(p) for p in PAYLOADS[:3])
    version = model_charts.VersionView(
        1, "v", "candidate", None, "", {}, {}, {"per_type": {PAYLOADS[2]: {"acc@1": 1}}}
    )
    [bar] = model_charts.per_type_figure([version]).data
    assert bar.x == (html.escape(PAYLOADS[2], quote=False),) and "<" not in bar.x[0]


def test_payload_count_for_the_closing_note(capsys) -> None:
    print(f"payloads: {len(PAYLOADS)}")
    assert len(PAYLOADS) >= 20
