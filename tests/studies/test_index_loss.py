"""Index against loss, collected from synthetic results folders."""

import csv
import json

import numpy as np
import pytest

from jaxnewton.engine.folders import write_manifest
from jaxnewton.studies.index_loss import IndexLossConfig
from jaxnewton.studies.registry import run_config
from summaries import table_line, write

RUNS = [  # seed, status, loss, loss_ratio, label, trivial, n_neg, n_zero, n_pos
    (0, "converged", 2.0, 1.0, "saddle", "true", 2, 0, 2),
    (1, "converged", 0.5, 0.25, "saddle", "false", 1, 1, 2),
    (2, "max_steps", 0.1, 0.05, "saddle", "false", 3, 0, 1),
    (3, "converged", 0.01, 0.005, "minimum", "false", 0, 0, 4),
]


def make_results(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "summary.json").write_text(json.dumps({"experiment": "mlp", "n_params": 4, "finished_at": "t1"}))
    (sweep / "config.json").write_text(json.dumps({"config": {"solver": "newton", "eta": 0.05, "eps": 0.05}}))
    with (sweep / "runs.csv").open("w") as f:
        writer = csv.writer(f)
        writer.writerow(["seed", "status", "steps", "loss", "grad_norm", "trivial", "label", "n_neg", "n_zero",
                         "n_pos", "loss_ratio"])
        for seed, status, loss, ratio, label, trivial, neg, zero, pos in RUNS:
            writer.writerow([seed, status, 10, loss, 1e-6, trivial, label, neg, zero, pos, ratio])
    land = tmp_path / "land"
    land.mkdir()
    points = [{"theta": [0.1, 0.2], "loss": 1.0, "label": "minimum", "n_neg": 0, "n_zero": 0, "n_pos": 2,
               "reached_by": {"newton": 30, "gradient_descent": 100}},
              {"theta": [1.1, 0.2], "loss": 6.0, "label": "saddle", "n_neg": 1, "n_zero": 0, "n_pos": 1,
               "reached_by": {"newton": 50, "gradient_descent": 0}},
              {"theta": [2.1, 0.2], "loss": 12.0, "label": "maximum", "n_neg": 2, "n_zero": 0, "n_pos": 0,
               "reached_by": {"newton": 20, "gradient_descent": 0}}]
    (land / "summary.json").write_text(json.dumps({"experiment": "torus", "stationary_points": points,
                                                   "finished_at": "t2"}))
    (land / "config.json").write_text(json.dumps({"config": {"target": [0.0, 2.0]}}))
    for folder in (sweep, land):
        write_manifest(folder, "h")  # complete runs, as a sealed folder is
    half = tmp_path / "half"  # a folder whose manifest no longer matches its files is not a run to collect
    half.mkdir()
    (half / "summary.json").write_text((land / "summary.json").read_text())
    write_manifest(half, "h")
    (half / "summary.json").write_text("{}")


def ranks(x):
    return np.argsort(np.argsort(x)).astype(float)


@pytest.mark.slow
def test_collects_converged_seeds_and_landscape_points(tmp_path):
    make_results(tmp_path)
    summary = run_config(IndexLossConfig(name="index_loss", folders=("sweep", "land", "absent", "half")),
                         tmp_path / "index_loss", log=lambda _: None)
    with (tmp_path / "index_loss" / "index_points.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert summary["skipped"] == {"absent": "no complete run", "half": "no complete run"}
    assert summary["n_points"] == {"sweep": 3, "land": 4} and len(rows) == 7
    assert summary["inputs"] == {"sweep": "t1", "land": "t2"}
    sweep = [r for r in rows if r["folder"] == "sweep"]
    assert [float(r["index_fraction"]) for r in sweep] == [0.5, 0.25, 0.0]  # seed 2 hit the cap: left out
    assert {r["optimiser"] for r in sweep} == {"damped Newton η=0.05 ε=0.05"}
    land = [r for r in rows if r["folder"] == "land"]
    assert [(r["optimiser"], r["label"], int(r["count"])) for r in land] == [
        ("undamped Newton", "minimum", 30), ("gradient descent", "minimum", 100),
        ("undamped Newton", "saddle", 50), ("undamped Newton", "maximum", 20)]
    assert [float(r["loss_ratio"]) for r in land] == pytest.approx([0.25, 0.25, 1.5, 3.0])  # L / ||v||², ||v||² = 4
    # Spearman's ρ against the Pearson correlation of the ranks (no ties in the sweep's three points).
    x, y = np.array([0.5, 0.25, 0.0]), np.array([1.0, 0.25, 0.005])
    assert summary["spearman"]["sweep"]["rho"] == pytest.approx(np.corrcoef(ranks(x), ranks(y))[0, 1])
    assert summary["spearman_all"]["n_points"] == 7 and summary["spearman_sweeps"]["n_points"] == 3
    assert {r["kind"] for r in sweep} == {"sweep"} and {r["kind"] for r in land} == {"landscape"}
    assert (tmp_path / "index_loss" / "index_loss.png").read_bytes()[:4] == b"\x89PNG"


def test_index_loss_row(tmp_path):
    def fake(rho_sweeps, p_sweeps):
        return {"wall_seconds": 1.0, "spearman": {"torus": {"rho": 0.9, "p_value": 1e-9, "n_points": 18}},
                "spearman_all": {"rho": 0.6, "p_value": 2e-6, "n_points": 52},
                "spearman_sweeps": {"rho": rho_sweeps, "p_value": p_sweeps, "n_points": 29}}
    write(tmp_path, "index_loss", fake(0.5, 0.01))
    assert table_line(tmp_path, "IL").endswith("| reproduced |")
    write(tmp_path, "index_loss", fake(0.23, 0.24))
    assert table_line(tmp_path, "IL").endswith(
        "| partly: all points ρ = 0.60 (p = 2e-06, 52 points), but within the networks ρ = 0.23 (p = 0.2, 29 points) |")
