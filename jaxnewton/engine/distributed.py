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
"""

from __future__ import annotations

import os

import jax
from jax.experimental import multihost_utils

ENV = ("JAXNEWTON_COORDINATOR", "JAXNEWTON_NUM_PROCESSES", "JAXNEWTON_PROCESS_ID")


def initialize() -> None:
    """Join the other processes (``ENV``, or JAX's cluster detection when none is set); idempotent."""
    if jax.distributed.is_initialized():
        return
    given = [os.environ.get(name) for name in ENV]
    if any(given) and not all(given):
        raise ValueError(f"--distributed: set all of {', '.join(ENV)} (or none, on a cluster JAX detects)")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes reach each other through gloo
    try:
        if all(given):
            count, index = int(given[1]), int(given[2])
            if not 0 <= index < count:
                raise ValueError(f"--distributed: JAXNEWTON_PROCESS_ID={index} must be in [0, {count})")
            jax.distributed.initialize(coordinator_address=given[0], num_processes=count, process_id=index)
        else:
            jax.distributed.initialize()
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"--distributed: could not join the other processes: {' '.join(str(error).split())}") \
            from None


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
