"""The settings grid: cells, their folders, their equality with plain runs, and the summary's statistics."""

import dataclasses
import json

import numpy as np
import pytest

from jaxnewton.engine.config import load_config
from jaxnewton.studies.registry import run_config
from jaxnewton.studies.settings import SettingsConfig, cell_config, cell_folder, cells, difference, proportion


def quiet(_):
    pass


def test_cells_are_the_base_each_factor_alone_then_the_cross():
    config = SettingsConfig(name="s", factors=("loss_reduction=sum|half_mean", "dtype=float32", "tol_on=step"),
                            cross=("loss_reduction", "dtype"))
    labels = [label for label, _ in cells(config)]
    assert labels == ["base", "loss_reduction=sum", "loss_reduction=half_mean", "dtype=float32", "tol_on=step",
                      "loss_reduction=sum dtype=float32", "loss_reduction=half_mean dtype=float32"]
    changes = dict(cells(config))["loss_reduction=sum dtype=float32"]
    cell = cell_config(config, changes)
    assert (cell.loss_reduction, cell.dtype, cell.n_seeds, cell.tol_on) == ("sum", "float32", 100, "grad")


def test_pairs_are_extra_cells_in_their_order_after_the_one_factor_cells():
    config = SettingsConfig(name="s", factors=("loss_reduction=sum", "dtype=float32", "max_steps=50000"),
                            pairs=("max_steps=50000 dtype=float32", "max_steps=50000 loss_reduction=sum"))
    grid = cells(config)
    assert [label for label, _ in grid] == ["base", "loss_reduction=sum", "dtype=float32", "max_steps=50000",
                                            "max_steps=50000 dtype=float32", "max_steps=50000 loss_reduction=sum"]
    cell = cell_config(config, grid[4][1])
    assert (cell.max_steps, cell.dtype, cell.loss_reduction) == (50000, "float32", "mean")
    # a pair is the same run as the plain config with both changes: same hash, hence the same cell folder
    plain = cell_config(config, {"dtype": "float32", "max_steps": "50000"})
    assert cell.hash() == plain.hash()


