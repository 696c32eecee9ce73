"""Reference tests for features.frequency: aggregation and temporal disaggregation.

Where each reference number comes from is said in each test:

* R published: output printed in R ``tempdisagg``'s vignette "Temporal Disaggregation of Time
  Series" (Sax and Steiner; CRAN package tempdisagg 1.1, ``vignettes/intro.Rmd``, rendered copy
  in the package's ``inst/doc``), example ``td(sales.a ~ 1, to = "quarterly",
  method = "denton-cholette")`` on the ``swisspharma`` data.
* hand-derivable: identities that follow from the definitions (aggregation constraint, rho = 0,
  GLS = statsmodels' GLS on the aggregated problem, likelihood maximum on a grid).

The vignette's Chow-Lin example (``td(sales.a ~ exports.q)``: intercept 12.41, slope 0.01339,
rho truncated to 0) cannot be reproduced here: the quarterly ``exports.q`` values are only in
the package's binary ``swisspharma.RData``, not in any text we could cite, so Chow-Lin is pinned
by hand-derivable cases instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import multivariate_normal

from features.errors import InputError
from features.frequency import (
    aggregate,
    ar1_q,
    chow_lin,
    conversion_matrix,
    count_per_period,
    denton_cholette,
    how_for,
)

# predict(m1) as printed in the vignette: quarterly values, 5 decimals (R published)
R_DENTON_CHOLETTE_M1 = """
    1975  33.38718  33.70254  34.33326  35.27935
    1976  36.54080  37.53466  38.26095  38.71966
    1977  38.91079  39.04117  39.11079  39.11966
    1978  39.06777  39.14067  39.33837  39.66086
    1979  40.10814  40.47720  40.76803  40.98064
    1980  41.11502  41.57133  42.34956  43.44971
    1981  44.87179  45.87837  46.46945  46.64503
    1982  46.40512  46.37280  46.54807  46.93094
    1983  47.52140  48.29746  49.25911  50.40636
    1984  51.73921  53.00475  54.20300  55.33394
    1985  56.39759  57.19583  57.72866  57.99608
    1986  57.99809  58.03906  58.11897  58.23784
    1987  58.39565  58.85255  59.60852  60.66357
    1988  62.01770  63.48649  65.06993  66.76802
    1989  68.58076  70.06841  71.23096  72.06842
    1990  72.58078  73.11024  73.65679  74.22044
    1991  74.80119  75.62961  76.70569  78.02943
    1992  79.60084  80.93782  82.04037  82.90848
    1993  83.54216  84.81941  86.74023  89.30463
    1994  92.51260  95.06991  96.97657  98.23257
    1995  98.83791  99.54488 100.35349 101.26372
    1996 102.27559 103.92992 106.22671 109.16595
    1997 112.74765 115.27533 116.74897 117.16859
    1998 116.53417 117.04297 118.69497 121.49019
    1999 125.42861 128.19226 129.78113 130.19523
    2000 129.43456 130.72210 134.05785 139.44181
    2001 146.87399 152.96545 157.71619 161.12623
    2002 163.19556 165.10542 166.85581 168.44673
    2003 169.87819 171.63042 173.70342 176.09721
    2004 178.81176 181.54727 184.30371 187.08111
    2005 189.87944 192.77669 195.77283 198.86789
    2006 202.06184 207.98419 216.63492 228.01404
    2007 242.12154 251.40903 255.87648 255.52392
    2008 250.35133 248.17889 249.00662 252.83450
    2009 259.66255 263.09267 263.12489 259.75919
    2010 252.99558 247.92287 244.54106 242.85016
