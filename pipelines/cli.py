"""The ``sanctioncast`` command line.

Contract (stable; later commands extend it):

* ``--json`` prints exactly one JSON document on stdout; human output uses rich tables.
* Exit codes: 0 ok; 2 bad input or usage (one ``error: ...`` line on stderr naming the file,
  field or value, no traceback); 1 unexpected failure (no traceback unless ``--debug``); 130
  Ctrl-C (``error: aborted``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_limits

from features.errors import InputError
from models.base import ModelRefusal

# The data catalog, the models and the pipelines are imported by the commands that use them:
# together they take seconds to import, which ``run`` spends starting its MLflow process first.
if TYPE_CHECKING:
    from pipelines.backtest import BacktestSpec, SeriesInput

app = typer.Typer(
    name="sanctioncast",
    help="Forecasts of Russia's high-tech output and third-country chip imports under sanctions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Catalogued series: list, show, fetch a new vintage.", no_args_is_help=True
)
models_app = typer.Typer(help="Registered forecasting models.", no_args_is_help=True)
scenarios_app = typer.Typer(
    help="Sanction scenarios (scenarios/*.yml): list, show, validate.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")
app.add_typer(scenarios_app, name="scenarios")

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
SeriesOpt = Annotated[str | None, typer.Option("--series", help="Catalog id(s), comma-separated.")]
CsvOpt = Annotated[
    Path | None,
    typer.Option("--csv", help="Your own CSV: period,value[,x...] or series,period,value[,x...]."),
]
FreqOpt = Annotated[str | None, typer.Option("--freq", help="Frequency of --csv: M, Q or A.")]
ModelsOpt = Annotated[
    str | None, typer.Option("--models", help="Model names, comma-separated, or 'all'.")
]
ScenarioOpt = Annotated[
    str | None,
    typer.Option(
        "--scenario",
        help="A built-in scenario name or a scenario file (see 'sanctioncast scenarios list').",
    ),
]


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected failures.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Logging level.")] = "WARNING",
) -> None:
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")


def _emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str, allow_nan=False) + "\n")


# -- data ---------------------------------------------------------------------------------------
@data_app.command("list")
def data_list(as_json: JsonOpt = False) -> None:
    """List catalogued series with frequency, span, source, vintage and the reconstructed flag."""
    keys = (
        "id",
        "title",
        "frequency",
        "start",
        "end",
        "unit",
        "source",
        "vintage",
        "reconstructed",
    )
    from features.catalog import get_catalog, list_series, load

    rows = []
    cat = get_catalog()
    for sid in list_series():
        try:
            meta = load(sid).metadata()
            rows.append({**{k: meta[k] for k in keys}, "available": True, "note": None})
        except InputError as exc:  # e.g. a fetch-only source not fetched yet
            spec = cat.spec(sid)
            rows.append(
                {
                    "id": sid,
                    "title": spec.title,
                    "frequency": spec.freq,
                    "start": None,
                    "end": None,
                    "unit": spec.unit,
                    "source": cat.sources[spec.source].publisher,
                    "vintage": None,
                    "reconstructed": spec.reconstructed,
                    "available": False,
                    "note": str(exc),
                }
            )
    if as_json:
        _emit_json({"series": rows})
        return
    t = Table(title="sanctioncast data catalog (titles: data show ID, or --json)")
    for c in ("id", "freq", "span", "vintage", "reconstructed", "unit"):
        t.add_column(c)
    for r in rows:
        vintage = r["vintage"] if r["available"] else "[yellow]not fetched[/yellow]"
        recon = "[bold red]yes[/bold red]" if r["reconstructed"] else "no"
        span = f"{r['start']}–{r['end']}" if r["available"] else "–"
        t.add_row(r["id"], r["frequency"], span, vintage, recon, r["unit"])
    out.print(t)


@data_app.command("show")
def data_show(
    series: Annotated[str, typer.Argument(help="Catalog id, or okved2_q:CODE / okved2_a:CODE.")],
    vintage: Annotated[
        str, typer.Option("--vintage", help="'latest' or a date YYYY-MM-DD.")
    ] = "latest",
    as_json: JsonOpt = False,
) -> None:
    """Show one series: metadata, vintage and values."""
    from features.catalog import load

    d = load(series, vintage=vintage)
    meta = d.metadata()
    values = [{"period": str(p), "value": float(v)} for p, v in d.values.items()]
    band = _band(series)
    if as_json:
        doc: dict[str, Any] = {"series": series, "metadata": meta, "values": values}
        if band is not None:
            doc["band"] = band
        _emit_json(doc)
        return
    out.print(f"[bold]{meta['title']}[/bold] ({series})")
    if meta["reconstructed"]:
        out.print(
            "[bold red]RECONSTRUCTED series: an estimate, not an official statistic[/bold red]"
        )
    for k in ("unit", "frequency", "source", "url", "licence", "vintage", "file", "notes"):
        out.print(f"  {k}: {meta[k]}")
    bounds = {str(b["period"]): b for b in band or []}
    extra = ["lo_95", "lo_80", "hi_80", "hi_95"] if bounds else []
    t = Table()
    t.add_column("period")
    for c in ["value", *extra]:
        t.add_column(c, justify="right")
    for r in values:
        b = bounds.get(str(r["period"]), {})
        t.add_row(
            str(r["period"]),
            f"{r['value']:.2f}",
            *(f"{b[c]:.2f}" if c in b else "–" for c in extra),
        )
    out.print(t)


@data_app.command("fetch")
def data_fetch(
    source: Annotated[str, typer.Argument(help="comtrade, rosstat, cbr or eurostat.")],
    since: Annotated[
        str | None, typer.Option("--since", help="First date to request: YYYY-MM-DD or YYYY-MM.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Download a source's current release as a new vintage (needs network access).

    The raw files go to data/<source>/fetched/<UTC time>/ with a manifest (URL, checksum,
    retrieval time); a failed or partial download leaves earlier vintages untouched.
    """
    from pipelines.cli_fetch import fetch_command

    summary = fetch_command(source, since)
    if as_json:
        _emit_json(summary)
        return
    out.print(
        f"Stored {summary['rows']} rows in {summary['files']} file(s) under [bold]{summary['path']}[/bold]"
    )