@pytest.mark.parametrize("changes, message", [
    ({"factors": ("learning_rat=0.1",)}, "config field factors="),
    ({"factors": ("dtype=float16",)}, "cell dtype=float16: config field dtype='float16' is out of range"),
    ({"factors": ("dtype=float32",), "cross": ("dtype",)}, "config field cross="),
    ({"factors": ("dtype=float32", "dtype=float64")}, "each field at most once"),
    ({"factors": ("dtype=float32", "max_steps=50000"), "pairs": ("max_steps=50000",)}, "config field pairs="),
    ({"factors": ("dtype=float32", "max_steps=50000"), "pairs": ("max_steps=50000 dtype=float16",)},
     "config field pairs="),
    ({"factors": ("dtype=float32", "max_steps=50000"), "pairs": ("max_steps=5 dtype=float32",)}, "config field pairs="),
    ({"factors": ("dtype=float32", "max_steps=50000"), "cross": ("dtype", "max_steps"),
      "pairs": ("dtype=float32 max_steps=50000",)}, "once each"),
])
def test_bad_grids_fail_before_anything_runs(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        SettingsConfig(name="s", **changes)


def test_newcombe_difference_moves_only_when_its_interval_excludes_zero():
    same = difference(proportion(26, 100), proportion(26, 100))
    assert same["d"] == 0 and same["ci_low"] < 0 < same["ci_high"] and not same["moves"]
    far = difference(proportion(90, 100), proportion(26, 100))
    assert far["moves"] and 0.5 < far["ci_low"] < far["d"] < far["ci_high"] < 0.75
    near = difference(proportion(30, 100), proportion(26, 100))
    assert not near["moves"]


@pytest.mark.slow
def test_smoke_grid_cells_equal_plain_runs_and_are_never_rerun(tmp_path):
    config = load_config("settings", smoke=True)
    out = tmp_path / "settings"
    summary = run_config(config, out, log=quiet)
    assert [c["cell"] for c in summary["cells"]] == ["base", "dtype=float32"]
    for record in summary["cells"]:
        for key in ("p_trivial_converged", "p_trivial_end", "p_fit"):
            p = record[key]
            assert p["n"] == config.n_seeds and p["ci_low"] <= p["p"] <= p["ci_high"]
        assert {"dtype", "n_seeds", "median_steps", "vs_base"} <= set(record)
    assert (out / "settings.png").stat().st_size > 0
    # A cell is the plain run of its config: the same arrays, bit for bit.
    label, changes = cells(config)[1]
    cell = cell_config(config, changes)
    plain = tmp_path / "plain"
    run_config(cell, plain, log=quiet)
    with np.load(cell_folder(out, label, cell) / "arrays.npz") as a, np.load(plain / "arrays.npz") as b:
        for key in ("theta", "history_loss", "eigvals", "theta0"):
            np.testing.assert_array_equal(a[key], b[key])
        assert a["theta"].dtype == np.float32  # the float32 cell ran in float32
    # A grid with one more factor reruns only its new cells, even though the study's folder is replaced.
    lines = []
    bigger = dataclasses.replace(config, factors=(*config.factors, "tol_on=step"))
    run_config(bigger, out, log=lines.append, policy="replace")
    assert [line for line in lines if line.startswith("cell ")] == ["cell 3/3: tol_on=step"]
    assert json.loads((out / "summary.json").read_text())["cells"][2]["tol_on"] == "step"


def synthetic(cells_k, n=100):
    """A settings summary whose cells converged trivially k of n times."""
    from jaxnewton.studies.settings import proportion
    records = [{"cell": label, "n_seeds": n, "p_trivial_converged": proportion(k, n)} for label, k in cells_k]
    paper = proportion(9, 10)
    reproducing = [r["cell"] for r in records
                   if r["p_trivial_converged"]["ci_low"] <= paper["p"] <= r["p_trivial_converged"]["ci_high"]]
    nearest = min(records, key=lambda r: abs(r["p_trivial_converged"]["p"] - 0.9))["cell"]
    return {"n_seeds": n, "paper": paper, "cells": records, "moving_factors": ["dtype"], "config_hash": "h",
            "reproducing_cells": reproducing, "nearest_cell": nearest, "wall_seconds": 1.0}


def test_settings_row_names_the_reading_that_reproduces_or_the_nearest(tmp_path):
    from summaries import table_line, write
    write(tmp_path, "settings", synthetic([("base", 26), ("dtype=float32", 60)]))
    row = table_line(tmp_path, "ST")
    assert "| differs: no reading holds the paper's 0.90; nearest dtype=float32: 60/100 [0.50, 0.69] |" in row
    write(tmp_path, "settings", synthetic([("base", 26), ("dtype=float32", 85)]))
    assert table_line(tmp_path, "ST").endswith("| reproduced by dtype=float32 |")


def test_only_one_factor_cells_name_the_moving_factors(tmp_path, monkeypatch):
    # A pair moves the count when one of its factors does; the factor that moves it is found by its own cell.
    from jaxnewton.engine.outcomes import TRIVIAL
    from jaxnewton.studies import settings
    trivial = {"base": 20, "dtype=float32": 22, "max_steps=50000": 60, "max_steps=50000 dtype=float32": 62}

    def fake_cell(cell, folder, what, start, share, log, progress):
        k = trivial[what.split(": ", 1)[1]]
        return {"n_seeds": 100, "outcomes": [TRIVIAL] * k + ["max_steps"] * (100 - k), "solved": 0, "counts": {},
                "median_steps": 1.0, "wall_seconds": 1.0}

    monkeypatch.setattr(settings, "run_cell", fake_cell)
    config = SettingsConfig(name="s", factors=("dtype=float32", "max_steps=50000"),
                            pairs=("max_steps=50000 dtype=float32",))
    summary = settings.run(config, tmp_path / "s", log=quiet)
    assert [c["cell"] for c in summary["cells"]] == list(trivial)
    assert summary["cells"][3]["vs_base"]["p_trivial_converged"]["moves"]
    assert summary["moving_factors"] == ["max_steps"] and summary["pairs"] == ["max_steps=50000 dtype=float32"]
