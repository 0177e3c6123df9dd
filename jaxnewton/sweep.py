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
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.diagnostics import Diagnostics
from jaxnewton.runner import RUNNING, Loop, RunState

MIN_BATCH = 8


def bucket_size(n: int, cap: int) -> int:
    """The batch shape for ``n`` seeds: the next power of two ≥ n, at least MIN_BATCH, at most cap."""
    return min(cap, max(MIN_BATCH, 1 << max(n - 1, 0).bit_length()))


def pad_rows(tree, size: int):
    """Pad every leaf's leading axis to ``size`` by repeating row 0 (padding rows are discarded)."""
    def pad(a):
        n = a.shape[0]
        return a if n >= size else jnp.concatenate([a, jnp.repeat(a[:1], size - n, axis=0)])
    return jax.tree.map(pad, tree)


class BatchFns(NamedTuple):
    """Jitted, vmapped entry points for one (loop, diagnose) pair."""

    init: Callable[[jax.Array], RunState]
    advance: Callable[[RunState, jax.Array], RunState]
    diagnose: Callable[[jax.Array], Diagnostics]


def make_batch_fns(loop: Loop, diagnose: Callable[[jax.Array], Diagnostics]) -> BatchFns:
    """jit(vmap(...)) of the loop's init / advance and of the diagnostics: the one place that jits."""
    return BatchFns(
        init=jax.jit(jax.vmap(loop.init)),
        advance=jax.jit(jax.vmap(loop.advance, in_axes=(0, None))),
        diagnose=jax.jit(jax.vmap(diagnose)),
    )


def init_batch(fns: BatchFns, theta0_SxP: jax.Array) -> RunState:
    """Initial states for S seeds, computed in a batch of at least MIN_BATCH rows."""
    n = theta0_SxP.shape[0]
    state = fns.init(pad_rows(theta0_SxP, max(n, MIN_BATCH)))
    return jax.tree.map(lambda a: a[:n], state)


def advance_running(fns: BatchFns, state: RunState, until: int) -> RunState:
    """Advance only the still-running seeds of ``state`` to step ``until``; others are untouched.

    Args:
      fns: the batch functions.
      state: a RunState with a leading seed axis S.
      until: the step bound of this segment.

    Returns:
      The updated RunState (same S), equal to advancing the whole batch.
    """
    running = np.flatnonzero(np.asarray(state.status) == RUNNING)
    if running.size == 0:
        return state
    size = bucket_size(running.size, max(state.status.shape[0], MIN_BATCH))
    rows = jnp.asarray(running)
    sub = pad_rows(jax.tree.map(lambda a: a[rows], state), size)
    sub = fns.advance(sub, jnp.asarray(until, jnp.int32))
    return jax.tree.map(lambda a, s: a.at[rows].set(s[: running.size]), state, sub)


def diagnose_batch(fns: BatchFns, theta_SxP: jax.Array) -> Diagnostics:
    """Diagnostics for S final iterates, computed in a batch of at least MIN_BATCH rows."""
    n = theta_SxP.shape[0]
    return jax.tree.map(lambda a: a[:n], fns.diagnose(pad_rows(theta_SxP, max(n, MIN_BATCH))))