def _band(series: str) -> list[dict[str, Any]] | None:
    """Uncertainty band of a reconstructed series, when its module provides one."""
    from features import chips

    frame = chips.band(series)
    if frame is None:
        return None
    return [
        {"period": str(p), **{k: float(v) for k, v in row.items()}} for p, row in frame.iterrows()
    ]


# -- models -------------------------------------------------------------------------------------
@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """List registered models with their capabilities and default hyperparameters."""
    from models.registry import describe, model_names

    rows = [describe(n) for n in model_names()]
    if as_json:
        _emit_json({"models": rows})
        return
    t = Table(title="registered models")
    for c in (
        "name",
        "family",
        "exogenous",
        "intervals",
        "multivariate",
        "seasonal",
        "min obs",
        "description",
    ):
        t.add_column(c)
    for r in rows:
        tg = r["tags"]
        t.add_row(
            str(r["name"]),
            str(tg["family"]),
            str(tg["capability:exogenous"]),
            str(tg["capability:pred_int"]),
            str(tg["capability:multivariate"]),
            str(tg["seasonal"]),
            str(tg["requires:min_obs"]),
            r["doc"],
        )
    out.print(t)


# -- backtest / forecast ------------------------------------------------------------------------
def _inputs(series: str | None, csv: Path | None, freq: str | None) -> list[SeriesInput]:
    from features.catalog import load
    from features.user_csv import read_user_csv
    from pipelines.backtest import SeriesInput

    if (series is None) == (csv is None):
        raise InputError("give exactly one of --series ID or --csv PATH")
    if csv is not None:
        if not freq:
            raise InputError("--csv needs --freq M, Q or A")
        return [SeriesInput(u.id, u.y, u.X, u.X_future) for u in read_user_csv(csv, freq).values()]
    if freq:
        raise InputError("--freq goes with --csv; a catalogued series has its own frequency")
    ids = [s.strip() for s in (series or "").split(",") if s.strip()]
    if not ids:
        raise InputError("--series is empty")
    return [SeriesInput(sid, load(sid).values) for sid in ids]


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise InputError(f"{name} must be >= 1, got {value}")


