"""E4–E7: SIREN, Fourier features, the PINNs and the Newton–ADAM comparison.

Tolerances: derivatives in x against central differences with step h = 1e-4 agree to
O(h²) ≈ 1e-8 of the function's scale (asserted at 1e-6); analytic identities and two
autodiff routes agree to rounding (asserted at 1e-10 relative, or 1e-12 for Hessians).
"""

import csv
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.config import Config, load_config
from jaxnewton.experiment import build, initial_points, run_experiment
from jaxnewton.models import fourier_features, make_mlp, mlp_basis_derivatives
from jaxnewton.problems import (boundary_envelope, grid_nodes, make_pinn, make_regression, quadrature_weights,
                                sine_product, sine_product_source)
from jaxnewton.solvers import adam
from jaxnewton.sweep import advance_running, init_batch, make_batch_fns


@pytest.mark.parametrize("dim, reaction", [(1, 0.0), (2, 1.0), (2, 0.0)])
def test_manufactured_source_makes_the_exact_residual_vanish(dim, reaction):
    """∇²u + c u + v = 0 on the grid, with ∇²u from jax.hessian of the exact u (checks the source)."""
    x = grid_nodes(9, dim)
    u = sine_product(1.3, 2.0)
    laplacian = jax.vmap(lambda p: jnp.trace(jax.hessian(lambda q: u(q[None])[0])(p)))(x)
    residual = laplacian + reaction * u(x) + sine_product_source(1.3, 2.0, reaction)(x)
    assert np.max(np.abs(residual)) < 1e-10 * np.max(np.abs(laplacian))
    assert np.max(np.abs(u(x)[np.any((x == 0.0) | (x == 1.0), axis=1)])) < 1e-14  # u = 0 on the boundary


