"""Charts drawn from the standard shapes (history series + forecast frame, backtest table).

Matplotlib with the Agg backend: no display needed. A reconstructed or estimated series is
labelled as such on the chart itself.

Drawing is kept cheap because a quarterly run draws dozens of charts: figures are built with
the object-oriented :class:`~matplotlib.figure.Figure` API (no pyplot state, nothing to close,
safe to use from threads), margins are fixed in inches from the number of title and footer
lines instead of measured with ``tight_layout``, and periods are plotted at integer positions
(months since 1970 for M/Q/A data) with a handful of explicit period labels (``2024Q1``,
``2024-03``) instead of matplotlib's date locators.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

_RECON_NOTE = (
    "RECONSTRUCTED series: an estimate from sparse published figures, not an official statistic"
)
_RED = "#a50f15"
_DPI = 100
_LINE = 1.25 / 72  # inches per text line, per point of font size

#: candidate tick spacings, in periods of the data's own frequency, smallest first; a tick
#: sits on a period whose ordinal is a multiple of the spacing (January, Q1, years ending in 0/5)
_TICK_STEPS: dict[str, tuple[int, ...]] = {
    "M": (1, 2, 3, 6, 12, 24, 36, 60, 120, 240),
    "Q": (1, 2, 4, 8, 12, 20, 40, 80),
    "Y": (1, 2, 5, 10, 20, 50, 100),
}
_OTHER_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0


def _new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1) -> tuple[Figure, Any]:
    """A figure outside pyplot and its ``(nrows, ncols)`` array of axes.

    At most about 6 value ticks per axis: every tick is a handful of artists and a label to lay
    out, which is most of a chart's drawing time.
    """
    fig = Figure(figsize=(width, height), dpi=_DPI)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    return fig, axes


def _margins(
    fig: Figure,
    *,
    left: float,
    right: float,
    top: float,
    bottom: float,
    hgap: float = 0.0,
    wgap: float = 0.0,
    nrows: int = 1,
    ncols: int = 1,
) -> None:
    """Fixed margins and gaps between panels, in inches (cheap stand-in for tight_layout)."""
    w, h = fig.get_size_inches()
    ax_h = max((h - top - bottom - (nrows - 1) * hgap) / nrows, 0.1)
    ax_w = max((w - left - right - (ncols - 1) * wgap) / ncols, 0.1)
    fig.subplots_adjust(
        left=left / w,
        right=1 - right / w,
        top=1 - top / h,
        bottom=bottom / h,
        hspace=hgap / ax_h,
        wspace=wgap / ax_w,
    )


_OFFSET_PAD = 0.17  # inches a title moves up to clear the y axis' offset text ("1e9")


def _has_offset(ax: Axes) -> bool:
    """Whether the y tick labels will need an offset or scale text above the axis (very large or
    very small values); asks the formatter, draws nothing. Call after the data are plotted."""
    fmt = ax.yaxis.get_major_formatter()
    fmt.set_locs(list(ax.yaxis.get_major_locator()()))
    return bool(fmt.get_offset())


def _title(ax: Axes, text: str, fontsize: float) -> tuple[float, Text]:
    """Left-aligned axes title at a fixed height; returns the inches it was raised to clear the
    y axis' offset text, and the title. (An explicit y skips matplotlib's per-draw search for a
    clear spot, which measures the tick labels.) Call after the data are plotted."""
    raise_by = _OFFSET_PAD if _has_offset(ax) else 0.0
    return raise_by, ax.set_title(text, fontsize=fontsize, loc="left", y=1.0, pad=5 + raise_by * 72)


def _fixed_axis_labels(fig: Figure, ax: Axes) -> None:
    """Put the axis labels at fixed offsets (in inches from the axes, converted to axes
    fractions) so drawing does not measure the tick labels; call after the margins are set."""
    w, h = fig.get_size_inches()
    pos = ax.get_position()
    ax.xaxis.set_label_coords(0.5, -0.3 / (pos.height * h))
    ax.yaxis.set_label_coords(-0.5 / (pos.width * w), 0.5)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # zlib level 3 instead of 6: about a quarter less encoding time, a few % larger file
    fig.savefig(path, pil_kwargs={"compress_level": 3})
    if fig.canvas.manager is not None:  # made by pyplot: release it from pyplot's registry
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def _freq_key(index: pd.PeriodIndex) -> str:
    name = index.freqstr.upper()  # "Q-DEC", "M", "Y-DEC" (older pandas: "A-DEC")
    return "Y" if name.startswith("A") else name[:1]


def _pos(index: pd.Index) -> np.ndarray:
    """x positions of periods: months since 1970-01 of each period's first month for M, Q and
    A data (a quarter sits at its first month, so mixed frequencies still line up), the
    period ordinal otherwise."""
    idx = pd.PeriodIndex(index)
    if _freq_key(idx) in _TICK_STEPS:
        idx = idx.asfreq("M", how="start")
    return idx.asi8.astype(float)


def _period_ticks(ax: Axes, *indexes: pd.Index, max_ticks: int = 8) -> None:
    """At most ``max_ticks`` x ticks labelled with periods (``2024Q1``, ``2024-03``, ``2024``)
    spanning ``indexes``, in the frequency of the first one."""
    idxs = [pd.PeriodIndex(i) for i in indexes if len(i)]
    if not idxs:
        return
    freq = idxs[0].freq
    lo = min(int(i.asfreq(freq, how="start").asi8.min()) for i in idxs)
    hi = max(int(i.asfreq(freq, how="end").asi8.max()) for i in idxs)
    n = hi - lo + 1
    steps = _TICK_STEPS.get(_freq_key(idxs[0]), _OTHER_STEPS)
    step = next((s for s in steps if hi // s - (lo - 1) // s <= max_ticks), -(-n // max_ticks))
    ticks = pd.PeriodIndex.from_ordinals([o for o in range(lo, hi + 1) if o % step == 0], freq=freq)
    ax.set_xticks(_pos(ticks), [str(p) for p in ticks])


def _note(reconstructed: bool, subtitle: str) -> str:
    if reconstructed:
        return f"{_RECON_NOTE}\n{subtitle}" if subtitle else _RECON_NOTE
    return subtitle


def _finish_panels(fig: Figure, path: Path, title: str, subtitle: str, reconstructed: bool) -> Path:
    """Title, footer notes (the reconstructed-series warning first), layout, save, close."""
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    notes = [subtitle] if subtitle else []
    if reconstructed:
        notes.insert(0, _RECON_NOTE)
    note = "\n".join(notes)
    if notes:
        fig.text(0.01, 0.005, note, fontsize=6.5, color="#444444", va="bottom")
    spec = fig.axes[0].get_subplotspec() if fig.axes else None
    if spec is not None:
        nrows, ncols = spec.get_gridspec().get_geometry()
        # room for one line of panel title, more if a title had to clear an offset text
        raised = _OFFSET_PAD if any(_has_offset(ax) for ax in fig.axes) else 0.0
        _margins(
            fig,
            left=0.8,
            right=0.2,
            top=0.42 + _lines(title) * 10 * _LINE + raised,
            bottom=0.4 + _lines(note) * 6.5 * _LINE,
            hgap=0.7 + raised,
            wgap=0.85,
            nrows=nrows,
            ncols=ncols,
        )
        for ax in fig.axes:
            _fixed_axis_labels(fig, ax)
    return _save(fig, path)


_SHADES = {0: "#c6dbef", 1: "#6baed6", 2: "#2171b5"}  # widest band first
_MEAN_STYLE: dict[str, Any] = {"color": "#08306b", "lw": 1.8, "marker": "o", "ms": 3}


def _levels(forecast: pd.DataFrame) -> list[int]:
    return sorted((int(c[3:]) for c in forecast.columns if c.startswith("lo_")), reverse=True)


def _draw_forecast(ax: Axes, forecast: pd.DataFrame) -> list[Any]:
    """The forecast's bands (widest first) and mean on ``ax``; returns the artists."""
    x = _pos(forecast.index)
    out: list[Any] = []
    for i, lv in enumerate(_levels(forecast)):
        out.append(
            ax.fill_between(
                x,
                forecast[f"lo_{lv}"].to_numpy(),
                forecast[f"hi_{lv}"].to_numpy(),
                color=_SHADES.get(i, "#9ecae1"),
                alpha=0.8,
                lw=0,
                label=f"{lv}% interval",
            )
        )
    out += ax.plot(x, forecast["mean"].to_numpy(), label="forecast", **_MEAN_STYLE)
    return out


