"""The width study: its configs per width, its summary from real (smoke) sweeps, resumption, and bad input."""

import csv
import dataclasses
import json
import math

import numpy as np
import pytest

from jaxnewton.engine.config import load_config
from jaxnewton.engine.build import build
from jaxnewton.studies.registry import run_config
from jaxnewton.studies.settings import cell_folder
from jaxnewton.studies.widths import (WidthsConfig, cell_label, n_params, pooled_vs_standard, series, width_config,
                                     widths_cells)


def quiet(_):
    pass


def test_width_configs_carry_the_width_solver_cap_and_spectrum():
    config = WidthsConfig(name="w", widths=(10, 40), n_seeds=(32, 4), max_steps=(3000, 20),
                          linear_solvers=("dense", "krylov"), lanczos_above=1000)
    small, large = width_config(config, 0), width_config(config, 1)
    assert (small.widths, small.n_seeds, small.max_steps, small.linear_solver, small.spectrum) == (
        (10, 10), 32, 3000, "dense", "dense")
    assert (large.widths, large.n_seeds, large.max_steps, large.linear_solver, large.spectrum) == (
        (40, 40), 4, 20, "krylov", "lanczos")
    # n_params counts what the model builds (E3: 140 at width 10, as the paper says), without building it
    assert [n_params(small, w) for w in (10, 40)] == [140, 1760] == [build(c).problem.n_params for c in (small, large)]
    # the base's own settings stay (η, ε, tol are the paper's)
    base = load_config("mlp_tanh")
    assert (large.eta, large.eps, large.tol) == (base.eta, base.eps, base.tol)


@pytest.mark.parametrize("changes, message", [
    ({"widths": (10, 10)}, "config field widths="),
    ({"n_seeds": (4,)}, "one entry per width (2)"),
    ({"linear_solvers": ("dense", "cg")}, "config field linear_solvers="),
    ({"max_steps": (10, 0)}, "config field max_steps="),
    ({"base": "circle"}, "config field base="),
    ({"path_seeds": 5}, "config field path_seeds="),
    ({"path_method": "sgd"}, "config field path_method="),
])
def test_bad_width_studies_fail_before_anything_runs(changes, message):
    fields = {"name": "w", "widths": (10, 20), "n_seeds": (4, 4), "max_steps": (10, 10),
              "linear_solvers": ("dense", "dense"), **changes}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        WidthsConfig(**fields)


@pytest.mark.slow
def test_smoke_study_summarises_each_width_and_reruns_only_new_ones(tmp_path):
    config = load_config("widths", smoke=True)  # widths 3 (dense, dense spectrum) and 5 (Krylov, Lanczos spectrum)
    out = tmp_path / "widths"
    summary = run_config(config, out, log=quiet)
    small, large = summary["widths"]
    assert (small["n_params"], large["n_params"]) == (21, 45)
    assert (small["spectrum"], large["spectrum"], large["linear_solver"]) == ("dense", "lanczos", "krylov")
    for record in (small, large):
        for key in ("p_trivial", "p_trivial_end", "p_fit"):
            p = record[key]
            assert p["n"] == 2 and p["ci_low"] <= p["p"] <= p["ci_high"]
        # every seed ran to its cap here (4 and 10 steps are far from converging): reported as capped
        assert record["capped"]["n"] == 2 and 0.0 < record["capped"]["elsewhere_median_loss_ratio"] < 10.0
        index = record["index_fraction"]
        assert 0.0 <= index["median_low"] <= index["median"] <= index["median_high"] <= 1.0
    assert small["index_fraction"]["median_low"] == small["index_fraction"]["median_high"]  # dense: exact
    assert small["vs_first"]["p_trivial"]["d"] == 0.0 and not small["vs_first"]["p_fit"]["moves"]
    assert large["median_krylov_iterations"] > 0 and small["median_krylov_iterations"] is None
    assert (out / "widths.png").stat().st_size > 0
    # the width's folder is the plain run of its config
    with np.load(cell_folder(out, "width=5", width_config(config, 1)) / "arrays.npz") as a:
        assert a["theta"].shape == (2, 45)
    # A study with one more width runs only that width
    lines = []
    bigger = dataclasses.replace(config, widths=(3, 5, 4), n_seeds=(2, 2, 1), max_steps=(10, 4, 2),
                                 linear_solvers=("dense", "krylov", "dense"))
    run_config(bigger, out, log=lines.append, policy="replace")
    assert [line for line in lines if line.startswith("width ")] == [
        "width 4, newton, standard (3/3): 1 seeds, cap 2, dense solve, dense spectrum"]
    assert [r["width"] for r in json.loads((out / "summary.json").read_text())["widths"]] == [3, 5, 4]