@pytest.mark.parametrize("activation, omega0", [("tanh", 1.0), ("sine", 4.0)])
@pytest.mark.parametrize("dim", [1, 2])
def test_x_derivative_streams_match_finite_differences(activation, omega0, dim):
    model = make_mlp(dim, (6, 5), activation, omega0=omega0,
                     weight_init="siren" if activation == "sine" else "xavier")
    params = model.init(jax.random.key(3))
    x = jax.random.uniform(jax.random.key(4), (7, dim), jnp.float64)
    h, dh, ddh = mlp_basis_derivatives(model.activation, params, x)
    np.testing.assert_allclose(h, model.basis(params, x), rtol=0, atol=1e-14)
    step = 1e-4
    for d in range(dim):
        e = jnp.zeros(dim, jnp.float64).at[d].set(step)
        plus, minus = model.basis(params, x + e), model.basis(params, x - e)
        scale = np.max(np.abs(ddh)) + 1.0
        np.testing.assert_allclose(dh[:, d], (plus - minus) / (2 * step), rtol=0, atol=1e-6 * scale)
        np.testing.assert_allclose(ddh[:, d], (plus - 2 * h + minus) / step**2, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("dim, reaction", [(1, 0.0), (2, 1.0)])
def test_pinn_operator_matches_nested_autodiff(dim, reaction):
    """𝓛[g h_k] from the Taylor streams equals ∇²(g h_k) + c g h_k by jax.hessian in x (independent route)."""
    model = make_mlp(dim, (5, 4))
    x = grid_nodes(6, dim)
    problem = make_pinn(model, x, jnp.ones(x.shape[0]), quadrature_weights(x.shape[0]), reaction, x, x[:, 0])
    theta = problem.init(jax.random.key(1))
    params = problem.unravel(theta)

    def g_h(p):
        return jnp.prod(p * (1 - p)) * model.basis(params, p[None])[0]

    expected = jax.vmap(lambda p: jnp.trace(jax.hessian(g_h)(p), axis1=1, axis2=2) + reaction * g_h(p))(x)
    np.testing.assert_allclose(problem.basis(theta), expected, rtol=1e-10, atol=1e-12)


def test_2d_laplacian_of_a_known_polynomial():
    """A network whose hidden output is a constant c gives N = θᴼ·c·g with g = x(1−x)y(1−y), so
    𝓛[N] = θᴼ·c·(−2y(1−y) − 2x(1−x) + g): a polynomial known in closed form."""
    model = make_mlp(2, (3,))
    x = grid_nodes(7, 2)
    problem = make_pinn(model, x, jnp.zeros(x.shape[0]), quadrature_weights(x.shape[0]), 1.0, x, x[:, 0])
    b = jnp.array([0.3, -0.2, 0.7])
    params = {"hidden": [{"w": jnp.zeros((2, 3)), "b": b}], "out": jnp.array([1.5, -0.5, 2.0])}
    theta = ravel_pytree(params)[0]
    c = float(jnp.tanh(b) @ params["out"])
    X, Y = x[:, 0], x[:, 1]
    g = X * (1 - X) * Y * (1 - Y)
    np.testing.assert_allclose(problem.output(theta), c * (-2 * Y * (1 - Y) - 2 * X * (1 - X) + g), atol=1e-14)
    np.testing.assert_allclose(problem.solution(theta), c * g, atol=1e-15)
    g_Q, dg, ddg = boundary_envelope(x)
    np.testing.assert_allclose(dg, np.stack([(1 - 2 * X) * Y * (1 - Y), (1 - 2 * Y) * X * (1 - X)], 1), atol=1e-15)
    np.testing.assert_allclose(ddg, np.stack([-2 * Y * (1 - Y), -2 * X * (1 - X)], 1), atol=1e-15)


def test_parameter_counts_and_siren_init():
    siren = build(load_config("siren"))
    assert siren.problem.n_params == 140  # 1·10 + 10 + 10·10 + 10 + 10
    fourier = build(load_config("fourier"))
    assert fourier.problem.n_params == 20 * 10 + 10 + 10 * 10 + 10 + 10  # γ has 2f = 20 entries: 330
    assert build(load_config("pinn2d")).problem.n_params == 2 * 10 + 10 + 110 + 10
    params = siren.problem.unravel(siren.problem.init(jax.random.key(0)))
    assert np.max(np.abs(params["hidden"][0]["w"])) <= 1.0 / 1  # first layer: U(±1/fan_in), fan_in = 1
    bound = np.sqrt(6.0 / 10) / 4.0
    assert np.max(np.abs(params["hidden"][1]["w"])) <= bound and np.max(np.abs(params["out"])) <= bound
    assert np.max(np.abs(params["hidden"][1]["w"])) > 0.7 * bound  # the bound is the SIREN one, not a smaller one


def test_fourier_matrix_is_a_deterministic_function_of_the_seed():
    fourier = build(load_config("fourier"))
    B_all = np.asarray(fourier.contexts(np.arange(6)))
    assert B_all.shape == (6, 10, 1)
    np.testing.assert_array_equal(np.asarray(fourier.contexts(np.array([4])))[0], B_all[4])  # not batch-dependent
    np.testing.assert_array_equal(np.asarray(build(load_config("fourier")).contexts(np.arange(6))), B_all)
    assert len({tuple(b.ravel()) for b in B_all}) == 6
    # θ₀ is drawn exactly as without features (B comes from its own stream of the key).
    assert not np.allclose(B_all[0, :, 0], initial_points(fourier, np.arange(1))[0, :10])
    pooled = B_all.ravel()
    assert abs(np.var(np.asarray(fourier.contexts(np.arange(400))).ravel()) - 1.5) < 0.15  # σ² = 1.5
    assert pooled.dtype == np.float64


def test_structured_hessian_with_sine_and_fourier_features_equals_jax_hessian():
    key = jax.random.key(2)
    x = grid_nodes(30, 1)
    v = jnp.sin(4 * jnp.pi * x[:, 0])
    w = quadrature_weights(30)
    siren = make_regression(make_mlp(1, (6, 5), "sine", weight_init="siren", omega0=4.0), x, v, w)
    gamma = fourier_features(x, jnp.array([[0.7], [-1.9], [2.4]]))
    fourier = make_regression(make_mlp(6, (5, 4)), gamma, v, w)
    for problem in (siren, fourier):
        theta = problem.init(key)
        expected = jax.hessian(problem.loss)(theta)
        np.testing.assert_allclose(problem.hessian(theta), expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


def test_fourier_sweep_equals_a_per_seed_loop():
    """Seeds with their own B in one vmapped batch end where each run alone ends.

    The unbatched, separately jitted loop sums in another order, so agreement is to rounding
    amplified by a few Newton steps (as test_runner's E3 check, rtol 1e-8)."""
    config = Config(name="f", input_features="fourier", fourier_features=3, widths=(4, 3), n_points=20,
                    max_steps=4)
    experiment = build(config)
    seeds = np.arange(3)
    theta0, B = initial_points(experiment, seeds), np.asarray(experiment.contexts(seeds))
    fns = make_batch_fns(experiment.loop, experiment.diagnose)
    batch = advance_running(fns, init_batch(fns, theta0, B), 4)
    for s in seeds:
        alone = jax.jit(lambda t, b: experiment.loop.advance(experiment.loop.init(t, b), 4))(theta0[s], B[s])
        np.testing.assert_allclose(batch.theta[s], alone.theta, rtol=1e-8, atol=1e-10)
        problem = experiment.problem_for(B[s])
        assert np.isclose(alone.loss, problem.loss(alone.theta), rtol=1e-14)
    assert not np.allclose(batch.theta[0], batch.theta[1])


def test_adam_solver_matches_optax_applied_by_hand():
    A = jnp.diag(jnp.array([1.0, 10.0, 100.0]))
    grad = jax.grad(lambda t: 0.5 * t @ A @ t)
    solver, optimizer = adam(0.05), optax.adam(0.05)
    theta = theta_ref = jnp.array([1.0, -1.0, 0.5])
    state, state_ref = solver.init(theta), optimizer.init(theta_ref)
    for _ in range(200):
        theta, state = solver.update(theta, grad(theta), state, jnp.asarray(False))
        with jax.numpy_dtype_promotion("standard"):  # optax's bias correction mixes int32 and float
            updates, state_ref = optimizer.update(grad(theta_ref), state_ref, theta_ref)
        theta_ref = optax.apply_updates(theta_ref, updates)
    np.testing.assert_allclose(theta, theta_ref, rtol=0, atol=1e-15)
    assert np.linalg.norm(theta) < 0.05  # and it does minimise the quadratic


@pytest.mark.parametrize("name", ["siren", "fourier", "pinn1d"])
def test_smoke_run_of_each_network_config(name, tmp_path):
    config = load_config(name, smoke=True)
    summary = run_experiment(config, tmp_path, log=lambda _: None)
    for file in ("config.json", "runs.csv", "arrays.npz", "summary.json", "fits.png", "basis.png"):
        assert (tmp_path / file).stat().st_size > 0, file
    with np.load(tmp_path / "arrays.npz") as arrays:
        if name == "fourier":
            np.testing.assert_array_equal(arrays["fourier_B"], build(config).contexts(np.arange(config.n_seeds)))
        else:
            assert "fourier_B" not in arrays
    with (tmp_path / "runs.csv").open() as f:
        errors = [float(r["rel_l2_error"]) for r in csv.DictReader(f)]
    assert len(errors) == config.n_seeds and all(np.isfinite(errors))
    assert summary["rel_l2_error"]["median"] == pytest.approx(float(np.median(errors)), rel=1e-12)


def test_pinn_relative_error_and_trivial_measures_at_known_points():
    """θ = 0 is the trivial point: L / L(0) = 1, ||𝓛[N]|| = 0, relative error 1. A PINN fitted
    exactly would have error 0: checked by building the error from the exact solution itself."""
    experiment = build(load_config("pinn1d"))
    problem = experiment.problem
    d = experiment.diagnose(jnp.zeros(problem.n_params))
    assert d.loss_ratio == pytest.approx(1.0, abs=1e-15)
    assert d.rel_output_norm == 0.0 and d.rel_l2_error == pytest.approx(1.0, abs=1e-15)
    assert bool(d.trivial)
    zero_loss = 0.5 * problem.inner(problem.target, problem.target)  # ½∫v²
    assert problem.loss(jnp.zeros(problem.n_params)) == pytest.approx(float(zero_loss), rel=1e-14)
    assert problem.exact.shape[0] == 4 * 99 + 1  # error grid 4× finer than the 100 nodes


def test_pinn2d_comparison_runs_both_optimisers_from_the_same_points(tmp_path):
    from jaxnewton.cli import main

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


def test_network_config_errors_say_what_to_change():
    with pytest.raises(ValueError, match="hessian=autodiff"):
        Config(name="p", problem="poisson_1d")
    with pytest.raises(ValueError, match="target_wavenumber"):
        Config(name="p", problem="poisson_1d", hessian="autodiff", target_wavenumber=1.5)
    with pytest.raises(ValueError, match="input_features"):
        Config(name="p", problem="poisson_1d", hessian="autodiff", input_features="fourier")
    with pytest.raises(ValueError, match="optimizers"):
        Config(name="p", optimizers=("newton", "newton"))
    with pytest.raises(ValueError, match="fourier_sigma2"):
        Config(name="p", fourier_sigma2=0.0)
