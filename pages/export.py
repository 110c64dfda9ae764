"""Export: counts of what has been curated, a preview, the gold file, and the curators' KB extension."""

from __future__ import annotations

from collections import Counter
from typing import Literal

import pandas as pd
import streamlit as st

from bel_core.types import DecisionStatus
from db import repository
from usecases import kb_extension
from usecases import services
from pages.components.resources import get_store
from pages.components.widgets import STATUS_LABELS

ExportFormat = Literal["jsonl", "pubtator"]
FORMATS: dict[ExportFormat, tuple[str, str, str]] = {
    # format: (label, file name, MIME type)
    "jsonl": ("JSON Lines gold (one decision per line)", "bel_gold.jsonl", "application/jsonl"),
    "pubtator": ("PubTator (linked and NIL mentions)", "bel_gold.pubtator", "text/plain"),
}
PREVIEW_LINES = 20

store = get_store()

st.title("Export", anchor=False)

with store() as session:
    summaries = repository.list_documents(session)
    latest = repository.latest_decisions(session)

by_status = Counter(decision.status for decision in latest.values())
n_mentions = sum(d.n_mentions for d in summaries)
n_decided = sum(d.n_decided for d in summaries)

docs_col, mentions_col, decided_col = st.columns(3)
docs_col.metric("Documents", len(summaries))
mentions_col.metric("Mentions", n_mentions)
decided_col.metric("Decided", n_decided)
st.dataframe(
    pd.DataFrame(
        {"status": [STATUS_LABELS[s] for s in DecisionStatus], "mentions": [by_status[s] for s in DecisionStatus]}
    ),
    hide_index=True,
    width=480,
)

fmt: ExportFormat = st.radio("Format", list(FORMATS), format_func=lambda f: FORMATS[f][0], horizontal=True)
label, file_name, mime = FORMATS[fmt]
with store() as session:
    exported = services.export_gold(session, fmt)
    synonyms = kb_extension.extension_jsonl(session)
    extension_version = kb_extension.extension_version(session)

with st.sidebar:
    # Shown whatever the gold state: synonyms can exist before any verdict is exported.
    st.caption(f"KB extension: {len(synonyms.splitlines())} curator synonym(s), version {extension_version}")
    if synonyms:
        st.download_button(
            "Download KB extension (JSONL)", synonyms, file_name="bel_kb_extension.jsonl", mime="application/jsonl"
        )

if not exported.strip():
    st.info("Nothing to export yet: decide some mentions on the Review page first.")
    st.stop()

lines = exported.splitlines()
st.caption(f"Preview: first {min(PREVIEW_LINES, len(lines))} of {len(lines)} lines")
# st.code shows the text verbatim; exported document text is never rendered as HTML.
st.code("\n".join(lines[:PREVIEW_LINES]), language="json" if fmt == "jsonl" else None, wrap_lines=True)
st.download_button(
    f"Download {file_name}", exported, file_name=file_name, mime=mime, type="primary", icon=":material/download:"
)
