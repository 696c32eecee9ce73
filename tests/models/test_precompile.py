"""``python -m models.precompile`` (run by ``make``) reaches every kernel a quarterly run calls."""

from __future__ import annotations

import json
import subprocess
import sys

#: the numba kernels a quarterly run loaded (``NUMBA_DEBUG_CACHE=1`` on `sanctioncast run`)
RUN_KERNELS = [
    "_ets_fast._objective_and_gradient",
    "_ces_fast.objective",
    "_ces_fast.backcast_filter",
    "_ces_fast.propagate",
    "_arima_search._css",
    "_arima_search._coefficients",
    "_arima_search._bfgs",
    "_arima_search._lag_poly",
    "_arima_ml._objective",  # with _loglike, _lyapunov and _matmul compiled into it
]


def test_precompile_compiles_every_kernel_of_a_quarterly_run():
    code = (
        "import importlib, json\n"
        "from models import precompile\n"
        "assert precompile.main() == 0\n"
        f"names = {RUN_KERNELS!r}\n"
        "out = {}\n"
        "for n in names:\n"
        "    mod, fn = n.split('.')\n"
        "    out[n] = len(getattr(importlib.import_module('models.' + mod), fn).signatures)\n"
        "print(json.dumps(out))\n"
    )
    # a fresh process: nothing compiled or loaded before precompile runs
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    compiled = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(compiled[n] >= 1 for n in RUN_KERNELS), compiled
    assert "ets: ready in" in done.stderr and "pooled_gbm: ready in" in done.stderr
