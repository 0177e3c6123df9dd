"""The settings the paper leaves unstated, as config fields: loss reduction, precision, what the tolerance bounds,
Xavier normal (issue 21). Each against an exact identity or an analytic answer."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.models import make_mlp, xavier_normal
from jaxnewton.core.problems import LOSS_REDUCTIONS, loss_factor, quadrature_weights
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config
from jaxnewton.engine.loop import CONVERGED, make_loop
from jaxnewton.optim.first_order import gradient_descent

STEPS = 20


def e3_config(**changes):
    return dataclasses.replace(load_config("mlp_tanh"), max_steps=STEPS, history_stride=1, **changes)


def iterates(config, n_seeds=3, steps=STEPS):
    """θ after every step of the first seeds (a ``steps × S × P`` array) and the last state."""
    experiment = build(config)
    state = jax.jit(jax.vmap(experiment.loop.init))(initial_points(experiment, np.arange(n_seeds)))
    step = jax.jit(jax.vmap(experiment.loop.step))
    out = []
    for _ in range(steps):
        state = step(state)
        out.append(np.asarray(state.theta))
    return np.stack(out), state, experiment


def test_reductions_scale_the_loss_and_the_structured_hessian_stays_exact():
    """L_r = c_r · L_mean with c = 1, Q, ½, Q/2; under half_sum (both the weights and the ½ changed) the structured
    Hessian equals jax.hessian; the zero function's loss, which tol must stay below, follows the reduction."""
    mean = build(e3_config())
    theta = initial_points(mean, np.arange(1))[0]
    q = mean.config.n_points
    for reduction in LOSS_REDUCTIONS:
        other = build(e3_config(loss_reduction=reduction))
        factor = {"mean": 1.0, "sum": q, "half_mean": 0.5, "half_sum": 0.5 * q}[reduction]
        np.testing.assert_allclose(other.problem.loss(theta), factor * mean.problem.loss(theta), rtol=1e-14)
        # A²/2 approximates the discrete mean of v², 1.98 for E3, to 1%.
        np.testing.assert_allclose(other.config.loss_scale, float(other.problem.loss(jnp.zeros_like(theta))),
                                   rtol=2e-2)
    structured, autodiff = other.problem.hessian(theta), jax.hessian(other.problem.loss)(theta)
    assert reduction == "half_sum"
    np.testing.assert_allclose(structured, autodiff, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(autodiff))))


def test_quadrature_weights_reject_an_unknown_reduction():
    with pytest.raises(ValueError, match="loss reduction 'median' is unknown"):
        quadrature_weights(10, "median")
    assert loss_factor("half_sum") == 0.5 and float(quadrature_weights(4, "half_mean")[0]) == 0.25


def test_sum_with_eps_is_mean_with_eps_over_q_step_for_step():
    """(H_sum + εI)⁻¹∇L_sum = (H_mean + (ε/Q)I)⁻¹∇L_mean: one step from each of 60 iterates of the mean run agrees.

    The agreement is per step, to what the conditioning of H + (ε/Q)I allows (measured: median 5e-13, worst 7e-11
    relative, over 160 iterates of 8 seeds). Whole trajectories agree only while that rounding stays small: weakly
    damped Newton amplifies it about tenfold a step (2.7e-12 after one step, 2e-9 after five, 7e-2 after twenty).
    """
    base = e3_config()
    q = base.n_points
    mean, _, mean_experiment = iterates(dataclasses.replace(base, eps=base.eps / q))
    summed, _, summed_experiment = iterates(dataclasses.replace(base, loss_reduction="sum"), steps=3)
    np.testing.assert_allclose(summed, mean[:3], rtol=0, atol=1e-9)  # the first iterates, from the same θ₀
    thetas = jnp.asarray(mean.reshape(-1, mean.shape[-1]))

    def steps(experiment):
        loop = experiment.loop
        return np.asarray(jax.jit(jax.vmap(lambda t: loop.step(loop.init(t)).theta - t))(thetas))

    d_sum, d_mean = steps(summed_experiment), steps(mean_experiment)
    relative = np.linalg.norm(d_sum - d_mean, axis=1) / np.linalg.norm(d_mean, axis=1)
    assert np.median(relative) < 1e-11 and np.max(relative) < 1e-9, (np.median(relative), np.max(relative))
    assert np.min(np.linalg.norm(d_mean, axis=1)) > 1e-6  # real steps


