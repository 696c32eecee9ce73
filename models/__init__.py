"""Forecasting models behind one contract (:class:`models.base.BaseForecaster`).

Use :func:`models.registry.get_model` to build a registered model by name.
"""
