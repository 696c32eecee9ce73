"""A new sqlite store starts as a copy of MLflow's empty schema (``tracking.schema_template``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import pytest
import sqlalchemy
from mlflow.store.db import utils as db_utils
from mlflow.tracking import MlflowClient

from pipelines import tracking


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SANCTIONCAST_CACHE_DIR", str(folder))
    return folder


def _schema(db: Path) -> tuple[dict[str, list[str]], list[tuple[str, ...]]]:
    """A database's tables and indexes and its schema revision. Each object is its SQL's lines
    (columns, constraints) sorted: MLflow's migrations do not always write a table's
    constraints in the same order."""
    with sqlite3.connect(db) as con:
        objects = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        revision = con.execute("SELECT version_num FROM alembic_version").fetchall()
    lines = {
        n: sorted(x.strip().rstrip(",") for x in (sql or "").split("\n")) for n, sql in objects
    }
    return lines, revision


def _mlflow_made(db: Path) -> Path:
    """A database made by MLflow itself (its store's first open)."""
    db.parent.mkdir(parents=True)
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    db_utils._initialize_tables(engine)
    engine.dispose()
    return db


def _log_one_run(uri: str) -> tuple[str, str]:
    run_id = tracking.open_parent(uri, "p", {"quarter": "2025Q4"})
    tracking.log_run({"mase": 0.5}, {"h": 8})
    tracking.close_parent(failed=False)
    run = MlflowClient(uri).get_run(run_id)
    return run.info.status, run.info.artifact_uri


def test_a_new_store_is_the_schema_mlflow_makes_and_works(tmp_path, cache):
    uri = f"sqlite:///{tmp_path}/store/mlflow.db"
    status, artifacts = _log_one_run(uri)
    assert status == "FINISHED"
    assert artifacts.startswith((tmp_path / "store" / "artifacts").as_uri())
    template = tracking.schema_template()
    assert template.parent == cache and template.name.startswith(f"mlflow-{mlflow.__version__}-")
    # the copy has every table, index and the revision MLflow's own new database has
    assert _schema(tmp_path / "store" / "mlflow.db") == _schema(_mlflow_made(tmp_path / "m/x.db"))
    assert _schema(template)[1] == [(db_utils._get_latest_schema_revision(),)]
    # MLflow added its Default experiment to the copy, with this store's artifact root
    default = MlflowClient(uri).get_experiment("0")
    assert default.name == "Default"
    # no temporary file is left beside the store or in the cache
    assert sorted(p.name for p in (tmp_path / "store").iterdir() if p.suffix == ".tmp") == []
    assert [p.name for p in cache.iterdir()] == [template.name]


def test_the_template_is_made_once(cache, monkeypatch):
    first = tracking.schema_template()
    made = first.stat().st_mtime_ns

    def fail(_engine):
        raise AssertionError("made again")

    monkeypatch.setattr(db_utils, "_initialize_tables", fail)
    assert tracking.schema_template() == first
    assert first.stat().st_mtime_ns == made


def test_without_a_template_mlflow_makes_the_store(tmp_path, cache, monkeypatch):
    """A cache that cannot be written (here: the template cannot be made) costs the second
    MLflow takes to make the database, nothing else."""

    def fail() -> Path:
        raise OSError("read-only cache")

    monkeypatch.setattr(tracking, "schema_template", fail)
    status, _ = _log_one_run(f"sqlite:///{tmp_path}/store/mlflow.db")
    assert status == "FINISHED"
    assert not cache.exists()
    assert [p.name for p in (tmp_path / "store").iterdir() if p.suffix == ".tmp"] == []


def test_a_failed_template_leaves_no_file(cache, monkeypatch):
    def fail(engine):
        sqlalchemy.inspect(engine).get_table_names()  # the database file exists by now
        raise RuntimeError("migration failed")

    monkeypatch.setattr(db_utils, "_initialize_tables", fail)
    with pytest.raises(RuntimeError, match="migration failed"):
        tracking.schema_template()
    assert list(cache.iterdir()) == []


def test_a_store_that_exists_is_never_replaced(tmp_path, cache):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"someone else's database")
    tracking._start_from_template(db)
    assert db.read_bytes() == b"someone else's database"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    ("uri", "new"),
    [
        ("sqlite:///{tmp}/new.db", True),
        ("sqlite:///{tmp}/old.db", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///{tmp}/new.db?mode=ro", False),
        ("postgresql://localhost/mlflow", False),
        ("http://127.0.0.1:5000", False),
    ],
)
def test_which_uris_start_from_the_template(tmp_path, uri, new):
    (tmp_path / "old.db").write_bytes(b"")
    assert tracking._new_store(uri.format(tmp=tmp_path)) is new


def test_a_tracker_process_makes_the_template_before_its_first_call(tmp_path, cache):
    uri = f"sqlite:///{tmp_path}/store/mlflow.db"
    with tracking.Tracker.start(uri) as tracker:
        tracker.sync()  # its imports and the template are done before it answers
        assert [p.name for p in cache.iterdir()] == [tracking._schema_name()]
        assert not (tmp_path / "store").exists()  # the store itself waits for the run
        with tracker.parent_run(uri, "p", {}):
            tracker.call("log_run", {"mase": 0.5}, {"h": 8})
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(tracking.EXPERIMENT).experiment_id])
    assert [r.info.status for r in runs] == ["FINISHED"]
    assert _schema(tmp_path / "store" / "mlflow.db")[1] == _schema(tracking.schema_template())[1]
