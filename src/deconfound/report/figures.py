"""Figures for the report and for papers: matplotlib, saved as PNG, SVG and PDF.

Every figure draws numbers it is handed (tallies of the records, or estimates read from the
analysis); none computes a statistic. Figures are inlined into the HTML as base64 SVG ``<img>``
data URIs: crisp at any zoom, and an image cannot run script whatever text it contains.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from deconfound.report.explorer import STATE_LABELS, STATES

STATE_COLOURS: Final = {
    "engaged_ic": "#c0392b",
    "partial_ic": "#e59866",
    "engaged_no_ic": "#2e86c1",
    "partial_no_ic": "#f4d03f",
    "partial": "#e6a817",
    "refusal": "#7f8c8d",
    "invalid": "#d5d8dc",
    "mixed": "#8e44ad",
}
RC: Final = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "path",
    "svg.hashsalt": "deconfound",
}
FORMATS: Final = ("png", "svg", "pdf")


@dataclass(frozen=True)
class FigureFile:
    """A saved figure: its stem, caption, the files written, and the SVG as a data URI."""

    name: str
    title: str
    caption: str
    files: dict[str, Path]
    data_uri: str


@dataclass(frozen=True)
class ForestRow:
    """One line of the forest plot, in proportions (drawn in percentage points).

    Args:
        label: What the line shows.
        point: Point estimate (None for a bounds-only line).
        ci: Confidence interval of the point estimate, or of the identified set.
        bounds: Identified set (partial identification) drawn as a thick bar.
    """

    label: str
    point: float | None = None
    ci: tuple[float, float] | None = None
    bounds: tuple[float, float] | None = None


def save(
    fig: Figure,
    out_dir: Path,
    name: str,
    title: str,
    caption: str,
    formats: Sequence[str] = FORMATS,
) -> FigureFile:
    """Write ``name``.png/.svg/.pdf into ``out_dir`` and return the SVG as a data URI.

    SVG is always written: the HTML inlines it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for fmt in dict.fromkeys(("svg", *formats)):
        if fmt not in FORMATS:
            raise ValueError(f"unknown figure format {fmt!r}; use one of {', '.join(FORMATS)}")
        path = out_dir / f"{name}.{fmt}"
        meta = {"Date": None} if fmt in ("svg", "pdf") else {}
        fig.savefig(path, format=fmt, dpi=150, bbox_inches="tight", metadata=meta)
        files[fmt] = path
    plt.close(fig)
    svg = files["svg"].read_bytes()
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return FigureFile(name, title, caption, files, uri)


def _new(width: float, height: float, nrows: int = 1, ncols: int = 1) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    return fig, axes


def _stack(ax: object, counts: pd.DataFrame, conditions: Sequence[str], legend: bool) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    states = [s for s in (*STATES, "mixed") if s in set(counts["state"])]
    table = counts.pivot_table(index="condition", columns="state", values="n", aggfunc="sum")
    table = table.reindex(index=list(conditions)[::-1], columns=states).fillna(0)
    totals = table.sum(axis=1).replace(0, np.nan)
    shares = table.div(totals, axis=0).fillna(0)
    left = np.zeros(len(shares))
    y = np.arange(len(shares))
    for state in states:
        width = shares[state].to_numpy()
        ax.barh(
            y, width, left=left, color=STATE_COLOURS.get(state, "#999"), label=STATE_LABELS[state]
        )
        for yi, (lo, w, n) in enumerate(zip(left, width, table[state].to_numpy(), strict=True)):
            if w >= 0.07:
                dark = state in ("engaged_ic", "engaged_no_ic", "refusal", "mixed")
                ax.text(
                    lo + w / 2,
                    yi,
                    f"{int(n)}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
        left += width
    ax.set_yticks(y, [_short(c, 44) for c in shares.index])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if legend:
        ax.legend(
            ncol=len(states),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.18),
            frameon=False,
            fontsize=8,
        )


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def states_by_condition(counts: pd.DataFrame, conditions: Sequence[str]) -> Figure:
    """Stacked shares of response states per condition (numbers in bars are response counts)."""
    fig, axes = _new(7.5, 0.55 * len(conditions) + 1.3)
    _stack(axes[0, 0], counts, conditions, legend=True)
    axes[0, 0].set_title("Response states by condition", loc="left", fontsize=10)
    return fig


