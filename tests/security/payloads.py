"""Finding 5: strings that must stay text wherever they are shown, and a store full of them.

Each payload would, if interpreted, make something the DOM checks can see: a link or
image to ``evil.example`` / port 9 (also watched as network requests), a heading, bold,
colour or a list, a script setting ``window.__bel_xss``. They go into document text
(separated by blank lines, which once ended the HTML block and let Markdown through), KB
names, synonyms and definitions, curator names, a mention label and per-type metric names.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bel_core.kb.loaders import load_jsonl
from bel_core.types import DecisionStatus, Document, Mention
from db import repository
from tests.fakes import FakeLinker
from usecases import assignments, registry, services

EVIL_HOSTS = ("evil.example", "127.0.0.1:9")

PAYLOADS = (
    "<script>window.__bel_xss = 1</script>",
    "<img src=http://127.0.0.1:9/html.png onerror=window.__bel_xss=2>",
    '<a href="http://evil.example/html">html link payload</a>',
    "<iframe src=http://evil.example/frame></iframe>",
    "<style>body{display:none} /* style payload */</style>",
    "<b>bold html payload</b>",
    "[Session expired - log in again](http://evil.example/md)",
    "![remote image](http://127.0.0.1:9/md.png)",
    "<http://evil.example/autolink>",
    "www.evil.example/bare",
    "mail@evil.example",
    "# Heading payload",
    "Setext heading payload\n===",
    ":red[coloured payload] :blue-background[background payload]",
    ":material/warning: :smile: emoji payload",
    "**strong payload** _em payload_ ~~strike payload~~ `code payload`",
    "$x^2$ math payload",
    "> quote payload\n- list payload",
    "| a | b |\n|---|---|\n| table | payload |",
    "[ref payload][r]\n\n[r]: http://evil.example/ref",
    "&lt;b&gt;entity payload&lt;/b&gt;",
    "\u202eevil bidi payload\u202c",
    "zero\u200bwidth [zw payload](\u200bhttp://evil.example/zw)",
    "\\[escaped](http://evil.example/escaped)",
)

# Markdown and plotly share these few words; a formatted one shows up in a tag below.
FORMATTED_TAGS = "h1,h2,h3,h4,h5,h6,strong,em,del,blockquote,li,table,iframe,img"


def text_with_payloads(first: str, last: str) -> str:
    """``first``, every payload on its own paragraph, then ``last``."""
    return "\n\n".join([first, *PAYLOADS, last])


def payload_kb(tiny_kb_path: Path, out: Path) -> Path:
    """The tiny KB plus a concept whose name, synonyms and definition are payloads (it matches "seizures")."""
    lines = tiny_kb_path.read_text(encoding="utf-8").splitlines()
    concept = {
        "concept_id": "PL:0000001",
        "name": "Seizure " + PAYLOADS[6],
        "synonyms": ["seizures", *PAYLOADS[:6]],
        "types": [PAYLOADS[13]],
        "definition": text_with_payloads("Definition.", "End of definition."),
        "parents": [],
        "xrefs": [PAYLOADS[2]],
        "alt_ids": [],
    }
    out.write_text("\n".join([*lines, json.dumps(concept)]) + "\n", encoding="utf-8")
    return out


CURATORS = ("[ann payload](http://evil.example/curator)", "<b>bob payload</b> :red[bob payload]")
DOC = "payload-doc"


def seed(store: sessionmaker[Session], kb_path: Path) -> None:
    """A document of payloads, two curators named with payloads who disagree, a model version with payload metrics."""
    kb = load_jsonl(kb_path)
    linker = FakeLinker(kb)
    text = text_with_payloads("The girl had seizures.", "Later the seizures stopped.")
    label = Mention(DOC, text.rindex("stopped"), text.rindex("stopped") + 7, "stopped", label=PAYLOADS[6])
    with store.begin() as session:
        services.ingest_document(session, linker, Document(DOC, text), [label])
        assignments.assign_documents(session, list(CURATORS), double_fraction=1.0)
        key = repository.list_mentions(session, DOC)[0].key
        services.decide(session, linker, key, DecisionStatus.NIL, curator=CURATORS[0])
        services.decide(session, linker, key, DecisionStatus.NOT_ENTITY, curator=CURATORS[1])
        registry.register_version(
            session,
            version="payload-version-1",
            path=str(kb_path.parent),
            metrics={
                "acc@1": 0.5,
                "per_type": {PAYLOADS[2]: {"acc@1": 0.5, "n": 2}, PAYLOADS[6]: {"acc@1": 0.25, "n": 4}},
            },
        )
