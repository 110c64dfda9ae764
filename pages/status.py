"""Models & KB: what the linker is (KB, retrievers, encoder, calibration) and what the store holds."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db import repository
from db.queue import review_queue
from pages.components import charts
from pages.components.resources import get_linker, get_settings, get_store
from pages.components.widgets import md

settings = get_settings()
store = get_store()
linker = get_linker()

st.title("Models & KB", anchor=False)

kb_col, model_col = st.columns(2, gap="large")
with kb_col:
    st.subheader("Knowledge base", anchor=False)
    st.metric("Concepts", f"{len(linker.kb):,}")
    st.markdown(
        md(f"{linker.kb.name} · version {linker.kb.version}")
        + "  \n"
        + md(f"Source: {settings.kb.source} ({settings.kb.format})")
        + "  \n"
        + md(f"Fingerprint: {linker.kb.fingerprint[:16]}")
    )

with model_col:
    st.subheader("Linker", anchor=False)
    dense = linker.dense
    st.dataframe(
        pd.DataFrame(
            {
                "setting": ["model version", "retrievers", "encoder", "dense weight", "candidates per mention"],
                "value": [
                    linker.model_version,
                    "TF-IDF (char n-grams) + dense" if dense else "TF-IDF (char n-grams) only",
                    dense.spec.version if dense else "off (dense retrieval disabled)",
                    f"{linker.dense_weight:.2f}" if dense else "n/a",
                    str(linker.top_k),
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("Calibration", anchor=False)
report = linker.calibration_report
if report is None:
    st.info("The linker has no calibration report: probabilities shown are uncalibrated raw scores.")
else:
    st.caption(
        f"Checked on {report.n_test_queries:,} held-out synthetic mentions drawn from the KB "
        f"({report.exact_fraction:.0%} exact names, the rest synonyms hidden from the index); "
        f"top-1 accuracy {report.acc_at_1:.1%}."
    )
    ece_col, brier_col, chart_col = st.columns([1, 1, 3], vertical_alignment="center")
    ece_col.metric(
        "ECE",
        f"{report.ece_calibrated:.3f}",
        delta=f"{report.ece_calibrated - report.ece_raw:+.3f} vs raw",
        delta_color="inverse",
    )
    brier_col.metric(
        "Brier",
        f"{report.brier_calibrated:.3f}",
        delta=f"{report.brier_calibrated - report.brier_raw:+.3f} vs raw",
        delta_color="inverse",
    )
    chart_col.plotly_chart(charts.calibration_figure(report), width="stretch")

with store() as session:
    summaries = repository.list_documents(session)
    decided_items = [
        item
        for item in review_queue(session, include_decided=True)
        if item.status is not None and item.top_probability is not None
    ]

st.subheader("Agreement with curators", anchor=False)
# The probability is the latest run's; decisions were made on the candidates shown then,
# which is the same run unless the document was re-linked after deciding.
bins = charts.reliability_bins((item.top_probability, item.status) for item in decided_items)
if bins:
    st.plotly_chart(charts.reliability_figure(bins), width="stretch")
    st.caption(f"{sum(b.count for b in bins)} decided mentions (accepted vs corrected or NIL).")
else:
    st.caption("Appears once curators have accepted, corrected or NIL-ed some mentions.")

st.subheader("Database", anchor=False)
db_col, docs_col, mentions_col, decided_col = st.columns([3, 1, 1, 1])
db_col.markdown(md(settings.resolved_db_url))
docs_col.metric("Documents", len(summaries))
mentions_col.metric("Mentions", sum(d.n_mentions for d in summaries))
decided_col.metric("Decided", sum(d.n_decided for d in summaries))
