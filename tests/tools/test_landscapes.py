"""E1/E2 landscapes and the toy saddles against their closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.tools.landscapes import check_torus, elliptic_torus, monkey_saddle, saddle, unit_circle
from known_answers import theta2_roots


def test_circle_loss_is_the_closed_form():
    """For v = [2, 2]: L(θ) = 9 − 4√2 cos(θ − π/4), minimum at π/4 and maximum at 5π/4."""
    loss = unit_circle((2.0, 2.0)).loss
    theta = jnp.linspace(0.0, 2 * jnp.pi, 17)
    np.testing.assert_allclose(jax.vmap(lambda t: loss(t[None]))(theta), 9 - 4 * np.sqrt(2) * np.cos(theta - np.pi / 4),
                               rtol=1e-14)
    for t in (np.pi / 4, 5 * np.pi / 4):
        assert abs(float(jax.grad(loss)(jnp.asarray([t]))[0])) < 1e-14


def test_torus_gradient_factorises_as_the_docstring_says():
    """∂L/∂θ₁ = c'(θ₁) (R + r cos θ₂)² with c = cos²θ₁ + e² sin²θ₁, for v on the axis (tools.landscapes)."""
    R, r, e = 2.0, 1.0, 0.6
    loss = elliptic_torus(R, r, e, (0.0, 0.0, 0.5)).loss
    rng = np.random.default_rng(0)
    for theta in rng.uniform(0, 2 * np.pi, (5, 2)):
        t1, t2 = theta
        expected = (e * e - 1.0) * np.sin(2 * t1) * (R + r * np.cos(t2)) ** 2
        np.testing.assert_allclose(jax.grad(loss)(jnp.asarray(theta))[0], expected, rtol=1e-12, atol=1e-13)


def test_toy_saddles_have_the_textbook_hessians_at_the_origin():
    np.testing.assert_array_equal(jax.hessian(saddle().loss)(jnp.zeros(2)), [[2.0, 0.0], [0.0, -2.0]])
    np.testing.assert_array_equal(jax.hessian(monkey_saddle().loss)(jnp.zeros(2)), np.zeros((2, 2)))


def test_torus_check_rejects_choices_without_a_proved_count():
    check_torus(2.0, 1.0, 0.6, (0.0, 0.0, 0.5))  # the config's choice passes
    for args, match in [((1.0, 1.0, 0.6, (0, 0, 0.5)), "R > r"), ((2.0, 1.0, 1.0, (0, 0, 0.5)), "ellipticity"),
                        ((2.0, 1.0, 0.6, (0.1, 0, 0.5)), "axis"), ((2.0, 1.0, 0.6, (0, 0.5)), "3 entries"),
                        ((2.0, 1.0, 0.5, (0, 0, 0.0)), "evolute")]:
        with pytest.raises(ValueError, match=match):
            check_torus(*args)
    # The evolute condition is not vacuous: for that rejected choice the θ₁ = π/2 meridian has 4 critical θ₂.
    assert len(theta2_roots(0.25, h=0.0)) == 4
    assert len(theta2_roots(0.36, h=0.5)) == 2
