"""Every MLflow call in sanctioncast lives here.

Layout in MLflow (experiment ``sanctioncast``):

* one **parent run** per quarterly run or backtest (``quarterly-2025Q4``), with the input datasets
  (``mlflow.log_input``, digest = data hash), tags ``quarter``, ``data_vintage``,
  ``code_version``, ``kind`` and the report as artifacts;
* one **child run** per (series, model), named ``<series>/<model>``: params = the model's
  hyperparameters plus the backtest settings, metrics = backtest scores (``mase``, ``mase_h1``…),
  artifacts = backtest table, forecast table, fan chart. A model that failed leaves a child run
  with status FAILED and its reason in the ``error`` tag.

A parent run's params, metrics and tags go in one ``log_batch`` call; a child run gets its
tags when it is created and its params and metrics in one ``log_batch``. Runs always end
FINISHED or FAILED: a parent is opened in a context manager that marks it FAILED on any
exception, a child is ended FAILED when logging it fails (and the error passes on).

Tracking URI: ``--tracking-uri`` > ``$MLFLOW_TRACKING_URI`` > ``sqlite:///mlruns/mlflow.db``.
For sqlite stores, artifacts go to ``artifacts/`` beside the database file; a new one starts as a
copy of the empty database MLflow makes (:func:`schema_template`, made once per machine).

MLflow itself is imported by the functions that use it: its import and the store's take
seconds. :class:`Tracker` makes a run's calls in order, here or in a process of its own:
``sanctioncast run`` starts that process first thing, so MLflow is imported and the store opened
while the run imports the models and loads the data, and the run never waits for MLflow.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from features.cache import cache_dir, write_atomically
from features.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
EXPERIMENT = "sanctioncast"
_SECRET_MARKERS = ("key", "token", "secret", "password")

# MLflow 3 sends anonymous usage data to its maintainers from a background thread, a record per
# tracking call, unless told not to. sanctioncast does not send its users' usage anywhere by
# default: MLFLOW_DISABLE_TELEMETRY=false (set by the user) lets MLflow do so. Set here, before
# any of this module's functions imports MLflow, which reads it on import.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def resolve_tracking_uri(cli_value: str | None = None) -> str:
    """``--tracking-uri`` wins, then ``$MLFLOW_TRACKING_URI``, then the project's sqlite store."""
    uri = cli_value or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    if uri.startswith("file:") or (("://" not in uri) and not uri.startswith("databricks")):
        raise InputError(
            f"tracking URI {uri!r}: use a database URI such as sqlite:///mlruns/mlflow.db "
            "or an http(s) tracking server (MLflow 3 refuses the plain file store)"
        )
    return uri


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///") :])


def _new_store(uri: str) -> bool:
    """Whether ``uri`` is a sqlite database file that does not exist yet."""
    db = _sqlite_path(uri)
    return db is not None and "?" not in uri and db.name not in ("", ":memory:") and not db.exists()


def _schema_name() -> str:
    """The schema template's file name: MLflow's version and a digest of its migrations' names."""
    import mlflow

    versions = Path(mlflow.__file__).parent / "store" / "db_migrations" / "versions"
    names = "\n".join(sorted(p.name for p in versions.glob("*.py")))
    return f"mlflow-{mlflow.__version__}-{hashlib.sha256(names.encode()).hexdigest()[:12]}.db"


def schema_template() -> Path:
    """An empty MLflow database at MLflow's latest schema, that a new sqlite store starts as a
    copy of; made if missing.

    MLflow makes a new database by creating its first tables and then running each of its ~70
    migrations: about a second of CPU, the same result for every new store of one MLflow
    version. It is made here once, by the function MLflow uses (``_initialize_tables``: tables,
    no experiment, no run), into the cache directory (:func:`features.cache.cache_dir`), named by
    MLflow's version and its migrations' file names. Opening a copy, MLflow checks the schema's
    revision and adds its ``Default`` experiment, as for a database it has just made.
    """
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables

    path = cache_dir() / _schema_name()
    if path.exists():
        return path

    def make(tmp: Path) -> None:
        tmp.unlink()  # an empty file is not a database to SQLAlchemy's inspector: start without
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp}")
        try:
            _initialize_tables(engine)
        finally:
            engine.dispose()

    log.debug("making MLflow's schema template %s", path)
    write_atomically(path, make)
    return path


