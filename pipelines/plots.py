"""Charts drawn from the standard shapes (history series + forecast frame, backtest table).

Matplotlib with the Agg backend: no display needed. A reconstructed or estimated series is
labelled as such on the chart itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

_RECON_NOTE = (
    "RECONSTRUCTED series: an estimate from sparse published figures, not an official statistic"
)


def _finish_panels(fig: Figure, path: Path, title: str, subtitle: str, reconstructed: bool) -> Path:
    """Title, footer notes (the reconstructed-series warning first), layout, save, close."""
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    notes = [subtitle] if subtitle else []
    if reconstructed:
        notes.insert(0, _RECON_NOTE)
    if notes:
        fig.text(0.01, 0.005, "\n".join(notes), fontsize=6.5, color="#444444", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _x(index: pd.PeriodIndex) -> pd.DatetimeIndex:
    return index.to_timestamp(how="start")  # a quarter sits at its first day, under its own year


def fan_chart(
    history: pd.Series,
    forecast: pd.DataFrame,
    path: Path,
    title: str,
    subtitle: str = "",
    reconstructed: bool = False,
    history_periods: int = 24,
) -> Path:
    """Save a fan chart: recent history, forecast mean and its widest-to-narrowest bands."""
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    hist = history.iloc[-history_periods:]
    ax.plot(_x(hist.index), hist.to_numpy(), color="black", lw=1.6, label="history")
    levels = sorted((int(c[3:]) for c in forecast.columns if c.startswith("lo_")), reverse=True)
    x = _x(forecast.index)
    shades = {0: "#c6dbef", 1: "#6baed6", 2: "#2171b5"}
    for i, lv in enumerate(levels):
        ax.fill_between(
            x,
            forecast[f"lo_{lv}"].to_numpy(),
            forecast[f"hi_{lv}"].to_numpy(),
            color=shades.get(i, "#9ecae1"),
            alpha=0.8,
            lw=0,
            label=f"{lv}% interval",
        )
    ax.plot(
        x, forecast["mean"].to_numpy(), color="#08306b", lw=1.8, marker="o", ms=3, label="forecast"
    )
    ax.set_title(title, fontsize=10, loc="left")
    note = subtitle
    if reconstructed:
        note = f"{_RECON_NOTE}\n{subtitle}" if subtitle else _RECON_NOTE
    if note:
        fig.text(
            0.01,
            0.01,
            note,
            fontsize=7,
            color="#a50f15" if reconstructed else "#444444",
            va="bottom",
        )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def error_by_horizon(table: pd.DataFrame, path: Path, title: str, metric: str = "mase") -> Path:
    """One line per model: mean absolute scaled error by step ahead."""
    df = table.assign(ase=(table["y"] - table["mean"]).abs() / table["mase_scale"])
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    for model, grp in df.groupby("model", sort=False):
        by_h = grp.groupby("h")["ase"].mean()
        ax.plot(by_h.index, by_h.to_numpy(), marker="o", label=str(model))
    ax.set_xlabel("steps ahead")
    ax.set_ylabel(metric.upper())
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _bands(ax: plt.Axes, forecast: pd.DataFrame, color: str = "#2171b5", label: str = "") -> None:
    x = _x(forecast.index)
    levels = sorted((int(c[3:]) for c in forecast.columns if c.startswith("lo_")), reverse=True)
    for i, lv in enumerate(levels):
        ax.fill_between(
            x,
            forecast[f"lo_{lv}"].to_numpy(),
            forecast[f"hi_{lv}"].to_numpy(),
            color=color,
            alpha=0.15 + 0.2 * i,
            lw=0,
            label=f"{label}{lv}% interval",
        )


def scenario_fan_chart(
    panels: list[tuple[str, pd.Series, pd.DataFrame, pd.Series | None, bool]],
    path: Path,
    title: str,
    subtitle: str = "",
    history_periods: int = 16,
) -> Path:
    """One panel per series: history, the scenario's fan and the baseline mean (dashed).

    ``panels``: ``(title, history, scenario forecast frame, baseline mean or None,
    reconstructed)``; a reconstructed series gets the red label in its panel.
    """
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3.3 * len(panels)), dpi=110, squeeze=False)
    for ax, (ptitle, history, fc, base, recon) in zip(axes[:, 0], panels, strict=True):
        hist = history.iloc[-history_periods:]
        ax.plot(_x(hist.index), hist.to_numpy(), color="black", lw=1.5, label="history")
        _bands(ax, fc)
        ax.plot(
            _x(fc.index),
            fc["mean"].to_numpy(),
            color="#08306b",
            lw=1.8,
            marker="o",
            ms=3,
            label="scenario",
        )
        if base is not None:
            ax.plot(
                _x(base.index), base.to_numpy(), color="#636363", lw=1.2, ls="--", label="baseline"
            )
        ax.set_title(ptitle, fontsize=9, loc="left")
        if recon:
            ax.text(
                0.99,
                0.97,
                "RECONSTRUCTED series",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=7,
                color="#a50f15",
                fontweight="bold",
            )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper left")
    return _finish_panels(fig, path, title, subtitle, any(p[4] for p in panels))


def scenario_comparison_chart(
    panels: list[tuple[str, pd.Series, dict[str, pd.DataFrame], dict[str, pd.DataFrame], bool]],
    path: Path,
    title: str,
    subtitle: str = "",
    history_periods: int = 16,
) -> Path:
    """All scenarios on one chart: one row per series, levels (means) on the left and the
    percent difference from baseline with its 80% interval on the right.

    ``panels``: ``(title, history, {scenario: forecast frame}, {scenario: percent-difference
    frame}, reconstructed)``.
    """
    colors = ["#636363", "#e6550d", "#3182bd", "#756bb1", "#31a354", "#d62728", "#8c564b"]
    fig, axes = plt.subplots(
        len(panels), 2, figsize=(11, 3.4 * len(panels)), dpi=110, squeeze=False
    )
    for (ax, ax_d), (ptitle, history, frames, diffs, recon) in zip(axes, panels, strict=True):
        hist = history.iloc[-history_periods:]
        ax.plot(_x(hist.index), hist.to_numpy(), color="black", lw=1.5, label="history")
        for i, (name, fc) in enumerate(frames.items()):
            c = colors[i % len(colors)]
            ax.plot(_x(fc.index), fc["mean"].to_numpy(), color=c, lw=1.5, label=name)
        for i, (name, d) in enumerate(diffs.items()):
            c = colors[i % len(colors)]
            x = _x(d.index)
            ax_d.fill_between(
                x, d["lo_80"].to_numpy(), d["hi_80"].to_numpy(), color=c, alpha=0.12, lw=0
            )
            ax_d.plot(x, d["mean"].to_numpy(), color=c, lw=1.5, label=name)
        ax_d.axhline(0, color="black", lw=0.8)
        locator = mdates.AutoDateLocator(maxticks=8)
        ax_d.xaxis.set_major_locator(locator)
        ax_d.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_title(ptitle, fontsize=9, loc="left")
        ax_d.set_title("difference from baseline, % (80% interval shaded)", fontsize=9, loc="left")
        for a, y in ((ax, 0.97), (ax_d, 0.03)):
            if recon:
                a.text(
                    0.99,
                    y,
                    "RECONSTRUCTED series",
                    transform=a.transAxes,
                    ha="right",
                    va="top" if y > 0.5 else "bottom",
                    fontsize=7,
                    color="#a50f15",
                    fontweight="bold",
                )
            a.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper left", ncol=2)
    return _finish_panels(fig, path, title, subtitle, any(p[4] for p in panels))


def forecast_vs_actual(
    table: pd.DataFrame, history: pd.Series | None, path: Path, title: str, level: str = "80"
) -> Path:
    """One (series, model) slice of the backtest table: the actuals and each origin's forecast
    path (its ``level``% interval shaded), so misses can be told apart by origin and horizon."""
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    n_cut = table["cutoff"].nunique()
    freq = history.index.freq if history is not None and len(history) else None
    if history is not None and freq is not None:
        hist = history.iloc[-(table["period"].nunique() + 16) :]
        ax.plot(_x(hist.index), hist.to_numpy(), color="black", lw=1.6, label="actual")
    for i, (cutoff, grp) in enumerate(table.groupby("cutoff", sort=True)):
        if freq is not None:
            x: Any = _x(pd.PeriodIndex(grp["period"].astype(str), freq=freq))
        else:
            x = grp["period"].astype(str).to_numpy()
        lo, hi = f"lo_{level}", f"hi_{level}"
        if lo in grp and hi in grp:
            ax.fill_between(
                x, grp[lo].to_numpy(), grp[hi].to_numpy(), color="#6baed6", alpha=0.12, lw=0
            )
        ax.plot(
            x,
            grp["mean"].to_numpy(),
            lw=1.1,
            marker="o",
            ms=2.5,
            color=plt.get_cmap("viridis")(i / max(1, n_cut - 1)),
            label=f"forecast from {cutoff}" if i in (0, n_cut - 1) else None,
        )
    if freq is None:
        act = table.drop_duplicates("period").sort_values("period")
        ax.plot(
            act["period"].astype(str), act["y"].to_numpy(), color="black", lw=1.6, label="actual"
        )
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
