"""Quality: throughput per curator, queue burn-down, calibration against curators, agreement."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from bel_core.linking import agreement
from bel_core.types import DecisionStatus
from pages.components import charts, quality_charts, review_data
from pages.components.auth_gate import require_user
from pages.components.resources import get_linker, get_settings, get_store
from usecases import quality

settings = get_settings()
require_user(settings)
store = get_store()
linker = get_linker()

with store() as session:
    per_day = quality.decisions_per_curator_day(session)
    burn_down = quality.burn_down(session)
    points = quality.calibration_points(session)
    pairs = quality.agreement_pairs(session, lambda cid: review_data.concept_types(linker, cid))
    outcomes = quality.top1_outcomes(session)

st.title("Quality", anchor=False)
if not per_day:
    st.info("Charts appear once curators have recorded decisions on the Review page.")
    st.stop()

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Decisions per curator per day", anchor=False)
    st.plotly_chart(quality_charts.per_curator_day_figure(per_day), width="stretch")
with right:
    st.subheader("Queue burn-down", anchor=False)
    st.plotly_chart(quality_charts.burn_down_figure(burn_down), width="stretch")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Calibration vs curator acceptance", anchor=False)
    # Accepted = the top-1 concept shown was right; corrected or NIL = it was wrong.
    statuses = ((p, DecisionStatus.ACCEPTED if ok else DecisionStatus.CORRECTED) for p, ok in points)
    bins = charts.reliability_bins(statuses)
    if bins:
        st.plotly_chart(charts.reliability_figure(bins), width="stretch")
        st.caption(f"{len(points)} verdicts on the top-1 probability the curator saw.")
    else:
        st.caption("Needs accepted, corrected or NIL verdicts made with suggestions shown.")
with right:
    st.subheader("Agreement over time", anchor=False)
    if pairs:
        st.plotly_chart(quality_charts.agreement_over_time_figure(agreement.over_time(pairs)), width="stretch")
    else:
        st.caption("Needs double-annotated mentions (assign documents to two curators on the Team page).")

st.subheader("Inter-annotator agreement", anchor=False)
overall = agreement.report(pairs)
reports = {"all": overall, **agreement.by_blindness(pairs)}
st.dataframe(pd.DataFrame(quality_charts.report_rows(reports)), hide_index=True, width="stretch")
if overall.kappa_by_type:
    st.dataframe(
        pd.DataFrame(
            {
                "semantic type": list(overall.kappa_by_type),
                "Cohen's kappa": [None if k is None else round(k, 3) for k in overall.kappa_by_type.values()],
            }
        ),
        hide_index=True,
    )

st.subheader("Anchoring: agreement with the model's top-1", anchor=False)
shown_col, hidden_col = st.columns(2)
for column, hidden, label in ((shown_col, False, "with suggestions"), (hidden_col, True, "blind")):
    share, n = agreement.top1_agreement(outcomes, hidden=hidden)
    column.metric(f"Top-1 chosen, {label}", "n/a" if share is None else f"{share:.0%}", help=f"{n} verdict(s)")
st.caption(
    "A higher share with suggestions than blind suggests curators anchor on the suggestion "
    f"(blind fraction configured: {settings.blind_fraction:.0%})."
)
