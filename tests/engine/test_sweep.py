"""The batched runner: buckets, chunk invariance, compaction."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnewton.engine import sweep
from jaxnewton.engine.loop import CONVERGED
from jaxnewton.engine.sweep import MIN_BATCH, advance_running, bucket_size, init_batch, make_batch_fns, map_rows


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


@pytest.mark.parametrize("n, cap, n_devices, expected", [(1, 100, 1, 1), (5, 100, 1, 6), (5, 100, 2, 6), (7, 7, 2, 8),
                                                         (13, 13, 1, 13), (100, 100, 2, 100)])
def test_bucket_size_of_single_seeds(n, cap, n_devices, expected):
    # A loop run seed by seed (make_batch_fns(uneven=True) on CPU) pads by seeds, not chunks.
    assert bucket_size(n, cap, n_devices, granule=1) == expected


STEPS = 25  # enough E3 steps for last-bit differences to show (they reach O(1) by step 300)


def test_seed_alone_equals_seed_among_100(e3_fns, e3_theta0):
    # Same key, same θ₀ bit for bit, same steps and status, and bitwise the same iterates:
    # on CPU every seed is computed in a vmapped chunk of exactly CHUNK seeds whatever the
    # batch (engine.sweep). Without chunks, a last-bit difference from the batch shape
    # grows by Newton's amplification to ~1e-12 relative by step 25 and O(1) by step 300.
    many = advance_running(e3_fns, init_batch(e3_fns, e3_theta0), STEPS)
    for s in (0, 57):
        alone = advance_running(e3_fns, init_batch(e3_fns, e3_theta0[s:s + 1]), STEPS)
        assert int(alone.steps[0]) == int(many.steps[s]) == STEPS
        assert int(alone.status[0]) == int(many.status[s])
        for name in ("theta", "grad", "loss", "history_loss", "history_grad_norm"):
            np.testing.assert_array_equal(getattr(alone, name)[0], getattr(many, name)[s])


def test_seed_order_does_not_change_bits(e3_fns, e3_theta0):
    perm = np.random.default_rng(0).permutation(len(e3_theta0))
    ordered = advance_running(e3_fns, init_batch(e3_fns, e3_theta0), STEPS)
    shuffled = advance_running(e3_fns, init_batch(e3_fns, e3_theta0[perm]), STEPS)
    np.testing.assert_array_equal(shuffled.theta, ordered.theta[perm])


def test_chunk_must_divide_min_batch(e3):
    with pytest.raises(ValueError, match="chunk=3 must divide MIN_BATCH"):
        make_batch_fns(e3.loop, e3.diagnose, chunk=3)


def test_compaction_equals_whole_batch(e3_fns, e3_theta0):
    # Seeds that finish early drop out of the batch; the others must follow the same path.
    theta0 = e3_theta0[:MIN_BATCH]  # whole chunks, as every bucket is
    state = init_batch(e3_fns, theta0)
    # Mark four seeds finished by hand, as if they had converged: they must stay put.
    status = state.status.copy()
    status[:4] = CONVERGED
    state = state._replace(status=status)
    compacted = state
    for until in (10, 20, 30, 40):
        compacted = advance_running(e3_fns, compacted, until)
    whole = e3_fns.advance(state, jnp.asarray(40, jnp.int32))
    for a, b in zip(jax.tree.leaves(compacted), jax.tree.leaves(whole)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(compacted.theta[:4], theta0[:4])


@pytest.mark.parametrize("chunk", [1, 2, None, "auto"])
def test_map_rows_equals_vmap_and_drops_the_padding(chunk):
    x = np.linspace(-1.0, 1.0, 21).reshape(7, 3)
    fn = lambda a, b: (jnp.sum(jnp.sin(a) * b), 2.0 * a)  # noqa: E731
    got = map_rows(fn, chunk=chunk)(x, x[::-1])
    expected = jax.vmap(fn)(jnp.asarray(x), jnp.asarray(x[::-1]))
    assert all(isinstance(g, np.ndarray) and g.shape[0] == 7 for g in got)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(got[1], 2.0 * x)


def test_one_vmap_layout_diagnoses_in_chunks(monkeypatch, e3, e3_theta0):
    # Where the loop is one vmap (GPU), the diagnostics still go DIAGNOSE_CHUNK seeds at a time: all at once, 50 000
    # E3 seeds asked an H200 for 270 GiB. Chunks of 3 over 16 seeds (a remainder of 1) must give the same diagnostics.
    monkeypatch.setattr(sweep, "DIAGNOSE_CHUNK", 3)
    maps = []
    real_map = jax.lax.map
    monkeypatch.setattr(jax.lax, "map", lambda f, xs, batch_size=None: maps.append(batch_size) or real_map(
        f, xs, batch_size=batch_size))
    theta0 = e3_theta0[:MIN_BATCH]
    one_vmap = make_batch_fns(e3.loop, e3.diagnose, chunk=None)
    got = one_vmap.diagnose((theta0, ()))
    assert maps == [3]
    expected = jax.vmap(e3.diagnose)(jnp.asarray(theta0), ())
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
