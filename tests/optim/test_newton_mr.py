"""Newton-MR and MINRES with non-positive-curvature detection, against analytic answers and dense linear algebra.

That Newton-MR reaches the minimiser of a convex quadratic and of Rosenbrock, and that vmapping it equals a loop over
seeds, is tested with every registered optimiser in test_registry.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.linalg import minres
from jaxnewton.engine.loop import STATUS, make_loop
from jaxnewton.optim.newton import damped_newton, newton_mr
from known_answers import random_quadratic, with_spectrum


def solve_npc(a, b, max_iter=None):
    return minres(lambda v: a @ v, b, 1e-12, max_iter or 3 * len(b), detect_curvature=True)


@pytest.mark.parametrize("lam", [np.linspace(0.5, 3.0, 10), np.linspace(-1.0, 3.0, 10), -np.linspace(0.5, 3.0, 10)],
                         ids=["definite", "indefinite", "negative definite"])
def test_the_recurred_residual_is_b_minus_ax_and_the_direction_has_nonpositive_curvature(lam):
    a = with_spectrum(lam, seed=1)
    b = jnp.asarray(np.random.default_rng(2).standard_normal(10))
    got = solve_npc(a, b)
    x, r = np.asarray(got.x), np.asarray(got.residual)
    np.testing.assert_allclose(r, np.asarray(b - a @ x), atol=1e-12)  # the recurrence, against the definition
    assert bool(got.nonpositive) == (lam.min() < 0)
    if got.nonpositive:
        assert r @ np.asarray(a) @ r <= 0
        np.testing.assert_allclose(r @ np.asarray(b), r @ r, rtol=1e-12)  # rᵀb = ||r||²: r descends for b = −∇L
    else:
        np.testing.assert_allclose(np.asarray(a) @ x, np.asarray(b), atol=1e-10)
        plain = minres(lambda v: a @ v, b, 1e-12, 30)  # the option changes no iterate
        np.testing.assert_array_equal(np.asarray(plain.x), x)
    if lam.max() < 0:  # b itself has negative curvature: found by the first product, r = b
        assert int(got.iterations) == 1 and np.array_equal(r, np.asarray(b))


def test_detection_agrees_with_eigvalsh_on_random_symmetric_matrices():
    rng = np.random.default_rng(3)
    for trial in range(20):
        m = rng.standard_normal((8, 8))
        a = jnp.asarray(m + m.T + rng.uniform(-2.0, 8.0) * np.eye(8))  # definite or not, by chance
        b = jnp.asarray(rng.standard_normal(8))
        assert bool(solve_npc(a, b).nonpositive) == bool(np.linalg.eigvalsh(np.asarray(a))[0] < 0), trial


def run(loss, solver, theta0, steps=200, tol=1e-10):
    loop = make_loop(loss, solver, tol, steps, 10, 1e12)
    return jax.jit(lambda t: loop.advance(loop.init(t), steps))(jnp.asarray(theta0))


def test_on_a_convex_quadratic_it_is_newton_one_step_to_the_minimiser():
    loss, a, b = random_quadratic()
    state = run(loss, newton_mr(loss), jnp.zeros(6), steps=1, tol=0.0)
    np.testing.assert_allclose(state.theta, np.linalg.solve(np.asarray(a), np.asarray(b)), rtol=1e-9)
    assert int(state.solver_state.curvature_steps) == 0


def test_it_leaves_a_strict_saddle_that_damped_newton_lands_on():
    """x² − y² + ½y⁴ (bounded below; minima (0, ±1), a strict saddle at the origin) from near the saddle."""
    loss = lambda t: t[0] ** 2 - t[1] ** 2 + 0.5 * t[1] ** 4  # noqa: E731
    start = [0.3, 1e-3]
    newton = run(loss, damped_newton(loss, 1.0, 0.0), start)
    assert STATUS[int(newton.status)] == "converged"
    np.testing.assert_allclose(newton.theta, [0.0, 0.0], atol=1e-8)  # the saddle
    mr = run(loss, newton_mr(loss), start)
    assert STATUS[int(mr.status)] == "converged"
    np.testing.assert_allclose(mr.theta, [0.0, 1.0], atol=1e-8)  # the minimum on the side it started
    assert int(mr.solver_state.curvature_steps) >= 1 and float(mr.loss) == pytest.approx(-0.5)
