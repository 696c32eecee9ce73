"""Pipelines: backtests, forecasts, the quarterly run, reports, MLflow tracking and the CLI.

Computation (``backtest``, ``metrics``, ``forecast``, ``quarterly``) is pure; all MLflow calls live
in :mod:`pipelines.tracking`; the command line is :mod:`pipelines.cli`.
"""