"""


def _r_m1() -> tuple[pd.Series, np.ndarray]:
    rows = [line.split() for line in R_DENTON_CHOLETTE_M1.strip().splitlines()]
    q = np.array([[float(v) for v in r[1:]] for r in rows])
    years = pd.PeriodIndex([r[0] for r in rows], freq="Y-DEC")
    # sales.a itself is the annual sum of the published quarters (exact up to their rounding)
    return pd.Series(q.sum(axis=1), index=years, name="sales.a"), q.ravel()


def _quarterly_indicator(start: str = "1975Q1", end: str = "2011Q2", seed: int = 1) -> pd.Series:
    idx = pd.period_range(start, end, freq="Q")
    rng = np.random.default_rng(seed)
    return pd.Series(100 + np.cumsum(rng.normal(1.0, 2.0, len(idx))), index=idx, name="x")


# --- aggregation ------------------------------------------------------------------------------


def test_aggregate_flows_sum_rates_mean_stocks_last() -> None:
    idx = pd.period_range("2023-01", "2023-06", freq="M")
    s = pd.Series([1.0, 2, 3, 4, 5, 6], index=idx)
    q_sum = aggregate(s, "Q", how_for("flow"))
    assert q_sum.tolist() == [6.0, 15.0]
    assert str(q_sum.index[0]) == "2023Q1"
    assert aggregate(s, "Q", how_for("rate")).tolist() == [2.0, 5.0]
    assert aggregate(s, "Q", how_for("stock")).tolist() == [3.0, 6.0]
    assert aggregate(s, "Q", "first").tolist() == [1.0, 4.0]


def test_aggregate_incomplete_periods_are_never_summed() -> None:
    idx = pd.period_range("2022-11", "2023-07", freq="M")  # 2022Q4 and 2023Q3 incomplete
    s = pd.Series(np.arange(1.0, 10.0), index=idx)
    s.iloc[4] = np.nan  # 2023-03: 2023Q1 incomplete too
    dropped = aggregate(s, "Q", "sum")
    assert [str(p) for p in dropped.index] == ["2023Q2"]
    assert dropped.iloc[0] == 6.0 + 7.0 + 8.0
    kept = aggregate(s, "Q", "sum", incomplete="nan")
    assert [str(p) for p in kept.index] == ["2022Q4", "2023Q1", "2023Q2", "2023Q3"]
    assert kept.isna().tolist() == [True, True, False, True]
    counts = count_per_period(s, "Q")
    assert counts.tolist() == [2, 2, 3, 1] and str(counts.index[0]) == "2022Q4"
    with pytest.raises(InputError, match="2022Q4 has 2 of 3 values"):
        aggregate(s, "Q", "sum", incomplete="raise")


def test_aggregate_monthly_and_quarterly_to_annual() -> None:
    m = pd.Series(1.0, index=pd.period_range("2019-01", "2020-12", freq="M"))
    assert aggregate(m, "A", "sum").tolist() == [12.0, 12.0]
    q = pd.Series([1.0, 2, 3, 4], index=pd.period_range("2020Q1", "2020Q4", freq="Q"))
    a = aggregate(q, "A", "mean")
    assert a.tolist() == [2.5] and str(a.index[0]) == "2020"
    with pytest.raises(InputError, match="target must be lower"):
        aggregate(q, "M", "sum")
    with pytest.raises(InputError, match="unit kind"):
        how_for("volume")


# --- Denton-Cholette --------------------------------------------------------------------------


def test_denton_cholette_matches_r_published_vignette_m1() -> None:
    """R published: td(sales.a ~ 1, to = "quarterly", method = "denton-cholette")."""
    sales_a, r_quarters = _r_m1()
    dc = denton_cholette(sales_a, to="Q")
    assert len(dc) == 144 and str(dc.index[0]) == "1975Q1"
    # the published values carry 5 decimals, so the annual totals we rebuilt carry +-2e-5
    np.testing.assert_allclose(dc.to_numpy(), r_quarters, atol=5e-5)


def test_denton_cholette_constant_indicator_is_smooth_and_exact() -> None:
    """Hand-derivable: constant indicator, sums equal the totals; constant totals stay flat."""
    sales_a, _ = _r_m1()
    dc = denton_cholette(sales_a, to="Q")
    np.testing.assert_allclose(aggregate(dc, "A", "sum").to_numpy(), sales_a.to_numpy(), atol=1e-9)
    flat = pd.Series([40.0, 40.0, 40.0], index=pd.PeriodIndex(["2001", "2002", "2003"], freq="Y"))
    np.testing.assert_allclose(denton_cholette(flat, to="Q").to_numpy(), 10.0, atol=1e-12)
    # mean conversion: the quarterly mean equals the annual value
    dm = denton_cholette(sales_a, to="Q", conversion="mean")
    np.testing.assert_allclose(aggregate(dm, "A", "mean").to_numpy(), sales_a.to_numpy(), atol=1e-9)


def test_denton_cholette_with_indicator_preserves_its_movement() -> None:
    """Hand-derivable: an indicator proportional to the totals is returned unchanged (scaled)."""
    x = _quarterly_indicator("2001Q1", "2006Q4")
    y = aggregate(x, "A", "sum") * 3.0
    dc = denton_cholette(y, x)
    np.testing.assert_allclose(dc.to_numpy(), 3.0 * x.to_numpy(), rtol=1e-10)
    add = denton_cholette(y, x, criterion="additive")
    np.testing.assert_allclose(aggregate(add, "A", "sum").to_numpy(), y.to_numpy(), atol=1e-9)


def test_denton_cholette_extrapolates_beyond_the_annual_span() -> None:
    x = _quarterly_indicator("2001Q1", "2007Q2")
    y = aggregate(x, "A", "sum").iloc[:-1] * 2.0  # 2001-2006; 2007 half-year only in x
    dc = denton_cholette(y, x)
    assert len(dc) == len(x)
    np.testing.assert_allclose(aggregate(dc, "A", "sum").loc[y.index].to_numpy(), y, atol=1e-9)
    # proportional h=1: the benchmark-to-indicator ratio is carried forward after the last year
    np.testing.assert_allclose((dc / x).iloc[-2:].to_numpy(), 2.0, rtol=1e-9)


# --- Chow-Lin ---------------------------------------------------------------------------------


def test_chow_lin_rho_zero_is_ols_plus_even_residual_distribution() -> None:
    """Hand-derivable: rho = 0 gives OLS on the annual sums and residual / 4 per quarter."""
    sales_a, _ = _r_m1()
    x = _quarterly_indicator("1975Q1", "2010Q4")
    res = chow_lin(sales_a, x, rho=0.0)
    X_l = np.column_stack([np.full(len(sales_a), 4.0), aggregate(x, "A", "sum").to_numpy()])
    ols = sm.OLS(sales_a.to_numpy(), X_l).fit()
    np.testing.assert_allclose(res.coefficients.to_numpy(), ols.params, rtol=1e-10)
    # GLS with V = C C' = 4 I has the OLS standard errors too
    np.testing.assert_allclose(res.std_errors.to_numpy(), ols.bse, rtol=1e-10)
    expected = res.coefficients.iloc[0] + res.coefficients.iloc[1] * x.to_numpy()
    expected += np.repeat(ols.resid / 4.0, 4)
    np.testing.assert_allclose(res.values.to_numpy(), expected, atol=1e-9)
    assert res.method == "chow-lin-fixed"


def test_chow_lin_gls_equals_statsmodels_gls_and_constraint_holds() -> None:
    """Hand-derivable: at the estimated rho, coefficients and SEs are statsmodels' GLS."""
    sales_a, _ = _r_m1()
    x = _quarterly_indicator()
    res = chow_lin(sales_a, x, truncated_rho=-1.0)
    C = conversion_matrix(sales_a.index, x.index, "sum")
    X = np.column_stack([np.ones(len(x)), x.to_numpy()])
    V = C @ ar1_q(res.rho, len(x)) @ C.T
    g = sm.GLS(sales_a.to_numpy(), C @ X, sigma=V).fit()
    np.testing.assert_allclose(res.coefficients.to_numpy(), g.params, rtol=1e-8)
    np.testing.assert_allclose(res.std_errors.to_numpy(), g.bse, rtol=1e-8)
    agg = aggregate(res.values, "A", "sum").loc[sales_a.index]
    np.testing.assert_allclose(agg.to_numpy(), sales_a.to_numpy(), atol=1e-9)
    assert len(res.values) == 146  # 1975Q1-2011Q2: two quarters extrapolated


