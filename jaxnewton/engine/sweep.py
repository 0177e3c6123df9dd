"""Host-side driver of a vmapped seed batch: segments, compaction, chunks, devices, checkpoints.

The per-seed loop (``jaxnewton.engine.loop``) is pure; this module only decides which
seeds go into the next compiled segment and saves state between segments, so an
interrupted batch resumes at its last segment boundary.

Three facts about XLA on CPU shape it:

- Batch shape changes bits. XLA's kernels sum in another order for another batch
  size, and Newton on these problems amplifies the last bit into a different
  trajectory (measured on E3: |Δθ| up to 15 after 300 steps; with the structured
  Hessian, 3 of 10 seeds ended with another status in a batch of 16 than in one of 128).
  So on CPU a seed is never computed in a batch of any other shape than ``CHUNK``:
  each device's share is a sequence (``lax.map``) of vmapped chunks of ``CHUNK``
  seeds, each with its own ``while_loop``, and shares are padded to whole chunks.
  Then a seed's iterates are bitwise identical whatever the number of seeds, their
  order, the compaction and the device count (measured, and tested bit for bit).
- Chunks are also faster: a chunk of 16 seeds' Hessians and intermediates stays in
  cache. On 2 cores, E3: 0.41–0.44 ms per seed-iteration at 16–256 seeds in chunks of
  16, vs 0.52–0.67 ms as one vmap (``scripts/bench.py``).
- A vmapped ``while_loop`` steps every element until the slowest is done. Between
  segments the still-running seeds are gathered into the smallest bucket of 2^k or
  3·2^k chunks per device that holds them (``bucket_size``), so finished seeds stop
  costing compute; there are at most 2 log₂(batch) bucket shapes, each compiled once.
  Within a segment that wait is every step's when a seed's step is itself a loop of its own
  length (MINRES on a Krylov Newton step: 369–2 728 products a step by seed at width 40). Such a
  loop is ``uneven``: on CPU its seeds run one at a time, each in its own ``while_loop``, padded
  by single seeds whose padding rows arrive finished (E3 at width 40, 4 seeds, 200 steps: 21.6 s
  against 386 s in vmapped chunks). A dense Hessian by ``jax.hessian`` (a model of your own) runs
  that way too: one seed's P tangents already fill the cache (``optim.registry.seed_by_seed``).

Seeds are split across every device of the process (a one-axis ``Mesh``; ``shard_map`` runs
each device's share with its own loops and no collective), so the same code uses
several GPUs; several processes or hosts each run their own batches (``engine.distributed``). On GPU/TPU the default is one vmap over a device's whole share (``chunk=None``):
throughput there comes from wide batches, and bitwise invariance to the batch shape
is not promised.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import numpy as np
from jax._src import xla_bridge
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxnewton.engine import preempt
from jaxnewton.engine.io import file_identity, read_checked_npz, set_aside, write_checked_npz
from jaxnewton.engine.loop import MAX_STEPS, RUNNING, STATUS, Loop, RunState

CHUNK = 16  # seeds per vmapped chunk on CPU, and the smallest per-device batch
MIN_BATCH = CHUNK
# Seeds diagnosed at once where the loop runs one vmap (GPU): E3's diagnostics hold about 5.8 MB a seed, and
# 50 000 at once asked an H200 for 270 GiB (scripts/gpu.sh, 2026-11-30).
DIAGNOSE_CHUNK = 4096
SEED_AXIS = "seeds"


CPU_DEVICES_ENV = "JAXNEWTON_CPU_DEVICES"


def use_every_core() -> int | None:
    """Give JAX one CPU device per core, so a CPU sweep runs a chunk on each core at once; call before any JAX work.

    One CPU device runs its chunks one after another, and most of a small Newton step (LAPACK's LU, small
    products) is single-threaded: on 2 cores E3 ran 1.6–1.8× faster per seed-step on 2 devices than on one at 64–256
    seeds (docs/performance.md). Seeds' iterates are bitwise the same on any device count (tested). ``JAXNEWTON_CPU_DEVICES``
    sets the count (1: one device); an explicit ``--xla_force_host_platform_device_count`` in ``XLA_FLAGS`` wins.

    Returns:
      The device count asked for, or None when left as it was (set by the user, or JAX already started).
    """
    given = os.environ.get(CPU_DEVICES_ENV, "")
    if given and not (given.isdigit() and int(given) >= 1):
        raise ValueError(f"{CPU_DEVICES_ENV}={given!r} must be an integer ≥ 1 (the CPU devices to split seeds across)")
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return None
    count = int(given) if given else len(os.sched_getaffinity(0))
    if xla_bridge.backends_are_initialized():  # too late to change (JAX has no public test for this)
        return None
    jax.config.update("jax_num_cpu_devices", count)
    return count


XLA_CACHE_ENV = "JAXNEWTON_XLA_CACHE"


def use_compilation_cache(path: str | Path | None = None) -> Path | None:
    """Keep XLA's compiled programs on disk (JAX's persistent compilation cache), keyed by the program itself.

    Every process (each ``make`` target, each ``python -m jaxnewton``) compiles its programs afresh; with the disk
    cache a program compiled once on this machine is loaded instead, by any later run or invocation. Measured
    (docs/performance.md): ``make paper-quick`` 358 s without it, 341 s with an empty cache, 257 s with the cache its
    previous run filled, every summary identical. The key covers the program, the JAX and XLA versions, flags and
    devices, so a hit is the same executable. ``path`` or ``JAXNEWTON_XLA_CACHE`` names the folder (``off``: no
    cache); by default ``$XDG_CACHE_HOME/jaxnewton/xla`` (``~/.cache/jaxnewton/xla``).

    Returns:
      The folder, or None when off.
    """
    given = str(path) if path is not None else os.environ.get(XLA_CACHE_ENV, "")
    if given == "off":
        return None
    folder = Path(given) if given else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jaxnewton" / "xla"
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True)
    except OSError as error:  # a read-only home: run without the cache rather than not at all
        warnings.warn(f"no XLA compilation cache ({error}); set {XLA_CACHE_ENV} to a writable folder to keep one")
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:  # JAX's own variable wins
        # Programs that compile in under half a second (eager operations, small helpers) are not worth a file each.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return folder


def seed_mesh(devices: list | None = None) -> Mesh:
    """A one-axis mesh over ``devices`` (default: this process's devices) that seeds are split across."""
    return Mesh(np.array(devices if devices is not None else jax.local_devices()), (SEED_AXIS,))


def seed_mesh_for(n_seeds: int, uneven: bool = False) -> Mesh:
    """``seed_mesh()`` over no more devices than ``n_seeds`` fills with whole granules: chunks of ``MIN_BATCH``
    seeds, or single seeds for a loop that runs seed by seed (``make_batch_fns(uneven=True)`` on CPU).

    Every device computes at least one whole chunk, so 16 seeds on two devices would leave the second computing 16
    padding copies beside the first: on one device the same seeds cost the same wall time and free the other core.
    """
    devices = jax.local_devices()
    granule = _granule(seed_mesh(devices), uneven)
    return seed_mesh(devices[:max(1, min(len(devices), -(-n_seeds // granule)))])


def _granule(mesh: Mesh, uneven: bool) -> int:
    """Seeds a device's rows come in: single seeds for a loop run seed by seed on CPU, else ``MIN_BATCH``."""
    return 1 if default_chunk(mesh, uneven) == 1 else MIN_BATCH


def _ladder(c: int) -> int:
    """The smallest number ≥ c of the form 2^k or 3·2^k (1, 2, 3, 4, 6, 8, 12, 16, 24, …)."""
    power = 1 << max(c - 1, 0).bit_length()
    return 3 * power // 4 if power >= 4 and 3 * power // 4 >= c else power


def bucket_size(n: int, cap: int, n_devices: int = 1, granule: int = MIN_BATCH) -> int:
    """The batch shape for ``n`` seeds on ``n_devices``.

    Each device gets a whole number of granules (``MIN_BATCH``-seed chunks; single seeds for a loop run seed by
    seed), so no seed is ever computed in a batch of another shape: the smallest count of the form 2^k or 3·2^k
    that holds its share (so a batch wastes at most a third on padding and a sweep compiles at most
    2 log₂ shapes), but no more granules than its share of ``cap`` needs.
    """
    share, share_cap = -(-n // n_devices), -(-cap // n_devices)
    granules = min(_ladder(-(-share // granule)), -(-share_cap // granule))
    return max(granules, 1) * granule * n_devices


def batch_rows(n_seeds: int, uneven: bool = False) -> int:
    """The rows a batch of ``n_seeds`` occupies on ``seed_mesh_for(n_seeds, uneven)``, padding included
    (``bucket_size``): a padding row holds a state like a seed's."""
    mesh = seed_mesh_for(n_seeds, uneven)
    return bucket_size(n_seeds, n_seeds, mesh.size, _granule(mesh, uneven))


def pad_rows(tree, size: int):
    """Pad every leaf's leading axis to ``size`` by repeating row 0 (padding rows are discarded)."""
    def pad(a):
        a = np.asarray(a)
        return a if a.shape[0] >= size else np.concatenate([a, np.repeat(a[:1], size - a.shape[0], axis=0)])
    return jax.tree.map(pad, tree)


def _place_rows(rows, size: int, mesh: Mesh):
    """``rows`` padded to ``size`` (``pad_rows``) and split by rows across ``mesh``."""
    return jax.device_put(pad_rows(rows, size), NamedSharding(mesh, PartitionSpec(SEED_AXIS)))


def _rows_on_host(tree, n: int):
    """The first ``n`` rows of every leaf, as numpy arrays (the rest is padding)."""
    return jax.tree.map(lambda a: np.asarray(a)[:n], tree)


def _chunked(fn: Callable, chunk: int | None) -> Callable:
    """Per-row ``fn(x, *args)`` over a leading row axis of x: ``lax.map`` over vmapped chunks of ``chunk`` rows,
    or one vmap (None)."""
    def batched(xs, *args):
        if chunk is None:
            return jax.vmap(fn, in_axes=(0,) + (None,) * len(args))(xs, *args)
        return jax.lax.map(lambda x: fn(x, *args), xs, batch_size=chunk)
    return batched


def _sharded(fn: Callable, mesh: Mesh, in_specs) -> Callable:
    """jit(shard_map(fn)): each device runs ``fn`` on its slice of the rows; outputs split by rows likewise."""
    # check_vma=False: optax's zoom line search has lax.cond branches whose outputs differ in
    # "varying over seeds" type, which the check rejects; nothing here communicates across devices.
    return jax.jit(jax.shard_map(fn, mesh=mesh, in_specs=in_specs, out_specs=PartitionSpec(SEED_AXIS),
                                 check_vma=False))


def map_rows(fn: Callable, chunk: int | None | str = "auto", mesh: Mesh | None = None) -> Callable:
    """``fn`` of one row mapped over the rows of its arguments (one leading axis, the same on every argument),
    split across ``mesh``'s devices (default: all of this process's), in vmapped chunks of ``chunk`` rows
    (``lax.map``; None: one vmap of a device's whole share; "auto": one row at a time on CPU, where that keeps a
    row's work in cache, one vmap elsewhere): jitted once, called with host or device arrays.

    The rows are padded to a whole number of chunks per device (copies of row 0, dropped again), and the
    result comes back as host (numpy) arrays of the given rows. For work that is not a seed sweep and
    outlives one call, e.g. the path finder: vmapping a chunk of 20 digits pairs on one CPU device took 0.59–0.66 s
    an ADAM step, this on two devices one pair at a time 0.34–0.38 s, with the same bits (docs/performance.md).
    """
    mesh = mesh if mesh is not None else seed_mesh()
    if chunk == "auto":
        chunk = 1 if default_chunk(mesh) else None
    rows = PartitionSpec(SEED_AXIS)
    run = _sharded(_chunked(lambda row: fn(*row), chunk), mesh, rows)
    whole = mesh.size * (chunk or 1)

    def mapped(*args):
        n = len(args[0])
        return _rows_on_host(run(_place_rows(args, -(-n // whole) * whole, mesh)), n)

    return mapped


class BatchFns(NamedTuple):
    """Jitted entry points for one (loop, diagnose) pair, vmapped over seeds and sharded over ``mesh``."""

    init: Callable[[jax.Array], RunState]
    advance: Callable[[RunState, jax.Array], RunState]
    diagnose: Callable[[jax.Array], Any] | None
    mesh: Mesh
    granule: int = MIN_BATCH  # a device's rows are a whole number of these (bucket_size)

    @property
    def n_devices(self) -> int:
        return self.mesh.size


def default_chunk(mesh: Mesh, uneven: bool = False) -> int | None:
    """``CHUNK`` on CPU devices (bitwise batch invariance, cache-sized work), 1 there for an ``uneven`` loop (one seed
    at a time, ``make_batch_fns``), None (one vmap) elsewhere."""
    if mesh.devices.flat[0].platform != "cpu":
        return None
    return 1 if uneven else CHUNK


def make_batch_fns(
    loop: Loop,
    diagnose: Callable[[jax.Array], Any] | None = None,
    mesh: Mesh | None = None,
    chunk: int | None | str = "auto",
    uneven: bool = False,
) -> BatchFns:
    """jit(shard_map(chunks of vmap(...))) of the loop's init / advance and of the diagnostics: the one place that jits.

    Each device runs its own slice of seeds with its own ``while_loop`` per chunk (no
    collective inside the loop), so a chunk stops as soon as its own seeds are done.

    ``init`` and ``diagnose`` take a pair (θ, context) of seed rows, the context being ``()``
    or a pytree with a leading seed axis (``loop.make_context_loop``).

    Args:
      loop: the per-seed loop.
      diagnose: per-seed end-of-run measures ``diagnose(theta, context)`` (any pytree of
        arrays), or None for none.
      mesh: devices to split seeds across (``seed_mesh()`` by default: all of them).
      chunk: seeds per vmapped chunk within a device; None vmaps a device's whole share
        at once (the diagnostics still go ``DIAGNOSE_CHUNK`` seeds at a time); "auto" is
        ``default_chunk(mesh, uneven)``.
      uneven: a seed's step costs what its own inner solve needs (MINRES iterations on a Krylov Newton step). In a
        vmapped chunk every seed would wait for the slowest seed's solve at every step (E3 at width 40, 4 seeds:
        369–2 728 mean MINRES iterations a step by seed), so on CPU ("auto") the seeds run one at a time, each
        with its own loop, the rows are padded by single seeds rather than chunks (``bucket_size``), and
        ``seed_mesh_for(n, uneven=True)`` uses every device from two seeds up. On GPU one vmap stays the default.
        ``optim.registry.seed_by_seed`` says when (a ``jax.hessian`` step too).
    """
    mesh = mesh if mesh is not None else seed_mesh()
    chunk = default_chunk(mesh, uneven) if chunk == "auto" else chunk
    if chunk is not None and (not isinstance(chunk, int) or chunk < 1 or MIN_BATCH % chunk):
        raise ValueError(f"chunk={chunk!r} must divide MIN_BATCH={MIN_BATCH} (so every bucket is whole chunks), "
                         "or be None (one vmap) or 'auto'")
    seeds = PartitionSpec(SEED_AXIS)

    def sharded(fn, in_specs, rows_at_once=chunk):
        return _sharded(_chunked(fn, rows_at_once), mesh, in_specs)

    return BatchFns(
        init=sharded(lambda row: loop.init(*row), seeds),
        advance=sharded(loop.advance, (seeds, PartitionSpec())),
        diagnose=(sharded(lambda row: diagnose(*row), seeds, chunk or DIAGNOSE_CHUNK)
                  if diagnose is not None else None),
        mesh=mesh,
        granule=chunk if chunk == 1 else MIN_BATCH,
    )


def _run_rows(fns: BatchFns, fn: Callable, rows, size: int, *args):
    """Pad ``rows`` to ``size``, place them across the mesh, run ``fn``; the first rows' results, on the host."""
    return _rows_on_host(fn(_place_rows(rows, size, fns.mesh), *args), len(jax.tree.leaves(rows)[0]))


def init_batch(fns: BatchFns, theta0_SxP, context: Any = ()) -> RunState:
    """Initial states for S seeds (with their contexts, leading axis S, if any), as host (numpy) arrays."""
    n = len(theta0_SxP)
    return _run_rows(fns, fns.init, (np.asarray(theta0_SxP), context), bucket_size(n, n, fns.n_devices, fns.granule))


def advance_running(fns: BatchFns, state: RunState, until: int, since: int | None = None) -> RunState:
    """Advance only the still-running seeds of ``state`` to step ``until``; others are untouched.

    Between segments the state lives on the host, so the running seeds can be gathered
    into a smaller bucket (finished seeds cost nothing) and every segment ends with a
    state that can be checkpointed.

    Args:
      fns: the batch functions.
      state: a RunState with a leading seed axis S (host or device arrays).
      until: the step bound of this segment.
      since: gather the seeds that were running at step ``since`` (those still running, and those that finished after
        it, which stay as they are), not only those running now: the batch keeps the shape it had at ``since``.

    Returns:
      The updated RunState as host arrays (same S), equal to advancing the whole batch.
    """
    state = jax.tree.map(np.asarray, state)
    if not (state.status == RUNNING).any():
        return state
    running = np.flatnonzero((state.status == RUNNING) | (since is not None and state.steps > since))
    size = bucket_size(running.size, state.status.shape[0], fns.n_devices, fns.granule)
    rows = pad_rows(jax.tree.map(lambda a: a[running], state), size)
    rows.status[running.size:] = MAX_STEPS  # finished padding: run seed by seed, it costs nothing
    sub = _rows_on_host(fns.advance(_place_rows(rows, size, fns.mesh), np.asarray(until, np.int32)), running.size)

    def scatter(a, s):
        a = a.copy()
        a[running] = s
        return a

    return jax.tree.map(scatter, state, sub)


# A segment's wall time at most (about): a checkpoint and a progress line each. Below the 30 s that Slurm (KillWait)
# and Kubernetes (terminationGracePeriodSeconds) leave by default between SIGTERM and SIGKILL, so a preempted run
# usually reaches its next checkpoint (engine.preempt).
SEGMENT_SECONDS = 25.0
FIRST_SEGMENT = 8  # steps of the first segment of a run whose step time is not known yet
SEGMENT_GROWTH = 8  # a segment is at most this many times as long as the one before


def next_segment(steps_done: int, seconds: float, segment_steps: int, segment_seconds: float) -> int:
    """Steps of the next segment: at most ``segment_steps``, and about ``segment_seconds`` at the speed of the last
    segment (``steps_done`` steps in ``seconds``; 0 before the first), growing at most ``SEGMENT_GROWTH``-fold.

    The first segment's time includes compilation, so its speed is an underestimate and the next segment shorter
    than needed; the growth limit keeps one fast segment (seeds finishing) from licensing a very long one.
    """
    if segment_seconds <= 0:
        return segment_steps
    if steps_done <= 0:
        return min(segment_steps, FIRST_SEGMENT)
    fits = int(segment_seconds * steps_done / max(seconds, 1e-9))
    return max(1, min(segment_steps, fits, SEGMENT_GROWTH * steps_done))


def advance_to_end(
    fns: BatchFns, state: RunState, max_steps: int, segment_steps: int, after_segment: Callable[[RunState], None],
    segment_seconds: float = 0.0,
) -> RunState:
    """Advance in segments until no seed runs, calling ``after_segment`` after each.

    A segment is ``segment_steps`` steps, or (``segment_seconds`` > 0) fewer, sized by the measured speed to last
    about ``segment_seconds`` (``next_segment``), and never past the next multiple of ``segment_steps``. Finished
    seeds leave the batch only at those multiples, so the batch shapes, which decide the bits where a seed's
    iterates depend on them (one vmap on a GPU), follow the steps alone, not the clock. ``after_segment`` is where a
    caller checkpoints and reports progress; the segment bounds are steps, never part of any seed's trajectory (on
    CPU a seed's iterates are bitwise the same for any segment lengths, tested).
    """
    state = jax.tree.map(np.asarray, state)
    done, seconds = 0, 0.0
    while (state.status == RUNNING).any():
        now = int(np.max(state.steps[state.status == RUNNING]))
        epoch = now // segment_steps * segment_steps  # the last multiple of segment_steps: where the batch was gathered
        until = min(now + next_segment(done, seconds, segment_steps, segment_seconds), epoch + segment_steps,
                    max_steps)
        tic = time.perf_counter()
        state = advance_running(fns, state, until, since=epoch)
        done, seconds = until - now, time.perf_counter() - tic
        after_segment(state)
    return state


class Checkpointed(NamedTuple):
    """What ``run_checkpointed`` returns."""

    state: RunState
    start: float  # time.perf_counter() origin of the run's clock: elapsed = perf_counter() − start
    extra: dict[str, np.ndarray]  # the extra arrays of the checkpoint it resumed from (empty if fresh)


def run_checkpointed(fns: BatchFns, state: RunState, checkpoint: Path, max_steps: int, segment_steps: int,
                     label: str, log: Callable[[str], None],
                     on_segment: Callable[[RunState], None] | None = None,
                     segment_seconds: float = SEGMENT_SECONDS) -> Checkpointed:
    """Resume ``state`` from ``checkpoint`` if a good one exists, then advance to the end, checkpointing every
    segment; a stop signal (``engine.preempt``) ends the run right after a checkpoint.

    Args:
      fns, state: the batch functions and the batch's fresh state (the template of the checkpoint).
      checkpoint: the .npz to resume from and save to (``save_state``, ``load_state``).
      max_steps, segment_steps, segment_seconds: as in ``advance_to_end``.
      label: the start of this batch's progress lines.
      log: where progress lines go.
      on_segment: called with the state after every saved segment (progress displays).
    """
    seconds, extra = 0.0, {}
    resumed = load_state(checkpoint, state, log)
    if resumed is not None:
        state, seconds, extra = resumed
        log(f"{label}: resumed at step {int(np.max(state.steps))}")
    start = time.perf_counter() - seconds

    def after_segment(s: RunState) -> None:
        save_state(checkpoint, s, time.perf_counter() - start)
        log(f"{label}: step {int(np.max(s.steps))}/{max_steps}, {status_counts(s)}, "
            f"{time.perf_counter() - start:.1f} s")
        if on_segment is not None:
            on_segment(s)
        preempt.checkpoint_reached(f"{label.strip()}, step {int(np.max(s.steps))}")

    return Checkpointed(advance_to_end(fns, state, max_steps, segment_steps, after_segment, segment_seconds), start,
                        extra)


def status_counts(state: RunState) -> str:
    """"running 3, converged 10, …": the statuses of a batch, for progress lines."""
    counts = np.bincount(np.asarray(state.status), minlength=len(STATUS))
    return ", ".join(f"{name} {counts[i]}" for i, name in enumerate(STATUS))


def previous_checkpoint(path: Path) -> Path:
    """Where ``save_state`` keeps the checkpoint before the latest: ``<stem>.prev.npz``."""
    return Path(path).with_name(f"{Path(path).stem}.prev.npz")


def save_state(path: Path, state: RunState, seconds: float, extra: dict[str, Any] | None = None) -> None:
    """Checkpoint a batch's RunState (host arrays), its elapsed seconds and named extra arrays, atomically and
    checked (``io.write_checked_npz``); the checkpoint it replaces is kept as ``previous_checkpoint(path)``, so a
    damaged latest one costs one segment, not the run."""
    arrays = {f"state_{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(state))}
    arrays["seconds"] = np.asarray(seconds)
    arrays.update({f"extra_{k}": np.asarray(v) for k, v in (extra or {}).items()})
    if path.exists():
        os.replace(path, previous_checkpoint(path))
    write_checked_npz(path, arrays)


def load_state(path: Path, template: RunState, log: Callable[[str], None]
               ) -> tuple[RunState, float, dict[str, np.ndarray]] | None:
    """The latest good checkpoint ``save_state`` wrote at ``path`` (else the one before it), or None for none.

    A checkpoint that fails to load, fails its checksum, or does not match ``template`` (the fresh state of the
    same batch: another batch's shape or layout) is set aside with one line on ``log`` (``io.read_checked_npz``).
    """
    for candidate in (path, previous_checkpoint(path)):  # the one before was written as the latest: its identity
        data = read_checked_npz(candidate, log, file_identity(path))
        if data is None:
            continue
        leaves, treedef = jax.tree.flatten(template)
        restored = [np.asarray(data.get(f"state_{i}")) for i in range(len(leaves))]
        if any(r.shape != np.shape(t) or r.dtype != np.asarray(t).dtype for r, t in zip(restored, leaves)) \
                or "seconds" not in data:
            log(f"warning: {candidate} does not match this batch's state: set aside as {set_aside(candidate).name}")
            continue
        extra = {k[len("extra_"):]: v for k, v in data.items() if k.startswith("extra_")}
        return jax.tree.unflatten(treedef, restored), float(data["seconds"]), extra
    return None


def discard_checkpoints(path: Path) -> None:
    """Remove a finished batch's checkpoint and the one before it (its result holds everything still needed)."""
    for candidate in (path, previous_checkpoint(path)):
        candidate.unlink(missing_ok=True)


def diagnose_batch(fns: BatchFns, theta_SxP, context: Any = ()):
    """``fns.diagnose`` of S final iterates (with their contexts, if any), as host arrays."""
    n = len(theta_SxP)
    return _run_rows(fns, fns.diagnose, (np.asarray(theta_SxP), context), bucket_size(n, n, fns.n_devices, fns.granule))