def _run_backtest(
    inputs: list[SeriesInput],
    names: list[str],
    spec: BacktestSpec,
    n_jobs: int,
    backend: str = "joblib",
    scheduler: str | None = None,
    track: bool = False,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    from pipelines.backtest_run import run_backtest

    return run_backtest(inputs, names, spec, n_jobs, backend, scheduler, track, tracking_uri)


@app.command("backtest")
def backtest_cmd(
    series: SeriesOpt = None,
    csv: CsvOpt = None,
    freq: FreqOpt = None,
    models: ModelsOpt = None,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Steps ahead scored at each origin.")
    ] = 4,
    origins: Annotated[int, typer.Option("--origins", help="Number of rolling origins.")] = 8,
    step: Annotated[int, typer.Option("--step", help="Periods between origins.")] = 1,
    n_jobs: Annotated[int, typer.Option("--n-jobs", help="Parallel tasks (joblib).")] = 1,
    refit: Annotated[
        str,
        typer.Option("--refit", help="Refit policy: always, every:K or never (then update)."),
    ] = "always",
    refit_params: Annotated[
        bool,
        typer.Option(
            "--refit-params",
            help="Between full fits re-estimate parameters (warm-started) instead of filtering.",
        ),
    ] = False,
    backend: Annotated[str, typer.Option("--backend", help="joblib or dask.")] = "joblib",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (with --backend dask)."),
    ] = None,
    window: Annotated[str, typer.Option("--window", help="expanding or sliding.")] = "expanding",
    window_length: Annotated[
        int | None, typer.Option("--window-length", help="Observations in a sliding window.")
    ] = None,
    real_time: Annotated[
        bool,
        typer.Option("--real-time", help="Train each origin on the data vintage published then."),
    ] = False,
    publication_lag: Annotated[
        int,
        typer.Option("--publication-lag", help="Days after a period's end until it is published."),
    ] = 45,
    track: Annotated[bool, typer.Option("--track", help="Log the backtest to MLflow.")] = False,
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", help="MLflow tracking URI (with --track)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rolling-origin backtest of models on catalogued series or your own CSV."""
    from models.registry import resolve_models
    from pipelines.backtest import BacktestSpec

    for name, v in (("--horizon", horizon), ("--origins", origins), ("--step", step)):
        _check_positive(name, v)
    if window not in ("expanding", "sliding"):
        raise InputError(f"--window {window!r}: use expanding or sliding")
    if window_length is not None and window_length < 2:
        raise InputError(f"--window-length must be >= 2, got {window_length}")
    if backend not in ("joblib", "dask"):
        raise InputError(f"--backend {backend!r}: use joblib or dask")
    if backend == "dask" and not scheduler:
        raise InputError("--backend dask needs --scheduler ADDRESS (an existing Dask cluster)")
    if scheduler and backend != "dask":
        raise InputError("--scheduler goes with --backend dask")
    if tracking_uri and not track:
        raise InputError("--tracking-uri goes with --track")
    spec = BacktestSpec(
        horizon=horizon,
        origins=origins,
        step=step,
        window="sliding" if window == "sliding" else "expanding",
        window_length=window_length,
        refit=refit,
        refit_params=refit_params,
        real_time=real_time,
        publication_lag=publication_lag,
    )
    names = resolve_models(models)
    inputs = _inputs(series, csv, freq)
    if real_time:
        if csv is not None:
            raise InputError("--real-time needs catalogued --series (a CSV has no vintages)")
        from pipelines.backtest import with_vintages

        inputs = with_vintages(inputs)
    doc = _run_backtest(inputs, names, spec, n_jobs, backend, scheduler, track, tracking_uri)
    if as_json:
        _emit_json(doc)
        return
    cols = (
        "status",
        "mase",
        "smape",
        "rmse",
        "coverage_80",
        "coverage_95",
        "dm_pvalue_vs_snaive",
        "in_mcs",
        "n_origins",
        "error",
    )
    for sid, res in doc["series"].items():
        t = Table(
            title=f"{sid}: backtest, horizon {horizon}, {origins} origins, refit {refit} "
            f"(champion: {res['champion']})"
        )
        for c in ("model", *cols):
            t.add_column(c)
        for m, r in res["models"].items():
            t.add_row(m, *(_cell(r[c]) for c in cols))
        out.print(t)
    if "run_id" in doc:
        out.print(f"MLflow run {doc['run_id']} in {doc['tracking_uri']}")


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


@app.command("forecast")
def forecast_cmd(
    series: SeriesOpt = None,
    csv: CsvOpt = None,
    freq: FreqOpt = None,
    models: ModelsOpt = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", help="Periods ahead (default 8).")
    ] = None,
    scenario: ScenarioOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Forecast with intervals. With several models, the backtest champion is used.

    With --scenario: chip_imports (and its channels) and c26_output go through the scenario
    engine (unless --models is given); any other series is forecast by models that take the
    scenario's driver paths. The horizon is the scenario's.
    """
    if scenario is not None:
        _scenario_forecast(series, csv, freq, models, horizon, scenario, as_json)
        return
    from models.registry import resolve_models
    from pipelines.backtest import BacktestSpec
    from pipelines.forecast import fit_forecast, forecast_records

    horizon = 8 if horizon is None else horizon
    _check_positive("--horizon", horizon)
    names = resolve_models(models)
    inputs = _inputs(series, csv, freq)
    doc: dict[str, Any] = {"series": {}}
    for s in inputs:
        chosen = names[0]
        if len(names) > 1:
            bt = _run_backtest([s], names, BacktestSpec(horizon=min(horizon, 4)), n_jobs=1)
            chosen = bt["series"][s.id]["champion"]
            if chosen is None:
                raise ModelRefusal(f"{s.id}: no model could be backtested; try --models snaive")
        _, fc = fit_forecast(s, chosen, horizon)
        doc["series"][s.id] = {"model": chosen, "forecast": forecast_records(fc)}
    if as_json:
        _emit_json(doc)
        return
    for sid, res in doc["series"].items():
        t = Table(title=f"{sid}: {res['model']} forecast")
        for c in ("period", "mean", "lo_80", "hi_80", "lo_95", "hi_95"):
            t.add_column(c, justify="right")
        for r in res["forecast"]:
            t.add_row(
                r["period"], *(f"{r[c]:.2f}" for c in ("mean", "lo_80", "hi_80", "lo_95", "hi_95"))
            )
        out.print(t)


