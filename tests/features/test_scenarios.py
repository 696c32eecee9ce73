"""Scenario files: schema, one-line errors naming file and field, dates against the data, paths."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import scenarios as S
from features.errors import InputError

HEADER = """\
name: test_case
description: a scenario written by a test
rationale:
  summary: testing
"""


def write(tmp_path: Path, body: str, header: str = HEADER, name: str = "case.yml") -> Path:
    p = tmp_path / name
    p.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return p


def shock(**kw: object) -> str:
    base = {"driver": "brent", "mode": "scale", "value": 0.9, "start": 1, "assumption": "a test"}
    base.update(kw)
    return "  - " + "\n    ".join(f"{k}: {v}" for k, v in base.items()) + "\n"


@pytest.fixture(scope="module")
def ends() -> S.DataEnds:
    return S.driver_history().ends


# --- the built-ins ---------------------------------------------------------------------------------


def test_builtins_validate_and_label_their_assumptions(ends):
    names = S.builtin_names()
    assert names[:5] == list(S.BUILTINS)
    known = S.evidence_urls()
    for name in S.BUILTINS:
        r = S.resolve(S.load_scenario(name), ends)
        spec = r.spec
        assert spec.name == name and r.loaded.builtin
        assert r.first == ends.origin and len(r.window) == spec.horizon
        # every cited source is in the project's evidence files; nothing invented
        assert all(u in known for u in S.cited_urls(spec)), name
        assert all("ASSUMPTION" in s.assumption for s in spec.shocks), name
        assert spec.link.elasticity.basis == "assumption"
        assert "analyst assumption" in spec.link.elasticity.source
    base = S.load_scenario("baseline").spec
    assert base.shocks == [] and base.conditions == []


def test_example_condition_file_validates(ends):
    r = S.resolve(S.load_scenario(S.scenarios_dir() / "examples" / "chips_40pct_below.yml"), ends)
    (c,) = r.conditions
    assert c.kind == "fix" and c.periods[0] == ends.origin + 3 and c.periods[-1] == r.last


# --- errors: one line, naming the file and the field ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ("shocks:\n" + shock(driver="gas"), "shocks.0.driver", "unknown driver 'gas'"),
        (
            "shocks:\n" + shock(driver="sanctions_intensity", mode="add", value=3, start="2024Q1"),
            "shocks.0.start",
            "before the data end",
        ),
        (
            "shocks:\n" + shock(start=1) + shock(start=3),
            "shocks.1.start",
            "overlaps shocks.0 on brent",
        ),
        ("horizon: 4\nshocks:\n" + shock(ramp=6), "shocks.0.ramp", "longer than the horizon"),
        (
            "horizon: 4\nshocks:\n" + shock(driver="enforcement", channel="uae", start=3, ramp=3),
            "shocks.0.ramp",
            "ends after the horizon",
        ),
        ("horizon: eight\n", "horizon", "integer"),
        ("shocks:\n" + shock(value="'a lot'"), "shocks.0.value", "number"),
        ("shocks:\n" + shock(start=2026.5), "shocks.0.start", "not a quarter"),
        ("shocks:\n" + shock(ramp=1.5), "shocks.0.ramp", "integer"),
        ("shocks:\n" + shock(size=3), "shocks.0.size", "unknown field"),
        ("shocks:\n" + shock(driver="enforcement"), "shocks.0.channel", "needs a channel"),
        (
            "shocks:\n" + shock(driver="enforcement", channel="mars"),
            "shocks.0.channel",
            "unknown channel",
        ),
        (
            "shocks:\n" + shock(driver="enforcement", channel="turkey", mode="set"),
            "shocks.0.mode",
            "scale",
        ),
        ("shocks:\n" + shock(channel="turkey"), "shocks.0.channel", "only enforcement"),
        ("shocks:\n" + shock(start=9), "shocks.0.start", "after the horizon"),
        ("shocks:\n" + shock(assumption="''"), "shocks.0.assumption", "at least 1"),
        ("horizon: 13\n", "horizon", "less than or equal to 12"),
        (
            "conditions:\n  - {series: gdp, kind: fix, value: -10, period: 2, assumption: t}\n",
            "conditions.0.series",
            "unknown series 'gdp'",
        ),
        (
            "conditions:\n  - {series: chip_imports, kind: fix, value: -10, period: 2025Q2, assumption: t}\n",
            "conditions.0.period",
            "before the data end",
        ),
        (
            "conditions:\n  - {series: c26_output, kind: fix, value: -10, period: 2, assumption: t}\n"
            "  - {series: c26_output, kind: max, value: -5, period: 1, until: 3, assumption: t}\n",
            "conditions.1.period",
            "already conditioned by conditions.0",
        ),
        (
            "conditions:\n  - {series: c26_output, kind: fix, value: -100, period: 2, assumption: t}\n",
            "conditions.0.value",
            "> -100",
        ),
        (
            "link: {elasticity: {central: 0.1, low: -0.2, high: 0.5, source: t}}\n",
            "link.elasticity.low",
            "cannot be negative",
        ),
        (
            "shocks:\n" + shock(driver="usd_rub", mode="add", value=-500),
            "shocks.0.value",
            "must stay positive",
        ),
    ],
)
def test_bad_files_name_file_and_field(tmp_path, body, field, needle):
    p = write(tmp_path, body)
    with pytest.raises(InputError) as info:
        S.validate(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}: field '{field}'"), msg
    assert needle in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("description: no name\nrationale: {summary: x}\n", "field 'name'"),
    ],
)
def test_unreadable_files(tmp_path, text, needle):
    p = tmp_path / "bad.yml"
    p.write_text(text)
    with pytest.raises(InputError, match=needle) as info:
        S.load_scenario(p)
    assert str(p) in str(info.value)


def test_unknown_reference():
    with pytest.raises(InputError, match="not a built-in"):
        S.load_scenario("no_such_scenario")


# --- dates and paths ---------------------------------------------------------------------------------


def test_relative_dates_start_where_each_driver_has_no_data(tmp_path, ends):
    body = "shocks:\n" + shock(driver="brent") + shock(driver="enforcement", channel="uae")
    r = S.resolve(S.load_scenario(write(tmp_path, body)), ends)
    brent, uae = r.shocks
    assert brent.start == max(ends.origin, ends.drivers["brent"] + 1)
    assert uae.start == ends.origin
    assert r.last == ends.origin + 7


def test_ramp_and_decay_fractions():
    s = S.ResolvedShock(
        0,
        "brent",
        None,
        "scale",
        0.5,
        pd.Period("2026Q1", "Q"),
        pd.Period("2028Q4", "Q"),
        4,
        2.0,
        "t",
    )
    idx = pd.period_range("2025Q4", "2027Q2", freq="Q")
    f = s.fraction(idx)
    # before the start 0; linear ramp over 4 quarters; then halves every 2 quarters
    np.testing.assert_allclose(f, [0, 0.25, 0.5, 0.75, 1.0, 2**-0.5, 0.5])


def test_paths_follow_baseline_rules_and_shock_modes(tmp_path):
    hist = S.driver_history()
    body = (
        "shocks:\n"
        + shock(driver="sanctions_intensity", mode="add", value=8, ramp=2)
        + shock(driver="usd_rub", mode="set", value=100)
        + shock(driver="enforcement", channel="turkey", value=0.5)
    )
    r = S.resolve(S.load_scenario(write(tmp_path, body)), hist.ends)
    paths = S.driver_paths(r, hist)
    base, scen, win = paths.baseline, paths.scenario, r.window
    # observed values are kept; the baseline continues them
    end = hist.ends.drivers["sanctions_intensity"]
    assert base.loc[end, "sanctions_intensity"] == hist.values.loc[end, "sanctions_intensity"]
    steps = np.array([(p - end).n for p in win])
    np.testing.assert_allclose(
        base.loc[win, "sanctions_intensity"],
        hist.values.loc[end, "sanctions_intensity"] + hist.intensity_slope * steps,
    )
    after_brent = win[win > hist.ends.drivers["brent"]]
    np.testing.assert_allclose(base.loc[after_brent, "brent"], hist.hold["brent"])
    assert (base.loc[win, "enforcement_turkey"] == 1.0).all()
    # add with a 2-quarter ramp; set lands on the level; scale multiplies
    diff = (scen - base).loc[win, "sanctions_intensity"].to_numpy()
    np.testing.assert_allclose(diff[:3], [4.0, 8.0, 8.0])
    usd_free = win[win > hist.ends.drivers["usd_rub"]]
    np.testing.assert_allclose(scen.loc[usd_free, "usd_rub"], 100.0)
    np.testing.assert_allclose(scen.loc[win, "enforcement_turkey"], 0.5)
    # a shock never overwrites an observation
    observed = paths.status["usd_rub"] == "observed"
    pd.testing.assert_series_equal(scen.loc[observed, "usd_rub"], base.loc[observed, "usd_rub"])
    assert set(paths.status.loc[win, "enforcement_turkey"]) == {"shock"}


def test_sha256_is_of_the_file_bytes(tmp_path):
    p = write(tmp_path, "shocks: []\n")
    loaded = S.load_scenario(p)
    assert loaded.sha256 == S.file_sha256(p)
    p.write_text(p.read_text() + "# a comment changes the hash\n")
    assert S.load_scenario(p).sha256 != loaded.sha256
