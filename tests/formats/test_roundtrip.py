"""Export -> import gives back the same documents, spans and ids, for every format.

On a hand-written fixture, on the shared corpora (read at test time from ../shared/data,
skipped when absent) and on hypothesis-generated documents.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bel_core.formats import WRITERS, read_any, read_bigbio, read_gsc, read_pubtator, write_brat
from bel_core.formats.documents import ParsedInput
from bel_core.types import Document, Mention, MentionOrigin
from tests.conftest import FIXTURES, SHARED_DATA

FORMATS = [*WRITERS, "brat"]
FILE_NAMES = {
    "pubtator": "x.pubtator",
    "bioc-xml": "x.xml",
    "bioc-json": "x.json",
    "bigbio": "x.jsonl",
    "gsc": "x.tsv",
}
# Formats that keep the title boundary and the entity type.
KEEPS_TITLE = {"pubtator", "bioc-xml", "bioc-json", "bigbio"}
KEEPS_LABEL = {"pubtator", "bioc-xml", "bioc-json", "bigbio", "brat"}
ONE_LINE = {"pubtator", "gsc"}  # their text lines cannot hold line breaks (written as spaces)


def annotations(parsed: ParsedInput) -> dict[str, list[tuple[Mention, tuple[str, ...]]]]:
    out: dict[str, list[tuple[Mention, tuple[str, ...]]]] = {}
    for m in parsed.mentions:
        out.setdefault(m.doc_id, []).append((m, m.annotated_ids))
    return out


def export_import(parsed: ParsedInput, fmt: str) -> ParsedInput:
    docs, anns = parsed.documents, annotations(parsed)
    if fmt == "brat":
        files = [(name, text.encode()) for name, text in write_brat(docs, anns).items()]
    else:
        files = [(FILE_NAMES[fmt], WRITERS[fmt](docs, anns).encode())]
    return read_any(files, format=fmt, max_bytes=50_000_000)


def assert_same(before: ParsedInput, after: ParsedInput, fmt: str) -> None:
    assert after.problems == ()

    def title(d: Document) -> int:
        # A title that is the whole text and no title are the same thing in PubTator.
        return d.title_end if fmt in KEEPS_TITLE and d.title_end < len(d.text) else 0

    assert [(d.doc_id, d.text, title(d)) for d in after.documents] == [
        (d.doc_id, d.text, title(d)) for d in before.documents
    ]
    label = fmt in KEEPS_LABEL  # writers name an untyped mention "Entity"

    def mentions(p: ParsedInput) -> list[tuple[object, ...]]:
        return sorted(
            (m.doc_id, m.start, m.end, m.text, (m.label or "Entity") if label else None, m.annotated_ids)
            for m in p.mentions
        )

    assert mentions(after) == mentions(before)


@pytest.mark.parametrize("fmt", FORMATS)
def test_fixture_round_trip(fmt: str):
    parsed = read_bigbio("s.jsonl", (FIXTURES / "fmt_sample.bigbio.jsonl").read_bytes())
    good = ParsedInput(parsed.documents, parsed.mentions, ())
    assert_same(good, export_import(good, fmt), fmt)


CORPORA = {
    "ncbi-dev": ("ncbi_disease/NCBIdevelopset_corpus.txt", read_pubtator),
    "bc5cdr-dev": ("bc5cdr/CDR_DevelopmentSet.PubTator.txt", read_pubtator),
    "gsc-dev": ("gsc_plus/GSCplus_dev_gold.tsv", read_gsc),
}


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request: pytest.FixtureRequest) -> ParsedInput:
    path, reader = CORPORA[request.param]
    if not (SHARED_DATA / path).is_file():
        pytest.skip(f"shared corpus {SHARED_DATA / path} is not available")
    parsed = reader(path, (SHARED_DATA / path).read_bytes())
    assert parsed.problems == ()
    return parsed


@pytest.mark.parametrize("fmt", FORMATS)
def test_shared_corpus_round_trip(corpus: ParsedInput, fmt: str):
    assert_same(corpus, export_import(corpus, fmt), fmt)


_CHARS = st.characters(codec="utf-8", categories=("L", "N", "P", "Zs"), exclude_characters="\u2028\u2029\x85")
_IDS = st.lists(
    st.one_of(st.from_regex(r"HP:\d{7}", fullmatch=True), st.from_regex(r"D\d{6}", fullmatch=True)),
    max_size=3,
    unique=True,
).map(tuple)


@st.composite
def documents(draw: st.DrawFn, multiline: bool) -> ParsedInput:
    docs: list[Document] = []
    mentions: list[Mention] = []
    doc_ids = draw(st.lists(st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True), min_size=1, max_size=3, unique=True))
    for doc_id in doc_ids:
        pieces = st.text(_CHARS | st.just("\n") if multiline else _CHARS, min_size=1, max_size=80)
        # Real texts do not start or end with whitespace; PubTator cannot carry "title " + "".
        text = draw(pieces.filter(lambda t: t.strip() == t))
        title_end = draw(st.sampled_from([0, *[i for i, c in enumerate(text) if c == " " and i > 0]]))
        docs.append(Document(doc_id, text, source="gen", title_end=title_end))
        spans = draw(st.sets(st.tuples(st.integers(0, len(text) - 1), st.integers(1, 20)), max_size=5))
        for start, length in sorted({(s, min(s + n, len(text))) for s, n in spans}):
            label = draw(st.from_regex(r"[A-Z][a-z]{0,8}", fullmatch=True))
            m = Mention(doc_id, start, length, text[start:length], label, MentionOrigin.IMPORTED, draw(_IDS))
            mentions.append(m)
    return ParsedInput(tuple(docs), tuple(mentions), ())


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_documents_survive_export_import(fmt: str, data: st.DataObject):
    parsed = data.draw(documents(multiline=fmt not in ONE_LINE))
    assert_same(parsed, export_import(parsed, fmt), fmt)
