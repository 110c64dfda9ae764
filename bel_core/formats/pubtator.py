"""PubTator: the line format of the NCBI corpora, read and written.

Read::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id[|id...][<TAB>composite texts]
    PMID<TAB>CID<TAB>chemical_id<TAB>disease_id        (relation: skipped)

The document text is ``title + " " + abstract`` (just the title when the abstract is
empty) and offsets are character offsets into it. A mention whose text does not match
the document at its offsets is reported (file, line, both strings) and skipped, because a
silently shifted span would become wrong gold.

What survives a round trip: document ids and text, the title boundary, spans, types and
ids. Composite ids ``A|B`` and combinations ``A+B`` both become several ids of one mention
and are written back joined by ``|``; ``-1`` (no id) is read as a NIL mention and written
back as ``-1``; relation lines are skipped, because decisions are about single mentions;
the 7th column (composite part texts) is not kept. A text that is a title plus a trailing
space (an empty abstract) comes back without that space.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bel_core.errors import InputFormatError
from bel_core.formats.common import Annotations, check_annotations, decode, one_line, sorted_annotations
from bel_core.formats.documents import InputProblem, ParsedInput
from bel_core.types import Document, Mention, MentionOrigin

_TITLE_OR_ABSTRACT = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")
_MAX_PROBLEMS_IN_ERROR = 5


class _PubTatorReader:
    """Line-by-line PubTator state machine; collects documents, mentions and problems."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.documents: dict[str, Document] = {}
        self.first_line: dict[str, int] = {}
        self.mentions: list[Mention] = []
        self.spans: set[tuple[str, int, int]] = set()
        self.problems: list[InputProblem] = []
        self.pending: tuple[str, str, int] | None = None  # (pmid, title, line) awaiting |a|
        self.skipping: str | None = None  # pmid of a duplicate record being skipped

    def problem(self, line: int, message: str) -> None:
        self.problems.append(InputProblem(self.filename, line, message))

    def finish_pending(self, abstract: str = "") -> None:
        if self.pending is not None:
            pmid, title, line = self.pending
            text = f"{title} {abstract}" if abstract else title
            self.documents[pmid] = Document(pmid, text, source=self.filename, title_end=len(title))
            self.first_line[pmid] = line
            self.pending = None

    def title_or_abstract(self, n: int, pmid: str, kind: str, body: str) -> None:
        if not pmid:
            self.finish_pending()
            self.problem(n, f"empty document id before '|{kind}|'; write the PMID first, e.g. '123|{kind}|...'")
        elif kind == "t":
            self.finish_pending()
            self.skipping = None
            if pmid in self.documents:
                self.skipping = pmid
                self.problem(
                    n,
                    f"duplicate document id {pmid!r} (first at line {self.first_line[pmid]}); "
                    "this record and its mention lines are skipped, the first one is kept",
                )
            else:
                self.pending = (pmid, body, n)
        elif self.pending is not None and self.pending[0] == pmid:
            self.finish_pending(body)
        elif pmid != self.skipping:
            self.problem(
                n,
                f"abstract line for {pmid!r} without its title line just before it; "
                f"write '{pmid}|t|title' first, then '{pmid}|a|abstract'",
            )

    def tab_line(self, n: int, line: str) -> None:
        self.finish_pending()
        fields = line.split("\t")
        if len(fields) == 4 and not fields[1].strip().isdigit():
            return  # a relation line (PMID CID chemical disease): not a mention
        if fields[0].strip() == self.skipping:
            return
        result = self.mention(fields)
        if isinstance(result, str):
            self.problem(n, result)
        else:
            self.spans.add(result.key)
            self.mentions.append(result)

    def mention(self, fields: list[str]) -> Mention | str:
        """The mention on a tab-separated line, or what is wrong with the line."""
        if len(fields) < 6:
            return f"expected at least 6 tab-separated fields (PMID, start, end, text, type, id), found {len(fields)}"
        pmid, text = fields[0].strip(), fields[3]
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:  # also digit strings too long for int()
            return f"offsets must be integers, found start={fields[1][:20]!r} end={fields[2][:20]!r}"
        document = self.documents.get(pmid)
        if document is None:
            return f"mention for unknown document {pmid!r}: no '{pmid}|t|' and '{pmid}|a|' lines come before it"
        if not 0 <= start < end <= len(document.text):
            return (
                f"span {start}-{end} of {text!r} is not inside document {pmid!r} "
                f"(need 0 <= start < end <= {len(document.text)}); fix the offsets"
            )
        if document.text[start:end] != text:
            return (
                f"mention text {text!r} does not match the document text at {start}-{end} "
                f"({document.text[start:end]!r}); fix the offsets or the text"
            )
        if (pmid, start, end) in self.spans:
            return f"duplicate mention span {start}-{end} in {pmid!r}; the first one is kept"
        ids = tuple(i.strip() for i in re.split(r"[|+]", fields[5]) if i.strip() not in ("", "-1"))
        label = fields[4].strip() or None
        return Mention(pmid, start, end, text, label=label, origin=MentionOrigin.IMPORTED, annotated_ids=ids)

    def read(self, text: str) -> ParsedInput:
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                self.finish_pending()
                continue
            match = _TITLE_OR_ABSTRACT.match(line)
            if match:
                self.title_or_abstract(n, match.group(1).strip(), match.group(2), match.group(3))
            elif "\t" in line:
                self.tab_line(n, line)
            else:
                self.finish_pending()
                self.problem(
                    n,
                    "not a PubTator line: expected 'PMID|t|title', 'PMID|a|abstract' or a tab-separated mention line",
                )
        self.finish_pending()
        return ParsedInput(tuple(self.documents.values()), tuple(self.mentions), tuple(self.problems))