def _scenario_forecast(
    series: str | None,
    csv: Path | None,
    freq: str | None,
    models: str | None,
    horizon: int | None,
    scenario: str,
    as_json: bool,
) -> None:
    from models.registry import resolve_models
    from pipelines.scenarios import forecast_doc

    if horizon is not None:
        raise InputError(
            "--horizon: a scenario sets its own horizon (the file's 'horizon', in quarters "
            "from the first quarter after the data); drop --horizon or edit the file"
        )
    if csv is not None and freq and freq.strip().upper() != "Q":
        raise InputError(f"--freq {freq}: scenarios are quarterly, use --freq Q")
    names = None if models is None else resolve_models(models)
    inputs = _inputs(series, csv, freq)
    doc = forecast_doc(inputs, names, scenario, catalog=csv is None)
    if as_json:
        _emit_json(doc)
        return
    sc = doc["scenario"]
    out.print(f"[bold]Scenario {sc['name']}[/bold] ({sc['file']}, sha256 {sc['sha256'][:12]})")
    for note in sc.get("notes", []):
        out.print(f"  note: {note}")
    for sid, res in doc["series"].items():
        t = Table(title=f"{sid}: {res['model']} ({res['route']})")
        if res.get("reconstructed"):
            t.caption = "RECONSTRUCTED series: an estimate, not an official statistic"
        cols = ("period", "mean", "lo_80", "hi_80", "lo_95", "hi_95", "vs baseline")
        for c in cols:
            t.add_column(c, justify="right")
        diffs = {d["period"]: d["mean"] for d in res["difference_from_baseline"]}
        for r in res["forecast"]:
            t.add_row(
                r["period"],
                *(f"{r[c]:.2f}" for c in cols[1:-1]),
                f"{diffs.get(r['period'], float('nan')):+.2f}",
            )
        out.print(t)