@pytest.mark.slow
def test_methods_and_parametrisations_are_cells_from_the_same_network(tmp_path):
    base = load_config("widths", smoke=True)
    config = dataclasses.replace(base, widths=(3,), n_seeds=(2,), max_steps=(6,), linear_solvers=("dense",),
                                 methods=("newton", "newton_mr"), parametrisations=("standard", "ntk"),
                                 path_seeds=1, path_method="newton", path_points=3)
    summary = run_config(config, tmp_path / "widths", log=quiet)
    records = summary["widths"]
    # The traced path is the cell's own run of seed 0: its end (step 6) has the cell's loss ratio and, at P = 21 (21
    # Lanczos steps: exact), the smallest eigenvalue of the cell's dense end-point spectrum, plus ε
    for path, cell in zip(summary["paths"], records[:2]):
        assert (path["width"], path["parametrisation"], path["n_params"]) == (3, cell["parametrisation"], 21)
        (trace,) = path["seeds"]
        assert trace["steps"] == [0, 2, 4, 6] and path["n_points"] == 4
        with open(tmp_path / "widths.cells" / cell["folder"].split("/")[1] / "runs.csv") as f:
            seed0 = next(csv.DictReader(f))
        assert trace["loss_ratio"][-1] == pytest.approx(float(seed0["loss_ratio"]), rel=1e-9)
        with np.load(tmp_path / "widths.cells" / cell["folder"].split("/")[1] / "arrays.npz") as a:
            assert trace["lambda_min_shifted"][-1] == pytest.approx(np.nanmin(a["eigvals"][0]) + 0.05, rel=1e-6)
        assert path["points_indefinite"] == sum(v < 0 for v in trace["lambda_min_shifted"])
    assert (tmp_path / "widths" / "paths.png").stat().st_size > 0
    assert [(r["method"], r["parametrisation"]) for r in records] == [
        ("newton", "standard"), ("newton", "ntk"), ("newton_mr", "standard"), ("newton_mr", "ntk")]
    assert all(np.isfinite(r["median_lambda_min"]) and r["n_params"] == 21 for r in records)
    assert records[2]["curvature_steps"] is not None  # Newton-MR records its step types
    # the NTK cells against the standard ones of the same width and method (the wide-limit question)
    for ntk, standard in ((records[1], records[0]), (records[3], records[2])):
        assert "vs_standard" not in standard
        for k in ("p_trivial", "p_trivial_end", "p_fit"):
            versus = ntk["vs_standard"][k]
            assert versus["d"] == pytest.approx(ntk[k]["p"] - standard[k]["p"]) and 0.0 < versus["fisher_p"] <= 1.0
    assert {m: list(v) for m, v in summary["vs_standard_pooled"].items()} == {"newton": ["ntk"], "newton_mr": ["ntk"]}
    assert summary["width_trend"] == {}  # one width: no trend to test
    folders = [cell_folder(tmp_path / "widths", cell_label(3, m, p), width_config(config, 0, m, p))
               for m, p in (("newton", "standard"), ("newton_mr", "standard"), ("newton", "ntk"))]
    assert folders[0].name.startswith("width-3-")  # damped Newton, standard: the earlier study's label
    assert folders[1].name.startswith("width-3-newton_mr-standard-")
    with np.load(folders[0] / "arrays.npz") as a, np.load(folders[1] / "arrays.npz") as b, \
            np.load(folders[2] / "arrays.npz") as c:
        np.testing.assert_array_equal(a["theta0"], b["theta0"])  # the same starts
        assert not np.array_equal(a["theta0"], c["theta0"])  # the NTK coordinates of the same network
    assert (tmp_path / "widths" / "widths.png").stat().st_size > 0
    with pytest.raises(ValueError, match="methods"):
        dataclasses.replace(config, methods=("newton", "lbfgs"))


