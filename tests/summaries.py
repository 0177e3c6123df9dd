"""Synthetic results folders for the report rows' tests (importable: ``tests/`` is on ``sys.path``)."""

import json

from jaxnewton.engine.folders import write_manifest
from jaxnewton.report.table import results_table
from jaxnewton.studies.registry import ROWS


def write(results, folder, summary, config=None):
    """A complete results folder ``results/<folder>`` holding ``summary.json`` (and ``config.json`` when given)."""
    (results / folder).mkdir(parents=True, exist_ok=True)
    (results / folder / "summary.json").write_text(json.dumps(summary))
    if config is not None:
        (results / folder / "config.json").write_text(json.dumps(config))
    write_manifest(results / folder, summary.get("config_hash", "h"))


def table_line(results, row_id):
    """Row ``row_id`` of the full results table generated from ``results``."""
    return next(r for r in results_table(results, ROWS).splitlines() if r.startswith(f"| {row_id} |"))


def fake_sweep(trivial, n, ci):
    """A seed sweep's summary with ``trivial`` of ``n`` seeds converged trivially."""
    return {"n_seeds": n, "wall_seconds": 1.0, "labels": {}, "config_hash": "h",
            "counts": {"converged": n, "max_steps": 0, "nonfinite": 0, "trivial": trivial},
            "trivial_rate": {"k": trivial, "n": n, "p": trivial / n, "ci95": ci}}
