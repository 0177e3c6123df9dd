"""Gradient descent and ADAM against their formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnewton.optim.first_order import adam, gradient_descent
from known_answers import random_quadratic


def test_gradient_descent_step_formula():
    loss, a, b = random_quadratic(seed=2)
    theta0 = jnp.linspace(-1.0, 1.0, 6)
    grad = jax.grad(loss)(theta0)
    np.testing.assert_allclose(grad, a @ theta0 - b, rtol=1e-12)
    theta1, _ = gradient_descent(0.1).update(theta0, grad, (), jnp.asarray(False))
    np.testing.assert_allclose(theta1, theta0 - 0.1 * (a @ theta0 - b), rtol=1e-12)


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
