"""The (η, ε) phase map, the width sweep and the mechanism record (issue 5)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.config import Config, MechanismConfig, PhaseMapConfig, load_config
from jaxnewton.diagnostics import LABELS
from jaxnewton.experiment import build, initial_points
from jaxnewton.mechanism import approximate_inverse_hessian, run_mechanism
from jaxnewton.phase_map import OUTCOMES, nested_vmap_run, outcome_classes, run_phase_map
from jaxnewton.runner import STATUS, make_context_loop
from jaxnewton.solvers import damped_newton


def test_outcome_classes_cover_every_combination():
    status = np.array([STATUS.index(s) for s in ("converged", "converged", "converged", "converged", "converged",
                                                   "max_steps", "max_steps", "nonfinite")])
    trivial = np.array([True, False, False, False, False, True, False, False])
    label = np.array([LABELS.index(k) for k in ("saddle", "minimum", "saddle", "maximum", "degenerate", "saddle",
                                                  "saddle", "minimum")])
    assert list(outcome_classes(status, trivial, label)) == [
        "trivial", "minimum", "saddle", "other", "other", "capped_trivial", "capped", "nonfinite"]


def test_smoke_phase_map_counts_every_seed_once_and_matches_its_width_sweep(tmp_path):
    config = load_config("phase_map", smoke=True)
    summary = run_phase_map(config, tmp_path, log=lambda _: None)
    counts = np.array([summary["grid"]["counts"][k] for k in OUTCOMES])  # outcome × η × ε
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


def test_nested_vmap_over_grid_and_seeds_equals_the_flattened_runner(tmp_path):
    """run_grid flattens (cell, seed) into rows with an (η, ε) context; jax.vmap(jax.vmap(...)) agrees."""
    config = PhaseMapConfig(name="pm", etas=(0.05, 0.5), epss=(0.05, 1.0), n_seeds=2, max_steps=15, widths=())
    run_phase_map(config, tmp_path, log=lambda _: None)
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
        MechanismConfig(name="m", optimizers=("newton",))


def test_mechanism_smoke_records_curvature_and_a_positive_definite_bfgs_matrix(tmp_path):
    config = MechanismConfig(name="m", n_seeds=2, max_steps=30, stride=10)
    summary = run_mechanism(config, tmp_path, log=lambda _: None)
    for name in config.optimizers:
        s = summary["optimizers"][name]
        assert s["curvature_pairs"] > 0 and 0 <= s["bad_curvature_pairs"] <= s["curvature_pairs"]
        with np.load(tmp_path / f"{name}.npz") as a:
            assert a["true_min"].shape == a["steps"].shape == (2, len(a["step"]))
            assert list(a["step"][:2]) == [0, 10]
            if name == "lbfgs":
                assert np.all(np.isnan(a["approx_min"]))
            else:  # BFGS keeps H positive definite by refusing bad pairs, and so does L-BFGS-GSS's reset
                assert np.all(a["approx_min"] > 0)
                assert s["iterates_approximation_not_positive_definite"] == 0
    assert (tmp_path / "mechanism.png").stat().st_size > 0


def test_approximate_inverse_hessian_of_lbfgs_gss_is_the_two_loop_operator():
    """The dense matrix built from L-BFGS-GSS's memory applies the same H as the two-loop step direction."""
    from jaxnewton.solvers import CurvatureState, lbfgs_direction, lbfgs_gss, track_curvature

    loss = lambda t: jnp.sum(jnp.cosh(t)) + 0.3 * t[0] * t[1]  # noqa: E731
    solver = track_curvature(lbfgs_gss(loss, 3, 8))
    theta, state = jnp.asarray([1.0, -0.5, 0.7, 0.2]), None
    state = solver.init(theta)
    for _ in range(5):
        theta, state = solver.update(theta, jax.grad(loss)(theta), state, jnp.asarray(False))
    assert isinstance(state, CurvatureState) and int(state.inner.n_pairs) >= 2
    batched = jax.tree.map(lambda a: np.asarray(a)[None], state)
    h = approximate_inverse_hessian(batched)[0]
    inner = state.inner
    y, s = inner.y[inner.newest], inner.s[inner.newest]
    g = jnp.asarray([0.3, -1.0, 2.0, 0.5])
    direct = lbfgs_direction(g, inner.s, inner.y, inner.rho, inner.n_pairs, inner.newest, (s @ y) / (y @ y))
    np.testing.assert_allclose(h @ np.asarray(g), direct, rtol=1e-12)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(h) > 0)
