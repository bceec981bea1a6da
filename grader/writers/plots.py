"""The class report's charts, drawn headless with matplotlib and returned as PNG bytes.

matplotlib is imported inside the functions: it takes a second or more to import, and the CLI
imports every writer at start-up. Figures are built with `matplotlib.figure.Figure`, never
pyplot, so no GUI backend or global figure state is involved (headless, like the Agg backend).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

WIDTH_IN = 8.0
DPI = 144  # sharp on high-density screens; the page shows the image at its CSS width
ACCENT = "#2563eb"
SECOND = "#16a34a"


def _figure(height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(colors="#374151", labelsize=9)
    return fig, ax


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None}, facecolor="white")
    return buffer.getvalue()


def score_histogram(scores: Sequence[float], max_score: float, bins: int = 10) -> bytes:
    """Students per score band: `bins` equal bands from 0 to `max_score`, the mean marked."""
    from matplotlib.ticker import MaxNLocator

    top = max_score if max_score > 0 else max([*scores, 1.0])
    edges = [top * i / bins for i in range(bins + 1)]
    fig, ax = _figure(3.0)
    ax.hist([min(max(s, 0.0), top) for s in scores], bins=edges, color=ACCENT, edgecolor="white", linewidth=1.5)
    if scores:
        mean = sum(scores) / len(scores)
        ax.axvline(mean, color="#dc2626", linestyle="--", linewidth=1.5, label=f"mean {mean:.3g}")
        ax.legend(frameon=False, fontsize=9)
    ax.set_xlim(0, top)
    ax.set_xticks(edges)
    ax.set_xticklabels([f"{e:g}" for e in edges])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"score (out of {top:g})", fontsize=10)
    ax.set_ylabel("students", fontsize=10)
    ax.grid(axis="y", color="#e5e7eb")
    ax.set_axisbelow(True)
    return _png(fig)


def exercise_bars(labels: Sequence[str], mean_share: Sequence[float], full_share: Sequence[float]) -> bytes:
    """Per exercise, two horizontal bars: mean score as a share of its points, and full-marks rate."""
    fig, ax = _figure(0.9 + 0.45 * max(len(labels), 1))
    rows = list(range(len(labels)))
    height = 0.38
    ax.barh([r - height / 2 for r in rows], [100 * m for m in mean_share], height, color=ACCENT, label="mean score")
    ax.barh([r + height / 2 for r in rows], [100 * f for f in full_share], height, color=SECOND, label="full marks")
    ax.set_yticks(rows)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()  # first exercise on top, as in the table
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of points (mean) / % of students (full marks)", fontsize=10)
    ax.grid(axis="x", color="#e5e7eb")
    ax.set_axisbelow(True)
    ax.legend(frameon=False, fontsize=9, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    return _png(fig)