def test_chow_lin_maxlog_rho_is_the_likelihood_maximum() -> None:
    """Hand-derivable: an independent profile likelihood (scipy) peaks at the estimated rho."""
    sales_a, _ = _r_m1()
    x = _quarterly_indicator("1975Q1", "2010Q4", seed=7)
    res = chow_lin(sales_a, x, truncated_rho=-1.0)
    C = conversion_matrix(sales_a.index, x.index, "sum")
    X_l = C @ np.column_stack([np.ones(len(x)), x.to_numpy()])
    y = sales_a.to_numpy()

    def profile(rho: float) -> float:
        V = C @ ar1_q(rho, len(x)) @ C.T
        b = sm.GLS(y, X_l, sigma=V).fit().params
        r = y - X_l @ b
        s2 = float(r @ np.linalg.solve(V, r)) / len(y)
        return float(multivariate_normal(mean=X_l @ b, cov=s2 * V).logpdf(y))

    grid = np.linspace(-0.99, 0.99, 199)
    best = grid[int(np.argmax([profile(r) for r in grid]))]
    assert abs(res.rho - best) <= 0.01 + 1e-12
    assert res.loglik == pytest.approx(profile(res.rho), rel=1e-9)


def test_chow_lin_rho_does_not_depend_on_units() -> None:
    """Hand-derivable: scaling y and x by 1000 leaves rho and the shape unchanged."""
    sales_a, _ = _r_m1()
    x = _quarterly_indicator()
    a = chow_lin(sales_a, x, truncated_rho=-1.0)
    b = chow_lin(sales_a * 1000, x * 1000, truncated_rho=-1.0)
    assert a.rho == pytest.approx(b.rho, abs=1e-6)
    np.testing.assert_allclose(b.values.to_numpy() / 1000, a.values.to_numpy(), rtol=1e-6)


