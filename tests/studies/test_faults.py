"""Fault injection: a sweep killed (SIGKILL) at chosen and at random moments, then rerun, ends bitwise equal to an
uninterrupted run, and no killed folder ever passes for a complete run (``make paper``'s check)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from jaxnewton.engine.config import load_config, override
from jaxnewton.engine.io import load_npz
from jaxnewton.paper import is_complete

TINY = textwrap.dedent("""
    from jaxnewton.engine.config import Config

    def get_config(smoke=False):  # 3 seeds in 2 batches, 4 segments each: every kind of file is written
        return Config(name="tiny", n_points=12, widths=(3,), n_seeds=3, seed_batch=2, max_steps=40,
                      segment_steps=10, history_stride=5)
""")
# Runs the CLI and sends itself SIGNAL (default SIGKILL) just before (or after) the NTH time (default 1) a file named
# TARGET is renamed into place (KILLER_AT="TARGET WHEN [NTH [SIGNAL]]"; unset: no signal).
KILLER = textwrap.dedent("""
    import os, signal, sys
    target, when, nth, name = (os.environ.get("KILLER_AT", "none never").split() + ["1", "SIGKILL"])[:4]
    rename, hits = os.replace, []

    def replace(src, dst, *args, **kwargs):
        hit = os.path.basename(str(dst)) == target and len(hits) + 1 == int(nth)
        if os.path.basename(str(dst)) == target:
            hits.append(dst)
        if hit and when == "before":
            os.kill(os.getpid(), getattr(signal, name))
        rename(src, dst, *args, **kwargs)
        if hit and when == "after":
            os.kill(os.getpid(), getattr(signal, name))

    os.replace = replace
    from jaxnewton.cli import main
    sys.exit(main(sys.argv[1:]))
