"""A seed sweep over 2 processes (jax.distributed, CPU collectives through gloo) equals one process, bit for bit.

The processes get no forced host device count (XLA has reported crashes with CPU collectives and
--xla_force_host_platform_device_count together; that path is tested alone in test_sharding)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jaxnewton.engine.config import load_config, override
from jaxnewton.studies.registry import run_config

ROOT = Path(__file__).resolve().parents[2]
# A small network (the processes are the point): 3 batches, process 0 runs two, process 1 one.
SETTINGS = ["n_seeds=5", "seed_batch=2", "max_steps=60", "widths=4", "n_points=20"]
COMMAND = [sys.executable, "-m", "jaxnewton", "run", "mlp_tanh", "--smoke", *(a for s in SETTINGS for a in ("--set", s))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(**extra) -> dict:
    """No forced device count (the module docstring); the suite's other XLA flags (conftest's optimisation level)
    are kept, so the processes compile as the in-process run they are compared with does."""
    flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if "host_platform_device_count" not in f)
    return {**os.environ, "XLA_FLAGS": flags, **extra}


def start_two(out, port, first=None, second=None):
    """Processes 0 and 1 of the sweep into ``out``; each runs ``python -c <script>`` instead of the CLI if given."""
    def command(script):
        return [sys.executable, "-c", script, *COMMAND[3:]] if script else COMMAND

    return [subprocess.Popen([*command(script), "--distributed", "--out", str(out)], cwd=ROOT,
                             env=environment(JAXNEWTON_COORDINATOR=f"127.0.0.1:{port}", JAXNEWTON_NUM_PROCESSES="2",
                                             JAXNEWTON_PROCESS_ID=str(i)),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for i, script in enumerate((first, second))]


def assert_equals_one_process(two, one):
    """The folder ``two`` equals a one-process run of the same seeds (made into ``one``) bit for bit."""
    run_config(override(load_config("mlp_tanh", smoke=True), SETTINGS), one, log=lambda _: None)
    with np.load(two / "arrays.npz") as a, np.load(one / "arrays.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert (two / "runs.csv").read_text() == (one / "runs.csv").read_text()


@pytest.mark.slow
def test_two_processes_write_the_folder_a_single_process_writes(tmp_path):
    processes = start_two(tmp_path / "two", free_port())
    logs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], logs
    assert "batch 2/3" not in logs[0] and "batch 2/3" in logs[1]  # the batches were shared out
    assert_equals_one_process(tmp_path / "two", tmp_path / "one")
    assert (tmp_path / "two" / "manifest.json").exists()


# The CLI, killed (SIGKILL) by itself right after its first segment checkpoint (a preempted host).
KILLED_AFTER_FIRST_CHECKPOINT = """
import os, signal, sys
rename = os.replace
def replace(src, dst, *args, **kwargs):
    rename(src, dst, *args, **kwargs)
    if os.path.basename(str(dst)).startswith("batch_"):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from jaxnewton.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_one_process_killed_midway_then_both_rerun_equal_one_process(tmp_path):
    processes = start_two(tmp_path / "two", free_port(), second=KILLED_AFTER_FIRST_CHECKPOINT)
    processes[1].communicate(timeout=600)
    assert processes[1].returncode == -9
    time.sleep(2)
    processes[0].kill()  # the scheduler ends the job's other process too
    processes[0].communicate(timeout=60)
    assert any(p.name.startswith("batch_0001") for p in (tmp_path / "two" / "checkpoints").rglob("*.npz"))
    processes = start_two(tmp_path / "two", free_port())
    logs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], logs
    assert "resumed at step" in logs[1], logs[1]
    assert_equals_one_process(tmp_path / "two", tmp_path / "one")


def test_a_process_that_cannot_reach_the_coordinator_gets_one_line_within_the_timeout(tmp_path):
    start = time.monotonic()
    done = subprocess.run([*COMMAND, "--distributed", "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300,
                          env=environment(JAXNEWTON_COORDINATOR=f"127.0.0.1:{free_port()}", JAXNEWTON_NUM_PROCESSES="2",
                                          JAXNEWTON_PROCESS_ID="1", JAXNEWTON_DISTRIBUTED_TIMEOUT="3"))
    assert done.returncode == 2 and time.monotonic() - start < 3 + 60
    assert done.stderr.startswith("error: --distributed: cannot reach the coordinator at 127.0.0.1:")
    assert "within 3 s" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_distributed_needs_all_three_variables_or_none(tmp_path):
    done = subprocess.run([*COMMAND, "--distributed", "--out", str(tmp_path)], cwd=ROOT,
                          env=environment(JAXNEWTON_COORDINATOR="127.0.0.1:1"), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert "set all of JAXNEWTON_COORDINATOR, JAXNEWTON_NUM_PROCESSES, JAXNEWTON_PROCESS_ID" in done.stderr


def test_importing_the_package_starts_no_jax_backend():
    """jax.distributed.initialize must come before any backend starts: no module may build a JAX array on import."""
    code = ("import jaxnewton.cli, jaxnewton.api; from jax._src import xla_bridge; "
            "print(xla_bridge.backends_are_initialized())")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