def test_chow_lin_recovers_a_simulated_process_and_truncates_negative_rho() -> None:
    rng = np.random.default_rng(3)
    idx = pd.period_range("1960Q1", "2019Q4", freq="Q")
    x = pd.Series(50 + np.cumsum(rng.normal(0.5, 1.0, len(idx))), index=idx, name="x")
    u = np.zeros(len(idx))
    for t in range(1, len(idx)):
        u[t] = 0.8 * u[t - 1] + rng.normal(0, 1.0)
    y_q = 5.0 + 2.0 * x + u
    y_a = aggregate(y_q, "A", "sum")
    res = chow_lin(y_a, x, truncated_rho=-1.0)
    assert res.coefficients["x"] == pytest.approx(2.0, abs=0.15)
    assert 0.5 < res.rho < 0.99
    # the disaggregated series is closer to the truth than the preliminary regression alone
    prelim = res.coefficients.iloc[0] + res.coefficients.iloc[1] * x
    assert np.abs(res.values - y_q).mean() < np.abs(prelim - y_q).mean()
    # white-noise residuals: negative estimates are truncated to 0 by default
    y_neg = aggregate(
        5.0 + 2.0 * x + rng.normal(0, 1.0, len(idx)) * np.tile([1, -1], 120), "A", "sum"
    )
    neg = chow_lin(y_neg, x)
    assert neg.rho >= 0.0
    if neg.truncated:
        assert neg.rho == 0.0


def test_chow_lin_minrss_and_mean_conversion_meet_the_constraint() -> None:
    sales_a, _ = _r_m1()
    x = _quarterly_indicator("1975Q1", "2010Q4")
    for method in ("minrss-quilis", "minrss-ecotrim"):
        res = chow_lin(sales_a, x, method=method)  # type: ignore[arg-type]
        agg = aggregate(res.values, "A", "sum")
        np.testing.assert_allclose(agg.to_numpy(), sales_a.to_numpy(), atol=1e-9)
    res = chow_lin(sales_a, x, conversion="mean")
    np.testing.assert_allclose(
        aggregate(res.values, "A", "mean").to_numpy(), sales_a.to_numpy(), atol=1e-9
    )


def test_disaggregation_errors_name_the_problem() -> None:
    sales_a, _ = _r_m1()
    short = _quarterly_indicator("1976Q1", "2010Q4")
    with pytest.raises(InputError, match="does not cover 1975"):
        chow_lin(sales_a, short)
    with pytest.raises(InputError, match="indicator or a target frequency"):
        denton_cholette(sales_a)
    with pytest.raises(InputError, match="conversion"):
        denton_cholette(sales_a, to="Q", conversion="median")
