"""Plotly figures for the Models & KB page: calibration quality, then agreement with curators.

Two views of the same question, "can the curator trust the probabilities?": the
pipeline's own held-out check (ECE and Brier, raw scores vs calibrated), and a reliability
diagram built from real curator verdicts on top-1 candidates.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import plotly.graph_objects as go

from bel_core.calibrate.scores import CalibrationReport
from bel_core.types import DecisionStatus


def plain(value: object) -> str:
    """Text for a plotly name, label or category, shown as written.

    Plotly reads a subset of HTML in every text it draws (``<a href>`` becomes a live link,
    ``<b>``, ``<br>``, ``<span style>`` format; entities are decoded): curator names, mention
    types and metric keys are escaped so their tags stay text.
    """
    return html.escape(str(value), quote=False)


# Verdicts that say whether the machine's top-1 concept was right. WRONG_SPAN, NOT_ENTITY and
# SKIPPED judge the span, not the link, so they carry no evidence about the probability.
TOP1_RIGHT = frozenset({DecisionStatus.ACCEPTED})
TOP1_WRONG = frozenset({DecisionStatus.CORRECTED, DecisionStatus.NIL})


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """Mentions whose top-1 probability fell in [low, high): mean probability vs accuracy."""

    low: float
    high: float
    mean_probability: float
    accuracy: float
    count: int


def reliability_bins(
    outcomes: Iterable[tuple[float, DecisionStatus]],
    n_bins: int = 10,
) -> list[ReliabilityBin]:
    """Bin (top-1 probability, curator verdict) pairs into a reliability table.

    Args:
        outcomes: calibrated top-1 probability and the latest verdict per decided mention;
            verdicts outside ``TOP1_RIGHT | TOP1_WRONG`` are ignored.
        n_bins: equal-width bins over [0, 1].

    Returns:
        Non-empty bins only, lowest first.
    """
    sums: list[list[float]] = [[0.0, 0.0, 0.0] for _ in range(n_bins)]  # prob sum, right sum, count
    for probability, status in outcomes:
        if status not in TOP1_RIGHT | TOP1_WRONG:
            continue
        index = min(n_bins - 1, max(0, int(probability * n_bins)))
        sums[index][0] += probability
        sums[index][1] += status in TOP1_RIGHT
        sums[index][2] += 1
    return [
        ReliabilityBin(i / n_bins, (i + 1) / n_bins, p / n, right / n, int(n))
        for i, (p, right, n) in enumerate(sums)
        if n
    ]


def calibration_figure(report: CalibrationReport) -> go.Figure:
    """Grouped bars: ECE and Brier score of raw scores vs calibrated probabilities (lower is better)."""
    metrics = ["ECE", "Brier score"]
    figure = go.Figure(
        [
            go.Bar(name="raw score", x=metrics, y=[report.ece_raw, report.brier_raw], marker_color="#9aa0a6"),
            go.Bar(
                name="calibrated",
                x=metrics,
                y=[report.ece_calibrated, report.brier_calibrated],
                marker_color="#1a73e8",
            ),
        ]
    )
    figure.update_layout(
        barmode="group",
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title="lower is better",
        legend={"orientation": "h", "y": 1.15},
    )
    return figure


def reliability_figure(bins: list[ReliabilityBin]) -> go.Figure:
    """Reliability diagram: curator-confirmed top-1 accuracy per probability bin vs the diagonal."""
    figure = go.Figure(
        [
            go.Scatter(
                x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", line={"dash": "dot", "color": "#9aa0a6"}
            ),
            go.Scatter(
                x=[b.mean_probability for b in bins],
                y=[b.accuracy for b in bins],
                mode="lines+markers",
                name="curator-confirmed accuracy",
                marker={"size": [8 + min(b.count, 40) / 2 for b in bins], "color": "#1a73e8"},
                text=[f"{b.count} mention(s) in [{b.low:.1f}, {b.high:.1f})" for b in bins],
                hovertemplate="p %{x:.2f} → accuracy %{y:.2f}<br>%{text}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        height=340,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "calibrated top-1 probability", "range": [0, 1]},
        yaxis={"title": "share accepted by curators", "range": [0, 1.05]},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
