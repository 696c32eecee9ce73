"""The quarterly report: a Markdown summary, fan charts and tables under ``reports/<quarter>/``.

The folder is built in a temporary sibling and renamed into place only when complete, so a
failed run never leaves a half-written report (an earlier report for the same quarter is replaced
only by a complete one).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
    try:
        yield tmp
        old = target.with_name(f".{target.name}-old")
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not pd.notna(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |\n" for r in rows)


def write_summary(folder: Path, summary: dict[str, Any]) -> Path:
    """Render ``summary.md`` from the run summary (the same dict ``run --json`` prints)."""
    lines = [
        f"# sanctioncast quarterly run {summary['quarter']}",
        "",
        f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, code version "
        f"`{summary['code_version']}`. Backtest: horizon {summary['backtest']['horizon']}, "
        f"{summary['backtest']['origins']} rolling origins ({summary['backtest']['window']} window). "
        "Champion rule: lowest mean MASE over the backtest; ties go to the simpler model.",
        "",
        "## Data",
        "",
        markdown_table(
            list(summary["data"].values()),
            ["id", "title", "start", "end", "vintage", "source", "licence", "reconstructed"],
        ),
    ]
    for sid, res in summary["series"].items():
        meta = summary["data"][sid]
        lines += ["", f"## {meta['title']} (`{sid}`)", ""]
        if meta.get("reconstructed"):
            lines += ["**Reconstructed series**: an estimate, not an official statistic.", ""]
        lines += [f"Champion: **{res['champion'] or 'none'}**", ""]
        rows = [{"model": m, **v} for m, v in res["models"].items()]
        lines.append(
            markdown_table(
                rows,
                [
                    "model",
                    "status",
                    "mase",
                    "smape",
                    "rmse",
                    "coverage_80",
                    "coverage_95",
                    "n_origins",
                    "error",
                ],
            )
        )
        if res.get("forecast"):
            lines += ["", f"Forecast ({res['champion']}), {meta['unit']}:", ""]
            lines.append(
                markdown_table(
                    res["forecast"], ["period", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
                )
            )
            lines += ["", f"![fan chart]({res['chart']})"]
    lines += scenario_lines(summary)
    lines += [
        "",
        "## Provenance",
        "",
        *(
            f"- `{m['id']}`: {m['source']}, {m['url']} (vintage {m['vintage']}, file `{m['file']}`, "
            f"sha256 of values `{m['digest'][:12]}…`). {m['notes']}"
            for m in summary["data"].values()
        ),
        "",
    ]
    path = folder / "summary.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _band(row: dict[str, Any], key: str, level: int, digits: int = 1) -> str:
    return f"{row[key]:.{digits}f} [{row[f'{key}_lo_{level}']:.{digits}f}, {row[f'{key}_hi_{level}']:.{digits}f}]"


def scenario_lines(summary: dict[str, Any]) -> list[str]:
    """The report's Scenarios section (``summary["scenarios"]`` from :mod:`pipelines.scenarios`)."""
    sc = summary.get("scenarios")
    if not sc:
        return []
    if sc.get("error"):
        return ["", "## Scenarios", "", f"Not run: {sc['error']}"]
    eng = sc["engine"]
    est = eng["link_estimate"]
    chip = eng["chip_model"]
    dropped = "; ".join(f"`{d}` dropped ({why})" for d, why in chip["dropped"].items())
    lines = [
        "",
        "## Scenarios",
        "",
        f"Conditional forecasts of chip imports and C26 output under the scenario files in "
        f"`scenarios/` (method and assumptions: `scenarios/README.md`). Scenario window "
        f"{eng['origin']} onwards; chip imports end {eng['chip_data_end']} and are forecast from "
        f"there with observed drivers. {eng['draws']} simulated paths (seed {eng['seed']}), shared "
        "by every scenario, so each difference from baseline has its own interval.",
        "",
        "**Chip imports are a RECONSTRUCTED series** (an estimate from sparse published figures, "
        "`data/chips/RECONSTRUCTION.md`), and so is every chip figure below.",
        "",
        f"- Chip model: {chip['model']}, {chip['sample']}. "
        + "; ".join(f"`{d}` {v['coef']:.3g} (se {v['se']:.3g})" for d, v in chip["drivers"].items())
        + (f". {dropped}." if dropped else "."),
        f"- Output baseline: {eng['c26_model']}.",
        f"- Link: {est['model']}, {est['sample']} ({est['n_obs']} quarters): short-run "
        f"elasticity {est['short_run_elasticity']:.3f} (se {est['se']:.3f}); prior check "
        f"{est['prior_check']}.",
    ]
    links: dict[tuple[Any, ...], list[str]] = {}
    for item in sc["items"].values():
        e = item["link"]["elasticity"]
        key = (
            item["link"]["method"],
            item["link"]["label"],
            e.get("central"),
            e.get("low"),
            e.get("high"),
        )
        links.setdefault(key, []).append(item["name"])
    for (method, label, central, low, high), names in links.items():
        if method == "calibrated":
            lines.append(
                f"- **ASSUMPTION** ({', '.join(names)}): output elasticity to chip supply "
                f"{central:g}, range {low:g}-{high:g}, drawn over the range (mode {central:g}); "
                f"basis: {label}. The range is carried into the bands."
            )
        else:
            lines.append(
                f"- Link used ({', '.join(names)}): the fitted elasticity {central:.3g} ({label})."
            )
    lines += [
        "",
        "Level and difference from baseline 4 and 8 quarters into the window; mean [80% interval], "
        "95% intervals in `scenarios.csv`. Difference in % is relative to the baseline mean.",
        "",
    ]
    rows = [
        {
            "scenario": r["scenario"],
            "series": r["series"] + (" (reconstructed)" if r["reconstructed"] else ""),
            "period": f"{r['period']} (h{r['h']})",
            "level": _band(r, "level", 80),
            "difference": _band(r, "diff", 80),
            "difference %": _band(r, "diff_pct", 80),
        }
        for r in sc["table"]
    ]
    lines.append(
        markdown_table(
            rows, ["scenario", "series", "period", "level", "difference", "difference %"]
        )
    )
    if sc.get("comparison_chart"):
        lines += ["", f"![all scenarios]({sc['comparison_chart']})"]
    for name, item in sc["items"].items():
        lines += [
            "",
            f"### Scenario `{name}`",
            "",
            item["description"],
            "",
            f"File `{item['file']}` (sha256 `{item['sha256'][:12]}…`), {item['first_period']}-"
            f"{item['last_period']}. {item['rationale']}",
            "",
        ]
        for sh in item["shocks"]:
            target = sh["driver"] + (f" ({sh['channel']})" if sh["channel"] else "")
            decay = f", half-life {sh['half_life']:g}" if sh["half_life"] else ""
            lines.append(
                f"- Shock: {target} {sh['mode']} {sh['value']:g} from {sh['start']} to {sh['end']}, "
                f"ramp {sh['ramp']}{decay}. {sh['assumption']}"
            )
        for c in item["conditions"]:
            unit = "% vs baseline" if c["relative_to"] == "baseline" else " (level)"
            lines.append(
                f"- Condition: {c['series']} {c['kind']} {c['value']:g}{unit} in "
                f"{', '.join(c['periods'])}. {c['assumption']}"
            )
        if not item["shocks"] and not item["conditions"]:
            lines.append("- No shocks, no conditions.")
        for note in item.get("notes", []):
            lines.append(f"- Note: {note}")
        if item["sources_not_in_evidence"]:
            lines.append(
                "- Sources not in the project's evidence files: "
                + ", ".join(item["sources_not_in_evidence"])
            )
        lines += ["", f"![scenario {name}]({item['chart']})"]
    return lines
