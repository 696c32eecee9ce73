"""Sanctions calendar -> regressors: dates and shares come from data/sanctions/sanctions_events.csv.

Expected shares are hand-derived from the event dates in the file: an event on day d counts from d
inclusive, so 2023-06-23 is in force 8 of June's 30 days and 8 of 2023Q2's 91 days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import sanctions_regressors as sr
from features.catalog import data_dir, load
from features.errors import InputError
from features.sanctions import read_events

EVENTS = data_dir() / "sanctions" / "sanctions_events.csv"


def test_step_dates_come_from_the_file() -> None:
    ev = read_events(EVENTS)
    assert sr.step_event(ev, "invasion")["date_text"] == "2022-02-24"
    assert sr.step_event(ev, "eu11")["date_text"] == "2023-06-23"
    assert sr.step_event(ev, "eo14114")["date_text"] == "2023-12-22"
    with pytest.raises(InputError, match="unknown sanctions step"):
        sr.step_event(ev, "eu99")


@pytest.mark.parametrize(
    ("name", "before", "partial", "share", "after"),
    [
        ("invasion", "2021Q4", "2022Q1", (5 + 31) / 90, "2022Q2"),
        ("eu11", "2023Q1", "2023Q2", 8 / 91, "2023Q3"),
        ("eo14114", "2023Q3", "2023Q4", 10 / 92, "2024Q1"),
    ],
)
def test_quarterly_steps_hold_the_share_of_the_quarter_in_force(
    name: str, before: str, partial: str, share: float, after: str
) -> None:
    s = sr.step(EVENTS, name, "Q")
    assert s[before] == 0.0
    assert s[partial] == pytest.approx(share, abs=1e-12)
    assert s[after] == 1.0
    assert (s.loc[:before] == 0).all() and (s.loc[after:] == 1).all()
    full = sr.step(EVENTS, name, "Q", rule="first_full")
    assert full[partial] == 0.0 and full[after] == 1.0


def test_monthly_steps() -> None:
    m = sr.regressors(EVENTS, "M")
    assert m.loc["2022-02", "sanction_step_invasion"] == pytest.approx(5 / 28)
    assert m.loc["2022-03", "sanction_step_invasion"] == 1.0
    assert m.loc["2023-06", "sanction_step_eu11"] == pytest.approx(8 / 30)
    assert m.loc["2023-12", "sanction_step_eo14114"] == pytest.approx(10 / 31)
    assert str(m.index[0]) == "2015-01" and str(m.index[-1]) == "2025-12"


def test_intensity_is_cumulative_and_documented() -> None:
    ev = sr.event_weights(read_events(EVENTS))
    q = sr.intensity(EVENTS, "Q")
    assert (q.loc[:"2021Q4"] == 0).all()
    assert (np.diff(q.to_numpy()) >= -1e-12).all()
    # by 2025Q4 every event is fully in force except those dated inside that quarter
    assert q.iloc[-1] <= float((ev["weight"] * ev["verification"]).sum()) + 1e-9
    m = sr.intensity(EVENTS, "M")
    assert m.iloc[-1] == pytest.approx(float((ev["weight"] * ev["verification"]).sum()))
    # weights: energy measures 0, anti-circumvention 3, export controls 2, listings 1
    assert sr.category_weight("oil price cap") == 0.0
    assert sr.category_weight("EU package 11 / anti-circumvention") == 3.0
    assert sr.category_weight("US export controls / FDPR") == 2.0
    assert sr.category_weight("US Entity List / China-HK") == 1.0
    # a month-only event (CHPL published 2023-07) counts from the next month, never before
    chpl = ev[(ev["date_text"] == "2023-07") & (ev["category"] == "CHPL")]
    assert chpl["in_force_from"].iloc[0] == pd.Timestamp("2023-08-01")
    # an unverified event counts half
    assert set(ev.loc[ev["verified_here"] == "not verified here", "verification"]) == {0.5}


def test_catalog_ids_load_with_zeros() -> None:
    for sid, freq in [
        ("sanction_step_invasion", "Q"),
        ("sanction_step_eu11", "Q"),
        ("sanction_step_eo14114", "Q"),
        ("sanctions_intensity", "Q"),
        ("sanction_step_eu11_m", "M"),
        ("sanctions_intensity_m", "M"),
    ]:
        d = load(sid)
        assert d.spec.freq == freq and d.spec.positive is False
        assert d.values.min() == 0.0
        assert d.metadata()["reconstructed"] is False
    assert load("sanction_step_eu11").values["2023Q2"] == pytest.approx(8 / 91)
