import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.problems import quadrature_weights, uniform_nodes

# Central differences in float64 with h = 1e-5: truncation O(h²) ≈ 1e-10 and rounding
# O(1e-16 / h) ≈ 1e-11 relative to the derivative scale, so 1e-6 leaves a wide margin.
FD_STEP = 1e-5
FD_RTOL = 1e-6


def central_difference(f, theta, step=FD_STEP):
    """d f / d theta_i for every i by central differences (f may be vector-valued)."""
    eye = jnp.eye(theta.size, dtype=theta.dtype)
    cols = [(f(theta + step * e) - f(theta - step * e)) / (2 * step) for e in eye]
    return jnp.stack(cols, axis=-1)


def test_quadrature_is_the_mean():
    w = quadrature_weights(100)
    x = uniform_nodes(100)
    assert x[0, 0] == 0.0 and x[-1, 0] == 1.0
    np.testing.assert_allclose(jnp.sum(w), 1.0, rtol=1e-15)


def test_loss_of_zero_function_is_mean_square_target(e3):
    problem = e3.problem
    theta = problem.init(jax.random.key(0)).at[problem.outer_mask].set(0.0)
    v = np.asarray(problem.target)
    np.testing.assert_allclose(problem.loss(theta), np.mean(v**2), rtol=1e-14)
    np.testing.assert_allclose(v, 2 * np.sin(4 * np.pi * np.linspace(0, 1, 100)), atol=1e-14)


def test_gradient_matches_finite_differences(e3):
    problem = e3.problem
    theta = problem.init(jax.random.key(1))
    grad = jax.grad(problem.loss)(theta)
    fd = central_difference(problem.loss, theta)
    np.testing.assert_allclose(grad, fd, rtol=FD_RTOL, atol=FD_RTOL * jnp.max(jnp.abs(grad)))


def test_hessian_matches_finite_differences(e3):
    problem = e3.problem
    theta = problem.init(jax.random.key(2))
    hessian = jax.hessian(problem.loss)(theta)
    fd = central_difference(jax.grad(problem.loss), theta)
    scale = jnp.max(jnp.abs(hessian))
    np.testing.assert_allclose(hessian, fd, rtol=FD_RTOL, atol=FD_RTOL * scale)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12 * scale)
