"""Every optimiser of ``jaxnewton.solvers.NAMES`` on problems with known answers.

Tolerances: the loop stops at ||∇L||₂ ≤ 1e-9; at the minimisers here ∇²L is well conditioned
(eigenvalues ≥ 0.4), so the iterate is then within ~1e-8 of the minimiser: asserted ≤ 1e-6.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.runner import CONVERGED, STATUS, make_loop
from jaxnewton.solvers import (ABLATIONS, GOLDEN, NAMES, CurvatureState, bfgs_fixed_step, build_solver,
                               damped_newton, golden_section, gradient_descent, lbfgs_direction, saddle_free_newton,
                               track_curvature)

# Settings per optimiser for the small test problems (first-order ones need many steps on Rosenbrock).
SETTINGS = dict(eta=1.0, eps=0.0, learning_rate=1e-2, gd_learning_rate=1e-3, memory=10, gss_evals=6)
CAPS = {"adam": 20_000, "gd": 100_000}


def quadratic(t):
    """½ (θ − c)ᵀ A (θ − c), A symmetric positive definite (eigenvalues 0.4–3.7): minimiser c."""
    a = jnp.asarray([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    d = t - jnp.asarray([1.0, -2.0, 0.5])
    return 0.5 * d @ a @ d


def rosenbrock(t):
    """(1 − x)² + 100 (y − x²)²: minimiser (1, 1), started from the standard (−1.2, 1)."""
    return (1.0 - t[0]) ** 2 + 100.0 * (t[1] - t[0] ** 2) ** 2


def solve(name, loss, theta0, tol=1e-9, **changes):
    solver = build_solver(name, loss, **{**SETTINGS, **changes})
    loop = make_loop(loss, solver, tol, CAPS.get(name, 2_000), 100, 1e8)
    return jax.jit(loop.advance)(loop.init(theta0), CAPS.get(name, 2_000))


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ABLATIONS])  # ablations: fixed step, not globalised
@pytest.mark.parametrize("loss, theta0, minimiser", [
    (quadratic, [0.0, 0.0, 0.0], [1.0, -2.0, 0.5]),
    (rosenbrock, [-1.2, 1.0], [1.0, 1.0]),
], ids=["quadratic", "rosenbrock"])
def test_every_optimiser_reaches_the_minimiser(name, loss, theta0, minimiser):
    state = solve(name, loss, jnp.asarray(theta0))
    assert STATUS[int(state.status)] == "converged", (name, int(state.steps), float(state.grad_norm))
    np.testing.assert_allclose(state.theta, minimiser, atol=1e-6)


def saddle(t):
    return t[0] ** 2 - t[1] ** 2


def test_saddle_free_newton_escapes_the_saddle_that_newton_converges_to():
    theta0 = jnp.asarray([0.5, 1e-3])
    newton = solve("newton", saddle, theta0, eta=0.5, eps=0.0)
    assert int(newton.status) == CONVERGED
    np.testing.assert_allclose(newton.theta, [0.0, 0.0], atol=1e-9)  # lands on the saddle

    # Saddle-free: |H| = 2I, so x shrinks by (1 − η) and y grows by (1 + η) every step.
    solver = saddle_free_newton(saddle, eta=0.5, eps=0.0)
    theta = theta0
    for _ in range(20):
        theta, _ = solver.update(theta, jax.grad(saddle)(theta), (), jnp.asarray(False))
    np.testing.assert_allclose(theta, [0.5 * 0.5 ** 20, 1e-3 * 1.5 ** 20], rtol=1e-12)
    assert saddle(theta) < -10.0  # downhill along −y², away from the saddle value 0


def test_saddle_free_step_formula_against_dense_algebra():
    rng = np.random.default_rng(3)
    m = rng.standard_normal((5, 5))
    h = m + m.T  # indefinite
    loss = lambda t: 0.5 * t @ jnp.asarray(h) @ t  # noqa: E731
    theta0 = jnp.asarray(rng.standard_normal(5))
    lam, v = np.linalg.eigh(h)
    abs_h = v @ np.diag(np.abs(lam)) @ v.T
    expected = theta0 - 0.3 * np.linalg.solve(abs_h + 0.1 * np.eye(5), h @ np.asarray(theta0))
    theta1, _ = saddle_free_newton(loss, 0.3, 0.1).update(theta0, jax.grad(loss)(theta0), (), jnp.asarray(False))
    np.testing.assert_allclose(theta1, expected, rtol=1e-12)
    assert np.all(np.isfinite(damped_newton(loss, 1.0, 0.0).update(theta0, theta0, (), jnp.asarray(True))[0]))


@pytest.mark.parametrize("u_star", [2.7, 0.37, 0.01, 40.0])
def test_golden_section_brackets_and_finds_a_quadratic_minimiser(u_star):
    phi = lambda u: (u - u_star) ** 2 + 3.0  # noqa: E731
    result = golden_section(phi, phi(0.0), 1.0, 6)
    # Within the budget: the minimiser stays bracketed, and the best point is inside the final bracket.
    assert float(result.low) <= u_star <= float(result.high)
    assert float(result.low) <= float(result.u) <= float(result.high)
    assert float(result.value) == pytest.approx(float(phi(result.u)), rel=1e-15)
    assert float(result.value) < float(phi(0.0))
    # With a larger budget the bracket shrinks by the golden ratio per evaluation.
    fine = golden_section(phi, phi(0.0), 1.0, 60)
    assert abs(float(fine.u) - u_star) <= 1e-6 * max(1.0, u_star)


def test_golden_section_six_evaluations_on_the_worked_example():
    # u* = 2.7 from u0 = 1: trials 1, 2, 4 bracket [1, 4] around 2; then the golden points
    # c = 2 + 2R (better), 2 + 2R + R(4 − c) (worse, closes the right side), c − R(c − 2) (worse).
    r = GOLDEN
    c = 2.0 + 2.0 * r
    result = golden_section(lambda u: (u - 2.7) ** 2, jnp.asarray(2.7 ** 2), 1.0, 6)
    np.testing.assert_allclose([result.low, result.u, result.high], [c - r * (c - 2.0), c, c + r * (4.0 - c)],
                               rtol=1e-14)


def test_golden_section_returns_zero_when_nothing_decreases():
    result = golden_section(lambda u: (u + 1.0) ** 2, jnp.asarray(1.0), 1.0, 6)
    assert float(result.u) == 0.0 and float(result.value) == 1.0
    assert 0.0 < float(result.high) <= 0.382 ** 5 + 1e-12  # the next search starts at the shrunk end


def test_lbfgs_two_loop_matches_the_dense_inverse_bfgs_matrix():
    # With m ≥ k pairs and H₀ = γI, the two-loop recursion applies the k-fold inverse BFGS update exactly.
    rng = np.random.default_rng(0)
    p, m, k = 6, 4, 3
    a = rng.standard_normal((p, p))
    a = a @ a.T + p * np.eye(p)
    s = rng.standard_normal((k, p))
    y = s @ a  # curvature pairs of a quadratic: yᵀs > 0
    gamma = 0.7
    h = gamma * np.eye(p)
    for i in range(k):
        rho = 1.0 / (y[i] @ s[i])
        left = np.eye(p) - rho * np.outer(s[i], y[i])
        h = left @ h @ left.T + rho * np.outer(s[i], s[i])
    s_mem, y_mem, rho_mem = np.zeros((m, p)), np.zeros((m, p)), np.zeros(m)
    slots = [(2 + i) % m for i in range(k)]  # oldest first, wrapping around the circular buffer
    for i, j in enumerate(slots):
        s_mem[j], y_mem[j], rho_mem[j] = s[i], y[i], 1.0 / (y[i] @ s[i])
    g = rng.standard_normal(p)
    out = lbfgs_direction(jnp.asarray(g), jnp.asarray(s_mem), jnp.asarray(y_mem), jnp.asarray(rho_mem),
                          jnp.asarray(k), jnp.asarray(slots[-1]), jnp.asarray(gamma))
    np.testing.assert_allclose(out, h @ g, rtol=1e-12)


def test_curvature_tracking_counts_bad_pairs_on_a_concave_direction():
    # On x² − y², GD from (1, 1) moves along (−x, +y): yᵀs = 2(s_x² − s_y²) changes sign as y grows.
    loop = make_loop(saddle, track_curvature(gradient_descent(0.1)), 1e-9, 40, 10, 1e8)
    state = jax.jit(loop.advance)(loop.init(jnp.asarray([1.0, 0.01])), 40)
    assert isinstance(state.solver_state, CurvatureState)
    # Steps 1..39 form 39 pairs; s_k ∝ (x_k, −y_k) with x shrinking by 0.8, y growing by 1.2 per step,
    # so yᵀs = 2(s_x² − s_y²) > 0 while x_k > y_k and ≤ 0 after: count them directly.
    xs, ys = 0.8 ** np.arange(41), 0.01 * 1.2 ** np.arange(41)
    sx, sy = np.diff(xs)[:39], np.diff(ys)[:39]
    assert int(state.solver_state.n_pairs) == 39
    assert int(state.solver_state.n_bad) == int(np.sum(sx ** 2 - sy ** 2 <= 0.0))
    assert 0 < int(state.solver_state.n_bad) < 39


@pytest.mark.parametrize("name", NAMES)
def test_vmap_over_seeds_equals_a_per_seed_loop(name):
    """A small tanh MLP regression: 3 seeds vmapped give each seed's own run after 10 steps.

    Equal to 1e-9, not bitwise: a vmapped kernel may sum in another order than the unbatched one,
    and the steps amplify that last-bit difference (measured after 10 steps: ≤ 4e-12; L-BFGS-GSS
    reaches 1e-10 at 15 steps and 1e-5 at 25). ``jaxnewton.sweep`` computes seeds in fixed
    chunks for that reason, which is bitwise.
    """
    from jaxnewton.config import Config
    from jaxnewton.experiment import build, initial_points

    config = Config(name="tiny", n_points=12, widths=(3, 3), solver=name, max_steps=10, learning_rate=1e-2,
                    gd_learning_rate=0.05, tol=1e-12)
    experiment = build(config)
    loop = experiment.loop
    theta0 = initial_points(experiment, np.arange(3))
    batched = jax.jit(jax.vmap(lambda t: loop.advance(loop.init(t), 10)))(theta0)
    single = jax.jit(lambda t: loop.advance(loop.init(t), 10))
    for s in range(3):
        one = single(theta0[s])
        assert int(one.steps) == int(batched.steps[s]) and int(one.status) == int(batched.status[s])
        np.testing.assert_allclose(batched.theta[s], one.theta, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(batched.loss[s], one.loss, rtol=1e-9)


def test_fixed_step_bfgs_ablations_agree_on_a_convex_quadratic():
    """Every pair of a convex quadratic has yᵀs > 0, so the safeguard never acts: both reach the minimiser."""
    states = [solve(name, quadratic, jnp.zeros(3), eta=0.5) for name in ABLATIONS]
    for state in states:
        assert STATUS[int(state.status)] == "converged"
        np.testing.assert_allclose(state.theta, [1.0, -2.0, 0.5], atol=1e-6)
        assert int(state.solver_state.n_bad) == 0
    np.testing.assert_array_equal(states[0].theta, states[1].theta)


def test_unguarded_bfgs_takes_negative_curvature_into_its_matrix():
    """On x² − y² a step with a y-component gives a pair of negative curvature: the guarded update
    refuses it and H stays positive definite; the unguarded one uses it and H becomes indefinite."""
    grad = jax.grad(saddle)
    for guarded in (True, False):
        solver = bfgs_fixed_step(0.1, guarded)
        theta, state = jnp.asarray([0.1, 0.5]), None
        state = solver.init(theta)
        for _ in range(3):
            theta, state = solver.update(theta, grad(theta), state, jnp.asarray(False))
        bfgs_state = state[0]
        lam = np.linalg.eigvalsh(np.asarray(bfgs_state.inv_hessian))
        if guarded:
            assert int(bfgs_state.n_skipped) >= 1 and np.all(lam > 0)
        else:
            assert int(bfgs_state.n_skipped) == 0 and lam[0] < 0 < lam[-1]
