"""Long runs at the edges, fast tier: checked files, the checkpoint before the latest, segments sized by time,
stop signals, the memory check and the API's data checks (the end-to-end runs are in tests/studies/test_faults.py)."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnewton as jn
from jaxnewton.engine import memory, preempt
from jaxnewton.engine.build import build
from jaxnewton.engine.config import load_config, override
from jaxnewton.engine.io import read_checked_npz, write_checked_npz, write_npz
from jaxnewton.engine.sweep import (FIRST_SEGMENT, SEGMENT_GROWTH, load_state, make_batch_fns, next_segment,
                                    previous_checkpoint, save_state, seed_mesh)

ARRAYS = {"theta": np.arange(12.0).reshape(3, 4), "status": np.array([0, 1, 2], np.int32)}


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def zero(path):
    path.write_bytes(bytes(path.stat().st_size))


def flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [truncate, zero, flip_one_byte])
def test_a_damaged_checked_file_is_set_aside_with_one_line(tmp_path, damage):
    path = tmp_path / "abc" / "result_0000.npz"
    write_checked_npz(path, ARRAYS)
    lines = []
    got = read_checked_npz(path, lines.append)
    assert set(got) == set(ARRAYS) and all(np.array_equal(got[k], ARRAYS[k]) for k in ARRAYS) and not lines
    damage(path)
    assert read_checked_npz(path, lines.append) is None
    assert not path.exists() and (tmp_path / "abc" / ".result_0000.npz.bad-1").exists()  # renamed, not deleted
    assert len(lines) == 1 and "set aside" in lines[0] and "\n" not in lines[0]
    assert read_checked_npz(path, lines.append) is None and len(lines) == 1  # nothing left: missing, no line


def test_a_swapped_or_unchecked_file_fails_its_check(tmp_path):
    first, second = tmp_path / "abc" / "result_0000.npz", tmp_path / "abc" / "result_0001.npz"
    write_checked_npz(first, ARRAYS)
    write_checked_npz(second, {k: v + 1 for k, v in ARRAYS.items()})
    first.rename(tmp_path / "swap")
    second.rename(first)
    (tmp_path / "swap").rename(second)
    lines = []
    assert read_checked_npz(first, lines.append) is None and read_checked_npz(second, lines.append) is None
    assert all("checksum does not match" in line for line in lines)
    write_npz(first, ARRAYS)  # valid .npz, but no checksum (an older version's file)
    assert read_checked_npz(first, lines.append) is None and "no checksum" in lines[-1]
    # The same file read under another identity (another config's checkpoints) fails too.
    write_checked_npz(first, ARRAYS)
    assert read_checked_npz(first, lines.append, identity="other/result_0000.npz") is None


def test_a_damaged_latest_checkpoint_falls_back_to_the_one_before(tmp_path, e3, e3_theta0):
    fns = make_batch_fns(e3.loop, None, seed_mesh(jax.local_devices()[:1]))
    from jaxnewton.engine.sweep import advance_running, init_batch
    state0 = init_batch(fns, e3_theta0[:3])
    state1 = advance_running(fns, state0, 2)
    state2 = advance_running(fns, state1, 4)
    path = tmp_path / "hash" / "batch_0000.npz"
    save_state(path, state1, 1.0)
    save_state(path, state2, 2.0)
    assert previous_checkpoint(path).exists()
    lines = []
    restored, seconds, _ = load_state(path, state0, lines.append)
    assert seconds == 2.0 and np.array_equal(restored.theta, state2.theta) and not lines
    flip_one_byte(path)
    restored, seconds, _ = load_state(path, state0, lines.append)
    assert seconds == 1.0 and np.array_equal(restored.theta, state1.theta) and len(lines) == 1
    truncate(previous_checkpoint(path))
    assert load_state(path, state0, lines.append) is None and len(lines) == 2  # nothing good left: start over
    save_state(path, state1, 1.0)  # a checkpoint of another batch shape is set aside, not resumed
    assert load_state(path, init_batch(fns, e3_theta0[:17]), lines.append) is None and "does not match" in lines[-1]


def test_between_multiples_of_segment_steps_the_batch_keeps_its_shape(e3, e3_theta0):
    """Seeds that finish mid-way stay in the batch until the next multiple of segment_steps, so batch shapes (which
    decide the bits on a GPU) follow the steps, never the clock."""
    fns = make_batch_fns(e3.loop, None, seed_mesh(jax.local_devices()[:1]))
    from jaxnewton.engine.loop import RUNNING
    from jaxnewton.engine.sweep import advance_running, init_batch
    state = init_batch(fns, e3_theta0[:32])
    state = state._replace(status=np.where(np.arange(32) < 16, RUNNING, 1).astype(state.status.dtype),
                           steps=np.where(np.arange(32) < 20, 50, 10).astype(state.steps.dtype))  # 16–19 ended at 50
    shapes = []
    recording = fns._replace(advance=lambda rows, until: shapes.append(len(rows.status)) or fns.advance(rows, until))
    after = advance_running(recording, state, 52, since=40)  # rows 0–19 were running at 40: a batch of 32
    advance_running(recording, state, 52)  # gathered now: the 16 still running
    assert shapes == [32, 16]
    for k in ("theta", "steps", "status"):  # the seeds that had ended are untouched
        np.testing.assert_array_equal(getattr(after, k)[16:], getattr(state, k)[16:])


def test_segments_grow_to_the_time_budget_and_never_past_segment_steps():
    assert next_segment(0, 0.0, 250, 60.0) == FIRST_SEGMENT
    assert next_segment(0, 0.0, 250, 0.0) == 250  # no time budget: fixed segments
    assert next_segment(64, 0.001, 250, 60.0) == 250  # fast steps: segment_steps bounds it
    assert next_segment(8, 8.0, 10_000, 60.0) == 60  # 1 s a step: 60 steps
    assert next_segment(8, 0.01, 10_000, 60.0) == 8 * SEGMENT_GROWTH  # growth is bounded
    assert next_segment(8, 600.0, 250, 60.0) == 1  # slower than the budget: one step a segment


def test_the_config_hash_ignores_how_a_run_is_carried_out():
    config = load_config("mlp_tanh")
    for change in ("segment_steps=7", "segment_seconds=5.0", "memory_limit=3.0"):
        assert override(config, [change]).hash() == config.hash(), change
    assert override(config, ["eta=0.1"]).hash() != config.hash()
    with pytest.raises(ValueError, match="segment_seconds"):
        override(config, ["segment_seconds=-1.0"])


STOP = """
import os, signal
from jaxnewton.engine import preempt
preempt.checkpoint_reached("outside")  # no handler, no stop
with preempt.stop_at_checkpoints():
    preempt.checkpoint_reached("before")
    os.kill(os.getpid(), signal.SIGTERM)
    assert preempt.stop_requested() == signal.SIGTERM
    try:
        preempt.checkpoint_reached("segment 3")
    except preempt.Stopped as stop:
        print(stop.status, stop)
    try:
        os.kill(os.getpid(), signal.SIGHUP)  # a second signal stops at once
    except KeyboardInterrupt:
        print("second: at once")