def test_float32_runs_stay_float32_and_are_diagnosed_in_float64():
    """Under strict dtype promotion (the tests' setting) any float64 leaking into a float32 step would raise."""
    thetas32, state, experiment = iterates(e3_config(dtype="float32"), steps=5)
    assert thetas32.dtype == np.float32
    for field in ("theta", "loss", "grad", "grad_norm", "history_loss", "history_grad_norm"):
        assert getattr(state, field).dtype == jnp.float32, field
    diagnostics = jax.jit(jax.vmap(experiment.diagnose))(state.theta)
    assert diagnostics.eigvals.dtype == jnp.float64 and diagnostics.loss_ratio.dtype == jnp.float64
    # The same run in float64 from the same θ₀ (drawn in float64, rounded): equal to float32 rounding.
    thetas64, _, _ = iterates(e3_config(), steps=5)
    np.testing.assert_allclose(thetas32, thetas64, rtol=0, atol=1e-4)
    assert np.max(np.abs(thetas32 - thetas64)) > 1e-9  # and not float64 in disguise


def test_tol_on_step_stops_at_the_analytic_step():
    """Gradient descent on ½x² from x₀ = 1 at rate α: Δθ_k = α(1 − α)^(k−1); it stops at the first k with Δθ_k ≤ tol,
    while the gradient test stops at the first k with (1 − α)^k ≤ tol."""
    alpha, tol = 0.1, 1e-3
    loss = lambda theta: 0.5 * jnp.sum(theta ** 2)  # noqa: E731
    by_step = make_loop(loss, gradient_descent(alpha), tol, 1000, 1, 1e8, tol_on="step")
    by_grad = make_loop(loss, gradient_descent(alpha), tol, 1000, 1, 1e8, tol_on="grad")
    k_step = next(k for k in range(1, 1000) if alpha * (1 - alpha) ** (k - 1) <= tol)
    k_grad = next(k for k in range(1, 1000) if (1 - alpha) ** k <= tol)
    for loop, want in ((by_step, k_step), (by_grad, k_grad)):
        state = jax.jit(lambda s, loop=loop: loop.advance(s, 1000))(loop.init(jnp.ones(1)))
        assert int(state.status) == CONVERGED and int(state.steps) == want
    assert k_step != k_grad
    with pytest.raises(ValueError, match="tol_on='size' is unknown"):
        make_loop(loss, gradient_descent(alpha), tol, 10, 1, 1e8, tol_on="size")


def test_xavier_normal_has_glorots_variance_and_float32_models_draw_float32():
    fan_in, fan_out = 300, 200
    w = np.asarray(xavier_normal(jax.random.key(0), fan_in, fan_out))
    assert abs(np.mean(w)) < 3 * np.sqrt(2 / (fan_in + fan_out) / w.size)
    np.testing.assert_allclose(np.std(w), np.sqrt(2.0 / (fan_in + fan_out)), rtol=0.02)  # 60 000 draws: σ/√(2N) ≈ 0.3%
    params = make_mlp(1, (10, 10), weight_init="xavier_normal", dtype="float32").init(jax.random.key(1))
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(params))
    with pytest.raises(ValueError, match="dtype='float16' is unknown"):
        make_mlp(1, (10,), dtype="float16")


@pytest.mark.parametrize("field, value, message", [
    ("loss_reduction", "median", "loss_reduction='median' is out of range"),
    ("dtype", "float16", "dtype='float16' is out of range"),
    ("tol_on", "loss", "tol_on='loss' is out of range"),
])
def test_config_rejects_unknown_readings(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(load_config("mlp_tanh"), **{field: value})


def test_fields_at_their_default_leave_the_hash_alone():
    """A new field whose default keeps the old behaviour keeps earlier runs' hashes (and their folders valid)."""
    config = load_config("mlp_tanh")
    assert dataclasses.replace(config, dtype="float64", tol_on="grad").hash() == config.hash()
    assert dataclasses.replace(config, dtype="float32").hash() != config.hash()