# -- scenarios ------------------------------------------------------------------------------------
@scenarios_app.command("list")
def scenarios_list(as_json: JsonOpt = False) -> None:
    """List the built-in scenarios."""
    from features.scenarios import builtin_names, load_scenario

    rows: list[dict[str, Any]] = []
    for name in builtin_names():
        sc = load_scenario(name)
        rows.append(
            {
                "name": sc.name,
                "description": sc.spec.description,
                "horizon": sc.spec.horizon,
                "shocks": len(sc.spec.shocks),
                "conditions": len(sc.spec.conditions),
                "file": sc.file,
                "sha256": sc.sha256,
            }
        )
    if as_json:
        _emit_json({"scenarios": rows})
        return
    t = Table(title="built-in scenarios")
    for c in ("name", "horizon", "shocks", "conditions", "sha256", "description"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["name"],
            str(r["horizon"]),
            str(r["shocks"]),
            str(r["conditions"]),
            r["sha256"][:12],
            r["description"].split(":")[0].split(". ")[0],
        )
    out.print(t)


def _scenario_show_doc(ref: str) -> dict[str, Any]:
    from features.scenarios import driver_history, driver_paths, resolve, sources_not_in_evidence
    from features.scenarios import load_scenario as _load

    loaded = _load(ref)
    history = driver_history()
    resolved = resolve(loaded, history.ends)
    paths = driver_paths(resolved, history)
    window = paths.scenario.loc[paths.scenario.index >= resolved.first]
    status = paths.status.loc[window.index]
    return {
        "name": loaded.name,
        "file": loaded.file,
        "sha256": loaded.sha256,
        "builtin": loaded.builtin,
        "first_period": str(resolved.first),
        "last_period": str(resolved.last),
        "spec": loaded.spec.model_dump(mode="json"),
        "shocks": [s.record() for s in resolved.shocks],
        "conditions": [c.record() for c in resolved.conditions],
        "sources_not_in_evidence": sources_not_in_evidence(loaded.spec),
        "paths": [
            {
                "period": str(p),
                **{k: float(v) for k, v in row.items()},
                "shocked": [c for c in window.columns if status.loc[p, c] == "shock"],
            }
            for p, row in window.iterrows()
        ],
    }


