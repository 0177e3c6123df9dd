"""The three issue-8 studies end to end, shrunk: the toy paths, the digits study, the E3 landscape."""

import csv
import dataclasses
import json

import jax
import numpy as np
import pytest

from jaxnewton.compare import run_compare
from jaxnewton.config import DigitsStudyConfig, LandscapeStudyConfig, load_config
from jaxnewton.digits import SETS, keep_best, load_data, run_digits_study
from jaxnewton.landscape_study import run_landscape_study
from jaxnewton.paths import random_pairs
from jaxnewton.toy_paths import run_paths_toy


def quiet(_):
    pass


def test_smoke_paths_toy_writes_the_summary_keys_the_issue_names(tmp_path):
    config = load_config("paths_toy", smoke=True)
    summary = run_paths_toy(config, tmp_path, log=quiet)
    assert set(summary["optimised_height"]) == {f"{lam:g}" for lam in config.lams}
    assert summary["straight_height"] == pytest.approx(1.102, abs=3e-3)  # M = 20 samples land near the top
    assert (tmp_path / "paths_toy.png").exists() and (tmp_path / "paths.csv").exists()


def test_digits_split_is_fixed_and_stratified():
    a, b = load_data(0.25, 0), load_data(0.25, 0)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (1347, 64) and a.x_test.shape == (450, 64)
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    everything = np.concatenate([a.y_train, a.y_test])
    np.testing.assert_allclose(np.bincount(a.y_test) / 450, np.bincount(everything) / 1797, atol=3e-3)  # stratified


def test_keep_best_and_random_pairs():
    losses = np.array([0.3, np.nan, 0.1, 0.2, np.inf, 0.1])
    np.testing.assert_array_equal(keep_best(losses, 3), [2, 3, 5])  # the three lowest finite, in start order
    np.testing.assert_array_equal(keep_best(losses, 6), [0, 2, 3, 5])  # non-finite runs are never kept
    pairs = random_pairs(jax.random.key(0), 6, 100)
    assert len(pairs) == 15 and len({tuple(p) for p in pairs}) == 15 and np.all(pairs[:, 0] < pairs[:, 1])


def test_smoke_digits_study_writes_every_set_and_resumes_from_its_checkpoints(tmp_path):
    config = load_config("digits_study", smoke=True)
    summary = run_digits_study(config, tmp_path, log=quiet)
    assert list(summary["table"]) == list(SETS)
    for row in summary["table"].values():
        assert row["n"] == config.n_keep and row["n_pairs"] == config.n_pairs
        assert {"mean_train_loss", "mean_test_loss", "mean_barrier", "spread"} <= set(row)
        assert row["mean_barrier"] >= row["mean_train_loss"] - 1e-12  # H ≥ the loss at either end
    with (tmp_path / "solutions.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(SETS) * config.n_keep
    logs = []
    again = run_digits_study(config, tmp_path, log=logs.append)
    assert any("reusing the finished training" in line for line in logs)
    assert again["table"] == summary["table"]
    with pytest.raises(ValueError, match="n_keep"):
        DigitsStudyConfig(name="d", n_starts=10, n_keep=20)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """A small real comparison on E3: BFGS from 3 seeds (it fits v in ≈ 900 steps, 1 500 allowed)."""
    results = tmp_path_factory.mktemp("results")
    config = dataclasses.replace(load_config("mlp_tanh"), n_seeds=3, max_steps=1500, segment_steps=1500,
                                 optimizers=("bfgs",))
    run_compare(config, results / "compare_mlp_tanh", log=quiet)
    return results


def test_smoke_landscape_study_on_a_real_comparison(comparison):
    config = dataclasses.replace(load_config("landscape", smoke=True), path_optimizers=("bfgs",))
    summary = run_landscape_study(config, comparison / "landscape", log=quiet)
    assert summary["groups"]["non_trivial"]["n_pairs"] >= 1  # the paths, saddle checks and forms ran
    rows = {}
    for optimizer in ("bfgs",):
        with (comparison / "compare_mlp_tanh" / optimizer / "runs.csv").open() as f:
            rows[optimizer] = list(csv.DictReader(f))
    trivial = sum(r["trivial"] == "true" and r["status"] != "nonfinite" for rs in rows.values() for r in rs)
    fits = sum(r["trivial"] == "false" and r["status"] == "converged" for rs in rows.values() for r in rs)
    assert summary["groups"]["trivial"]["n_points"] == trivial
    assert summary["groups"]["non_trivial"]["n_points"] == fits
    with (comparison / "landscape" / "pairs.csv").open() as f:
        pairs = list(csv.DictReader(f))
    assert len(pairs) == 2 * sum(g["n_pairs"] for g in summary["groups"].values())
    symmetry = summary["symmetry"]
    if symmetry["available"]:  # a symmetric copy has the same loss, and is a different point
        assert symmetry["loss_copy"] == pytest.approx(symmetry["loss_endpoint"], rel=1e-9, abs=1e-14)
        assert symmetry["distance"] > 0
    assert summary["inputs"] == {"compare_mlp_tanh": json.loads(
        (comparison / "compare_mlp_tanh" / "summary.json").read_text())["finished_at"]}
    assert (comparison / "landscape" / "landscape.png").exists()


def test_landscape_study_says_what_to_run_when_its_source_is_missing(tmp_path):
    with pytest.raises(ValueError, match="make compare"):
        run_landscape_study(LandscapeStudyConfig(name="landscape"), tmp_path / "landscape", log=quiet)
    with pytest.raises(ValueError, match="path_optimizers"):
        LandscapeStudyConfig(name="landscape", path_optimizers=("nope",))
