"""Interchange formats: read documents with annotations, write gold, in the field's formats.

Stage: the edges of the workbench (import before detection, export after curation).
One module per format, each with ``read_<format>(filename, data) -> ParsedInput`` and
``write_<format>(documents, annotations)``; ``inputs.read_any`` reads many files, zip
archives included, detecting formats. Nothing here touches a database or a model.

Readers never crash on bad input: a bad record becomes an ``InputProblem`` (file, line)
and the rest of the file is kept; a file that cannot be read at all raises
``InputFormatError`` naming the file (and the line, or the JSON path). JSON is nested at
most ``common.MAX_JSON_DEPTH`` levels, documents assembled from passage offsets at most
``common.MAX_DOCUMENT_CHARS`` characters, and XML entities are never expanded.
``tests/fuzz`` holds every reader to this with mutated and hostile inputs.

========== ============================= ===========================================
format     reader / writer               notes
========== ============================= ===========================================
pubtator   read_pubtator / write_pubtator  title + abstract lines, tab-separated mentions
bioc-xml   read_bioc_xml / write_bioc_xml  via the ``bioc`` package
bioc-json  read_bioc_json / write_bioc_json
bigbio     read_bigbio / write_bigbio    BigBio KB schema, JSON Lines
brat       read_brat / write_brat        ``.txt`` + ``.ann``; writer returns files
gsc        read_gsc / write_gsc          GSC+ blocks (PMID, text, offset lines)
text       read_text                     one plain-text document, no annotations
csv        write_csv                     gold decisions only (no document text)
========== ============================= ===========================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bel_core.formats.bigbio import read_bigbio, write_bigbio
from bel_core.formats.bioc_io import read_bioc_json, read_bioc_xml, write_bioc_json, write_bioc_xml
from bel_core.formats.brat import read_brat, write_brat
from bel_core.formats.common import Annotations
from bel_core.formats.csv_gold import write_csv
from bel_core.formats.gsc import read_gsc, write_gsc
from bel_core.formats.inputs import IMPORT_FORMATS, detect_format, iter_inputs, read_any
from bel_core.formats.pubtator import read_pubtator, write_pubtator
from bel_core.formats.text import read_text
from bel_core.types import Document

Writer = Callable[[Sequence[Document], Annotations], str]

# Formats written as one text file; brat (several files) and csv (decisions) are apart.
WRITERS: dict[str, Writer] = {
    "pubtator": write_pubtator,
    "bioc-xml": write_bioc_xml,
    "bioc-json": write_bioc_json,
    "bigbio": write_bigbio,
    "gsc": write_gsc,
}

__all__ = [
    "IMPORT_FORMATS",
    "WRITERS",
    "Annotations",
    "detect_format",
    "iter_inputs",
    "read_any",
    "read_bigbio",
    "read_bioc_json",
    "read_bioc_xml",
    "read_brat",
    "read_gsc",
    "read_pubtator",
    "read_text",
    "write_bigbio",
    "write_bioc_json",
    "write_bioc_xml",
    "write_brat",
    "write_csv",
    "write_gsc",
    "write_pubtator",
]
