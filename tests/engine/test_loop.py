"""The per-seed loop: statuses, histories, finished seeds, segments."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.engine.loop import CONVERGED, MAX_STEPS, NONFINITE, RUNNING, make_loop
from jaxnewton.optim.base import Solver
from jaxnewton.optim.newton import damped_newton


def cosh_loss(theta):
    """Σ cosh(θ_i): strictly convex, minimum at 0; damped Newton needs more steps from farther out."""
    return jnp.sum(jnp.cosh(theta))


def make(loss=cosh_loss, solver=None, tol=1e-10, max_steps=200, stride=5, factor=1e8):
    solver = solver or damped_newton(loss, eta=0.5, eps=0.0)
    return make_loop(loss, solver, tol, max_steps, stride, factor)


def run(loop, theta0, until):
    return jax.jit(jax.vmap(lambda t: loop.advance(loop.init(t), until)))(theta0)


def test_converged_status_and_history():
    loop = make()
    state = run(loop, jnp.asarray([[0.3, -0.2], [2.0, 1.0]]), 200)
    np.testing.assert_array_equal(state.status, [CONVERGED, CONVERGED])
    assert state.steps[0] < state.steps[1]
    assert np.all(state.grad_norm <= 1e-10)
    for s in range(2):
        recorded = int(state.steps[s]) // 5 + 1
        assert np.all(np.isfinite(state.history_loss[s, :recorded]))
        assert np.all(np.isnan(state.history_loss[s, recorded:]))
        np.testing.assert_allclose(state.history_loss[s, 0], cosh_loss(jnp.asarray([[0.3, -0.2], [2.0, 1.0]])[s]))


def test_start_at_a_stationary_point_converges_at_step_zero():
    state = run(make(), jnp.zeros((1, 3)), 200)
    assert int(state.status[0]) == CONVERGED and int(state.steps[0]) == 0


def test_max_steps_status():
    state = run(make(max_steps=3), jnp.full((1, 2), 3.0), 10)
    assert int(state.status[0]) == MAX_STEPS and int(state.steps[0]) == 3


def test_nan_step_is_a_status_and_keeps_last_finite_iterate():
    def update(theta, grad, count, done):
        return jnp.where(count >= 2, jnp.nan, theta - 0.1 * grad), count + 1

    loop = make(solver=Solver(init=lambda t: jnp.zeros((), jnp.int32), update=update))
    state = run(loop, jnp.ones((2, 2)), 50)
    np.testing.assert_array_equal(state.status, [NONFINITE, NONFINITE])
    assert int(state.steps[0]) == 3
    assert np.all(np.isfinite(state.theta)) and np.all(np.isfinite(state.loss))


def test_loss_blow_up_is_nonfinite():
    # A "solver" that doubles θ on L = θ²: the loss grows 4× a step and passes the 1e3 factor.
    loss = lambda t: jnp.sum(t * t)  # noqa: E731
    loop = make(loss=loss, solver=Solver(init=lambda t: (), update=lambda t, g, s, d: (2.0 * t, s)), factor=1e3)
    state = run(loop, jnp.ones((1, 1)), 50)
    assert int(state.status[0]) == NONFINITE
    assert float(state.loss[0]) <= 1e3  # the blown-up iterate was not accepted


def test_finished_seed_does_not_move():
    loop = make()
    theta0 = jnp.asarray([[1e-9, 0.0], [3.0, -3.0]])
    early = run(loop, theta0, 8)
    assert int(early.status[0]) == CONVERGED and int(early.status[1]) == RUNNING
    later = jax.jit(jax.vmap(loop.advance, in_axes=(0, None)))(early, jnp.asarray(200, jnp.int32))
    for a, b in zip(jax.tree.leaves(early), jax.tree.leaves(later)):
        np.testing.assert_array_equal(a[0], b[0])
    assert int(later.status[1]) == CONVERGED


def test_segments_do_not_change_the_trajectory():
    loop = make()
    theta0 = jnp.asarray([[2.5, -1.5]])
    whole = run(loop, theta0, 200)
    advance = jax.jit(jax.vmap(loop.advance, in_axes=(0, None)))
    state = jax.jit(jax.vmap(loop.init))(theta0)
    for until in range(1, 201, 2):
        state = advance(state, jnp.asarray(until, jnp.int32))
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(state)):
        np.testing.assert_array_equal(a, b)
