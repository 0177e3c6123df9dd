"""The path tools on a real comparison's end points."""

import csv
import dataclasses
import json

import pytest

from jaxnewton.engine.config import load_config
from jaxnewton.studies.landscape import LandscapeStudyConfig
from jaxnewton.studies.registry import run_config
from summaries import table_line, write


def quiet(_):
    pass


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """A small real comparison on E3: BFGS from 3 seeds (it fits v in ≈ 900 steps, 1 500 allowed)."""
    results = tmp_path_factory.mktemp("results")
    config = dataclasses.replace(load_config("mlp_tanh"), n_seeds=3, max_steps=1500, segment_steps=1500,
                                 optimizers=("bfgs",))
    run_config(config, results / "compare_mlp_tanh", log=quiet)
    return results


@pytest.mark.slow
def test_smoke_landscape_study_on_a_real_comparison(comparison):
    config = dataclasses.replace(load_config("landscape", smoke=True), path_optimizers=("bfgs",))
    summary = run_config(config, comparison / "landscape", log=quiet)
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
        run_config(LandscapeStudyConfig(name="landscape"), tmp_path / "landscape", log=quiet)
    with pytest.raises(ValueError, match="path_optimizers"):
        LandscapeStudyConfig(name="landscape", path_optimizers=("nope",))


def test_landscape_study_row(tmp_path):
    form = {"median_barrier_above": 0.05, "saddle_index": {"1": 2, "3": 1}}
    summary = {"wall_seconds": 1.0, "groups": {"trivial": {"n_points": 1, "n_pairs": 0},
                                               "non_trivial": {"n_points": 4, "n_pairs": 6, "raw": form,
                                                               "canonical": {**form, "median_barrier_above": 0.07}}},
               "symmetry": {"available": True, "endpoint": "bfgs/3", "loss_endpoint": 2e-8, "loss_midpoint": 99.0,
                            "optimised_barrier": 1.5}}
    write(tmp_path, "landscape", summary)
    row = table_line(tmp_path, "LS")
    assert "trivial: 1 point(s), no pairs<br>non_trivial (4 points, 6 pairs): median barrier above the ends 0.05 " \
           "raw, 0.07 canonical; Newton from the tops: indices {'1': 2, '3': 1}" in row
    assert "bfgs/3 and a symmetric copy: L 2.0e-08 at both ends, 99 at the midpoint (optimised path: 1.5)" in row
    assert row.endswith("| extension (no paper number) |")
