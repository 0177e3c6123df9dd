"""Regression and PINN objectives: quadrature, derivatives against finite differences and nested autodiff,
manufactured solutions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.core.models import make_mlp
from jaxnewton.core.problems import (
    boundary_envelope,
    grid_nodes,
    make_pinn,
    quadrature_weights,
    sine_product,
    sine_product_source,
    uniform_nodes,
)

FD_STEP = 1e-5


FD_RTOL = 1e-6


def central_difference(f, theta, step=FD_STEP):
    """d f / d theta_i for every i by central differences (f may be vector-valued); one compiled batch."""
    eye = jnp.eye(theta.size, dtype=theta.dtype)
    cols = jax.jit(jax.vmap(lambda e: (f(theta + step * e) - f(theta - step * e)) / (2 * step)))(eye)
    return jnp.moveaxis(cols, 0, -1)


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
    grad = jax.jit(jax.grad(problem.loss))(theta)
    fd = central_difference(problem.loss, theta)
    np.testing.assert_allclose(grad, fd, rtol=FD_RTOL, atol=FD_RTOL * jnp.max(jnp.abs(grad)))


def test_hessian_matches_finite_differences(e3):
    problem = e3.problem
    theta = problem.init(jax.random.key(2))
    hessian = jax.jit(jax.hessian(problem.loss))(theta)
    fd = central_difference(jax.grad(problem.loss), theta)
    scale = jnp.max(jnp.abs(hessian))
    np.testing.assert_allclose(hessian, fd, rtol=FD_RTOL, atol=FD_RTOL * scale)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12 * scale)


@pytest.mark.parametrize("dim, reaction", [(1, 0.0), (2, 1.0), (2, 0.0)])
def test_manufactured_source_makes_the_exact_residual_vanish(dim, reaction):
    """∇²u + c u + v = 0 on the grid, with ∇²u from jax.hessian of the exact u (checks the source)."""
    x = grid_nodes(9, dim)
    u = sine_product(1.3, 2.0)
    laplacian = jax.jit(jax.vmap(lambda p: jnp.trace(jax.hessian(lambda q: u(q[None])[0])(p))))(x)
    residual = laplacian + reaction * u(x) + sine_product_source(1.3, 2.0, reaction)(x)
    assert np.max(np.abs(residual)) < 1e-10 * np.max(np.abs(laplacian))
    assert np.max(np.abs(u(x)[np.any((x == 0.0) | (x == 1.0), axis=1)])) < 1e-14  # u = 0 on the boundary


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

    expected = jax.jit(jax.vmap(lambda p: jnp.trace(jax.hessian(g_h)(p), axis1=1, axis2=2) + reaction * g_h(p)))(x)
    np.testing.assert_allclose(jax.jit(problem.basis)(theta), expected, rtol=1e-10, atol=1e-12)


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
