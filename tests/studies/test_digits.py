"""The digits study: split, selection, smoke run and resume."""

import csv

import jax
import numpy as np
import pytest

from jaxnewton.engine.config import load_config
from jaxnewton.studies.digits import SETS, DigitsStudyConfig, keep_best, load_data
from jaxnewton.studies.registry import run_config
from jaxnewton.tools.paths import random_pairs
from summaries import table_line, write


def quiet(_):
    pass


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


@pytest.mark.slow
def test_smoke_digits_study_writes_every_set_and_resumes_from_its_checkpoints(tmp_path):
    config = load_config("digits_study", smoke=True)
    summary = run_config(config, tmp_path, log=quiet)
    assert list(summary["table"]) == list(SETS)
    for row in summary["table"].values():
        assert row["n"] == config.n_keep and row["n_pairs"] == config.n_pairs
        assert {"mean_train_loss", "mean_test_loss", "mean_barrier", "spread"} <= set(row)
        assert row["mean_barrier"] >= row["mean_train_loss"] - 1e-12  # H ≥ the loss at either end
    with (tmp_path / "solutions.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(SETS) * config.n_keep
    logs = []
    again = run_config(config, tmp_path, log=logs.append)
    assert any("reusing the finished training" in line for line in logs)
    assert again["table"] == summary["table"]
    with pytest.raises(ValueError, match="n_keep"):
        DigitsStudyConfig(name="d", n_starts=10, n_keep=20)


def test_digits_row_verdicts(tmp_path):
    def entry(train, test, barrier, above, spread):
        return {"mean_train_loss": train, "mean_test_loss": test, "mean_barrier": barrier,
                "mean_barrier_above": above, "spread": spread}

    from jaxnewton.studies.digits import findings
    table = {"lbfgs_gss_train": entry(1e-6, 0.5, 0.02, 0.02, 60.0), "lbfgs_gss_test": entry(0.005, 0.2, 0.04, 0.01, 27.0),
             "sgd_train": entry(7e-3, 0.1, 0.01, 0.003, 17.0), "sgd_test": entry(0.01, 0.1, 0.012, 0.002, 17.0)}
    write(tmp_path, "digits_study", {"wall_seconds": 1.0, "table": table, "findings": findings(table)})
    row = table_line(tmp_path, "DS")
    assert "lbfgs_gss_train: train 1e-06, test 0.5, barrier 0.02 (0.02 above the ends), spread 60" in row
    assert "early-stopped sets:<br>lbfgs_gss_test:" in row
    assert "| reproduced (8×8 digits, not MNIST; QN / SGD, end-of-run sets: SGD barriers lower ×2;" in row
    table["lbfgs_gss_train"] = entry(1e-6, 0.5, 0.005, 0.004, 60.0)  # QN barriers lower than SGD's
    write(tmp_path, "digits_study", {"wall_seconds": 1.0, "table": table, "findings": findings(table)})
    assert "| partly: SGD barriers lower fails for the end-of-run sets (QN / SGD" in table_line(tmp_path, "DS")
    table["sgd_train"] = entry(7e-3, 0.1, 0.01, 0.0, 17.0)  # SGD's paths never rise above their ends: no ratio
    write(tmp_path, "digits_study", {"wall_seconds": 1.0, "table": table, "findings": findings(table)})
    assert "SGD barriers above the ends lower (no ratio: SGD's value is 0)" in table_line(tmp_path, "DS")
