"""Charts: files are written, and what must be on them is on them (notes, labels, ticks)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pipelines import plots
from tests.conftest import seasonal_series

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _forecast(history: pd.Series, h: int = 8) -> pd.DataFrame:
    idx = pd.period_range(history.index[-1] + 1, periods=h, freq=history.index.freq)
    mean = history.iloc[-1] + np.arange(1, h + 1) * 0.5
    w = np.sqrt(np.arange(1, h + 1))
    return pd.DataFrame(
        {
            "mean": mean,
            "lo_80": mean - 1.28 * w,
            "hi_80": mean + 1.28 * w,
            "lo_95": mean - 1.96 * w,
            "hi_95": mean + 1.96 * w,
        },
        index=pd.PeriodIndex(idx, name="period"),
    )


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts]


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_MAGIC


@pytest.fixture
def quarterly() -> tuple[pd.Series, pd.DataFrame]:
    y = seasonal_series(60)
    return y, _forecast(y)


def test_fan_chart_writes_png(tmp_path, quarterly):
    y, fc = quarterly
    path = tmp_path / "nested" / "fan.png"
    out = plots.fan_chart(y, fc, path, "Title\nmodel forecast", subtitle="Source: test")
    assert out == path
    assert _is_png(path)
    assert path.stat().st_size > 10_000


def test_fan_chart_reconstructed_note_in_red(quarterly):
    y, fc = quarterly
    fig = plots._fan_figure(y, fc, "Title", subtitle="Source: test", reconstructed=True)
    (note,) = [t for t in fig.texts if "RECONSTRUCTED" in t.get_text()]
    assert note.get_text().splitlines() == [plots._RECON_NOTE, "Source: test"]
    assert mcolors.to_hex(note.get_color()) == "#a50f15"

    plain = plots._fan_figure(y, fc, "Title", subtitle="Source: test", reconstructed=False)
    assert _texts(plain) == ["Source: test"]
    assert not any("RECONSTRUCTED" in t for t in _texts(plain))


def test_fan_chart_content(quarterly):
    y, fc = quarterly
    fig = plots._fan_figure(y, fc, "Title\nmodel forecast", history_periods=24)
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == "Title\nmodel forecast"
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "history",
        "95% interval",
        "80% interval",
        "forecast",
    ]
    assert len(ax.collections) == 2  # one shaded band per interval level
    assert all(g.get_visible() for g in ax.yaxis.get_gridlines())  # grid on
    labels = [t.get_text() for t in ax.get_xticklabels()]
    first, last = y.index[-24], fc.index[-1]
    assert 3 <= len(labels) <= 8
    assert all(pd.Period(s, freq="Q") for s in labels)  # period labels like 2024Q1
    assert all(s.endswith("Q1") for s in labels)
    assert first <= pd.Period(labels[0], freq="Q") and pd.Period(labels[-1], freq="Q") <= last
    # the forecast continues the history on the same axis positions, one step later
    hist_line, fc_line = ax.lines
    step = fc_line.get_xdata()[0] - hist_line.get_xdata()[-1]
    assert step == pytest.approx(np.diff(hist_line.get_xdata()).mean())


def test_monthly_ticks_are_months():
    y = seasonal_series(120, freq="M", sp=12, start="2015-01")
    fig = plots._fan_figure(y, _forecast(y, 12), "Monthly")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert 3 <= len(labels) <= 8
    assert all(len(s) == 7 and s[4] == "-" for s in labels)  # 2024-01
    assert "2024-01" in labels


def test_annual_ticks():
    y = seasonal_series(30, freq="Y-DEC", sp=1, start="1995")
    fig = plots._fan_figure(y, _forecast(y, 5), "Annual", history_periods=30)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["1995", "2000", "2005", "2010", "2015", "2020", "2025"]


def test_error_by_horizon(tmp_path):
    rows = [
        {"model": m, "h": h, "y": 100.0 + h, "mean": 100.0 + h * k, "mase_scale": 2.0}
        for m, k in (("naive", 1.5), ("ets", 1.1))
        for h in range(1, 5)
        for _ in range(3)
    ]
    table = pd.DataFrame(rows)
    fig = plots._error_figure(table, "c26: backtest MASE by horizon")
    (ax,) = fig.axes
    assert ax.get_ylabel() == "MASE"
    assert ax.get_xlabel() == "steps ahead"
    assert [line.get_label() for line in ax.lines] == ["naive", "ets"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.25, 0.5, 0.75, 1.0])
    path = plots.error_by_horizon(table, tmp_path / "e.png", "t")
    assert _is_png(path)


def test_finish_panels_notes_and_save(tmp_path, quarterly):
    y, _ = quarterly
    fig, axes = plots._new_figure(8, 6, 2, 1)
    for ax in axes[:, 0]:
        ax.plot(plots._pos(y.index), y.to_numpy())
    path = plots._finish_panels(fig, tmp_path / "p.png", "Panels", "a subtitle", True)
    assert _is_png(path)
    assert fig.get_suptitle() == "Panels"
    assert plots._RECON_NOTE + "\na subtitle" in _texts(fig)


def test_finish_panels_closes_pyplot_figures(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    plots._finish_panels(fig, tmp_path / "p.png", "t", "", False)
    assert not plt.fignum_exists(fig.number)
    assert (tmp_path / "p.png").exists()


def test_scenario_charts_written(tmp_path, quarterly):
    y, fc = quarterly
    fan = plots.scenario_fan_chart(
        [("chips", y, fc, fc["mean"], True), ("output", y, fc, None, False)],
        tmp_path / "s.png",
        "Scenario",
        "sub",
    )
    comp = plots.scenario_comparison_chart(
        [("chips", y, {"base": fc, "alt": fc}, {"alt": fc - 100}, True)],
        tmp_path / "c.png",
        "Comparison",
    )
    assert _is_png(fan) and _is_png(comp)


def test_large_values_raise_the_title_over_the_offset_text(quarterly):
    y, fc = quarterly
    fig = plots._fan_figure(y * 1e9, fc * 1e9, "Big")
    small = plots._fan_figure(y, fc, "Small")
    assert plots._has_offset(fig.axes[0]) and not plots._has_offset(small.axes[0])
    assert fig.subplotpars.top < small.subplotpars.top  # more room above the axes


def test_fan_charts_share_axes_and_match_a_whole_drawing(tmp_path, quarterly):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    y, fc = quarterly
    wide = fc.assign(lo_95=fc["lo_95"] - 30.0, hi_95=fc["hi_95"] + 30.0)
    charts = {
        tmp_path / "a" / "fan_chart.png": (fc, "Title\nnarrow forecast"),
        tmp_path / "b" / "fan_chart.png": (wide, "Title\nwide forecast"),
    }
    out = plots.fan_charts(y, charts, subtitle="Source: test", reconstructed=True)
    assert out == list(charts)
    images = [np.asarray(Image.open(p)) for p in out]
    assert all(_is_png(p) for p in out) and images[0].shape == images[1].shape == (420, 800, 4)
    # each chart is the whole figure drawn at once with the shared axes: the shared part drawn
    # once and the chart's own forecast and title drawn over it change no pixel
    for (path, (forecast, title)), got in zip(charts.items(), images, strict=True):
        fig, ax, text = plots._fan_frame(
            y, [fc, wide], "Title\nnarrow forecast", "Source: test", True, 24, draw=False
        )
        plots._draw_forecast(ax, forecast)
        text.set_text(title)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        np.testing.assert_array_equal(got, np.asarray(canvas.buffer_rgba()), err_msg=str(path))
    # the narrow forecast's chart is scaled to the wide one's bands: same y axis on both
    fig, ax, _ = plots._fan_frame(y, [fc, wide], "T\nx", "", False, 24, draw=False)
    assert ax.get_ylim()[0] < wide["lo_95"].min() < fc["lo_95"].min()
    assert ax.get_ylim()[1] > wide["hi_95"].max()
    assert plots.fan_charts(y, {}) == []
