"""Damped, saddle-free and pseudo-inverse Newton against dense algebra and known saddles."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.engine.loop import CONVERGED
from jaxnewton.optim.newton import damped_newton, saddle_free_newton
from known_answers import random_quadratic, saddle, solve


def test_undamped_newton_lands_on_minimiser_in_one_step():
    loss, a, b = random_quadratic()
    solver = damped_newton(loss, eta=1.0, eps=0.0)
    theta0 = jnp.linspace(-3.0, 2.0, 6)
    theta1, _ = solver.update(theta0, jax.grad(loss)(theta0), solver.init(theta0), jnp.asarray(False))
    np.testing.assert_allclose(theta1, jnp.linalg.solve(a, b), rtol=1e-12)


def test_damped_step_formula_on_random_quadratic():
    loss, a, b = random_quadratic(seed=1)
    eta, eps = 0.3, 0.7
    theta0 = jnp.arange(6.0)
    grad = a @ theta0 - b
    theta1, _ = damped_newton(loss, eta, eps).update(theta0, grad, (), jnp.asarray(False))
    expected = theta0 - eta * np.linalg.solve(np.asarray(a) + eps * np.eye(6), np.asarray(grad))
    np.testing.assert_allclose(theta1, expected, rtol=1e-12)


def test_newton_solves_indefinite_systems():
    # On x² − y² the Hessian diag(2, −2) is indefinite: LU (not Cholesky) lands on the saddle.
    loss = lambda t: t[0] ** 2 - t[1] ** 2  # noqa: E731
    theta0 = jnp.asarray([0.7, -1.3])
    theta1, _ = damped_newton(loss, 1.0, 0.0).update(theta0, jax.grad(loss)(theta0), (), jnp.asarray(False))
    np.testing.assert_allclose(theta1, [0.0, 0.0], atol=1e-15)


def test_finished_element_solves_a_finite_system():
    # H + εI is singular here (H = 0, ε = 0); a finished element must still give finite numbers.
    loss = lambda t: jnp.sum(t) * 0.0  # noqa: E731
    theta = jnp.ones(3)
    out, _ = damped_newton(loss, 1.0, 0.0).update(theta, jnp.zeros(3), (), jnp.asarray(True))
    assert np.all(np.isfinite(out))


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
