import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.runner import CONVERGED, MAX_STEPS, NONFINITE, RUNNING, make_loop
from jaxnewton.solvers import Solver, damped_newton
from jaxnewton.sweep import MIN_BATCH, advance_running, bucket_size, init_batch, make_batch_fns


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


@pytest.mark.parametrize("n, cap, expected", [
    (1, 100, 16), (16, 100, 16), (17, 100, 32), (33, 100, 48), (70, 100, 96), (100, 100, 112), (3, 10, 16),
    (200, 1000, 256), (500, 1000, 512), (600, 1000, 768), (900, 1000, 1008),
])
def test_bucket_size(n, cap, expected):
    assert bucket_size(n, cap) == expected
    assert expected % MIN_BATCH == 0 and expected >= n
    assert expected - n < max(MIN_BATCH, n / 2)  # padding: under a chunk, or under a third of the bucket


@pytest.mark.parametrize("n, cap, n_devices, expected", [(1, 100, 4, 64), (70, 100, 4, 128), (300, 1000, 4, 384)])
def test_bucket_size_splits_whole_chunks_across_devices(n, cap, n_devices, expected):
    assert bucket_size(n, cap, n_devices) == expected
    assert (expected // n_devices) % MIN_BATCH == 0


STEPS = 25  # enough E3 steps for last-bit differences to show (they reach O(1) by step 300)


def e3_batch(e3, seeds):
    from jaxnewton.experiment import initial_points

    fns = make_batch_fns(e3.loop, e3.diagnose)
    return fns, init_batch(fns, initial_points(e3, np.asarray(seeds)))


def test_seed_alone_equals_seed_among_100(e3):
    # Same key, same θ₀ bit for bit, same steps and status, and bitwise the same iterates:
    # on CPU every seed is computed in a vmapped chunk of exactly CHUNK seeds whatever the
    # batch (jaxnewton.sweep). Without chunks, a last-bit difference from the batch shape
    # grows by Newton's amplification to ~1e-12 relative by step 25 and O(1) by step 300.
    fns, many = e3_batch(e3, np.arange(100))
    many = advance_running(fns, many, STEPS)
    for s in (0, 57):
        fns, alone = e3_batch(e3, [s])
        alone = advance_running(fns, alone, STEPS)
        assert int(alone.steps[0]) == int(many.steps[s]) == STEPS
        assert int(alone.status[0]) == int(many.status[s])
        for name in ("theta", "grad", "loss", "history_loss", "history_grad_norm"):
            np.testing.assert_array_equal(getattr(alone, name)[0], getattr(many, name)[s])


def test_seed_order_does_not_change_bits(e3):
    from jaxnewton.experiment import initial_points

    fns = make_batch_fns(e3.loop, e3.diagnose)
    theta0 = initial_points(e3, np.arange(32))
    perm = np.random.default_rng(0).permutation(32)
    ordered = advance_running(fns, init_batch(fns, theta0), STEPS)
    shuffled = advance_running(fns, init_batch(fns, theta0[perm]), STEPS)
    np.testing.assert_array_equal(shuffled.theta, ordered.theta[perm])


def test_chunk_must_divide_min_batch(e3):
    with pytest.raises(ValueError, match="chunk=3 must divide MIN_BATCH"):
        make_batch_fns(e3.loop, e3.diagnose, chunk=3)


def test_vmapped_sweep_matches_python_loop_over_seeds(e3):
    # An independent path: the unbatched, separately jitted loop, one seed at a time. XLA's
    # unbatched kernels sum in another order, so agreement is to rounding, not bitwise.
    fns, batch = e3_batch(e3, np.arange(3))
    batch = advance_running(fns, batch, STEPS)
    single = jax.jit(lambda t: e3.loop.advance(e3.loop.init(t), STEPS))
    from jaxnewton.experiment import initial_points

    for s, theta0 in enumerate(initial_points(e3, np.arange(3))):
        alone = single(theta0)
        assert int(alone.steps) == int(batch.steps[s]) == STEPS
        np.testing.assert_allclose(alone.theta, batch.theta[s], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(alone.history_loss, batch.history_loss[s], rtol=1e-10)


def test_compaction_equals_whole_batch(e3):
    # Seeds that finish early drop out of the batch; the others must follow the same path.
    loop = make_loop(e3.problem.loss, damped_newton(e3.problem.loss, 0.05, 0.05), 1e-5, 40, 5, 1e8)
    from jaxnewton.experiment import initial_points

    fns = make_batch_fns(loop, e3.diagnose)
    theta0 = initial_points(e3, np.arange(MIN_BATCH))  # whole chunks, as every bucket is
    state = init_batch(fns, theta0)
    # Mark four seeds finished by hand, as if they had converged: they must stay put.
    status = state.status.copy()
    status[:4] = CONVERGED
    state = state._replace(status=status)
    compacted = state
    for until in (10, 20, 30, 40):
        compacted = advance_running(fns, compacted, until)
    whole = fns.advance(state, jnp.asarray(40, jnp.int32))
    for a, b in zip(jax.tree.leaves(compacted), jax.tree.leaves(whole)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(compacted.theta[:4], theta0[:4])


def test_initial_points_do_not_depend_on_other_seeds(e3):
    from jaxnewton.experiment import initial_points

    many = initial_points(e3, np.arange(100))
    for s in (0, 41, 99):
        np.testing.assert_array_equal(initial_points(e3, np.asarray([s]))[0], many[s])
