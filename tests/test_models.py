import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.models import make_mlp, xavier_uniform


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
