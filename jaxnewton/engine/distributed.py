"""Seed sweeps across processes (one per host, or several on one machine) with JAX's multi-controller runtime.

Every process runs the same command. ``initialize`` joins them through ``jax.distributed`` (CPU collectives
through gloo where there is no accelerator); the seed batches are then dealt out round-robin, batch b to
process b mod n (``mine``), each process runs its own with its own devices (``engine.sweep`` over
``jax.local_devices()``, no collective inside a run), and writes each finished batch into the results folder's
checkpoint directory, which every host must see (a shared file system). Process 0 alone locks and claims the
folder before the others start (``barrier``) and, once every process is done, writes the results and the manifest
from all the batches: the folder is written once, and equals a single-process run of the same seeds bit for bit on
CPU (a seed's iterates do not depend on the batch it ran in: ``engine.sweep``).

Start, on each of n hosts (or n times on one machine, with distinct process ids)::

    JAXNEWTON_COORDINATOR=host0:12345 JAXNEWTON_NUM_PROCESSES=n JAXNEWTON_PROCESS_ID=i \\
        python -m jaxnewton run mlp_tanh --seeds 100000 --distributed

Without those variables ``--distributed`` lets ``jax.distributed.initialize()`` find the cluster itself (SLURM,
Open MPI, Cloud TPU).

A process that cannot reach the coordinator gives up after ``JAXNEWTON_DISTRIBUTED_TIMEOUT`` seconds (default
``JOIN_TIMEOUT_S``) with one line. A process killed mid-run (a preempted host) leaves its batch's checkpoint behind:
rerun every process with the same command, and each resumes its own batches (tested: the rerun equals a
one-process run bit for bit). The others notice the lost process only through the coordination service's
heartbeat (``HEARTBEAT_TIMEOUT_S``), so a scheduler that restarts a job restarts all of its processes.
"""

from __future__ import annotations

import os
import socket
import time

import jax
from jax.experimental import multihost_utils

ENV = ("JAXNEWTON_COORDINATOR", "JAXNEWTON_NUM_PROCESSES", "JAXNEWTON_PROCESS_ID")
TIMEOUT_ENV = "JAXNEWTON_DISTRIBUTED_TIMEOUT"
JOIN_TIMEOUT_S = 120  # how long a process waits for the coordinator and the others to join
HEARTBEAT_TIMEOUT_S = 100  # JAX's default: a process silent this long is taken for dead


def initialize() -> None:
    """Join the other processes (``ENV``, or JAX's cluster detection when none is set); idempotent."""
    if jax.distributed.is_initialized():
        return
    given = [os.environ.get(name) for name in ENV]
    if any(given) and not all(given):
        raise ValueError(f"--distributed: set all of {', '.join(ENV)} (or none, on a cluster JAX detects)")
    timeout = os.environ.get(TIMEOUT_ENV, str(JOIN_TIMEOUT_S))
    if not (timeout.isdigit() and int(timeout) >= 1):
        raise ValueError(f"{TIMEOUT_ENV}={timeout!r} must be a whole number of seconds ≥ 1")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes reach each other through gloo
    waits = {"initialization_timeout": int(timeout), "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT_S}
    where = {}
    if all(given):
        count, index = int(given[1]), int(given[2])
        if not 0 <= index < count:
            raise ValueError(f"--distributed: JAXNEWTON_PROCESS_ID={index} must be in [0, {count})")
        if index:  # JAX aborts the process (no Python error) when the coordinator is unreachable: look first
            _reach(given[0], int(timeout))
        where = {"coordinator_address": given[0], "num_processes": count, "process_id": index}
    try:
        jax.distributed.initialize(**where, **waits)
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"--distributed: could not join the other processes within {timeout} s "
                         f"({TIMEOUT_ENV}): {' '.join(str(error).split())[:300]}") from None


def _reach(address: str, timeout_s: int) -> None:
    """Return once the coordinator at ``host:port`` accepts a connection; a ValueError after ``timeout_s``."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--distributed: JAXNEWTON_COORDINATOR={address!r} must be host:port")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise ValueError(f"--distributed: cannot reach the coordinator at {address} within {timeout_s} s "
                                 f"({error.strerror or error}): start process 0 there first, check the address, or "
                                 f"raise {TIMEOUT_ENV}") from None
            time.sleep(0.5)


def index() -> int:
    """This process's index (0 without ``initialize``)."""
    return jax.process_index()


def count() -> int:
    """The number of processes (1 without ``initialize``)."""
    return jax.process_count()


def mine(n_batches: int) -> range:
    """The batches this process runs: b with b mod count() == index() (a range: a sweep may have 10⁸ batches)."""
    return range(index(), n_batches, count())


def barrier(name: str) -> None:
    """Wait until every process gets here (nothing to wait for in a single process)."""
    if count() > 1:
        multihost_utils.sync_global_devices(f"jaxnewton:{name}")
