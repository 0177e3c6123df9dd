"""MLP symmetries and the canonical form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from jaxnewton.core.models import make_mlp, make_mlp_classifier
from jaxnewton.tools.symmetry import canonical, canonical_flat, distance_modulo_symmetry, random_symmetry, transform


@pytest.mark.parametrize("odd", [True, False])
@pytest.mark.parametrize("kind", ["regression", "classifier"])
def test_symmetries_leave_the_loss_unchanged_and_the_canonical_form_identical(kind, odd):
    key_m, key_x, key_s = jax.random.split(jax.random.key(1), 3)
    if kind == "regression":  # E3's network: hidden biases, scalar read-out
        model, x = make_mlp(1, (10, 10)), jax.random.uniform(key_x, (40, 1))
    else:  # the digits study's: no biases, 10 logits
        model, x = make_mlp_classifier(64, (12, 12), 10), jax.random.uniform(key_x, (40, 64))
    params = model.init(key_m)
    moved = transform(params, *random_symmetry(key_s, params, odd))
    output, moved_output = model.apply(params, x), model.apply(moved, x)
    np.testing.assert_allclose(moved_output, output, rtol=1e-12, atol=1e-12)
    assert not np.allclose(ravel_pytree(moved)[0], ravel_pytree(params)[0])  # it did move
    canon = canonical(params, odd=True)
    np.testing.assert_array_equal(ravel_pytree(canonical(moved, odd=True))[0], ravel_pytree(canon)[0])
    np.testing.assert_array_equal(ravel_pytree(canonical(canon, odd=True))[0], ravel_pytree(canon)[0])  # idempotent
    np.testing.assert_allclose(model.apply(canon, x), output, rtol=1e-12, atol=1e-12)
    theta, unravel = ravel_pytree(params)
    flat = jax.jit(canonical_flat(unravel, odd=True))
    assert float(distance_modulo_symmetry(flat, theta, ravel_pytree(moved)[0])) == 0.0


def test_canonical_form_vmaps_over_a_solution_set():
    model = make_mlp(1, (6, 5))
    thetas = jnp.stack([ravel_pytree(model.init(k))[0] for k in jax.random.split(jax.random.key(2), 4)])
    flat = jax.jit(canonical_flat(ravel_pytree(model.init(jax.random.key(0)))[1], odd=True))
    np.testing.assert_array_equal(jax.vmap(flat)(thetas), jnp.stack([flat(t) for t in thetas]))


def test_transform_rejects_a_wrong_number_of_layers():
    params = make_mlp(1, (4, 4)).init(jax.random.key(0))
    with pytest.raises(ValueError, match="one per hidden layer"):
        transform(params, [jnp.arange(4)], [jnp.ones(4)])
