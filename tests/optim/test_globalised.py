"""The second-order family (optim.globalised) and its subproblem solvers, against analytic answers.

That each reaches the minimiser of a convex quadratic and of Rosenbrock (Gauss–Newton and LM on its least-squares
form) is tested with every registered optimiser in test_registry.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.core.linalg import cubic_subproblem, trust_region_subproblem
from jaxnewton.engine.loop import CONVERGED, make_loop
from jaxnewton.optim import registry
from jaxnewton.optim.newton import damped_newton
from jaxnewton.optim.globalised import (cubic_regularisation, gauss_newton, levenberg_marquardt, newton_line_search,
                                        newton_monotone, sr1_trust_region, trust_region_newton)

NEW = ("gauss_newton", "lm", "trust_region", "cubic", "sr1", "newton_ls")


def least_squares(residual):
    """L = Σ r², its exact Hessian and Gauss–Newton matrix 2JᵀJ."""
    loss = lambda t: jnp.sum(residual(t) ** 2)  # noqa: E731

    def gn(t):
        j = jax.jacfwd(residual)(t)
        return 2.0 * j.T @ j

    return loss, jax.hessian(loss), gn


A = jnp.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0], [1.0, 0.0, 1.0]])
B = jnp.array([1.0, -2.0, 0.5, 3.0])
QUADRATIC = least_squares(lambda t: A @ t - B)
ROSENBROCK = least_squares(lambda t: jnp.stack([1.0 - t[0], 10.0 * (t[1] - t[0] ** 2)]))


def solvers(loss, hessian, gn):
    return {"gauss_newton": gauss_newton(loss, gn, 1.0, 1e-8), "lm": levenberg_marquardt(loss, gn, 1e-2),
            "trust_region": trust_region_newton(loss, hessian, 1.0), "cubic": cubic_regularisation(loss, hessian, 1.0),
            "sr1": sr1_trust_region(loss, 1.0), "newton_ls": newton_line_search(loss, hessian, 0.0)}


def run(loss, solver, theta0, max_steps=3000, tol=1e-9):
    loop = make_loop(loss, solver, tol, max_steps, 10, 1e12)
    return jax.jit(lambda t: loop.advance(loop.init(t), max_steps))(theta0)


def test_registered_with_their_flags_and_not_in_all():
    assert set(NEW) <= set(registry.names()) and not set(NEW) & set(registry.names(in_all=True))
    assert registry.names(gauss_newton=True) == ("gauss_newton", "lm")
    with pytest.raises(ValueError, match="needs the Gauss–Newton matrix"):
        registry.build_solver("lm", QUADRATIC[0], None, None)


@pytest.mark.parametrize("name", ["trust_region", "cubic"])
def test_trust_region_and_cubic_leave_a_strict_saddle_that_damped_newton_lands_on(name):
    """x² − y² from (1e-3, 1e-3): their model's minimiser follows −y; Newton's step goes to the saddle."""
    loss = lambda t: t[0] ** 2 - t[1] ** 2  # noqa: E731
    hessian = jax.hessian(loss)
    solver = solvers(loss, hessian, None)[name]
    state = run(loss, solver, jnp.array([1e-3, 1e-3]), max_steps=30)
    assert int(state.status) != CONVERGED and abs(float(state.theta[1])) > 1.0 and float(state.loss) < -1.0
    assert abs(float(state.theta[0])) < 1e-6  # along x it went to 0, as Newton does
    newton = damped_newton(loss, 1.0, 0.0, hessian)
    assert int(run(loss, newton, jnp.array([1e-3, 1e-3]), max_steps=5).status) == CONVERGED


def random_model(seed, n=6, hard=False):
    rng = np.random.default_rng(seed)
    lam = np.sort(rng.normal(size=n) * 2)
    c = rng.normal(size=n)
    if hard:
        lam[0] = -abs(lam[0]) - 0.5
        c[0] = 0.0
    return jnp.asarray(lam), jnp.asarray(c)


@pytest.mark.parametrize("seed, hard", [(s, h) for s in range(6) for h in (False, True)])
def test_trust_region_subproblem_is_the_constrained_global_minimiser(seed, hard):
    """Moré–Sorensen optimality: (Λ + μ)z = −c, μ ≥ max(0, −λ_min), μ(||z|| − Δ) = 0; and no sampled feasible point
    does better."""
    lam, c = random_model(seed, hard=hard)
    radius = 0.7
    z = trust_region_subproblem(lam, c, jnp.asarray(radius))
    model = lambda z: jnp.dot(c, z) + 0.5 * jnp.dot(lam * z, z)  # noqa: E731
    assert float(jnp.linalg.norm(z)) <= radius * (1 + 1e-10)
    samples = np.random.default_rng(100 + seed).normal(size=(20000, lam.size))
    samples = samples / np.linalg.norm(samples, axis=1, keepdims=True) * radius * np.random.default_rng(1).uniform(
        size=(20000, 1)) ** (1 / lam.size)
    assert float(model(z)) <= float(jnp.min(jax.vmap(model)(jnp.asarray(samples)))) + 1e-12
    if float(lam[0]) < 0:
        assert float(jnp.linalg.norm(z)) == pytest.approx(radius, rel=1e-10)


@pytest.mark.parametrize("seed, hard", [(s, h) for s in range(6) for h in (False, True)])
def test_cubic_subproblem_is_the_global_minimiser(seed, hard):
    lam, c = random_model(seed, hard=hard)
    sigma = 1.3
    z = cubic_subproblem(lam, c, jnp.asarray(sigma))
    model = lambda z: jnp.dot(c, z) + 0.5 * jnp.dot(lam * z, z) + sigma / 3 * jnp.linalg.norm(z) ** 3  # noqa: E731
    # First-order condition of the cubic model: (Λ + σ||z||)z = −c.
    np.testing.assert_allclose((lam + sigma * jnp.linalg.norm(z)) * z, -c, atol=1e-9)
    samples = np.random.default_rng(200 + seed).normal(size=(20000, lam.size)) * float(jnp.linalg.norm(z))
    assert float(model(z)) <= float(jnp.min(jax.vmap(model)(jnp.asarray(samples) + z))) + 1e-12


def test_monotone_newton_never_raises_the_loss_and_takes_the_full_step_where_it_descends():
    """A non-convex tanh regression from 4 starts: L never rises along 40 steps, some steps are shortened (the full
    step would have raised L), and on a convex quadratic every step is damped Newton's own."""
    rng = np.random.default_rng(1)
    w, y = jnp.asarray(rng.standard_normal((8, 5))), jnp.asarray(rng.standard_normal(8))
    loss = lambda t: jnp.sum((jnp.tanh(w @ t) - y) ** 2)  # noqa: E731
    solver = newton_monotone(loss, jax.hessian(loss), 1.0, 1e-3)

    def path(theta):
        def step(carry, _):
            theta, state = carry
            theta, state = solver.update(theta, jax.grad(loss)(theta), state, jnp.asarray(False))
            return (theta, state), loss(theta)

        (_, state), losses = jax.lax.scan(step, (theta, solver.init(theta)), None, length=40)
        return jnp.concatenate([loss(theta)[None], losses]), state.value

    losses, shortened = jax.jit(jax.vmap(path))(jnp.asarray(2.0 * rng.standard_normal((4, 5))))
    assert np.all(np.diff(np.asarray(losses), axis=1) <= 0.0)
    assert float(jnp.sum(shortened)) > 0  # the paper's full step would have raised L somewhere: not vacuous
    quad, hess = QUADRATIC[0], jax.hessian(QUADRATIC[0])
    theta = jnp.array([5.0, -3.0, 2.0])
    monotone = newton_monotone(quad, hess, 0.5, 0.1)
    new, _ = monotone.update(theta, jax.grad(quad)(theta), monotone.init(theta), jnp.asarray(False))
    newton = damped_newton(quad, 0.5, 0.1, hess)
    np.testing.assert_allclose(new, newton.update(theta, jax.grad(quad)(theta), (), jnp.asarray(False))[0], rtol=1e-14)
