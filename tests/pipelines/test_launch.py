"""The console entry point: a quarterly run's worker processes start before the CLI imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import launch


def test_default_config_is_the_runs_default():
    from pipelines.quarterly import DEFAULT_CONFIG

    assert launch.DEFAULT_CONFIG == DEFAULT_CONFIG


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("n_jobs: 2\n", 2),
        ("n_jobs: -1\n", -1),
        ("n_jobs: 1\n", 0),  # one process: nothing to start
        ("models: [snaive]\n", 0),  # the run's default is 1
        ("n_jobs: two\n", 0),  # the CLI reports it
        ("n_jobs: true\n", 0),
        ("[1, 2\n", 0),  # not YAML: the CLI reports it
        ("- 2\n", 0),
    ],
)
def test_workers_come_from_the_runs_settings(tmp_path, text, want):
    cfg = tmp_path / "run.yml"
    cfg.write_text(text, encoding="utf-8")
    assert launch.run_workers(["run", "--config", str(cfg), "--json"]) == want
    assert launch.run_workers(["run", f"--config={cfg}"]) == want


def test_no_workers_for_other_commands_or_missing_files(tmp_path):
    assert launch.run_workers(["run"]) == 2  # conf/quarterly.yml says n_jobs: 2
    assert launch.run_workers(["backtest", "--series", "c26_output"]) == 0
    assert launch.run_workers([]) == 0
    assert launch.run_workers(["run", "--config", str(tmp_path / "missing.yml")]) == 0


def test_main_starts_the_workers_then_hands_over(monkeypatch):
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(sys, "argv", ["sanctioncast", "run", "--quarter", "2025Q4"])
    monkeypatch.setattr(launch, "prestart", lambda n: calls.append(("prestart", n)))
    import pipelines.cli

    monkeypatch.setattr(pipelines.cli, "main", lambda argv: calls.append(("cli", argv)) or 7)
    assert launch.main() == 7
    assert calls == [("prestart", 2), ("cli", ["run", "--quarter", "2025Q4"])]


def test_prestarted_workers_have_the_models_imported():
    from joblib import Parallel, delayed
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)  # fresh workers: nothing imported yet
    launch.prestart(2).join(timeout=120)
    loaded = Parallel(n_jobs=2)(delayed(_loaded)() for _ in range(4))
    assert all(loaded)


def _loaded() -> bool:
    return "pipelines.backtest" in sys.modules and "models.registry" in sys.modules


def test_bad_input_after_the_workers_started_is_one_line_exit_2():
    exe = Path(sys.executable).with_name("sanctioncast")
    r = subprocess.run(
        [str(exe), "run", "--quarter", "1999Q9"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 2
    assert r.stderr == "error: --quarter '1999Q9' is not a quarter like 2025Q4\n"
