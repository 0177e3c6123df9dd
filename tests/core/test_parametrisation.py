"""The NTK parametrisation as a reparametrised problem: the same network at θ₀, the exact Hessian in the new
coordinates, and the damped Newton step it gives (issue 43)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import load_config, override


@pytest.mark.parametrize("name, widths", [("mlp_tanh", "6,5"), ("pinn1d", "5,4"), ("siren", "5")])
def test_ntk_is_the_same_network_at_theta0_with_the_exact_hessian_in_its_coordinates(name, widths):
    standard = build(override(load_config(name), [f"widths={widths}"]))
    ntk = build(override(load_config(name), [f"widths={widths}", "parametrisation=ntk"]))
    (a,), (b,) = initial_points(standard, np.arange(1)), initial_points(ntk, np.arange(1))
    np.testing.assert_allclose(ntk.problem.output(b), standard.problem.output(a), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ntk.problem.basis(b) @ ntk.problem.outer(b), ntk.problem.output(b), rtol=1e-12,
                               atol=1e-12)
    exact = jax.jit(jax.hessian(ntk.problem.loss))(b)
    np.testing.assert_allclose(jax.jit(ntk.problem.hessian)(b), exact, rtol=1e-12,
                               atol=1e-12 * float(jnp.max(jnp.abs(exact))))


def test_the_ntk_newton_step_is_the_standard_step_damped_by_eps_over_s_squared():
    """(H' + εI)⁻¹∇L' with H' = SHS, ∇L' = S∇L is S⁻¹ (H + εS⁻²)⁻¹ ∇L: a damping of ε fan_in per weight."""
    config = override(load_config("mlp_tanh"), ["widths=6,5"])
    standard, ntk = build(config), build(override(config, ["parametrisation=ntk"]))
    theta = initial_points(standard, np.arange(1))[0]
    s = initial_points(standard, np.arange(1))[0] / initial_points(ntk, np.arange(1))[0]  # θ = s ⊙ θ'
    eps = config.eps
    h, g = jax.jit(standard.problem.hessian)(theta), jax.jit(jax.grad(standard.problem.loss))(theta)
    step_ntk = jnp.linalg.solve(jax.jit(ntk.problem.hessian)(theta / s) + eps * jnp.eye(theta.size),
                                jax.jit(jax.grad(ntk.problem.loss))(theta / s))
    step_std = jnp.linalg.solve(h + eps * jnp.diag(1.0 / s ** 2), g) / s
    np.testing.assert_allclose(step_ntk, step_std, rtol=1e-10, atol=1e-12)
    # In ravel order b₁ (6), W₁ (fan_in 1), b₂ (5), W₂ (fan_in 6), θᴼ (K = 5): 1/s² is 1 on biases, fan_in on weights.
    fan_in = np.concatenate([np.full(6, 1.0), np.full(6, 1.0), np.full(5, 1.0), np.full(30, 6.0), np.full(5, 5.0)])
    np.testing.assert_allclose(1.0 / s ** 2, fan_in, rtol=1e-12)


def test_standard_is_todays_network_and_keeps_the_config_hash():
    config = load_config("mlp_tanh")
    assert override(config, ["parametrisation=standard"]).hash() == config.hash()
    assert override(config, ["parametrisation=ntk"]).hash() != config.hash()
    with pytest.raises(ValueError, match="parametrisation"):
        override(config, ["parametrisation=mup"])
