"""Building runs from configs: initial points, and batched sweeps against per-seed loops."""

import jax
import numpy as np

from jaxnewton.engine.build import (
    build,
    initial_points,
)
from jaxnewton.engine.config import Config
from jaxnewton.engine.sweep import advance_running, init_batch, make_batch_fns

STEPS = 25  # enough E3 steps for last-bit differences to show (they reach O(1) by step 300)


def test_vmapped_sweep_matches_python_loop_over_seeds(e3, e3_fns, e3_theta0):
    # An independent path: the unbatched, separately jitted loop, one seed at a time. XLA's
    # unbatched kernels sum in another order, so agreement is to rounding, not bitwise.
    batch = advance_running(e3_fns, init_batch(e3_fns, e3_theta0[:3]), STEPS)
    single = jax.jit(lambda t: e3.loop.advance(e3.loop.init(t), STEPS))
    for s, theta0 in enumerate(e3_theta0[:3]):
        alone = single(theta0)
        assert int(alone.steps) == int(batch.steps[s]) == STEPS
        np.testing.assert_allclose(alone.theta, batch.theta[s], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(alone.history_loss, batch.history_loss[s], rtol=1e-10)


def test_initial_points_do_not_depend_on_other_seeds(e3, e3_theta0):
    for s in (0, 41, 99):
        np.testing.assert_array_equal(initial_points(e3, np.asarray([s]))[0], e3_theta0[s])


def test_fourier_sweep_equals_a_per_seed_loop():
    """Seeds with their own B in one vmapped batch end where each run alone ends.

    The unbatched, separately jitted loop sums in another order, so agreement is to rounding
    amplified by a few Newton steps (as test_runner's E3 check, rtol 1e-8)."""
    config = Config(name="f", input_features="fourier", fourier_features=3, widths=(3,), n_points=20, max_steps=4)
    experiment = build(config)
    seeds = np.arange(3)
    theta0, B = initial_points(experiment, seeds), np.asarray(experiment.contexts(seeds))
    fns = make_batch_fns(experiment.loop, experiment.diagnose)
    batch = advance_running(fns, init_batch(fns, theta0, B), 4)
    for s in seeds:
        alone = jax.jit(lambda t, b: experiment.loop.advance(experiment.loop.init(t, b), 4))(theta0[s], B[s])
        np.testing.assert_allclose(batch.theta[s], alone.theta, rtol=1e-8, atol=1e-10)
        problem = experiment.problem_for(B[s])
        assert np.isclose(alone.loss, problem.loss(alone.theta), rtol=1e-14)
    assert not np.allclose(batch.theta[0], batch.theta[1])
