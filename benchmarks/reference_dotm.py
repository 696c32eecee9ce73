"""Reference results for ``models.dotm``: statsforecast's ``DynamicOptimizedTheta`` (DOTM).

Runs in the statsforecast environment (``benchmarks/.venv-statsforecast``, made by
``make bench``). Reads ``{name: {"y": [...], "m": period}}`` and writes, per series, the data,
statsforecast's estimates (``initial_smoothed``, ``alpha``, ``theta``), whether it
deseasonalized, and its point forecasts for ``h`` = 2 seasonal cycles (8 for non-seasonal data).
``tests/models/test_dotm.py`` reads the output (``tests/models/data/dotm_statsforecast.json``).

    python benchmarks/reference_dotm.py IN.json OUT.json
"""

from __future__ import annotations

import json
import sys

import numpy as np
import statsforecast
from statsforecast.theta import auto_theta, forecast_theta


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        series = json.load(fh)
    out: dict[str, object] = {
        "source": f"statsforecast {statsforecast.__version__}, "
        "statsforecast.theta.auto_theta(y, m, model='DOTM') and forecast_theta",
        "series": {},
    }
    for name, spec in series.items():
        y, m = np.asarray(spec["y"], dtype=float), int(spec["m"])
        h = 2 * m if m > 1 else 8
        fit = auto_theta(y, m, model="DOTM")
        out["series"][name] = {  # type: ignore[index]
            "m": m,
            "y": y.tolist(),
            "params": {k: float(v) for k, v in fit["par"].items()},
            "deseasonalized": bool(fit.get("decompose", False)),
            "decomposition": fit.get("decomposition_type"),
            "h": h,
            "mean": forecast_theta(fit, h)["mean"].tolist(),
        }
    with open(argv[2], "w", encoding="utf-8") as fh:
        json.dump(out, fh)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