@scenarios_app.command("show")
def scenarios_show(
    name: Annotated[str, typer.Argument(help="A built-in scenario name or a scenario file.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one scenario: its file, shocks, conditions and the drivers' paths in its window."""
    doc = _scenario_show_doc(name)
    if as_json:
        _emit_json(doc)
        return
    spec = doc["spec"]
    out.print(f"[bold]{doc['name']}[/bold] ({doc['file']}, sha256 {doc['sha256'][:12]})")
    out.print(f"  {spec['description']}")
    out.print(f"  window {doc['first_period']}-{doc['last_period']}")
    for sh in doc["shocks"]:
        target = sh["driver"] + (f" ({sh['channel']})" if sh["channel"] else "")
        out.print(
            f"  shock: {target} {sh['mode']} {sh['value']:g} {sh['start']}-{sh['end']}, "
            f"ramp {sh['ramp']}: {sh['assumption']}"
        )
    for c in doc["conditions"]:
        out.print(
            f"  condition: {c['series']} {c['kind']} {c['value']:g} ({c['relative_to']}) {c['periods']}"
        )
    t = Table(title="driver paths (* = shocked)")
    cols = [k for k in doc["paths"][0] if k not in ("period", "shocked")] if doc["paths"] else []
    t.add_column("period")
    for c in cols:
        t.add_column(c, justify="right")
    for r in doc["paths"]:
        t.add_row(r["period"], *(f"{r[c]:.3f}" + ("*" if c in r["shocked"] else "") for c in cols))
    out.print(t)


@scenarios_app.command("validate")
def scenarios_validate(
    path: Annotated[Path, typer.Argument(help="A scenario file.")],
    as_json: JsonOpt = False,
) -> None:
    """Validate a scenario file against the schema and the data (exit 2 naming the field)."""
    from features.scenarios import sources_not_in_evidence, validate

    if not path.is_file():
        raise InputError(f"{path}: file not found")
    resolved = validate(path)
    loaded = resolved.loaded
    doc: dict[str, Any] = {
        "valid": True,
        "name": loaded.name,
        "file": str(path),
        "sha256": loaded.sha256,
        "first_period": str(resolved.first),
        "last_period": str(resolved.last),
        "sources_not_in_evidence": sources_not_in_evidence(loaded.spec),
    }
    if as_json:
        _emit_json(doc)
        return
    out.print(
        f"ok: {loaded.name} ({path}, sha256 {loaded.sha256[:12]}), {doc['first_period']}-{doc['last_period']}"
    )
    for u in doc["sources_not_in_evidence"]:
        out.print(f"  note: source not in the project's evidence files: {u}")


# -- the quarterly run ----------------------------------------------------------------------------
@app.command("run")
def run_cmd(
    quarter: Annotated[
        str | None,
        typer.Option(
            "--quarter", help="Run as of this quarter, e.g. 2025Q4 (default: latest data)."
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Run settings YAML (default: conf/quarterly.yml)."),
    ] = None,
    reports_dir: Annotated[
        Path | None,
        typer.Option("--reports-dir", help="Where reports/<quarter>/ goes (default: reports/)."),
    ] = None,
    no_track: Annotated[
        bool,
        typer.Option(
            "--no-track", help="Write the report only; log nothing to MLflow (a what-if run)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The quarterly run: backtest, champions, forecasts, report and MLflow runs."""
    from pipelines import tracking

    with contextlib.ExitStack() as stack:
        tracker = None
        if not no_track:
            # first: its process imports MLflow and the store while this one imports the models
            uri = tracking.resolve_tracking_uri(tracking_uri)
            tracker = stack.enter_context(tracking.Tracker.start(uri))
        from pipelines.quarterly import run_quarterly

        summary = run_quarterly(
            quarter, tracking_uri, config, reports_dir, track=not no_track, tracker=tracker
        )
    if as_json:
        _emit_json(summary)
        return
    t = Table(title=f"sanctioncast quarterly run {summary['quarter']}")
    for c in ("series", "champion", "MASE", "next period", "mean", "80% interval"):
        t.add_column(c)
    for sid, res in summary["series"].items():
        champ = res["champion"]
        fc = res["forecast"][0] if res["forecast"] else None
        mase = res["models"][champ]["mase"] if champ else None
        t.add_row(
            sid,
            str(champ),
            _cell(mase),
            fc["period"] if fc else "–",
            f"{fc['mean']:.1f}" if fc else "–",
            f"{fc['lo_80']:.1f} – {fc['hi_80']:.1f}" if fc else "–",
        )
    out.print(t)
    out.print(f"Report: [bold]{summary['report']}[/bold]")
    if summary["run_id"] is None:
        out.print("Not logged to MLflow (--no-track)")
        return
    out.print(f"MLflow run {summary['run_id']} in {summary['tracking_uri']}")
    out.print("Open the MLflow UI with [bold]make ui[/bold] (http://127.0.0.1:5000)")


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app and maps errors to the exit-code contract."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    command = typer.main.get_command(app)
    try:
        # many tiny statsmodels fits: BLAS threads only contend (5-10x slower on 2 cores);
        # parallelism comes from joblib/dask across tasks instead
        with threadpool_limits(limits=1, user_api="blas"):
            code = command.main(args=args, prog_name="sanctioncast", standalone_mode=False)
        # typer turns Ctrl-C (KeyboardInterrupt) into exit code 130, returned, not raised
        if isinstance(code, int) and code:
            if code == 130:
                sys.stderr.write("error: aborted\n")
            return code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        return 130
    except typer.TyperException as exc:  # usage errors (unknown option, bad value): exit 2
        sys.stderr.write(f"error: {exc.format_message().strip().splitlines()[0]}\n")
        return int(getattr(exc, "exit_code", 2)) or 2
    except (InputError, ModelRefusal) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except ValidationError as exc:
        first = exc.errors()[0]
        sys.stderr.write(f"error: field {'.'.join(map(str, first['loc']))!r}: {first['msg']}\n")
        return 2
    except Exception as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(
            f"error: unexpected failure: {type(exc).__name__}: {exc} (rerun with --debug for details)\n"
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
