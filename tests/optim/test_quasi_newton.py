"""BFGS, L-BFGS-GSS's golden section and two-loop recursion, the curvature record."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.engine.loop import STATUS, make_loop
from jaxnewton.optim import registry
from jaxnewton.optim.first_order import gradient_descent
from jaxnewton.core.linalg import shifted_inverse
from jaxnewton.optim.newton import damped_newton
from jaxnewton.optim.quasi_newton import (
    GOLDEN,
    CurvatureState,
    bfgs_exact,
    bfgs_fixed_step,
    golden_section,
    lbfgs_direction,
    track_curvature,
)
from known_answers import quadratic, saddle, solve


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


def test_fixed_step_bfgs_ablations_agree_on_a_convex_quadratic():
    """Every pair of a convex quadratic has yᵀs > 0, so the safeguard never acts: both reach the minimiser."""
    states = [solve(name, quadratic, jnp.zeros(3), eta=0.5) for name in registry.names(ablation=True)]
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


def test_approximate_inverse_hessian_of_lbfgs_gss_is_the_two_loop_operator():
    """The dense matrix built from L-BFGS-GSS's memory applies the same H as the two-loop step direction."""
    from jaxnewton.optim.quasi_newton import CurvatureState, lbfgs_direction, lbfgs_gss, track_curvature

    loss = lambda t: jnp.sum(jnp.cosh(t)) + 0.3 * t[0] * t[1]  # noqa: E731
    solver = track_curvature(lbfgs_gss(loss, 3, 8))
    theta, state = jnp.asarray([1.0, -0.5, 0.7, 0.2]), None
    state = solver.init(theta)
    for _ in range(5):
        theta, state = solver.update(theta, jax.grad(loss)(theta), state, jnp.asarray(False))
    assert isinstance(state, CurvatureState) and int(state.inner.n_pairs) >= 2
    h = np.asarray(registry.get("lbfgs_gss").inverse_hessian(state.inner))
    inner = state.inner
    y, s = inner.y[inner.newest], inner.s[inner.newest]
    g = jnp.asarray([0.3, -1.0, 2.0, 0.5])
    direct = lbfgs_direction(g, inner.s, inner.y, inner.rho, inner.n_pairs, inner.newest, (s @ y) / (y @ y))
    np.testing.assert_allclose(h @ np.asarray(g), direct, rtol=1e-12)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(h) > 0)


def tanh_regression(seed=2):
    rng = np.random.default_rng(seed)
    w, y = jnp.asarray(rng.standard_normal((8, 5))), jnp.asarray(rng.standard_normal(8))
    return (lambda t: jnp.sum((jnp.tanh(w @ t) - y) ** 2)), jnp.asarray(rng.standard_normal(5))


def test_bfgs_from_the_indefinite_matrix_takes_damped_newtons_first_step():
    loss, theta = tanh_regression()
    hessian = jax.hessian(loss)
    assert np.linalg.eigvalsh(np.asarray(hessian(theta)))[0] < -0.05  # H + εI is indefinite here
    solver = bfgs_exact(loss, hessian, 0.05, shift=False, eta=0.5)
    grad, done = jax.grad(loss)(theta), jnp.asarray(False)
    step = solver.update(theta, grad, solver.init(theta), done)[0]
    newton = damped_newton(loss, 0.5, 0.05, hessian).update(theta, grad, (), done)[0]
    np.testing.assert_allclose(step, newton, rtol=1e-12, atol=1e-14)


def test_bfgs_reset_every_step_searches_along_the_shifted_newton_direction():
    """k = 1: at every iterate H = (∇²L + τI)⁻¹ exactly, so the step is a multiple of that direction."""
    loss, theta = tanh_regression()
    hessian = jax.hessian(loss)
    solver = bfgs_exact(loss, hessian, 0.05, reset_every=1)
    state = solver.init(theta)
    for _ in range(3):
        grad = jax.grad(loss)(theta)
        new, state = solver.update(theta, grad, state, jnp.asarray(False))
        direction = -shifted_inverse(hessian(theta), 0.05) @ grad
        step = new - theta
        assert float(jnp.dot(grad, direction)) < 0  # positive definite: a descent direction
        np.testing.assert_allclose(step, float(jnp.dot(step, direction) / jnp.dot(direction, direction)) * direction,
                                   rtol=1e-9, atol=1e-12)
        theta = new