def test_the_readme_line_spans_each_method_from_its_smallest_to_its_largest_width():
    """With several methods and parametrisations the headline gives, per method, at the trivial point at the end at its
    first and last width, standard then NTK, and where a method stopped below the largest P; no "|" (a table cell)."""
    def record(method, parametrisation, p, k, n):
        end = {"k": k, "n": n, "ci_low": 0.0, "ci_high": 1.0}
        return {"method": method, "parametrisation": parametrisation, "width": p, "n_params": p, "n_seeds": n,
                "max_steps": 10, "p_trivial": end, "p_trivial_end": end, "capped": {"n": 0}}

    summary = {"widths": [record("newton", "standard", 140, 19, 32), record("newton", "ntk", 140, 3, 32),
                          record("newton_mr", "standard", 140, 0, 32), record("newton_mr", "ntk", 140, 0, 32),
                          record("newton", "standard", 6720, 4, 8), record("newton", "ntk", 6720, 0, 8),
                          record("newton_mr", "standard", 103680, 1, 8), record("newton_mr", "ntk", 103680, 0, 8)]}
    assert widths_cells([summary]).headline == (
        "at the trivial point at the end, P 140 → 103680, standard, then ntk: newton (P ≤ 6720) 19/32 → 4/8, "
        "ntk 3/32 → 0/8; newton_mr 0/32 → 1/8, ntk 0/32 → 0/8")
    # With the pooled comparison in the summary the line gives it instead, short enough for the README's table.
    summary["vs_standard_pooled"] = pooled_vs_standard(series(summary["widths"]))
    assert widths_cells([summary]).headline == (
        "end at trivial, std vs ntk, P ≤ 103680: newton 23/40 vs 3/40; newton_mr 1/40 vs 0/40")
    summary["vs_standard_pooled"]["newton_mr"]["ntk"].update(k=0, k_standard=0)
    assert widths_cells([summary]).headline == (
        "end at trivial, std vs ntk, P ≤ 103680: newton 23/40 vs 3/40; others 0")


def test_the_pooled_parametrisation_comparison_takes_only_the_widths_both_ran():
    from jaxnewton.core.stats import mantel_haenszel, trend_test
    from jaxnewton.studies.widths import width_trend

    def record(method, parametrisation, width, k, n):
        return {"method": method, "parametrisation": parametrisation, "width": width, "n_seeds": n,
                "p_trivial_end": {"k": k, "n": n}}
    records = [record("truncated50", "standard", 10, 21, 32), record("truncated50", "standard", 20, 15, 32),
               record("truncated50", "standard", 40, 11, 16), record("truncated50", "ntk", 10, 2, 32),
               record("truncated50", "ntk", 40, 0, 16), record("bfgs", "ntk", 10, 0, 32)]
    pooled = pooled_vs_standard(series(records))
    assert pooled.keys() == {"truncated50"} and pooled["truncated50"].keys() == {"ntk"}  # BFGS: no standard cell
    got = pooled["truncated50"]["ntk"]
    assert (got["widths"], got["k"], got["n"], got["k_standard"], got["n_standard"]) == ([10, 40], 2, 48, 32, 48)
    assert got["p"] == mantel_haenszel([(2, 32, 21, 32), (0, 16, 11, 16)])["p"] < 1e-6
    assert got["d"] == pytest.approx((2 - 21 + 0 - 11) / 48)
    trend = width_trend(series(records))
    assert trend.keys() == {"truncated50"} and trend["truncated50"].keys() == {"standard", "ntk"}  # BFGS: one width
    assert trend["truncated50"]["standard"] == trend_test([21, 15, 11], [32, 32, 16], [math.log2(w) for w in (10, 20, 40)])
