"""Documents: paste or upload texts, load the samples, see curation progress, open one in Review."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from db import repository
from pages.components import state
from pages.components.auth_gate import require_user
from pages.components.ingest import UPLOAD_TYPES, limit_text, remember, sample_files, show_summary
from pages.components.resources import built_linker, get_generator, get_linker, get_settings, get_store
from pages.components.widgets import md
from usecases.ingest import IngestOptions, ingest_files, ingest_text, rank_with_generator

settings = get_settings()
require_user(settings)
store = get_store()
limit = limit_text(settings.max_upload_bytes)


@contextmanager
def progress_bar(text: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over documents for ``usecases.ingest``, removed when the import ends."""
    bar = st.progress(0.0, text=text)

    def progress(done: int, known: int) -> None:
        bar.progress(min(1.0, done / known) if known else 0.0, text=f"{text} {done:,} / {known:,} documents")

    try:
        yield progress
    finally:
        bar.empty()


st.title("Documents", anchor=False)
# The list comes first on screen (curators mostly open documents) but is filled last in the
# script, so a document added below in this same run already shows in it.
list_slot = st.container()

st.subheader("Add documents", anchor=False)
paste_tab, upload_tab, sample_tab = st.tabs(["Paste text", "Upload files", "Sample documents"])

with paste_tab:
    with st.form("paste", clear_on_submit=False, border=False):
        text = st.text_area("Document text", height=160, placeholder="Paste an abstract or a clinical note…")
        st.caption(f"Up to {limit} of text. A text already stored is recognised, not stored twice.")
        doc_id = st.text_input("Document id (optional)", placeholder="e.g. PMID:12345678; blank = derived from text")
        submitted = st.form_submit_button("Add document", type="primary")
    if submitted:
        linker = get_linker()
        options = IngestOptions(max_bytes=settings.max_upload_bytes)
        remember(ingest_text(store, linker, text, options=options, doc_id=doc_id, generator=get_generator(linker)))

with upload_tab:
    uploads = st.file_uploader(
        f"PubTator, BioC XML or JSON, BigBio, brat (.txt with its .ann), GSC+, plain text, or a zip of them; "
        f"up to {limit} per file",
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        # The uploader counts megabytes; the import re-checks the exact byte limit.
        max_upload_size=max(1, math.ceil(settings.max_upload_bytes / 1_000_000)),
    )
    st.caption(f"Limit: {limit} per file (and per file inside a zip).")
    as_gold = st.checkbox(
        "Record the files' concept ids as decisions (import a curated corpus)",
        help="Off: the files' spans are imported and linked, and their ids are only shown as hints.",
    )
    skip_bad = st.checkbox(
        "Store without the bad spans",
        help="Off: a file with a span that does not match its text (or another bad line) is refused whole.",
    )
    if st.button("Import uploaded files", type="primary", disabled=not uploads):
        files = [(f.name, f.getvalue()) for f in uploads]
        linker = get_linker()
        options = IngestOptions(max_bytes=settings.max_upload_bytes, as_gold=as_gold, skip_bad_spans=skip_bad)
        with progress_bar("Importing") as progress:
            remember(
                ingest_files(store, linker, files, options=options, generator=get_generator(linker), progress=progress)
            )

with sample_tab:
    samples = sample_files(settings.sample_documents_dir)
    if samples:
        st.caption(md(", ".join(p.name for p in samples)))
    else:
        st.caption(md(f"No sample documents in {settings.sample_documents_dir}."))
    if st.button("Load sample documents", disabled=not samples):
        files = [(p.name, p.read_bytes()) for p in samples]
        linker = get_linker()
        options = IngestOptions(max_bytes=settings.max_upload_bytes)
        with progress_bar("Loading the samples") as progress:
            remember(
                ingest_files(store, linker, files, options=options, generator=get_generator(linker), progress=progress)
            )

show_summary()

with store() as session:
    summaries = repository.list_documents(session)
    with_generator_runs = repository.documents_linked_by(session, "generator")

if not summaries:
    list_slot.info("No documents yet: paste a text, upload files or load the samples below.")
    st.stop()

with list_slot:
    table = pd.DataFrame(
        {
            "Document": [d.doc_id for d in summaries],
            "Source": [d.source for d in summaries],
            "Mentions": [d.n_mentions for d in summaries],
            "Decided": [d.n_decided for d in summaries],
            "Progress": [d.n_decided / d.n_mentions if d.n_mentions else 0.0 for d in summaries],
            "Added": [d.created_at for d in summaries],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=1.0, format="percent"),
            "Added": st.column_config.DatetimeColumn("Added", format="YYYY-MM-DD HH:mm"),
        },
    )

    doc_ids = [d.doc_id for d in summaries]
    current = state.current_doc_id()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Open a document", doc_ids, index=doc_ids.index(current) if current in doc_ids else 0, width=420
        )
        if st.button("Open in Review", type="primary", icon=":material/fact_check:"):
            state.set_current_doc_id(chosen)
            st.switch_page("pages/review.py")

    # Only once the linker is up: opening the document list must not start the first build.
    ready = built_linker()
    generator = get_generator(ready) if ready is not None else None
    missing = [d for d in doc_ids if d not in with_generator_runs]
    if generator is not None and missing:
        st.caption(
            md(f"{len(missing)} document(s) have no ranking from the generative linker ({generator.model_version}).")
        )
        if st.button("Rank them with the generator too", icon=":material/call_split:"):
            with st.spinner("Running the generative linker…"):
                errors = rank_with_generator(store, generator, missing)
            for error in errors:
                st.error(md(error))
            if not errors:
                st.rerun()