def _start_from_template(db: Path) -> None:
    """A new sqlite store at ``db``, a copy of :func:`schema_template`; left to MLflow (which
    then makes the database itself) if that fails, or if another process made ``db`` first."""
    try:
        template = schema_template()
        # never onto a database another process has just made
        write_atomically(db, lambda tmp: shutil.copyfile(template, tmp), replace=False)
    except FileExistsError:
        pass
    except Exception:
        log.debug("new store %s: MLflow makes it (no schema template)", db, exc_info=True)


#: sqlite stores (database files) whose connections write ahead (:func:`_write_ahead`)
_WAL_STORES: set[str] = set()


def _write_ahead(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy ``connect`` hook: a connection to one of :data:`_WAL_STORES` uses SQLite's
    write-ahead log with ``synchronous=NORMAL``. MLflow commits several times per call (a child
    run's ``log_batch`` commits five times); in SQLite's default rollback journal each commit
    waits for the disk, with the write-ahead log only checkpoints do. A crash or power cut can
    lose the last commits but cannot corrupt the store (SQLite's guarantee for this mode)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cur = dbapi_connection.cursor()
    try:
        if {row[2] for row in cur.execute("PRAGMA database_list")} & _WAL_STORES:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


def configure(uri: str, experiment: str = EXPERIMENT) -> str:
    """Point MLflow at ``uri`` and return the experiment id (created on first use).

    For a sqlite store the database folder is created and the experiment's artifacts are kept in
    ``artifacts/`` next to the database, so one folder holds the whole store; its connections
    write ahead (:func:`_write_ahead`).
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    db = _sqlite_path(uri)
    artifact_location = None
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        if _new_store(uri):
            _start_from_template(db)
        artifact_location = (db.parent.resolve() / "artifacts").as_uri()
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        _WAL_STORES.add(str(db.resolve()))
        if not event.contains(Engine, "connect", _write_ahead):
            event.listen(Engine, "connect", _write_ahead)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is not None:
        return str(exp.experiment_id)
    return str(client.create_experiment(experiment, artifact_location=artifact_location))


def code_version() -> str:
    """Package version plus the git commit when run from a checkout (``0.1.0+g1a2b3c4``)."""
    try:
        version = metadata.version("sanctioncast")
    except metadata.PackageNotFoundError:
        version = "unknown"
    from features.catalog import PROJECT_ROOT

    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{version}+g{sha}" if sha else version


def _scrub(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as MLflow strings; anything that looks like a secret is refused, not logged."""
    out = {}
    for k, v in params.items():
        if any(m in k.lower() for m in _SECRET_MARKERS):
            log.debug("param %s not logged: looks like a secret", k)
            continue
        out[k] = str(v)[:6000]
    return out


def log_batch(
    run_id: str,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> None:
    """Params, metrics and tags of a run in one request (non-finite metrics are skipped)."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    ts = int(time.time() * 1000)
    ms = [
        Metric(k, float(v), ts, 0)
        for k, v in (metrics or {}).items()
        if v is not None and pd.notna(v) and abs(float(v)) != float("inf")
    ]
    ps = [Param(k, v) for k, v in _scrub(params or {}).items()]
    ts_ = [RunTag(k, v) for k, v in _scrub(tags or {}).items()]
    MlflowClient().log_batch(run_id, metrics=ms, params=ps, tags=ts_)


def _dataset_input(
    frame: pd.DataFrame, name: str, source: str, digest: str, context: str = "training"
) -> Any:
    """A series as an MLflow ``DatasetInput``, with our own data hash as the digest."""
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    with warnings.catch_warnings():
        # a relative path matches two local source types; MLflow picks the right one and warns
        warnings.filterwarnings("ignore", message=".*can be interpreted in multiple ways.*")
        ds = from_pandas(frame, source=source, name=name, digest=digest[:36])
    # what ``mlflow.log_input`` logs, for a run that need not be the active one
    return DatasetInput(ds._to_mlflow_entity(), [InputTag(MLFLOW_DATASET_CONTEXT, context)])


def log_dataset(
    frame: pd.DataFrame, name: str, source: str, digest: str, context: str = "training"
) -> None:
    """``mlflow.log_input`` for a series to the active run, with our own data hash as the
    digest."""
    import mlflow
    from mlflow.tracking import MlflowClient

    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_dataset needs an active run")
    MlflowClient().log_inputs(
        run.info.run_id, [_dataset_input(frame, name, source, digest, context)]
    )


@dataclass
class ChildRecord:
    """Everything one (series, model) child run logs."""

    name: str
    status: str  # "ok" | "failed"
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    artifacts: Path | None = None  # a folder logged as it is
    dataset: tuple[pd.DataFrame, str, str, str] | None = None  # frame, name, source, digest
    error: str | None = None


@contextlib.contextmanager
def parent_run(uri: str, run_name: str, tags: Mapping[str, Any]) -> Iterator[str]:
    """Open the parent run; yields its id. FAILED on any exception, FINISHED otherwise."""
    run_id = open_parent(uri, run_name, tags)
    try:
        yield run_id
    except BaseException:
        close_parent(failed=True)
        raise
    close_parent(failed=False)


def open_parent(uri: str, run_name: str, tags: Mapping[str, Any]) -> str:
    """Start the parent run, the active run until :func:`close_parent`; returns its id."""
    import mlflow

    exp_id = configure(uri)
    run = mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=_scrub(tags))
    return str(run.info.run_id)


def close_parent(failed: bool) -> None:
    """End the active (parent) run FAILED or FINISHED."""
    import mlflow

    mlflow.end_run("FAILED" if failed else "FINISHED")


def log_run(
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> None:
    """:func:`log_batch` to the active run."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_run needs an active run")
    log_batch(run.info.run_id, metrics, params, tags)


#: the parent's tags that say where a run comes from (user, source, git commit); a child run
#: carries them as ``mlflow.start_run(nested=True)`` would have
_CONTEXT_TAGS = ("mlflow.user", "mlflow.source.")


def log_child(record: ChildRecord) -> str:
    """One child run under the active parent; returns its id.

    The run is made with the client (``create_run`` with its tags, one ``log_batch`` for its
    params and metrics, ``log_inputs``, the artifacts, ``set_terminated``) rather than with
    ``mlflow.start_run(nested=True)``, which resolves the source context and reads the
    experiment again for every run: a third less work per child run, the same run in the UI.
    The child ends FAILED when ``record.status`` is not ``ok`` (its reason in the ``error``
    tag) and when logging it fails, the error then passing on to the parent.
    """
    import mlflow
    from mlflow.entities import RunStatus
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
    from mlflow.tracking import MlflowClient
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    parent = mlflow.active_run()
    if parent is None:
        raise RuntimeError("log_child needs an active parent run")
    context = {k: v for k, v in parent.data.tags.items() if k.startswith(_CONTEXT_TAGS)}
    tags = {**record.tags, "status": record.status}
    if record.error:
        tags["error"] = record.error
    client = MlflowClient()
    run = client.create_run(
        parent.info.experiment_id,
        tags={**context, MLFLOW_PARENT_RUN_ID: parent.info.run_id, **_scrub(tags)},
        run_name=record.name,
    )
    run_id = run.info.run_id
    status = RunStatus.FINISHED if record.status == "ok" else RunStatus.FAILED
    try:
        log_batch(run_id, record.metrics, record.params)
        if record.dataset is not None:
            client.log_inputs(run_id, [_dataset_input(*record.dataset)])
        if record.artifacts is not None and record.artifacts.exists():
            # the run's own repository (``client.log_artifacts`` would read the run again)
            get_artifact_repository(run.info.artifact_uri).log_artifacts(str(record.artifacts))
    except BaseException:
        status = RunStatus.FAILED
        raise
    finally:
        client.set_terminated(run_id, RunStatus.to_string(status))
    return run_id


def log_artifacts(folder: Path, artifact_path: str | None = None) -> None:
    """Log a folder to the active run."""
    import mlflow

    mlflow.log_artifacts(str(folder), artifact_path=artifact_path)


# -- a run's calls, in order, here or in a process of their own ---------------------------------
_SYNC = "sync"
_GONE = "the MLflow process ended unexpectedly"
#: the URI schemes MLflow serves with its SQLAlchemy store (imported ahead by :meth:`Tracker.start`)
_DATABASES = ("sqlite", "postgresql", "mysql", "mssql")
#: what a :class:`Tracker` calls: these functions of this module, by name
Call = Literal[
    "open_parent", "close_parent", "log_run", "log_dataset", "log_child", "log_artifacts"
]


class Tracker:
    """Makes a run's MLflow calls (functions of this module, by name, with data), in order.

    ``Tracker()`` makes each call at once, in this process: an error raises from :meth:`call`.
    ``Tracker.start(uri)`` makes them in a process of its own, started at once, which imports
    MLflow (and, for a database URI, its SQLAlchemy store; for a new sqlite store, the
    :func:`schema_template` if there is none yet) before it takes its first call. The
    caller does not wait for a call: an error surfaces at the next :meth:`sync`. After an error
    that process makes no more calls but :func:`close_parent`, which it makes ``failed``. The
    process ignores Ctrl-C (the caller ends the parent run) and ends an open parent FAILED if
    the caller dies or closes it first. A call is looked up by its name where it is made (a
    forked process sees what this one had set); its arguments go by pickle.

    ``seconds`` and ``cpu`` are the wall seconds that process spent on calls and imports and
    the CPU seconds it used, as of the last :meth:`sync` (zero in this process's own mode);
    ``run_id`` is the parent run's id once it is known.
    """

    def __init__(self) -> None:
        self._conn: Any = None
        self._process: Any = None
        self.run_id: str | None = None
        self.seconds = 0.0
        self.cpu = 0.0

    @classmethod
    def start(cls, uri: str) -> Tracker:
        """A tracker with a process of its own, started now (forked on Linux)."""
        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
        here, there = ctx.Pipe()
        warm = ["mlflow.tracking"]
        if uri.split(":", 1)[0].split("+", 1)[0] in _DATABASES:
            warm.append("mlflow.store.tracking.sqlalchemy_store")
        process = ctx.Process(
            target=_serve,
            args=(there, tuple(warm), _new_store(uri)),
            name="sanctioncast-mlflow",
            daemon=True,
        )
        process.start()
        there.close()
        tracker = cls()
        tracker._conn, tracker._process = here, process
        return tracker

    def call(self, name: Call, *args: Any) -> None:
        """``name(*args)``, a function of this module: now, or queued to the tracker's process."""
        if self._conn is None:
            globals()[name](*args)
            return
        try:
            self._conn.send((name, args))
        except OSError as gone:
            raise RuntimeError(_GONE) from gone

    def sync(self) -> None:
        """Wait until every call so far is made; raise the first error of the tracker's process."""
        if self._conn is None:
            return
        try:
            self._conn.send(_SYNC)
            error, self.run_id, self.seconds, self.cpu = self._conn.recv()
        except (EOFError, OSError) as gone:
            raise RuntimeError(_GONE) from gone
        if error is not None:
            failed: BaseException = pickle.loads(error[0])
            failed.add_note(f"in the MLflow process:\n{error[1]}")
            raise failed

    @contextlib.contextmanager
    def parent_run(self, uri: str, run_name: str, tags: Mapping[str, Any]) -> Iterator[None]:
        """The parent run around the block: FAILED on any exception (the caller's, or a call's
        raised by the :meth:`sync` at the end), FINISHED otherwise."""
        if self._conn is None:
            with parent_run(uri, run_name, tags) as self.run_id:
                yield
            return
        self.call("open_parent", uri, run_name, tags)
        try:
            yield
        except BaseException:
            try:
                self.call("close_parent", True)
                self.sync()
            except Exception:  # the same error again, or a process gone: the block's passes on
                log.debug("MLflow process error while ending a failed run", exc_info=True)
            raise
        self.call("close_parent", False)
        self.sync()

    def close(self) -> None:
        """Stop the tracker's process (after its calls; an open parent run ends FAILED)."""
        if self._process is None:
            return
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(timeout=120)
        if self._process.is_alive():  # pragma: no cover - a store that hangs
            self._process.terminate()
            self._process.join()
        self._conn.close()
        self._conn = self._process = None

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error(exc: BaseException) -> tuple[bytes, str]:
    """An error of the tracker's process as the caller raises it (pickled; if the exception
    cannot be, a ``RuntimeError`` with its type and message) and its traceback."""
    where = "".join(traceback.format_exception(exc))
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
    except Exception:
        data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    return data, where


def _serve(conn: Any, warm: tuple[str, ...], template: bool = False) -> None:
    """The tracker's process: import ``warm`` (and, with ``template``, make the
    :func:`schema_template` if this machine has none yet), then make the calls as they come (see
    :class:`Tracker`)."""
    import importlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cpu0, busy = time.process_time(), 0.0
    error: tuple[bytes, str] | None = None
    run_id: str | None = None
    started = time.perf_counter()
    try:
        for name in warm:
            importlib.import_module(name)
    except Exception as exc:
        error = _error(exc)
    if template and error is None:  # in the cache directory: nothing of the user's is written
        try:
            schema_template()
        except Exception:  # the store is then made by MLflow, when the run opens it
            log.debug("no schema template", exc_info=True)
    busy += time.perf_counter() - started
    while True:
        try:
            msg = conn.recv()
        except EOFError:  # the caller is gone
            break
        except Exception as exc:  # a call that cannot be unpickled
            error = error or _error(exc)
            continue
        if msg is None:
            break
        if msg == _SYNC:
            try:
                conn.send((error, run_id, round(busy, 2), round(time.process_time() - cpu0, 2)))
            except OSError:  # the caller is gone
                break
            continue
        name, args = msg
        if error is not None:  # only the parent's end, FAILED
            if name != "close_parent":
                continue
            args = (True,)
        started = time.perf_counter()
        try:
            got = globals()[name](*args)
            if name == "open_parent":
                run_id = got
        except BaseException as exc:
            error = error or _error(exc)
        busy += time.perf_counter() - started
    if run_id is not None:
        import mlflow

        if mlflow.active_run() is not None:  # the caller died or closed without ending it
            mlflow.end_run("FAILED")


def read_runs(uri: str, experiment: str = EXPERIMENT) -> pd.DataFrame:
    """All runs of the experiment as a frame (for tests, notebooks and reports)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(uri)
    exp = MlflowClient(uri).get_experiment_by_name(experiment)
    if exp is None:
        return pd.DataFrame()
    return mlflow.search_runs(experiment_ids=[exp.experiment_id], output_format="pandas")


def download_artifacts(uri: str, run_id: str, artifact_path: str, dst: Path) -> Path:
    """Download one artifact (file or folder) of a run into ``dst``; returns its local path."""
    import mlflow

    dst.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=artifact_path, dst_path=str(dst), tracking_uri=uri
    )
    return Path(local)


def log_forecaster(fitted: Any, name: str, input_example: pd.DataFrame | None = None) -> Any:
    """Log a fitted forecaster to the active run as an MLflow pyfunc model (models from code).

    The pyfunc takes ``{"h": [4]}`` or a scenario path (``period`` plus regressor columns) and
    returns the forecast frame; see :mod:`pipelines.mlflow_model`. Returns the ``ModelInfo``
    (``model_info.model_uri`` loads it with ``mlflow.pyfunc.load_model``).
    """
    from pipelines.mlflow_model import _log_forecaster_impl

    return _log_forecaster_impl(fitted, name, input_example)
