# sanctioncast: everything a fresh machine needs starts here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
QUARTER ?=
RUN_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test lint format ui bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

# numba kernels compiled into their on-disk cache once, and again when their source changes;
# the pooled model (models/pooled_gbm.py) trained into its cache, and the empty MLflow database a
# new sqlite store starts from (pipelines.tracking.schema_template) made there (without it, e.g.
# in an unwritable cache, MLflow makes each new store itself: a second slower, nothing else)
KERNELS := models/_ets_fast.py models/_ces_fast.py models/_arima_search.py models/_arima_ml.py models/precompile.py models/pooled_gbm.py

$(VENV)/.compiled: $(VENV)/.installed $(KERNELS)
	$(BIN)/python -m models.precompile
	-$(BIN)/python -c "from pipelines.tracking import schema_template; schema_template()"
	touch $@

run: $(VENV)/.installed $(VENV)/.compiled  ## create .venv, install, run the quarterly forecast on the embedded data
	$(BIN)/sanctioncast run $(if $(QUARTER),--quarter $(QUARTER),) $(RUN_ARGS)

test: lint $(VENV)/.compiled  ## create .venv with dev extras, lint, type-check, run the whole test suite
	$(BIN)/python -m pytest -n 2 -q

lint: $(VENV)/.installed-dev  ## ruff lint + format check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-dev  ## apply ruff format and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# MLflow's usage telemetry stays off unless MLFLOW_DISABLE_TELEMETRY is set (as in the CLI)
ui: $(VENV)/.installed  ## MLflow UI on http://127.0.0.1:5000 against the project's store
	MLFLOW_DISABLE_TELEMETRY=$${MLFLOW_DISABLE_TELEMETRY:-true} $(BIN)/mlflow server --host 127.0.0.1 --port 5000 \
	  --backend-store-uri sqlite:///mlruns/mlflow.db

PEER_VENV := benchmarks/.venv-statsforecast

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@ $(VENV)/.installed

# statsforecast 2.1 pins pandas < 3 (ours: 3): the peer gets its own environment
$(PEER_VENV)/bin/python:
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/python -m pip install --quiet "statsforecast>=2.1,<2.2"

bench: $(VENV)/.installed-bench $(VENV)/.compiled $(PEER_VENV)/bin/python  ## benchmarks vs peers (long; BENCH_QUICK=1: smoke run) -> benchmarks/results/
	$(BIN)/python benchmarks/run.py

clean:  ## remove the virtual environment and caches (keeps mlruns/ and reports/)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
