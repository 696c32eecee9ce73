"""Peer benchmark: statsforecast ``cross_validation`` with AutoARIMA and AutoETS.

Runs in ``benchmarks/.venv-statsforecast`` (statsforecast 2.1 needs pandas < 3, ours has 3),
created by ``make bench``. Reads a long CSV ``unique_id, ds, y`` and a JSON of settings, writes
a JSON of wall times and the cross-validation table as CSV. Usage:

    python peer_statsforecast.py IN.csv SETTINGS.json OUT.json OUT_CV.csv

Timing: a warm-up on a short toy series first (numba compiles the models' kernels then; that
time is reported as ``compile_seconds``), then each requested run on the real data, timed alone.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS


def _models(season: int) -> list:
    return [AutoARIMA(season_length=season), AutoETS(season_length=season)]


def main(argv: list[str]) -> int:
    data_path, settings_path, out_path, cv_path = argv[1:5]
    with open(settings_path, encoding="utf-8") as fh:
        settings = json.load(fh)
    season, freq = int(settings["season_length"]), settings["freq"]
    h, n_windows, step = int(settings["h"]), int(settings["n_windows"]), int(settings["step"])
    df = pd.read_csv(data_path)
    df["ds"] = pd.to_datetime(df["ds"])

    # warm-up: compile numba kernels on a tiny series (excluded from the run's wall time)
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    n0 = 4 * season + h + 4
    toy = pd.DataFrame(
        {
            "unique_id": "toy",
            "ds": pd.date_range("2000-01-01", periods=n0, freq=freq),
            "y": 100 + np.arange(n0) + rng.normal(0, 1, n0) + 5 * np.sin(np.arange(n0)),
        }
    )
    StatsForecast(models=_models(season), freq=freq, n_jobs=1).cross_validation(
        df=toy, h=h, n_windows=2, step_size=1
    )
    compile_s = time.perf_counter() - t0

    runs = {}
    cv_out = None
    for refit in settings.get("refit", [True]):
        sf = StatsForecast(models=_models(season), freq=freq, n_jobs=int(settings.get("n_jobs", 1)))
        t0 = time.perf_counter()
        cv = sf.cross_validation(
            df=df, h=h, n_windows=n_windows, step_size=step, refit=refit, level=[80, 95]
        )
        runs[str(refit)] = time.perf_counter() - t0
        if cv_out is None:
            cv_out = cv
    if cv_out is not None:
        cv_out.to_csv(cv_path, index=False)
    out = {"compile_seconds": compile_s, "run_seconds": runs}
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
