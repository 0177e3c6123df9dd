"""Comparisons: the same starts for every optimiser."""

import csv
import json

import numpy as np
import pytest

from jaxnewton.cli import main
from jaxnewton.engine.config import Config, load_config, override
from jaxnewton.optim import registry
from jaxnewton.optim.first_order import gradient_descent
from jaxnewton.optim.registry import Optimizer
from jaxnewton.studies.registry import run_config
from summaries import fake_sweep, table_line, write


@pytest.mark.slow
def test_pinn2d_comparison_runs_both_optimisers_from_the_same_points(tmp_path):
    assert main(["compare", "pinn2d", "--smoke", "--optimizers", "newton,adam", "--out", str(tmp_path)]) == 0
    for file in ("comparison.csv", "comparison.png", "fields.png", "summary.json", "config.json"):
        assert (tmp_path / file).stat().st_size > 0, file
    with (tmp_path / "comparison.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["optimizer"] for r in rows] == ["newton", "adam"]
    with np.load(tmp_path / "newton" / "arrays.npz") as a, np.load(tmp_path / "adam" / "arrays.npz") as b:
        np.testing.assert_array_equal(a["theta0"], b["theta0"])
        assert not np.allclose(a["theta"], b["theta"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["optimizers"]) == {"newton", "adam"}
    assert int(rows[1]["n_seeds"]) == summary["optimizers"]["adam"]["n_seeds"] == 2


@pytest.mark.slow
def test_a_toy_optimiser_registered_here_runs_in_compare_from_the_same_starts(tmp_path):
    """A new optimiser is one function and one registry entry: nothing else is edited for compare to run it."""
    toy = Optimizer("toy_gd", "gradient descent at half the step",
                    lambda loss, hessian, c: gradient_descent(0.5 * c.gd_learning_rate), ("gd_learning_rate",),
                    cap="first_order_max_steps")
    with registry.registered(toy):
        assert Config(name="x", optimizers=("all",)).optimizers[-1] == "toy_gd"  # --optimizers all includes it
        config = override(load_config("mlp_tanh", smoke=True), ["optimizers=gd,toy_gd", "first_order_max_steps=7"])
        summary = run_config(config, tmp_path, log=lambda _: None)
    assert "toy_gd" not in registry.names()
    with np.load(tmp_path / "gd" / "arrays.npz") as gd, np.load(tmp_path / "toy_gd" / "arrays.npz") as toy_arrays:
        np.testing.assert_array_equal(gd["theta0"], toy_arrays["theta0"])
        assert np.all(toy_arrays["history_step"] <= 7) and not np.allclose(gd["theta"], toy_arrays["theta"])
    with (tmp_path / "comparison.csv").open() as f:
        assert [r["optimizer"] for r in csv.DictReader(f)] == ["gd", "toy_gd"]
    assert summary["optimizers"]["toy_gd"]["median_steps"] == 7  # capped by its registered cap field


def test_pinn2d_row_verdicts(tmp_path):
    def optimiser(trivial, at_cap, solved):
        return {**fake_sweep(trivial, 16, [0.0, 1.0]), "trivial_at_cap": at_cap, "solved": solved,
                "rel_l2_error": {"median": 0.5, "min": 1e-4, "max": 1.0}}

    write(tmp_path, "pinn2d", {"n_seeds": 16, "wall_seconds": 1.0, "config_hash": "h",
                                    "optimizers": {"newton": optimiser(3, 6, 0), "adam": optimiser(0, 0, 16)}})
    row = table_line(tmp_path, "E7")
    assert row.endswith("| reproduced |") and "ADAM: 0/16 trivial, 16/16 solved" in row
    write(tmp_path, "pinn2d", {"n_seeds": 16, "wall_seconds": 1.0, "config_hash": "h",
                                    "optimizers": {"newton": optimiser(3, 4, 0), "adam": optimiser(0, 0, 16)}})
    assert table_line(tmp_path, "E7").endswith(
        "| partly: Newton 7/16 at the trivial point, ADAM solved 16/16 |")


def fake_optimizer(trivial, at_cap=0, minima=0, n=16):
    labels = {"minimum": minima, "maximum": 0, "saddle": trivial, "degenerate": 0}
    return {"n_seeds": n, "labels": labels, "trivial_labels": {**labels, "minimum": 0}, "trivial_at_cap": at_cap,
            "counts": {"converged": trivial + minima, "max_steps": n - trivial - minima, "nonfinite": 0,
                       "trivial": trivial}, "solved": minima}


def fake_mechanism(seeds_negative, bad, not_pd=0):
    one = {"n_seeds": 16, "iterates": 100, "iterates_true_hessian_indefinite": 30,
           "seeds_meeting_negative_curvature": seeds_negative, "most_negative_true_eigenvalue": -2.0,
           "curvature_pairs": 500, "bad_curvature_pairs": bad, "approximation_recorded": True,
           "iterates_approximation_not_positive_definite": not_pd}
    return {"n_seeds": 16, "wall_seconds": 1.0, "optimizers": {"bfgs": one, "lbfgs": {**one,
                                                                                       "approximation_recorded": False}}}


def test_e9_row_verdicts(tmp_path):
    compare = {"n_seeds": 16, "wall_seconds": 1.0, "optimizers": {
        "newton": fake_optimizer(4, at_cap=8), "bfgs": fake_optimizer(0, minima=10), "lbfgs": fake_optimizer(1)}}
    write(tmp_path, "compare_mlp_tanh", compare)
    assert table_line(tmp_path, "E9").endswith("| reproduced |")  # only the outcome was run
    write(tmp_path, "mechanism", fake_mechanism(16, 0))
    row = table_line(tmp_path, "E9")
    assert row.endswith("| reproduced |")
    assert "newton: 12 trivial (4 converged)" in row and "bfgs: 0 trivial (0 converged), 10 minimum" in row
    assert "yᵀs ≤ 0 in 0/500 pairs" in row
    write(tmp_path, "mechanism", fake_mechanism(16, 3))  # BFGS refuses bad pairs, optax's L-BFGS stores them
    row = table_line(tmp_path, "E9")
    assert ("bfgs: 16/16 seeds met negative curvature (∇²L indefinite at 30/100 recorded iterates, λ_min down to -2);"
            " yᵀs ≤ 0 in 3/500 pairs (refused)") in row
    assert row.endswith("| partly: outcome holds (Newton 12/16 trivial); safeguard record does not hold |")
    write(tmp_path, "mechanism", fake_mechanism(7, 0))  # fewer than half the seeds met negative curvature
    assert table_line(tmp_path, "E9").endswith(
        "| partly: outcome holds (Newton 12/16 trivial); safeguard record does not hold |")
    write(tmp_path, "mechanism", fake_mechanism(16, 0))
    compare["optimizers"].update(bfgs_fixed=fake_optimizer(0, minima=14), bfgs_fixed_unguarded=fake_optimizer(1))
    write(tmp_path, "compare_mlp_tanh", compare)
    assert table_line(tmp_path, "E9").endswith(
        "| partly: outcome holds (Newton 12/16 trivial); safeguard record holds; ablation does not hold: without its "
        "safeguard BFGS at a fixed step ends at the trivial point in 1/16, with it in 0/16 |")
    compare["optimizers"]["bfgs_fixed_unguarded"] = fake_optimizer(9)
    write(tmp_path, "compare_mlp_tanh", compare)
    assert table_line(tmp_path, "E9").endswith("| reproduced |")
    compare["optimizers"]["lbfgs"] = fake_optimizer(2, at_cap=1)  # 3/16 > a tenth
    write(tmp_path, "compare_mlp_tanh", compare)
    assert table_line(tmp_path, "E9").endswith(
        "| differs: outcome does not hold (Newton 12/16 trivial); safeguard record holds; ablation holds: without "
        "its safeguard BFGS at a fixed step ends at the trivial point in 9/16, with it in 0/16 |")


def test_second_order_row_counts_the_trivial_end_points_with_intervals(tmp_path):
    def optimiser(trivial, at_cap, solved):
        return {**fake_sweep(trivial, 64, [0.0, 1.0]), "trivial_at_cap": at_cap, "solved": solved,
                "trivial_labels": {"minimum": 0, "maximum": 0, "saddle": trivial, "degenerate": 0},
                "labels": {"minimum": 0, "maximum": 0, "saddle": trivial, "degenerate": 0}}

    write(tmp_path, "compare_second_order", {"n_seeds": 64, "wall_seconds": 1.0, "config_hash": "h",
                                             "optimizers": {"newton": optimiser(10, 20, 0),
                                                            "trust_region": optimiser(0, 0, 3)}})
    row = table_line(tmp_path, "SO")
    assert "newton 30/64 [0.35, 0.59] at the trivial point; trust_region 0/64 [0.00, 0.06] at the trivial point" in row
    assert row.endswith("| extension |")


@pytest.mark.slow
def test_second_order_comparison_smoke_runs_from_the_same_starts(tmp_path):
    """The family's config through compare on E3, with the method whose matrix comes from the problem's own
    Gauss–Newton product, from the same starts as damped Newton (each method alone, and vmapped, is tested in
    tests/optim)."""
    config = override(load_config("second_order", smoke=True), ["optimizers=newton,lm"])
    summary = run_config(config, tmp_path, log=lambda _: None)
    assert list(summary["optimizers"]) == ["newton", "lm"]
    with np.load(tmp_path / "lm" / "arrays.npz") as a, np.load(tmp_path / "newton" / "arrays.npz") as b:
        np.testing.assert_array_equal(a["theta0"], b["theta0"])
