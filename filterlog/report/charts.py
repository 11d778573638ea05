"""Charts for the HTML reports: matplotlib figures turned into PNG data URIs.

A report is one self-contained file that a coordinator can mail or print, so
charts are embedded as base64 PNGs rather than linked. matplotlib's Agg
backend draws without a screen (cron, CI). Figures share one look: a small
size that prints two to an A4 width, plain axes, the same palette.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PALETTE = ("#1f5f8b", "#e07b39", "#5a9e5a", "#b8474b", "#8064a2", "#6b6b6b", "#c9a227", "#3fa7a3")
"""Colours in order of use: distinguishable in print and for the common colour-vision deficiencies."""

SEVERITY_COLOURS = {"low": "#8fb8d8", "medium": "#e0b040", "high": "#e07b39", "critical": "#b8474b"}
WORKING_SHADE = "#f1f1e6"
"""The background band that marks working hours on a by-hour chart."""

DPI = 110


def figure(width: float = 6.0, height: float = 2.6) -> tuple[Figure, Axes]:
    """A new figure and its axes in the reports' style (inches; 6 × 2.6 fits half an A4 page's height well)."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.title.set_size(10)
    return fig, ax


def png_data_uri(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (for ``templates.image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (for a notebook or a file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