""")
# In the order a run writes them: a segment checkpoint, an output before the manifest (the finished batch's
# result_*.npz goes through the same atomic writer as the checkpoint; runs.csv, arrays.npz, the figures and
# config.json through the same path as summary.json), the manifest.
TARGETS = [("batch_0000.npz", "before"), ("summary.json", "before"), ("manifest.json", "before")]
RANDOM_TRIALS = 1


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    (root / "tiny.py").write_text(TINY)
    (root / "killer.py").write_text(KILLER)
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(root / "xla"), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    return root, env


@pytest.fixture(scope="module")
def reference(setup):
    """An uninterrupted run of the tiny config, which every interrupted one must end equal to."""
    root, env = setup
    assert cli(root, env, root / "reference").returncode == 0
    return root / "reference"


def cli(root, env, out, *extra, target="none", when="never", nth=1, signal_name="SIGKILL"):
    command = [sys.executable, str(root / "killer.py"), "run", str(root / "tiny.py"), "--out", str(out), *extra]
    return subprocess.run(command, env={**env, "KILLER_AT": f"{target} {when} {nth} {signal_name}"},
                          capture_output=True, text=True, timeout=300)


def assert_equal_runs(a, b):
    assert (a / "runs.csv").read_bytes() == (b / "runs.csv").read_bytes()
    first, second = load_npz(a / "arrays.npz"), load_npz(b / "arrays.npz")
    assert set(first) == set(second)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    keep = lambda s: {k: v for k, v in s.items() if k not in ("wall_seconds", "finished_at")}  # noqa: E731
    assert keep(json.loads((a / "summary.json").read_text())) == keep(json.loads((b / "summary.json").read_text()))


@pytest.mark.slow
def test_killed_at_every_kind_of_write_and_at_random_then_rerun_ends_bitwise_equal(setup, reference):
    root, env = setup
    config = load_config(str(root / "tiny.py"))
    out = root / "killed"
    assert is_complete(reference, config)
    for target, when in TARGETS:
        killed = cli(root, env, out, target=target, when=when)
        assert killed.returncode == -signal.SIGKILL, (target, killed.stderr[-2000:])
        assert not is_complete(out, config), target  # killed before the manifest: never complete
    killed = cli(root, env, out, target="manifest.json", when="after")  # killed just after: complete, and equal
    assert killed.returncode == -signal.SIGKILL and is_complete(out, config)
    assert_equal_runs(out, reference)
    rng = np.random.default_rng(0)
    for trial in range(RANDOM_TRIALS):
        folder = root / f"random_{trial}"
        process = subprocess.Popen([sys.executable, str(root / "killer.py"), "run",
                                    str(root / "tiny.py"), "--out", str(folder)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 6.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if is_complete(folder, config):  # killed after its manifest (or never): then it is the whole run
            assert_equal_runs(folder, reference)
        assert cli(root, env, folder).returncode == 0
        assert_equal_runs(folder, reference)


@pytest.mark.slow
def test_a_forced_rerun_killed_midway_leaves_no_run_complete(setup):
    root, env = setup
    old = load_config(str(root / "tiny.py"))
    new = override(old, ["n_seeds=2"])
    out = root / "mixed"
    assert cli(root, env, out).returncode == 0 and is_complete(out, old)
    killed = cli(root, env, out, "--set", "n_seeds=2", "--force", target="summary.json", when="before")
    assert killed.returncode == -signal.SIGKILL
    assert not is_complete(out, old) and not is_complete(out, new)
    refused = cli(root, env, out)  # the old config finds the new one's unfinished run: refused in one line
    assert refused.returncode == 2 and "--force" in refused.stderr and "\n" not in refused.stderr.strip()
    assert cli(root, env, out, "--set", "n_seeds=2").returncode == 0 and is_complete(out, new)


def checkpoints(out):
    (folder,) = (out / "checkpoints").iterdir()
    return folder


def swap(a, b):
    a.rename(a.with_name("swap"))
    b.rename(a)
    a.with_name("swap").rename(b)


def zero(path):
    path.write_bytes(bytes(path.stat().st_size))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# (where the first run is killed, what is done to the files it left, which of them are set aside on the rerun)
DAMAGE = [
    (("batch_0000.npz", "after", 2), lambda c: truncate(c / "batch_0000.npz"), ["batch_0000.npz"]),
    (("batch_0000.npz", "after", 3), lambda c: (zero(c / "batch_0000.npz"), zero(c / "batch_0000.prev.npz")),
     ["batch_0000.npz", "batch_0000.prev.npz"]),
    (("summary.json", "before", 1), lambda c: swap(c / "result_0000.npz", c / "result_0001.npz"),
     ["result_0000.npz", "result_0001.npz"]),
]  # (a truncated or zeroed result goes through the same read_checked_npz as the checkpoints above)


@pytest.mark.slow
def test_damaged_checkpoints_and_results_are_set_aside_and_the_rerun_ends_bitwise_equal(setup, reference):
    root, env = setup
    for k, ((target, when, nth), damage, aside) in enumerate(DAMAGE):
        out = root / f"damaged_{k}"
        assert cli(root, env, out, target=target, when=when, nth=nth).returncode == -signal.SIGKILL
        damage(checkpoints(out))
        rerun = cli(root, env, out)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        warned = [line for line in rerun.stdout.splitlines() if "failed its check" in line]
        assert len(warned) == len(aside), rerun.stdout
        assert sorted((f".{name}.bad-1" for name in aside)) == sorted(
            p.name for p in checkpoints(out).iterdir() if ".bad-" in p.name)  # set aside, not deleted
        assert_equal_runs(out, reference)


@pytest.mark.slow
def test_sigterm_stops_at_a_checkpoint_with_one_line_and_status_75_and_the_rerun_resumes(setup, reference):
    root, env = setup
    out = root / "terminated"
    # The signal arrives while the second segment's checkpoint is written (a scheduler's SIGTERM mid-run).
    stopped = cli(root, env, out, target="batch_0000.npz", when="before", nth=2, signal_name="SIGTERM")
    assert stopped.returncode == 75, stopped.stderr[-2000:]
    assert stopped.stderr.strip() == ("stopped by SIGTERM at seeds 0–1, step 10, checkpoint saved: rerun the same "
                                      "command to resume")
    assert not is_complete(out, load_config(str(root / "tiny.py")))
    rerun = cli(root, env, out)
    assert rerun.returncode == 0 and "seeds 0–1: resumed at step 10" in rerun.stdout, rerun.stdout
    assert_equal_runs(out, reference)


@pytest.mark.slow
def test_results_are_bitwise_independent_of_the_segment_lengths(tmp_path):
    from jaxnewton.studies.registry import run_config
    (tmp_path / "tiny.py").write_text(TINY)
    config = load_config(str(tmp_path / "tiny.py"))
    folders = []
    for k, changes in enumerate((["segment_steps=3", "segment_seconds=0"], ["segment_steps=40", "segment_seconds=0"],
                                 ["segment_steps=250", "segment_seconds=60"])):
        varied = override(config, changes)
        assert varied.hash() == config.hash()
        folders.append(tmp_path / f"segments_{k}")
        run_config(varied, folders[-1], log=lambda _: None)
    for folder in folders[1:]:
        assert_equal_runs(folder, folders[0])