assert preempt.stop_requested() is None and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
"""


def test_a_stop_signal_is_honoured_at_the_next_checkpoint_and_only_inside_the_block():
    done = subprocess.run([sys.executable, "-c", STOP], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.strip().splitlines()
    assert first == (f"{preempt.EX_TEMPFAIL} stopped by SIGTERM at segment 3, checkpoint saved: rerun the same "
                     "command to resume")
    assert second == "second: at once"


def test_a_run_too_large_to_form_is_refused_in_one_line_naming_the_way_out():
    config = override(load_config("mlp_tanh"), ["widths=600,600"])
    with pytest.raises(ValueError) as refused:
        memory.check(config, build(config).problem.n_params)
    message = str(refused.value)
    assert "\n" not in message and "GiB" in message
    assert "linear_solver=krylov" in message and "spectrum=lanczos" in message
    small = override(load_config("mlp_tanh"), ["memory_limit=0.01"])  # E3 fits a machine, not 10 MiB
    with pytest.raises(ValueError, match="config field memory_limit is 0.01 GiB"):
        memory.check(small, 140)
    found = memory.check(load_config("mlp_tanh"), 140)
    assert found.total - found.parts["this process now"] < 0.1 * memory.GiB  # E3 needs little beside the runtime


def test_padding_rows_count_like_seeds_in_a_dense_quasi_newton_state():
    """BFGS's P × P state is held by every row of the batch as placed, padding included: 8 seeds on CPU fill a chunk of
    16 and need what 16 need (8 seeds at P = 6 720 held over 21.6 GB and were killed where 8 rows said 18.8 GB)."""
    def state(n_seeds):
        config = override(load_config("mlp_tanh"), ["solver=bfgs", "widths=80,80", f"n_seeds={n_seeds}"])
        return memory.estimate(config, 6720, limit=1e15).parts["quasi-Newton P×P state"]

    assert state(8) == state(16) > 21.6e9 and state(17) > state(16)


def test_the_api_refuses_a_sweep_too_large_to_form_before_compiling():
    with pytest.raises(ValueError, match="P = 200000.*dense Hessian a step.*linear_solver=krylov"):
        jn.sweep(lambda t: jnp.sum(t ** 2), np.zeros((2, 200_000)))


@pytest.mark.parametrize("name, widths, data", [("mlp_tanh", "12,12", ()), ("mlp_tanh", "40", ()), ("pinn1d", "16,16", ()),
                                               ("mlp_tanh", "8,8", ("problem=digits", "n_train=150"))])
def test_the_estimate_matches_the_buffers_xla_allocates(name, widths, data):
    """The fitted per-row terms against XLA's own buffer sizes of the compiled segment and spectrum (±25%), for one
    output and for digits' ten (the multi-output structured Hessian's per-output buffers)."""
    config = override(load_config(name), [*data, f"widths={widths}", "n_seeds=16", "seed_batch=16"])
    experiment = build(config)
    p = experiment.problem.n_params
    mesh = seed_mesh(jax.local_devices()[:1])
    fns = make_batch_fns(experiment.loop, experiment.diagnose, mesh)
    theta = jnp.zeros((16, p))
    from jaxnewton.engine.sweep import _place_rows, init_batch
    rows = _place_rows(init_batch(fns, np.zeros((16, p))), 16, mesh)
    step = fns.advance.lower(rows, np.asarray(1, np.int32)).compile().memory_analysis().temp_size_in_bytes
    spectrum = fns.diagnose.lower(_place_rows((theta, ()), 16, mesh)).compile().memory_analysis().temp_size_in_bytes
    got = memory.estimate(config, p).parts
    assert 0.75 < got["dense Hessian a step"] / step < 1.25
    assert 0.75 < got["dense spectrum at the end"] / spectrum < 1.25


def test_the_api_refuses_bad_data_naming_the_argument():
    x = np.linspace(0, 1, 20)
    v = np.sin(x)

    def apply(params, x):
        return jnp.tanh(x @ params["w"]) @ params["out"]

    params = {"w": jnp.ones((1, 3)), "out": jnp.ones(3)}
    with pytest.raises(ValueError, match="^x holds 1 non-finite"):
        jn.regression(apply, np.where(x == x[3], np.nan, x), v, params=params)
    with pytest.raises(ValueError, match="^v holds 2 non-finite"):
        jn.regression(apply, x, np.where(x > x[-3], np.inf, v), params=params)
    with pytest.raises(TypeError, match="init must be a function key -> params, not int"):
        jn.regression(apply, x, v, init=3)
    with pytest.raises(ValueError, match="init\\(key\\) returns parameters of another structure"):
        jn.regression(apply, x, v, params=params, init=lambda key: {"w": jnp.ones((1, 4)), "out": jnp.ones(4)})
    assert jn.regression(apply, x, v, params=params,
                         init=lambda key: jax.tree.map(lambda a: a + jax.random.normal(key, a.shape), params))