def _fan_frame(
    history: pd.Series,
    forecasts: list[pd.DataFrame],
    title: str,
    subtitle: str,
    reconstructed: bool,
    history_periods: int,
    draw: bool,
) -> tuple[Figure, Axes, Text]:
    """A fan chart's figure: the history, period ticks spanning the forecasts, the title, note,
    grid, legend and margins; the forecasts drawn too when ``draw``, otherwise only their
    range fixes the axes (their legend entries are stand-ins)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, axes = _new_figure(8, 4.2)
    ax = axes[0, 0]
    hist = history.iloc[-history_periods:]
    ax.plot(_pos(hist.index), hist.to_numpy(), color="black", lw=1.6, label="history")
    if draw:
        for fc in forecasts:
            _draw_forecast(ax, fc)
        ax.legend(fontsize=7, loc="upper left")
    else:
        cols = [
            [c for c in fc.columns if c == "mean" or c[:3] in ("lo_", "hi_")] for fc in forecasts
        ]
        values = np.concatenate(
            [hist.to_numpy(dtype=float)]
            + [fc[c].to_numpy(dtype=float).ravel() for fc, c in zip(forecasts, cols, strict=True)]
        )
        values = values[np.isfinite(values)]
        xs = np.concatenate([_pos(hist.index)] + [_pos(fc.index) for fc in forecasts])
        lo, hi = float(values.min()), float(values.max())
        pad = 0.05 * (hi - lo) or 0.05 * max(abs(hi), 1.0)  # matplotlib's own 5% margins
        ax.set_ylim(lo - pad, hi + pad)
        span = float(xs.max() - xs.min()) or 1.0
        ax.set_xlim(float(xs.min()) - 0.05 * span, float(xs.max()) + 0.05 * span)
        levels = _levels(forecasts[0]) if forecasts else []
        handles: list[Any] = [Line2D([], [], color="black", lw=1.6, label="history")]
        handles += [
            Patch(color=_SHADES.get(i, "#9ecae1"), alpha=0.8, lw=0, label=f"{lv}% interval")
            for i, lv in enumerate(levels)
        ]
        handles.append(Line2D([], [], label="forecast", **_MEAN_STYLE))
        ax.legend(handles=handles, fontsize=7, loc="upper left")
    _period_ticks(ax, hist.index, *[fc.index for fc in forecasts])
    raised, title_text = _title(ax, title, 10)
    note = _note(reconstructed, subtitle)
    if note:
        fig.text(
            0.01, 0.01, note, fontsize=7, color=_RED if reconstructed else "#444444", va="bottom"
        )
    ax.set_axisbelow(True)  # grid under the bands (and drawn once, under each chart's)
    ax.grid(alpha=0.3)
    _margins(
        fig,
        left=0.75,
        right=0.2,
        top=0.2 + _lines(title) * 10 * _LINE + raised,
        bottom=0.4 + _lines(note) * 7 * _LINE,
    )
    _fixed_axis_labels(fig, ax)
    return fig, ax, title_text


def _fan_figure(
    history: pd.Series,
    forecast: pd.DataFrame,
    title: str,
    subtitle: str = "",
    reconstructed: bool = False,
    history_periods: int = 24,
) -> Figure:
    """The fan chart's figure, not yet saved (see :func:`fan_chart`)."""
    fig, _, _ = _fan_frame(
        history, [forecast], title, subtitle, reconstructed, history_periods, draw=True
    )
    return fig


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
    return _save(
        _fan_figure(history, forecast, title, subtitle, reconstructed, history_periods), path
    )


