"""The structured Hessian against jax.hessian (an independent implementation) and analytic facts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.core import curvature, models
from jaxnewton.core.curvature import (_expand_diagonal, _layout_permutation, _symmetric_kronecker_sum,
                                     activation_derivatives, computed_once)
from jaxnewton.core.models import fourier_features, make_mlp
from jaxnewton.core.problems import (grid_nodes, make_pinn, make_regression, quadrature_weights, sine_product,
                                     sine_product_source, sine_target, uniform_nodes)

RTOL = 1e-12  # relative to max|H|: both are exact, so only rounding separates them


def regression(in_dim, widths, activation="tanh", n_points=23):
    model = make_mlp(in_dim, widths, activation)
    x = jax.random.uniform(jax.random.key(7), (n_points, in_dim), jnp.float64)
    if in_dim == 1:
        x = uniform_nodes(n_points)
    target = sine_target(2.0, 4.0)(x)
    return make_regression(model, x, target, quadrature_weights(n_points))


def assert_hessians_agree(problem, thetas):
    both = jax.jit(jax.vmap(lambda t: (jax.hessian(problem.loss)(t), problem.hessian(t))))
    for reference, structured in zip(*both(jnp.stack(thetas))):
        scale = jnp.max(jnp.abs(reference))
        assert float(jnp.max(jnp.abs(structured - reference)) / scale) < RTOL


@pytest.mark.parametrize("in_dim, widths", [(1, (10, 10)), (1, (5,)), (2, (7, 4, 6)), (3, (3, 8))])
def test_structured_hessian_equals_jax_hessian(in_dim, widths):
    problem = regression(in_dim, widths)
    keys = jax.random.split(jax.random.key(11), 3)
    theta0 = [problem.init(k) for k in keys]
    # Also far from initialisation: large weights saturate tanh, where σ'' terms dominate.
    far = [3.0 * t + jax.random.normal(k, t.shape, jnp.float64) for t, k in zip(theta0, keys)]
    assert_hessians_agree(problem, theta0 + far)


def test_structured_hessian_for_another_activation(monkeypatch):
    # Nothing in the structured form is specific to tanh: σ' and σ'' come from forward mode.
    monkeypatch.setitem(models.ACTIVATIONS, "sin", jnp.sin)
    problem = regression(1, (6, 5), "sin")
    assert_hessians_agree(problem, [problem.init(jax.random.key(k)) for k in range(2)])


def test_structured_hessian_at_zero_readout_is_block_structured(e3):
    # At θᴼ = 0 (the paper's trivial point), ∂²L/∂θᴵ² = 0 exactly: both terms of the
    # inner block carry a factor θᴼ. The structured form must reproduce those zeros.
    theta = jnp.where(e3.problem.outer_mask, 0.0, e3.problem.init(jax.random.key(3)))
    hessian = jax.jit(e3.problem.hessian)(theta)
    inner = ~np.asarray(e3.problem.outer_mask)
    np.testing.assert_array_equal(np.asarray(hessian)[np.ix_(inner, inner)], 0.0)
    assert_hessians_agree(e3.problem, [theta])


def test_e3_problem_uses_structured_hessian(e3):
    theta = e3.problem.init(jax.random.key(0))
    assert_hessians_agree(e3.problem, [theta])
    hessian = np.asarray(jax.jit(e3.problem.hessian)(theta))
    # Blocks above the diagonal are mirrored below it; the hidden layers' diagonal blocks come from symmetric pairs.
    hidden = e3.problem.n_params - 10  # every row but the read-out's 10
    np.testing.assert_array_equal(hessian[:hidden], hessian.T[:hidden])
    autodiff = make_regression(make_mlp(1, (10, 10)), e3.problem.x, e3.problem.target, e3.problem.weights,
                               hessian="autodiff")
    np.testing.assert_array_equal(*jax.jit(lambda t: (autodiff.hessian(t), jax.hessian(autodiff.loss)(t)))(theta))


def pinn(dim, widths, reaction, activation="tanh", hessian="structured", n_points=9):
    x = grid_nodes(n_points, dim)
    source = sine_product_source(1.0, 2.0, reaction)(x)
    x_error = grid_nodes(5, dim)
    return make_pinn(make_mlp(dim, widths, activation), x, source, quadrature_weights(n_points ** dim), reaction,
                     x_error, sine_product(1.0, 2.0)(x_error), hessian=hessian)


@pytest.mark.parametrize("dim, widths, reaction", [(1, (10, 10), 0.0), (1, (5,), 0.0), (2, (7, 4, 6), 1.0)])
def test_structured_pinn_hessian_equals_jax_hessian(dim, widths, reaction):
    # A one-layer network has no layer before the last; a three-layer one has two, both acting through the streams.
    problem = pinn(dim, widths, reaction)
    keys = jax.random.split(jax.random.key(5), 2)
    theta0 = [problem.init(k) for k in keys]
    far = [2.0 * t + jax.random.normal(k, t.shape, jnp.float64) for t, k in zip(theta0, keys)]
    at_zero_readout = [jnp.where(problem.outer_mask, 0.0, theta0[0])]  # the trivial point's θᴼ = 0
    assert_hessians_agree(problem, theta0 + far + at_zero_readout)


def test_structured_pinn_hessian_for_the_sine_activation():
    problem = pinn(1, (6, 5), 0.0, activation="sine")
    assert_hessians_agree(problem, [problem.init(jax.random.key(k)) for k in range(2)])


def test_activation_derivatives_of_tanh_are_analytic():
    z = jnp.linspace(-4.0, 4.0, 33)
    a, s, t = activation_derivatives(jnp.tanh, z)
    np.testing.assert_allclose(a, np.tanh(z), rtol=1e-15)
    # 1 − tanh² cancels near |z| = 4: compare with an absolute floor of a few ulps.
    np.testing.assert_allclose(s, 1.0 - np.tanh(z) ** 2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t, -2.0 * np.tanh(z) * (1.0 - np.tanh(z) ** 2), rtol=1e-12, atol=1e-15)


def test_computed_once_gives_the_function_s_values_bit_for_bit():
    # The SIREN Hessian's activation goes through it (sin and cos computed once instead of once per fusion).
    siren = lambda z: activation_derivatives(models.sine(4.0), z)  # noqa: E731
    z = jax.random.normal(jax.random.key(0), (5, 100, 10), jnp.float64)
    z = z.at[1, 0, 0].set(jnp.nan)  # that row's loop takes its second trip
    for stored, direct in zip(jax.jit(jax.vmap(lambda x: computed_once(siren, x)))(z), jax.jit(jax.vmap(siren))(z)):
        np.testing.assert_array_equal(np.asarray(stored), np.asarray(direct))
    # Forward mode goes through it: the tangent of sin(4z) is 4 cos(4z).
    _, tangent = jax.jvp(lambda x: computed_once(jnp.sin, 4.0 * x), (z[0],), (jnp.ones_like(z[0]),))
    np.testing.assert_allclose(tangent, 4.0 * np.cos(4.0 * np.asarray(z[0])), rtol=1e-14, atol=1e-15)


def test_layout_permutation_maps_ravel_order_to_layer_major():
    params = make_mlp(2, (3, 4)).init(jax.random.key(0))
    flat, _ = ravel_pytree(params)
    perm = _layout_permutation(params)
    layout = np.concatenate([
        np.concatenate([np.asarray(layer["b"])[None], np.asarray(layer["w"])]).ravel()
        for layer in params["hidden"]
    ] + [np.asarray(params["out"])])
    np.testing.assert_array_equal(layout[perm], np.asarray(flat))
    # make_mlp's leaves ravel in the layer-major order itself: the Hessian needs no permutation.
    np.testing.assert_array_equal(perm, np.arange(flat.size))


def test_expand_diagonal_places_a_kronecker_delta():
    x = jnp.arange(24.0).reshape(2, 3, 4)
    y = _expand_diagonal(x, (0, 1, 2, 1))
    expected = np.einsum("ijk,jm->ijkm", np.asarray(x), np.eye(3))
    np.testing.assert_array_equal(y, expected)


def test_symmetric_kronecker_sum_equals_the_full_sum_of_kronecker_products():
    a = jax.random.normal(jax.random.key(1), (7, 3), jnp.float64)
    v = jax.random.normal(jax.random.key(2), (7, 4, 4), jnp.float64)
    v = v + jnp.swapaxes(v, 1, 2)
    j, m = np.triu_indices(4)
    expected = sum(np.kron(np.outer(a[q], a[q]), v[q]) for q in range(7))
    for input_layer in (False, True):  # the product in either order
        got = np.asarray(_symmetric_kronecker_sum(a.T, v[:, j, m].T, 4, input_layer=input_layer))
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-13)
        np.testing.assert_array_equal(got, got.T)  # gathered from the pairs: symmetric to the last bit


def test_symmetric_kronecker_sum_by_two_small_tables_gives_the_same_bits(monkeypatch):
    # Past ONE_INDEX_MAX entries the block is gathered by the two pair tables (F² + width² indices, not (F·width)²).
    a = jax.random.normal(jax.random.key(3), (9, 40), jnp.float64)
    v = jax.random.normal(jax.random.key(4), (21, 40), jnp.float64)  # width 6: 21 pairs
    for input_layer in (False, True):
        one_index = np.asarray(_symmetric_kronecker_sum(a, v, 6, input_layer=input_layer))
        with monkeypatch.context() as patch:
            patch.setattr(curvature, "ONE_INDEX_MAX", 0)
            two_tables = np.asarray(_symmetric_kronecker_sum(a, v, 6, input_layer=input_layer))
        np.testing.assert_array_equal(two_tables, one_index)


def test_structured_hessian_needs_an_mlp():
    model = make_mlp(1, (4,))._replace(activation=None)
    x = uniform_nodes(5)
    with pytest.raises(ValueError, match="hessian='autodiff'"):
        make_regression(model, x, x[:, 0], quadrature_weights(5))
    with pytest.raises(ValueError, match="hessian='bfgs' is unknown"):
        make_regression(model, x, x[:, 0], quadrature_weights(5), hessian="bfgs")


def test_structured_hessian_with_sine_and_fourier_features_equals_jax_hessian():
    key = jax.random.key(2)
    x = grid_nodes(30, 1)
    v = jnp.sin(4 * jnp.pi * x[:, 0])
    w = quadrature_weights(30)
    siren = make_regression(make_mlp(1, (6, 5), "sine", weight_init="siren", omega0=4.0), x, v, w)
    gamma = fourier_features(x, jnp.array([[0.7], [-1.9], [2.4]]))
    fourier = make_regression(make_mlp(6, (5, 4)), gamma, v, w)
    for problem in (siren, fourier):
        assert_hessians_agree(problem, [problem.init(key)])


@pytest.mark.parametrize("make", [lambda: regression(1, (10, 10)), lambda: regression(1, (7, 4, 6)),
                                  lambda: pinn(2, (7, 4, 6), 1.0)])
def test_vmapped_structured_hessian_does_not_depend_on_a_seeds_place_in_the_batch(make):
    # The runner's bitwise batch invariance (engine.sweep) needs each seed's Hessian computed alone inside a chunk.
    problem = make()
    thetas = jnp.stack([problem.init(k) for k in jax.random.split(jax.random.key(3), 16)])
    perm = np.random.default_rng(0).permutation(16)
    batched = jax.jit(jax.vmap(problem.hessian))
    np.testing.assert_array_equal(np.asarray(batched(thetas))[perm], np.asarray(batched(thetas[perm])))
