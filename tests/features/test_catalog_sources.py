"""The catalog over the new sources: every series loads, vintages pick the right release,
files match their recorded hashes, and release dates match what the files say."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from features import catalog, cbr, rosstat
from features.errors import InputError

NEW_IDS = [
    "brent",
    "usd_rub",
    "cny_rub",
    "eur_rub",
    "key_rate",
    "cpi_yoy",
    *(f"eu_exports_{p}" for p in ("armenia", "georgia", "kyrgyzstan", "russia", "uzbekistan")),
    *(
        f"ru_imports_{p}"
        for p in (
            "china",
            "hong_kong",
            "turkey",
            "kazakhstan",
            "kyrgyzstan",
            "armenia",
            "uae",
            "uzbekistan",
            "georgia",
            "belarus",
            "world",
        )
    ),
    "dl_growth_annual",
    "dl_output_annual",
]


@pytest.fixture(autouse=True)
def _project_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANCTIONCAST_DATA_DIR", raising=False)


@pytest.mark.parametrize("series_id", NEW_IDS)
def test_every_new_series_loads_and_passes_checks(series_id: str) -> None:
    data = catalog.load(series_id)
    assert len(data.values) > 5
    assert data.values.notna().all()
    assert data.metadata()["frequency"] == data.spec.freq


def test_spot_values_through_catalog() -> None:
    assert catalog.load("brent").values[pd.Period("2022-06", "M")] == 122.71
    assert catalog.load("usd_rub").values[pd.Period("2022-03", "M")] == pytest.approx(
        104.08, abs=0.005
    )
    assert catalog.load("ru_imports_kazakhstan").values.index[-1] == pd.Period("2023", "Y")
    assert catalog.load("okved11_a:DL").values.equals(catalog.load("dl_output_annual").values)
    assert catalog.load("ru_imports:CHN").values.equals(catalog.load("ru_imports_china").values)


def test_first_estimate_vintage_of_c26_growth() -> None:
    old = catalog.load("c26_growth_annual", vintage="2024-03-01")
    assert old.values[pd.Period("2023", "Y")] == 132.8
    assert old.values.index[-1] == pd.Period("2023", "Y")  # nothing published after it
    assert old.vintage.release == dt.date(2024, 2, 3)
    assert old.metadata()["vintage"] == "2024-02-03"
    latest = catalog.load("c26_growth_annual", vintage="latest")
    assert latest.values[pd.Period("2023", "Y")] == 139.4
    assert latest.vintage.release == dt.date(2026, 2, 6)
    # the release day itself already sees the first estimate
    assert catalog.load("c26_growth_annual", vintage="2024-02-03").values.iloc[-1] == 132.8


def test_first_estimate_vintage_of_c26_level() -> None:
    old = catalog.load("c26_output_annual", vintage=dt.date(2024, 3, 1)).values
    assert old[pd.Period("2021", "Y")] == pytest.approx(100.0)
    assert old[pd.Period("2023", "Y")] == pytest.approx(109.4 * 1.328)
    new = catalog.load("c26_output_annual").values
    assert new[pd.Period("2023", "Y")] == pytest.approx(109.4 * 1.394)


def test_vintage_before_any_release_names_it() -> None:
    with pytest.raises(InputError, match=r"vintage 2020-01-01: no release"):
        catalog.load("c26_growth_annual", vintage="2020-01-01")
    with pytest.raises(InputError, match=r"vintage 2024-02-02"):
        catalog.load("c26_growth_annual", vintage="2024-02-02")


def test_series_vintages_do_not_leak_to_other_series_of_the_source() -> None:
    # okved2_a:26 has no 2024 release of its own: a 2024 vintage must fail, not borrow the CSV
    with pytest.raises(InputError, match=r"vintage 2024-03-01"):
        catalog.load("okved2_a:26", vintage="2024-03-01")


def _all_vintages() -> list[tuple[str, catalog.Vintage]]:
    cat = catalog.get_catalog()
    out = [(name, v) for name, src in cat.sources.items() for v in src.vintages]
    out += [(sid, v) for sid, spec in cat.series.items() for v in spec.vintages]
    return out


def test_every_vintage_file_matches_its_sha256_and_has_a_card() -> None:
    cat = catalog.get_catalog()
    for where, v in _all_vintages():
        path = catalog.data_dir() / v.path
        assert path.is_file(), (where, v.path)
        assert v.sha256 is not None, where
        assert catalog.file_sha256(path) == v.sha256, (where, v.path)
    for name, src in cat.sources.items():
        assert (catalog.data_dir() / src.card).is_file(), name


def test_release_dates_match_the_files_own_metadata() -> None:
    for where, v in _all_vintages():
        path = catalog.data_dir() / v.path
        if path.suffix == ".xlsx":
            assert rosstat.updated_on(path) == v.release, where
        if path.suffix == ".json":
            assert cbr.read_file(path).meta.generated_at.date() == v.release, where


def _write_catalog(tmp_path: Path, vintages_yaml: str) -> None:
    (tmp_path / "catalog.yml").write_text(
        "sources:\n"
        "  s:\n"
        "    {publisher: P, title: T, url: U, licence: L, card: c.md,\n"
        "     vintages: [{release: 2024-01-01, path: a.csv}]}\n"
        "series:\n"
        "  x:\n"
        "    {title: X, unit: u, freq: M, source: s, loader: eia_brent,\n"
        f"     vintages: {vintages_yaml}}}\n"
    )


def test_two_vintages_on_one_release_date_are_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_catalog(tmp_path, "[{release: 2024-01-01, path: b.csv}]")
    monkeypatch.setenv("SANCTIONCAST_DATA_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"series\.x\.vintages': release 2024-01-01 appears twice"):
        catalog.get_catalog()


def test_unknown_vintage_loader_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_catalog(tmp_path, "[{release: 2023-01-01, path: b.csv, loader: nope}]")
    monkeypatch.setenv("SANCTIONCAST_DATA_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"series\.x\.vintages\.0\.loader': unknown loader 'nope'"):
        catalog.get_catalog()


def test_vintage_loader_and_params_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.csv").write_text("Date,Price\n2024-01-15,80\n2024-02-15,82\n")
    (tmp_path / "old.csv").write_text(
        "code,year,value_pct,status,citation\nZ,2022,101.0,as published,a cited source\n"
        "Z,2023,102.0,as published,a cited source\n"
    )
    _write_catalog(
        tmp_path,
        "[{release: 2023-06-01, path: old.csv, loader: rosstat_annual_growth_csv, "
        "params: {code: Z}}]",
    )
    monkeypatch.setenv("SANCTIONCAST_DATA_DIR", str(tmp_path))
    assert catalog.load("x", vintage="2023-12-31").values.tolist() == [101.0, 102.0]
    assert catalog.load("x").values.tolist() == [80.0, 82.0]
