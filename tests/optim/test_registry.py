"""Every registered optimiser on problems with known answers, and vmapped like a loop."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.engine.loop import STATUS, make_loop
from jaxnewton.optim import registry
from known_answers import quadratic, rosenbrock, solve


@pytest.mark.parametrize("name", registry.names(ablation=False))  # ablations: fixed step, not globalised
@pytest.mark.parametrize("loss, theta0, minimiser", [
    (quadratic, [0.0, 0.0, 0.0], [1.0, -2.0, 0.5]),
    (rosenbrock, [-1.2, 1.0], [1.0, 1.0]),
], ids=["quadratic", "rosenbrock"])
def test_every_optimiser_reaches_the_minimiser(name, loss, theta0, minimiser):
    state = solve(name, loss, jnp.asarray(theta0))
    assert STATUS[int(state.status)] == "converged", (name, int(state.steps), float(state.grad_norm))
    np.testing.assert_allclose(state.theta, minimiser, atol=1e-6)


# BFGS from the indefinite (H + εI)⁻¹ at a fixed step uses every pair, however small yᵀs: ρ = 1/yᵀs amplifies the
# vmapped eigendecomposition's last-bit difference to ~1e-8 in 10 steps (measured 9e-9).
# Newton-MR's forward tracking along non-positive curvature doubles its step (up to 2³⁰) on this saturating tanh
# problem and takes θ to |θ| ≈ 2 500 in 7 steps, where the last-bit difference grows to 2.5e-8 relative (measured).
LOOSER = {"bfgs_indefinite_start": 1e-7, "newton_mr": 1e-7}


@pytest.mark.parametrize("name", registry.names())
def test_vmap_over_seeds_equals_a_per_seed_loop(name):
    """A tiny tanh regression (5 parameters, 8 points, non-convex): 3 seeds vmapped give each seed's own run
    after 10 steps.

    Equal to 1e-9, not bitwise: a vmapped kernel may sum in another order than the unbatched one, and the steps
    amplify that last-bit difference. ``engine.sweep`` computes seeds in fixed chunks for that reason, which is
    bitwise.
    """
    rng = np.random.default_rng(0)
    w, y = jnp.asarray(rng.standard_normal((8, 5)) / np.sqrt(5)), jnp.asarray(0.5 * rng.standard_normal(8))

    def loss(t):
        return jnp.sum((jnp.tanh(w @ t) - y) ** 2)

    def gauss_newton(t):
        j = jax.jacfwd(lambda t: jnp.tanh(w @ t))(t)
        return 2.0 * j.T @ j

    settings = SimpleNamespace(eta=0.5, eps=0.05, learning_rate=1e-2, gd_learning_rate=0.05, memory=10, gss_evals=6,
                               trust_radius=1.0, cubic_sigma=1.0, linear_solver="dense", krylov_rtol=1e-10,
                               krylov_max_iter=0)
    loop = make_loop(loss, registry.build_solver(name, loss, None, settings, gauss_newton), 1e-12, 10, 2, 1e8)
    theta0 = jnp.asarray(0.5 * rng.standard_normal((3, 5)))
    batched = jax.jit(jax.vmap(lambda t: loop.advance(loop.init(t), 10)))(theta0)
    single = jax.jit(lambda t: loop.advance(loop.init(t), 10))
    for s in range(3):
        one = single(theta0[s])
        assert int(one.steps) == int(batched.steps[s]) == 10 and int(one.status) == int(batched.status[s])
        np.testing.assert_allclose(batched.theta[s], one.theta, rtol=LOOSER.get(name, 1e-9), atol=LOOSER.get(name, 1e-9))
        np.testing.assert_allclose(batched.loss[s], one.loss, rtol=LOOSER.get(name, 1e-9))
    assert not np.allclose(batched.theta, theta0)  # every optimiser moved


def test_seeds_run_one_at_a_time_where_a_step_is_a_krylov_solve_or_an_autodiff_hessian():
    """``seed_by_seed``: a Krylov solve (each seed's own length) or ``jax.hessian`` (a model of your own: P tangents a
    seed fill the cache) run seed by seed on CPU; the structured Hessian and gradient-only methods in chunks."""
    def config(solver, hessian="structured", linear_solver="dense"):
        return SimpleNamespace(solver=solver, hessian=hessian, linear_solver=linear_solver)

    assert registry.seed_by_seed(config("newton", linear_solver="krylov"))
    assert registry.seed_by_seed(config("newton", "autodiff")) and registry.seed_by_seed(config("lm", "autodiff"))
    assert not registry.seed_by_seed(config("newton")) and not registry.seed_by_seed(config("adam", "autodiff"))
