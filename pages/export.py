"""Export: counts of what has been curated, a preview, the gold in every format, and the KB extension.

What a user sees and downloads is ``usecases.export``'s: a curator never gets another
curator's independent verdicts (double annotation) through this page.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from bel_core.types import DecisionStatus
from pages.components.auth_gate import require_user
from pages.components.resources import get_settings, get_store
from pages.components.widgets import STATUS_LABELS
from usecases import export, kb_extension

PREVIEW_LINES = 20

settings = get_settings()
user = require_user(settings)
store = get_store()

st.title("Export", anchor=False)

fmt = st.selectbox("Format", export.EXPORT_FORMATS, format_func=lambda f: export.FORMATS[f].label)
normalized = st.checkbox(
    "Normalized ids",
    help="Write the KB's primary ids. Off: imported gold keeps the ids its file gave "
    "(alternate ids, ids the KB lacks).",
)
with store() as session:
    documents, records = export.gold_records(session, user, normalized=normalized)
    synonyms = kb_extension.extension_jsonl(session)
    extension_version = kb_extension.extension_version(session)
if not export.sees_everyone(user):
    st.caption("Double-annotated documents show your own and adjudicated decisions only.")

counts = export.status_counts(records)
docs_col, decided_col = st.columns(2)
docs_col.metric("Documents with gold", len(documents))
decided_col.metric("Gold decisions", len(records))
st.dataframe(
    pd.DataFrame(
        {"status": [STATUS_LABELS[s] for s in DecisionStatus], "mentions": [counts[s.value] for s in DecisionStatus]}
    ),
    hide_index=True,
    width=480,
)

with st.sidebar:
    # Shown whatever the gold state: synonyms can exist before any verdict is exported.
    st.caption(f"KB extension: {len(synonyms.splitlines())} curator synonym(s), version {extension_version}")
    if synonyms:
        st.download_button(
            "Download KB extension (JSONL)", synonyms, file_name="bel_kb_extension.jsonl", mime="application/jsonl"
        )

if not records:
    st.info("Nothing to export yet: decide some mentions on the Review page first.")
    st.stop()

files = export.render(fmt, documents, records)
chosen = export.FORMATS[fmt]
first_name, first = next(iter(files.items()))
lines = first.splitlines()
shown = f" of {first_name} ({len(files)} files in the zip)" if len(files) > 1 else ""
st.caption(f"Preview{shown}: first {min(PREVIEW_LINES, len(lines))} of {len(lines)} lines")
# st.code shows the text verbatim; exported document text is never rendered as HTML or Markdown.
st.code("\n".join(lines[:PREVIEW_LINES]), language=None, wrap_lines=True)
st.download_button(
    f"Download {chosen.file_name}",
    export.as_download(fmt, files),
    file_name=chosen.file_name,
    mime=chosen.mime,
    type="primary",
    icon=":material/download:",
)
