import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.solvers import damped_newton, gradient_descent


def quadratic(n=6, seed=0):
    """L(θ) = ½ θᵀAθ − bᵀθ with A symmetric positive definite: ∇²L = A, minimiser A⁻¹b."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    a = jnp.asarray(m @ m.T + n * np.eye(n))
    b = jnp.asarray(rng.standard_normal(n))
    return (lambda t: 0.5 * t @ a @ t - b @ t), a, b


def test_undamped_newton_lands_on_minimiser_in_one_step():
    loss, a, b = quadratic()
    solver = damped_newton(loss, eta=1.0, eps=0.0)
    theta0 = jnp.linspace(-3.0, 2.0, 6)
    theta1, _ = solver.update(theta0, jax.grad(loss)(theta0), solver.init(theta0), jnp.asarray(False))
    np.testing.assert_allclose(theta1, jnp.linalg.solve(a, b), rtol=1e-12)


def test_damped_step_formula_on_quadratic():
    loss, a, b = quadratic(seed=1)
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


def test_gradient_descent_step_formula():
    loss, a, b = quadratic(seed=2)
    theta0 = jnp.linspace(-1.0, 1.0, 6)
    grad = jax.grad(loss)(theta0)
    np.testing.assert_allclose(grad, a @ theta0 - b, rtol=1e-12)
    theta1, _ = gradient_descent(0.1).update(theta0, grad, (), jnp.asarray(False))
    np.testing.assert_allclose(theta1, theta0 - 0.1 * (a @ theta0 - b), rtol=1e-12)