def states_by_category(counts: pd.DataFrame, conditions: Sequence[str]) -> Figure:
    """One small stacked-bar panel per category."""
    cats = sorted(counts["category"].unique())
    ncols = 2 if len(cats) > 1 else 1
    nrows = -(-len(cats) // ncols)
    fig, axes = _new(11, nrows * (0.42 * len(conditions) + 0.9), nrows, ncols)
    for i, ax in enumerate(axes.flat):
        if i >= len(cats):
            ax.set_visible(False)
            continue
        sub = counts[counts["category"] == cats[i]]
        _stack(ax, sub, conditions, legend=False)
        ax.set_title(f"{cats[i]} (n = {int(sub['n'].sum())} responses)", loc="left", fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        ncol=len(labels),
        loc="lower center",
        frameon=False,
        bbox_to_anchor=(0.5, -0.02),
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def transition_heatmap(
    transitions: Mapping[str, int], baseline: str, treatment: str, states: Sequence[str]
) -> Figure:
    """Scenario transition counts (baseline state → treatment state) as an annotated heatmap."""
    idx = {s: i for i, s in enumerate(states)}
    grid = np.zeros((len(states), len(states)), dtype=int)
    for key, n in transitions.items():
        a, _, b = key.partition("->")
        grid[idx[a], idx[b]] += int(n)
    fig, axes = _new(1.1 * len(states) + 2.4, 0.9 * len(states) + 1.4)
    ax = axes[0, 0]
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=max(1, grid.max()))
    for i in range(len(states)):
        for j in range(len(states)):
            dark = grid[i, j] > grid.max() * 0.55
            ax.text(
                j,
                i,
                str(grid[i, j]),
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontweight="bold" if i != j else None,
            )
    names = [STATE_LABELS.get(s, s).replace(", ", ",\n") for s in states]
    ax.set_xticks(range(len(states)), names, fontsize=8)
    ax.set_yticks(range(len(states)), names, fontsize=8)
    ax.set_xlabel(f"treatment: {_short(treatment, 40)}")
    ax.set_ylabel(f"baseline: {_short(baseline, 40)}")
    ax.spines[:].set_visible(False)
    ax.set_title("Scenario transitions (counts)", loc="left", fontsize=10)
    return fig


def forest(rows: Sequence[ForestRow], title: str) -> Figure:
    """Point estimates with CIs and identified sets (thick bars) on one percentage-point axis."""
    fig, axes = _new(7.5, 0.5 * len(rows) + 1.2)
    ax = axes[0, 0]
    y = np.arange(len(rows))[::-1]
    for yi, row in zip(y, rows, strict=True):
        if row.bounds is not None:
            lo, hi = (v * 100 for v in row.bounds)
            ax.plot(
                [lo, hi],
                [yi, yi],
                lw=7,
                color="#85c1e9",
                solid_capstyle="butt",
                label="identified set" if "identified set" not in _labels(ax) else None,
            )
        if row.ci is not None:
            lo, hi = (v * 100 for v in row.ci)
            ax.plot([lo, hi], [yi, yi], lw=1.4, color="#1b2631")
            ax.plot([lo, hi], [yi, yi], "|", ms=8, color="#1b2631")
        if row.point is not None:
            ax.plot(row.point * 100, yi, "o", color="#c0392b", ms=6, zorder=3)
        if row.point is None and row.ci is None and row.bounds is None:
            ax.text(0, yi, "not computed", ha="center", va="center", fontsize=8, color="#777")
    ax.axvline(0, color="#555", lw=0.8, ls="--")
    ax.set_yticks(y, [r.label for r in rows])
    ax.set_xlabel("percentage points (treatment − baseline)")
    ax.set_title(title, loc="left", fontsize=10)
    ax.grid(axis="x", color="#eee")
    return fig


def _labels(ax: object) -> list[str]:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    return [str(line.get_label()) for line in ax.get_lines()]


def grouped_estimates(
    data: Mapping[str, Mapping[str, tuple[float | None, tuple[float, float] | None]]],
    conditions: Sequence[str],
    title: str,
    xlabel: str,
) -> Figure:
    """Horizontal grouped bars: one group per label, one bar per condition, with CI whiskers.

    Args:
        data: ``{label: {condition: (estimate, ci)}}`` read from the analysis.
        conditions: Conditions in display order.
        title: Panel title.
        xlabel: Axis label.
    """
    labels = list(data)
    fig, axes = _new(7.5, 0.28 * len(labels) * max(1, len(conditions)) + 1.4)
    ax = axes[0, 0]
    height = 0.8 / max(1, len(conditions))
    colours = plt.get_cmap("tab10")
    for j, cond in enumerate(conditions):
        ys, xs, errs = [], [], []
        for i, lab in enumerate(labels):
            est, ci = data[lab].get(cond, (None, None))
            if est is None:
                continue
            ys.append(
                len(labels) - 1 - i + (len(conditions) - 1 - j - (len(conditions) - 1) / 2) * height
            )
            xs.append(est * 100)
            errs.append((est * 100 - ci[0] * 100, ci[1] * 100 - est * 100) if ci else (0, 0))
        if ys:
            err = np.array(errs).T.clip(min=0)
            ax.barh(
                ys,
                xs,
                height=height * 0.9,
                color=colours(j),
                label=_short(cond, 40),
                xerr=err,
                error_kw={"lw": 0.8, "capsize": 2},
            )
    ax.set_yticks(range(len(labels))[::-1], [lab.replace("_", " ") for lab in labels])
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, 100)
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return fig


def agreement_plot(rows: Sequence[tuple[str, str, float, tuple[float, float] | None]]) -> Figure:
    """Agreement statistics (κ, AC1, …) per judge pair and label, with CIs where given.

    Args:
        rows: ``(pair_and_label, statistic_name, value, ci)`` read from the agreement results.
    """
    names = sorted({r[1] for r in rows})
    pairs = list(dict.fromkeys(r[0] for r in rows))
    fig, axes = _new(7.5, 0.35 * len(pairs) * max(1, len(names)) + 1.3)
    ax = axes[0, 0]
    height = 0.8 / max(1, len(names))
    for j, stat in enumerate(names):
        for pair, s, value, ci in rows:
            if s != stat:
                continue
            yi = len(pairs) - 1 - pairs.index(pair) + ((len(names) - 1) / 2 - j) * height
            ax.plot(
                value,
                yi,
                "o",
                color=plt.get_cmap("tab10")(j),
                label=stat if stat not in _labels(ax) else None,
            )
            if ci is not None:
                ax.plot(ci, [yi, yi], color=plt.get_cmap("tab10")(j), lw=1.2)
    ax.axvline(0, color="#555", lw=0.8, ls="--")
    ax.set_xlim(-1, 1)
    ax.set_yticks(range(len(pairs))[::-1], [_short(p, 50) for p in pairs])
    ax.set_title("Judge agreement", loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return fig
