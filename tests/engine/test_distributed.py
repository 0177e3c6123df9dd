"""A seed sweep over 2 processes (jax.distributed, CPU collectives through gloo) equals one process, bit for bit.

The processes get no forced host device count (XLA has reported crashes with CPU collectives and
--xla_force_host_platform_device_count together; that path is tested alone in test_sharding)."""

import os
import socket
import subprocess
import sys
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


@pytest.mark.slow
def test_two_processes_write_the_folder_a_single_process_writes(tmp_path):
    port = free_port()
    processes = [subprocess.Popen([*COMMAND, "--distributed", "--out", str(tmp_path / "two")], cwd=ROOT,
                                  env=environment(JAXNEWTON_COORDINATOR=f"127.0.0.1:{port}",
                                                  JAXNEWTON_NUM_PROCESSES="2", JAXNEWTON_PROCESS_ID=str(i)),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    logs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], logs
    assert "batch 2/3" not in logs[0] and "batch 2/3" in logs[1]  # the batches were shared out
    run_config(override(load_config("mlp_tanh", smoke=True), SETTINGS), tmp_path / "one", log=lambda _: None)
    with np.load(tmp_path / "two" / "arrays.npz") as a, np.load(tmp_path / "one" / "arrays.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert (tmp_path / "two" / "runs.csv").read_text() == (tmp_path / "one" / "runs.csv").read_text()
    assert (tmp_path / "two" / "manifest.json").exists()


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