def parse_pubtator(text: str, filename: str) -> ParsedInput:
    """Parse PubTator text; bad lines become :class:`InputProblem` and the rest is kept.

    Mention ids are split on ``|`` and ``+``, stripped of whitespace, kept otherwise as
    written (the KB resolves prefixes), and ``-1`` (no id) is dropped. The 7th column of
    composite mentions is ignored; relation lines are skipped silently.

    Args:
        text: the file content.
        filename: used in problems and as each document's ``source``.

    Returns:
        Documents in file order, imported mentions in line order, and the problems.

    Raises:
        InputFormatError: no document could be read at all.
    """
    parsed = _PubTatorReader(filename).read(text.removeprefix("\ufeff").replace("\r\n", "\n"))
    if not parsed.documents:
        shown = "; ".join(str(p) for p in parsed.problems[:_MAX_PROBLEMS_IN_ERROR])
        raise InputFormatError(
            filename,
            "no document found: expected 'PMID|t|title' and 'PMID|a|abstract' lines"
            + (f" (problems: {shown})" if shown else ""),
        )
    return parsed


def read_pubtator(filename: str, data: bytes | str) -> ParsedInput:
    """Read a PubTator file (:func:`parse_pubtator` after decoding); bad lines become problems.

    Raises:
        InputFormatError: binary, not UTF-8, or no document at all in the file.
    """
    return parse_pubtator(decode(filename, data), filename)


def write_pubtator(documents: Sequence[Document], annotations: Annotations) -> str:
    """Write documents and mention annotations as PubTator (the inverse of :func:`parse_pubtator`).

    Args:
        documents: in output order.
        annotations: per doc id, (mention, concept ids) pairs; empty ids are written ``-1``,
            a missing label ``Entity``. Mentions are written sorted by span.

    Returns:
        PubTator text: one block per document, blocks separated by a blank line.

    Raises:
        ValueError: a doc id has '|' or whitespace, an annotation names a document not
            given, or a mention's text does not match its document.
    """
    check_annotations(documents, annotations)
    blocks = []
    for document in documents:
        if re.search(r"[|\s]", document.doc_id):
            raise ValueError(f"doc id {document.doc_id!r} cannot be written as a PubTator id (no '|' or spaces)")
        text, cut = document.text, document.title_end
        if 0 < cut and (cut == len(text) or text[cut] == " "):
            title, abstract = text[:cut], text[cut + 1 :]
        else:
            # No title (plain text), or a title not followed by the PubTator space: the whole
            # text goes on the title line so that every offset stays valid.
            title, abstract = text, ""
        lines = [f"{document.doc_id}|t|{one_line(title)}", f"{document.doc_id}|a|{one_line(abstract)}"]
        for mention, ids in sorted_annotations(annotations, document.doc_id):
            lines.append(
                f"{document.doc_id}\t{mention.start}\t{mention.end}\t{one_line(mention.text)}\t"
                f"{mention.label or 'Entity'}\t{'|'.join(ids) or '-1'}"
            )
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
