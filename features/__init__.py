"""Data in: real-source loaders, the series catalog, vintages, validation and user input.

Everything a model or pipeline reads comes through :func:`features.catalog.load` (catalogued
series, with metadata and vintage) or :func:`features.user_csv.read_user_csv` (a user's own file).
"""
