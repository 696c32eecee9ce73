"""Compile the numba kernels into numba's on-disk cache, once per version of their source.

ETS (:mod:`models._ets_fast`), CES (:mod:`models._ces_fast`), the approximate auto-ARIMA
search (:mod:`models._arima_search`) and the exact one's likelihood (:mod:`models._arima_ml`) run numba-compiled kernels kept on disk (``cache=True``, in
``__pycache__`` beside their source). The first process to call a kernel compiles it: about 25 s
for all of them on 2 cores, paid by each worker process of a quarterly run on a fresh checkout.
Every later process loads the compiled code in well under a second. ``make`` runs this module
after installing and again whenever a kernel's source changes, so no run pays the compilation.

It also trains the quarterly pooled model of :mod:`models.pooled_gbm` (about 25 s on 2 cores, a
member of the default ensemble) into its cache directory; the monthly one (about 2.5 min) is
trained on first use.

Run: ``python -m models.precompile``. It fits each model that uses the kernels to the embedded
C26 output index, then updates (parameters re-estimated) and forecasts, the calls a quarterly
run makes.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings

log = logging.getLogger("models.precompile")

#: the models whose fits, updates and forecasts call the compiled kernels (and the pooled model,
#: trained once)
MODELS = ("ets", "ces", "auto_arima_approx", "auto_arima", "pooled_gbm")


def main() -> int:
    from features.catalog import load
    from models.registry import get_model

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    y = load("c26_output").values
    for name in MODELS:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = get_model(name).fit(y.iloc[:-2])
            fitted.update(y, refit_params=True)
            fitted.predict(4)
        log.info("%s: ready in %.1f s", name, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
