"""Plotly figures and tables for the Quality page: throughput, burn-down, calibration, agreement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import plotly.graph_objects as go

from bel_core.linking.agreement import AgreementReport
from pages.components.charts import plain

_LAYOUT = {"height": 320, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "legend": {"orientation": "h", "y": 1.15}}
# One tick per day, as a date: plotly's automatic ticks split a single day into milliseconds.
_DAYS = {"type": "date", "tickformat": "%b %d, %Y", "dtick": 86_400_000}


def per_curator_day_figure(counts: Mapping[tuple[date, str], int]) -> go.Figure:
    """Stacked bars: decisions per day, one colour per curator."""
    curators = sorted({curator for _, curator in counts})
    days = sorted({day for day, _ in counts})
    figure = go.Figure(
        [go.Bar(name=plain(c), x=days, y=[counts.get((d, c), 0) for d in days]) for c in curators],
    )
    figure.update_layout(barmode="stack", yaxis_title="decisions", xaxis=_DAYS, **_LAYOUT)
    return figure


def burn_down_figure(rows: Sequence[tuple[date, int, int]]) -> go.Figure:
    """Mentions stored vs still unsettled, per day."""
    days = [day for day, _, _ in rows]
    figure = go.Figure(
        [
            go.Scatter(x=days, y=[t for _, t, _ in rows], name="mentions stored", line={"color": "#9aa0a6"}),
            go.Scatter(x=days, y=[r for _, _, r in rows], name="still unsettled", line={"color": "#1a73e8"}),
        ]
    )
    figure.update_layout(yaxis_title="mentions", xaxis=_DAYS, **_LAYOUT)
    return figure


def agreement_over_time_figure(rows: Sequence[tuple[date, float | None, int]]) -> go.Figure:
    """Cumulative Cohen's kappa of double-annotated mentions, by day."""
    figure = go.Figure(
        go.Scatter(
            x=[day for day, _, _ in rows],
            y=[kappa for _, kappa, _ in rows],
            text=[f"{n} pair(s)" for _, _, n in rows],
            mode="lines+markers",
            name="Cohen's kappa",
            hovertemplate="%{x}: kappa %{y:.2f} over %{text}<extra></extra>",
        )
    )
    figure.update_layout(yaxis={"title": "kappa (cumulative)", "range": [-0.05, 1.05]}, xaxis=_DAYS, **_LAYOUT)
    return figure


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def report_rows(reports: Mapping[str, AgreementReport]) -> list[dict[str, object]]:
    """One table row per named report: pairs, span, concept given span, NIL agreement, kappa."""
    return [
        {
            "mentions": name,
            "pairs": r.n_pairs,
            "span agreement": _percent(r.span),
            "concept | span": _percent(r.concept_given_span),
            "NIL agreement": _percent(r.nil),
            "Cohen's kappa": "n/a" if r.kappa is None else f"{r.kappa:.2f}",
        }
        for name, r in reports.items()
    ]
