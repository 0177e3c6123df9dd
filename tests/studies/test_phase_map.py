"""The (η, ε) phase map and the width sweep."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.diagnostics import LABELS
from jaxnewton.engine.build import (
    build,
    initial_points,
)
from jaxnewton.engine.config import Config, load_config
from jaxnewton.engine.loop import STATUS, make_context_loop
from jaxnewton.optim.newton import damped_newton
from jaxnewton.studies.mechanism import MechanismConfig
from jaxnewton.studies.phase_map import CLASSES, PhaseMapConfig, nested_vmap_run, outcome_classes
from jaxnewton.studies.registry import run_config
from summaries import table_line, write


def test_outcome_classes_cover_every_combination():
    status = np.array([STATUS.index(s) for s in ("converged", "converged", "converged", "converged", "converged",
                                                   "max_steps", "max_steps", "nonfinite")])
    trivial = np.array([True, False, False, False, False, True, False, False])
    label = np.array([LABELS.index(k) for k in ("saddle", "minimum", "saddle", "maximum", "degenerate", "saddle",
                                                  "saddle", "minimum")])
    assert list(outcome_classes(status, trivial, label)) == [
        "trivial", "minimum", "saddle", "other", "other", "capped_trivial", "capped", "nonfinite"]


@pytest.mark.slow
def test_smoke_phase_map_counts_every_seed_once_and_matches_its_width_sweep(tmp_path):
    config = load_config("phase_map", smoke=True)
    summary = run_config(config, tmp_path, log=lambda _: None)
    counts = np.array([summary["grid"]["counts"][k] for k in CLASSES])  # outcome class × η × ε
    np.testing.assert_array_equal(counts.sum(axis=0), config.n_seeds)
    with np.load(tmp_path / "grid.npz", allow_pickle=False) as grid:
        assert grid["status"].shape == (len(config.etas), len(config.epss), config.n_seeds)
        # The cell at the base's own η, ε is the base's sweep: same steps as a plain run of it.
        base = load_config(config.base)
        i, j = config.etas.index(base.eta), config.epss.index(base.eps)
        steps = grid["steps"][i, j]
    plain = json.loads((tmp_path / f"width_{config.widths[0]}" / "summary.json").read_text())
    assert plain["n_params"] == 3 * 2 + 3 * 3 + 3 + 3  # a 1-3-3-1 network: 21 parameters
    assert (tmp_path / "phase_map.png").stat().st_size > 0
    assert steps.shape == (config.n_seeds,)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["config_hash"] == config.hash() and set(on_disk["widths"]) == {"3"}


@pytest.mark.slow
def test_nested_vmap_over_grid_and_seeds_equals_the_flattened_runner(tmp_path):
    """run_grid flattens (cell, seed) into rows with an (η, ε) context; jax.vmap(jax.vmap(...)) agrees."""
    config = PhaseMapConfig(name="pm", etas=(0.05, 0.5), epss=(0.05, 1.0), n_seeds=2, max_steps=15, widths=())
    run_config(config, tmp_path, log=lambda _: None)
    experiment = build(Config(**{**load_config("mlp_tanh").to_dict(), "n_seeds": 2, "max_steps": 15}))
    problem = experiment.problem
    loop = make_context_loop(lambda c: (problem.loss, damped_newton(problem.loss, c[0], c[1], problem.hessian)),
                             1e-5, 15, 10, 1e8)
    eta, eps = np.meshgrid(config.etas, config.epss, indexing="ij")
    states = jax.jit(nested_vmap_run, static_argnums=(0, 4))(
        loop, initial_points(experiment, np.arange(2)), jnp.asarray(eta.ravel()), jnp.asarray(eps.ravel()), 15)
    with np.load(tmp_path / "grid.npz") as grid:
        np.testing.assert_array_equal(np.asarray(states.steps).reshape(2, 2, 2), grid["steps"])
        np.testing.assert_array_equal(np.asarray(states.status).reshape(2, 2, 2), grid["status"])
    assert np.all(np.isfinite(np.asarray(states.theta)))


def test_phase_map_config_errors_say_what_to_change():
    with pytest.raises(ValueError, match="etas"):
        PhaseMapConfig(name="pm", etas=(0.0,))
    with pytest.raises(ValueError, match="base"):
        PhaseMapConfig(name="pm", base="circle")
    with pytest.raises(ValueError, match="optimizers"):
        MechanismConfig(name="m", optimizers=("no_such_optimizer",))
    with pytest.raises(ValueError, match="optimizers"):
        MechanismConfig(name="m", optimizers=("bfgs", "bfgs"))


def test_phase_map_row(tmp_path):
    grid = {k: [[0, 0], [0, 0]] for k in ("trivial", "minimum", "saddle", "other", "capped_trivial", "capped",
                                          "nonfinite")}
    grid["trivial"] = [[3, 1], [0, 2]]
    grid["capped_trivial"] = [[1, 0], [0, 0]]
    grid["minimum"] = [[0, 1], [2, 0]]
    summary = {"n_seeds": 4, "wall_seconds": 1.0, "etas": [0.05, 0.5], "epss": [0.05, 1.0], "base_eta": 0.05,
               "base_eps": 0.05, "max_steps": 100, "grid": {"counts": grid},
               "widths": {"5": {"n_params": 45, "n_seeds": 4, "counts": {"trivial": 1}, "trivial_at_cap": 1}}}
    write(tmp_path, "phase_map", summary)
    row = table_line(tmp_path, "PM")
    assert "η = 0.05, ε = 0.05, 100 steps: 4/4 at the trivial point (3 converged)" in row
    assert "trivial in 0–4 per cell (most at η = 0.05, ε = 0.05; fewest at η = 0.5, ε = 0.05)" in row
    assert "3 non-trivial converged runs of 16, 3 of them minima" in row and "width 5 (45 p.): 2/4 trivial" in row
    assert row.endswith("| extension (no paper number) |")
