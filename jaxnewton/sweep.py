"""Host-side driver of a vmapped seed batch: segments, compaction and checkpoints.

The per-seed loop (``jaxnewton.runner``) is pure; this module only decides which
seeds go into the next compiled segment and saves state between segments, so an
interrupted batch resumes at its last segment boundary.

Two facts about XLA on CPU shape it:

- Batch shape can change bits. XLA's kernels for batches of 1 to 4 seeds sum in
  another order than for larger batches, and Newton on these problems amplifies the
  last bit into a different trajectory (measured on E3: |Δθ| up to 15 after 300
  steps). Every batch is therefore padded to at least ``MIN_BATCH`` seeds. For
  batches of 5 and more the iterates were bitwise identical across batch sizes and
  seed positions in our measurements; XLA does not promise that (the loss value can
  differ in its last bit), so tests require agreement to rounding, and the README
  reports how often a long run ends at another kind of point when its batch differs.
- A vmapped ``while_loop`` steps every element until the slowest is done. Between
  segments the still-running seeds are gathered into the smallest power-of-two bucket
  (≥ ``MIN_BATCH``) that holds them, so finished seeds stop costing compute; there are
  at most log₂(batch) bucket shapes, each compiled once.

Seeds are split across every visible device (a one-axis ``Mesh``; ``shard_map`` runs
each device's share with its own ``while_loop``), padded so each device holds at least
``MIN_BATCH`` seeds. A seed's trajectory does not depend on the device count (tested
with 4 host devices).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxnewton.diagnostics import Diagnostics
from jaxnewton.runner import RUNNING, Loop, RunState

MIN_BATCH = 8
SEED_AXIS = "seeds"


def seed_mesh(devices: list | None = None) -> Mesh:
    """A one-axis mesh over ``devices`` (default: every device JAX sees) that seeds are split across."""
    return Mesh(np.array(devices if devices is not None else jax.devices()), (SEED_AXIS,))


def bucket_size(n: int, cap: int, n_devices: int = 1) -> int:
    """The batch shape for ``n`` seeds on ``n_devices``.

    Each device gets the next power of two ≥ its share, at least MIN_BATCH (so no device
    ever runs a batch of 1–4, whose kernels sum in another order), and at most its share
    of ``cap``.
    """
    share, share_cap = -(-n // n_devices), -(-cap // n_devices)
    per_device = max(MIN_BATCH, min(share_cap, 1 << max(share - 1, 0).bit_length()))
    return per_device * n_devices


def pad_rows(tree, size: int):
    """Pad every leaf's leading axis to ``size`` by repeating row 0 (padding rows are discarded)."""
    def pad(a):
        a = np.asarray(a)
        return a if a.shape[0] >= size else np.concatenate([a, np.repeat(a[:1], size - a.shape[0], axis=0)])
    return jax.tree.map(pad, tree)


class BatchFns(NamedTuple):
    """Jitted entry points for one (loop, diagnose) pair, vmapped over seeds and sharded over ``mesh``."""

    init: Callable[[jax.Array], RunState]
    advance: Callable[[RunState, jax.Array], RunState]
    diagnose: Callable[[jax.Array], Diagnostics]
    mesh: Mesh

    @property
    def n_devices(self) -> int:
        return self.mesh.size


def make_batch_fns(loop: Loop, diagnose: Callable[[jax.Array], Diagnostics], mesh: Mesh | None = None) -> BatchFns:
    """jit(shard_map(vmap(...))) of the loop's init / advance and of the diagnostics: the one place that jits.

    Each device runs its own slice of seeds with its own ``while_loop`` (no collective
    inside the loop), so a device stops as soon as its own seeds are done.

    Args:
      loop: the per-seed loop.
      diagnose: per-seed diagnostics.
      mesh: devices to split seeds across (``seed_mesh()`` by default: all of them).
    """
    mesh = mesh if mesh is not None else seed_mesh()
    seeds = PartitionSpec(SEED_AXIS)

    def sharded(fn, in_specs):
        return jax.jit(jax.shard_map(fn, mesh=mesh, in_specs=in_specs, out_specs=seeds))

    return BatchFns(
        init=sharded(jax.vmap(loop.init), seeds),
        advance=sharded(jax.vmap(loop.advance, in_axes=(0, None)), (seeds, PartitionSpec())),
        diagnose=sharded(jax.vmap(diagnose), seeds),
        mesh=mesh,
    )


def _run_rows(fns: BatchFns, fn: Callable, rows, size: int, *args):
    """Pad ``rows`` to ``size``, place them across the mesh, run ``fn``; the first rows' results, on the host."""
    n = len(jax.tree.leaves(rows)[0])
    placed = jax.device_put(pad_rows(rows, size), NamedSharding(fns.mesh, PartitionSpec(SEED_AXIS)))
    return jax.tree.map(lambda a: np.asarray(a)[:n], fn(placed, *args))


def init_batch(fns: BatchFns, theta0_SxP) -> RunState:
    """Initial states for S seeds, as host (numpy) arrays."""
    n = len(theta0_SxP)
    return _run_rows(fns, fns.init, np.asarray(theta0_SxP), bucket_size(n, n, fns.n_devices))


def advance_running(fns: BatchFns, state: RunState, until: int) -> RunState:
    """Advance only the still-running seeds of ``state`` to step ``until``; others are untouched.

    Between segments the state lives on the host, so the running seeds can be gathered
    into a smaller bucket (finished seeds cost nothing) and every segment ends with a
    state that can be checkpointed.

    Args:
      fns: the batch functions.
      state: a RunState with a leading seed axis S (host or device arrays).
      until: the step bound of this segment.

    Returns:
      The updated RunState as host arrays (same S), equal to advancing the whole batch.
    """
    state = jax.tree.map(np.asarray, state)
    running = np.flatnonzero(state.status == RUNNING)
    if running.size == 0:
        return state
    size = bucket_size(running.size, state.status.shape[0], fns.n_devices)
    sub = _run_rows(fns, fns.advance, jax.tree.map(lambda a: a[running], state), size, np.asarray(until, np.int32))

    def scatter(a, s):
        a = a.copy()
        a[running] = s
        return a

    return jax.tree.map(scatter, state, sub)


def diagnose_batch(fns: BatchFns, theta_SxP) -> Diagnostics:
    """Diagnostics for S final iterates, as host arrays."""
    n = len(theta_SxP)
    return _run_rows(fns, fns.diagnose, np.asarray(theta_SxP), bucket_size(n, n, fns.n_devices))