def fan_charts(
    history: pd.Series,
    charts: Mapping[Path, tuple[pd.DataFrame, str]],
    subtitle: str = "",
    reconstructed: bool = False,
    history_periods: int = 24,
) -> list[Path]:
    """Fan charts of several forecasts of one series (``path -> (forecast, title)``), on the
    same axes so that they compare at a glance.

    What they share (history, ticks, grid, legend, note) is drawn once; each chart is that
    image with its forecast and title drawn over it (matplotlib's blitting), about a fifth of
    the cost of a chart drawn whole. Titles should have the same number of lines (the margins
    follow the first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if not charts:
        return []
    items = list(charts.items())
    forecasts = [fc for _, (fc, _) in items]
    fig, ax, title = _fan_frame(
        history, forecasts, items[0][1][1], subtitle, reconstructed, history_periods, draw=False
    )
    title.set_text("")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    out = []
    for path, (fc, text) in items:
        canvas.restore_region(background)
        title.set_text(text)
        artists = _draw_forecast(ax, fc)
        for artist in [*artists, title]:
            ax.draw_artist(artist)
        for artist in artists:
            artist.remove()
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, format="png", compress_level=3, dpi=(_DPI, _DPI))
        out.append(path)
    return out


def _error_figure(table: pd.DataFrame, title: str, metric: str = "mase") -> Figure:
    """The error-by-horizon figure, not yet saved (see :func:`error_by_horizon`)."""
    df = table.assign(ase=(table["y"] - table["mean"]).abs() / table["mase_scale"])
    fig, axes = _new_figure(6, 3.5)
    ax = axes[0, 0]
    for model, grp in df.groupby("model", sort=False):
        by_h = grp.groupby("h")["ase"].mean()
        ax.plot(by_h.index.to_numpy(), by_h.to_numpy(), marker="o", label=str(model))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.set_xlabel("steps ahead")
    ax.set_ylabel(metric.upper())
    raised, _ = _title(ax, title, 10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    top = 0.2 + _lines(title) * 10 * _LINE + raised
    _margins(fig, left=0.85, right=0.2, top=top, bottom=0.6)
    _fixed_axis_labels(fig, ax)
    return fig


def error_by_horizon(table: pd.DataFrame, path: Path, title: str, metric: str = "mase") -> Path:
    """One line per model: mean absolute scaled error by step ahead."""
    return _save(_error_figure(table, title, metric), path)


def _bands(ax: Axes, forecast: pd.DataFrame, color: str = "#2171b5", label: str = "") -> None:
    x = _pos(forecast.index)
    levels = _levels(forecast)
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
    fig, axes = _new_figure(8, 3.3 * len(panels), len(panels), 1)
    for ax, (ptitle, history, fc, base, recon) in zip(axes[:, 0], panels, strict=True):
        hist = history.iloc[-history_periods:]
        ax.plot(_pos(hist.index), hist.to_numpy(), color="black", lw=1.5, label="history")
        _bands(ax, fc)
        ax.plot(
            _pos(fc.index),
            fc["mean"].to_numpy(),
            color="#08306b",
            lw=1.8,
            marker="o",
            ms=3,
            label="scenario",
        )
        if base is not None:
            ax.plot(
                _pos(base.index),
                base.to_numpy(),
                color="#636363",
                lw=1.2,
                ls="--",
                label="baseline",
            )
        _period_ticks(ax, hist.index, fc.index)
        _title(ax, ptitle, 9)
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
    fig, axes = _new_figure(11, 3.4 * len(panels), len(panels), 2)
    for (ax, ax_d), (ptitle, history, frames, diffs, recon) in zip(axes, panels, strict=True):
        hist = history.iloc[-history_periods:]
        ax.plot(_pos(hist.index), hist.to_numpy(), color="black", lw=1.5, label="history")
        for i, (name, fc) in enumerate(frames.items()):
            c = colors[i % len(colors)]
            ax.plot(_pos(fc.index), fc["mean"].to_numpy(), color=c, lw=1.5, label=name)
        for i, (name, d) in enumerate(diffs.items()):
            c = colors[i % len(colors)]
            x = _pos(d.index)
            ax_d.fill_between(
                x, d["lo_80"].to_numpy(), d["hi_80"].to_numpy(), color=c, alpha=0.12, lw=0
            )
            ax_d.plot(x, d["mean"].to_numpy(), color=c, lw=1.5, label=name)
        ax_d.axhline(0, color="black", lw=0.8)
        # half-width panels: fewer period labels so they do not run into each other
        _period_ticks(ax, hist.index, *(fc.index for fc in frames.values()), max_ticks=6)
        _period_ticks(ax_d, *(d.index for d in diffs.values()), max_ticks=6)
        _title(ax, ptitle, 9)
        _title(ax_d, "difference from baseline, % (80% interval shaded)", 9)
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
    fig, axes = _new_figure(8, 4.2)
    ax = axes[0, 0]
    n_cut = table["cutoff"].nunique()
    freq = history.index.freq if history is not None and len(history) else None
    spans: list[pd.Index] = []  # the periods on the x axis, for its tick labels
    if history is not None and freq is not None:
        hist = history.iloc[-(table["period"].nunique() + 16) :]
        ax.plot(_pos(hist.index), hist.to_numpy(), color="black", lw=1.6, label="actual")
        spans.append(hist.index)
    cmap = matplotlib.colormaps["viridis"]
    for i, (cutoff, grp) in enumerate(table.groupby("cutoff", sort=True)):
        if freq is not None:
            periods = pd.PeriodIndex(grp["period"].astype(str), freq=freq)
            spans.append(periods)
            x: Any = _pos(periods)
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
            color=cmap(i / max(1, n_cut - 1)),
            label=f"forecast from {cutoff}" if i in (0, n_cut - 1) else None,
        )
    if freq is None:
        act = table.drop_duplicates("period").sort_values("period")
        ax.plot(
            act["period"].astype(str), act["y"].to_numpy(), color="black", lw=1.6, label="actual"
        )
    if spans:
        _period_ticks(ax, *spans)
    raised, _ = _title(ax, title, 10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    top = 0.2 + _lines(title) * 10 * _LINE + raised
    _margins(fig, left=0.75, right=0.2, top=top, bottom=0.45)
    _fixed_axis_labels(fig, ax)
    return _save(fig, path)
