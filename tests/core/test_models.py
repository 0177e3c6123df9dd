"""Models: parameter layout, initialisers, the read-out split, SIREN and Fourier features."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.core.models import fourier_features, make_mlp, mlp_basis_derivatives, xavier_uniform
from jaxnewton.engine.build import (
    build,
    initial_points,
)
from jaxnewton.engine.config import load_config


def test_e3_mlp_has_140_parameters(e3):
    # 1·10 + 10 (layer 1) + 10·10 + 10 (layer 2) + 10 (bias-free output) = 140.
    assert e3.problem.n_params == 140
    assert int(e3.problem.outer_mask.sum()) == 10


def test_xavier_uniform_matches_pytorch_bound():
    fan_in, fan_out = 30, 70
    w = np.asarray(xavier_uniform(jax.random.key(1), fan_in, fan_out))
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    assert w.shape == (fan_in, fan_out) and w.dtype == np.float64
    assert np.abs(w).max() <= bound
    # U(-a, a) has variance a²/3; 2100 samples give a standard error of about 3% on it.
    assert np.var(w) == pytest.approx(bound**2 / 3, rel=0.1)


def test_apply_is_linear_readout_of_basis():
    model = make_mlp(1, (5, 7))
    params = model.init(jax.random.key(2))
    x = jnp.linspace(0.0, 1.0, 11)[:, None]
    np.testing.assert_allclose(model.apply(params, x), model.basis(params, x) @ params["out"], rtol=1e-14)
    assert model.basis(params, x).shape == (11, 7)


def test_mlp_forward_matches_numpy():
    model = make_mlp(1, (10, 10))
    params = model.init(jax.random.key(3))
    x = np.linspace(0.0, 1.0, 17)[:, None]
    h = x
    for layer in params["hidden"]:
        h = np.tanh(h @ np.asarray(layer["w"]) + np.asarray(layer["b"]))
    np.testing.assert_allclose(model.apply(params, jnp.asarray(x)), h @ np.asarray(params["out"]), rtol=1e-13)


def test_outer_mask_selects_output_weights(e3):
    theta = e3.problem.init(jax.random.key(4))
    np.testing.assert_array_equal(theta[e3.problem.outer_mask], e3.problem.outer(theta))


def test_bias_inits():
    zeros = make_mlp(1, (4,), bias_init="zeros").init(jax.random.key(0))
    assert not np.any(np.asarray(zeros["hidden"][0]["b"]))
    torch = make_mlp(3, (4,)).init(jax.random.key(0))
    assert np.abs(np.asarray(torch["hidden"][0]["b"])).max() <= 1 / np.sqrt(3)


@pytest.mark.parametrize("kwargs, field", [
    ({"activation": "relu6"}, "activation"),
    ({"bias_init": "normal"}, "bias_init"),
    ({"widths": ()}, "widths"),
])
def test_bad_model_arguments_raise(kwargs, field):
    args = {"in_dim": 1, "widths": (3,), **kwargs}
    with pytest.raises(ValueError, match=field):
        make_mlp(**args)


def test_flat_vector_roundtrip(e3):
    theta = e3.problem.init(jax.random.key(5))
    params = e3.problem.unravel(theta)
    np.testing.assert_array_equal(ravel_pytree(params)[0], theta)
    np.testing.assert_array_equal(params["out"], e3.problem.outer(theta))


@pytest.mark.parametrize("activation, omega0", [("tanh", 1.0), ("sine", 4.0)])
@pytest.mark.parametrize("dim", [1, 2])
def test_x_derivative_streams_match_finite_differences(activation, omega0, dim):
    model = make_mlp(dim, (6, 5), activation, omega0=omega0,
                     weight_init="siren" if activation == "sine" else "xavier")
    params = model.init(jax.random.key(3))
    x = jax.random.uniform(jax.random.key(4), (7, dim), jnp.float64)
    h, dh, ddh = mlp_basis_derivatives(model.activation, params, x)
    np.testing.assert_allclose(h, model.basis(params, x), rtol=0, atol=1e-14)
    step = 1e-4
    for d in range(dim):
        e = jnp.zeros(dim, jnp.float64).at[d].set(step)
        plus, minus = model.basis(params, x + e), model.basis(params, x - e)
        scale = np.max(np.abs(ddh)) + 1.0
        np.testing.assert_allclose(dh[:, d], (plus - minus) / (2 * step), rtol=0, atol=1e-6 * scale)
        np.testing.assert_allclose(ddh[:, d], (plus - 2 * h + minus) / step**2, rtol=0, atol=1e-5 * scale)


def test_parameter_counts_and_siren_init():
    siren = build(load_config("siren"))
    assert siren.problem.n_params == 140  # 1·10 + 10 + 10·10 + 10 + 10
    fourier = build(load_config("fourier"))
    assert fourier.problem.n_params == 20 * 10 + 10 + 10 * 10 + 10 + 10  # γ has 2f = 20 entries: 330
    assert build(load_config("pinn2d")).problem.n_params == 2 * 10 + 10 + 110 + 10
    params = siren.problem.unravel(siren.problem.init(jax.random.key(0)))
    assert np.max(np.abs(params["hidden"][0]["w"])) <= 1.0 / 1  # first layer: U(±1/fan_in), fan_in = 1
    bound = np.sqrt(6.0 / 10) / 4.0
    assert np.max(np.abs(params["hidden"][1]["w"])) <= bound and np.max(np.abs(params["out"])) <= bound
    assert np.max(np.abs(params["hidden"][1]["w"])) > 0.7 * bound  # the bound is the SIREN one, not a smaller one


def test_fourier_matrix_is_a_deterministic_function_of_the_seed():
    fourier = build(load_config("fourier"))
    B_all = np.asarray(fourier.contexts(np.arange(400)))
    assert B_all.shape == (400, 10, 1) and B_all.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(fourier.contexts(np.array([4])))[0], B_all[4])  # not batch-dependent
    np.testing.assert_array_equal(np.asarray(build(load_config("fourier")).contexts(np.arange(400))), B_all)
    assert len({tuple(b.ravel()) for b in B_all}) == 400
    # θ₀ is drawn exactly as without features (B comes from its own stream of the key).
    assert not np.allclose(B_all[0, :, 0], initial_points(fourier, np.arange(1))[0, :10])
    assert abs(np.var(B_all.ravel()) - 1.5) < 0.15  # σ² = 1.5


def test_fourier_features_without_2pi_are_those_of_b_over_2pi():
    x = jnp.linspace(0.0, 1.0, 7)[:, None]
    B = jnp.array([[0.7], [-1.9], [2.4]])
    gamma = np.asarray(fourier_features(x, B, "1"))
    np.testing.assert_allclose(gamma, np.asarray(fourier_features(x, B / (2.0 * np.pi))), rtol=0, atol=1e-15)
    np.testing.assert_allclose(gamma[:, :3], np.sin(np.asarray(x) @ np.asarray(B).T), rtol=0, atol=1e-15)
    np.testing.assert_allclose(gamma[:, 3:], np.cos(np.asarray(x) @ np.asarray(B).T), rtol=0, atol=1e-15)
