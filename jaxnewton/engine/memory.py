"""What a seed sweep will hold in memory, estimated before anything compiles, and the check that refuses a run that
cannot fit.

A sweep's memory is dominated by whatever it forms per seed in flight: a dense Hessian (P × P) for every row of a
chunk the step runs at once, the end points' dense spectrum (``jax.hessian``, whose forward-over-reverse
intermediates hold P tangents of every hidden layer at every node), a Lanczos basis, a quasi-Newton P × P state per
seed. ``estimate`` adds those up from the config alone. Its constants are XLA's own buffer sizes (``memory_analysis``
of the compiled segment and diagnostics) on E3-shaped regression networks of 1–3 hidden layers, P = 120 … 3 840,
Q = 50 … 200, fitted to within 15% of each, and on E6's and E7's PINNs at width 20 and 40 (within 17%); the test
suite checks the estimate against XLA's for two regression networks and a PINN, and ``scripts/memory_check.py``
against the measured peak of real runs. ``check`` refuses a run whose estimate exceeds the machine's available memory (or the
config's ``memory_limit``) in one line that names the estimate, its largest part and the way out.

Rows in flight: on CPU each device runs one chunk of ``CHUNK`` seeds at a time (1 for a seed-by-seed Krylov loop),
all devices at once in one process's memory; on an accelerator a device holds its whole share of the batch.
"""

from __future__ import annotations

import os
import resource
from typing import NamedTuple

import jax

from jaxnewton.core.diagnostics import LANCZOS_STEPS
from jaxnewton.engine.config import Config
from jaxnewton.engine.sweep import CHUNK, DIAGNOSE_CHUNK, batch_rows, default_chunk, seed_mesh_for
from jaxnewton.optim import registry

GiB = 2 ** 30
ITEMSIZE = {"float64": 8, "float32": 4}
# Fitted to XLA's temporary buffers (bytes per row in flight / itemsize) on regression MLPs (module docstring).
STEP_PXP = 2.1  # a dense second-order step: H, its shifted copy and the factorisation
STEP_NODES = 0.4  # … plus the structured Hessian's per-node pair products, per node and hidden width squared
SPECTRUM_TANGENTS = 2.6  # jax.hessian's forward-over-reverse intermediates, per parameter, node and hidden unit
SPECTRUM_PXP = 1.0  # … plus the formed Hessian for eigvalsh
# The structured Hessian of m > 1 outputs (each output's blocks under vmap, core.curvature) holds about this many
# P-vectors per node and output: fitted to XLA's buffers of digits' step (m = 10), 2026-12-05.
STEP_OUTPUT_TANGENTS = 2.7
# A PINN's tangents also carry the x-derivative streams: its nodes count this times D(1 + 2D) each; its structured
# step pushes tangents through the streams (``core.curvature.make_pinn_hessian``): this many per parameter and node.
# Fitted to XLA's buffers of E6's and E7's networks at width 20 and 40: spectra within 3%, steps within 17%.
PINN_STREAMS = 0.82
PINN_STEP_TANGENTS = 8.0
KRYLOV_VECTORS = 10  # MINRES (or the SFN Lanczos step beyond its basis) keeps about this many P-vectors
HOST_VECTORS = 6  # θ₀, θ, ∇L and the solver's vectors per seed in the batch held on the host
# A dense quasi-Newton state (BFGS's inverse Hessian): P × P matrices per seed of the batch (its copies on the host, on
# the device, in the segment's output and the checkpoint) and per row in flight (the update's outer products). Fitted
# to the peak resident memory of BFGS runs, 2026-12-05: P = 2 205 at 16 and 32 seeds on 1 and 2 devices, P = 4 928 at
# 16 and P = 1 020 at 64 within 5%; P = 1 020 at 128 seeds 24% above (the safe side) and at 16 seeds 18% below (0.15
# GiB there). It was 1 and 2, and counted 9.3 GB for a run that held 17.7 and was killed.
# Per row of the batch as placed on the devices, padding rows included: 8 seeds at P = 6 720 (a chunk of 16 rows) held
# over 21.6 GB and were killed (2026-12-06), where counting 8 rows said 18.8 GB; every fitted run filled whole chunks.
QN_BATCH = 4.5
QN_ROWS = 1.0


class Estimate(NamedTuple):
    """The estimated peak of a run, by part (bytes), against what it may use."""

    parts: dict[str, float]  # what is formed -> bytes
    limit: float  # bytes the run may use
    limit_source: str  # where the limit comes from, in words
    cpu_devices: int = 0  # CPU devices whose chunks are in flight together (0: an accelerator)

    @property
    def transient(self) -> list[str]:
        """The parts of which only the largest is alive at a time (a step's buffers, the spectrum's)."""
        return [k for k in self.parts if _transient(k)]

    @property
    def total(self) -> float:
        """The peak: every lasting part, and the largest transient one."""
        lasting = sum(v for k, v in self.parts.items() if not _transient(k))
        return lasting + max((self.parts[k] for k in self.transient), default=0.0)

    def describe(self) -> str:
        parts = ", ".join(f"{name} {value / GiB:.2f}" for name, value in
                          sorted(self.parts.items(), key=lambda kv: -kv[1]) if value >= 0.005 * GiB)
        return f"about {self.total / GiB:.2f} GiB ({parts})"


def _transient(part: str) -> bool:
    return part.endswith("a step") or part.endswith("at the end")


def _rows_in_flight(config: Config, uneven: bool) -> tuple[int, int, int]:
    """(rows of a segment in flight, rows of the diagnostics in flight, CPU devices or 0): per process on CPU (its
    devices share its memory), per device elsewhere."""
    mesh = seed_mesh_for(config.batch_size, uneven)
    chunk = default_chunk(mesh, uneven)
    if chunk is not None:  # CPU: each device one chunk at a time, every device at once
        return chunk * mesh.size, CHUNK * mesh.size, mesh.size
    share = -(-config.batch_size // mesh.size)
    return share, min(share, DIAGNOSE_CHUNK), 0


def estimate(config: Config, n_params: int, limit: float | None = None,
             network: tuple[float, float, float] | None = None) -> Estimate:
    """The memory a seed sweep of ``config`` (with ``n_params`` parameters) will need at its peak.

    Args:
      config: a validated seed-sweep config.
      n_params: P, the problem's parameter count.
      limit: bytes the run may use (default: ``available``).
      network: (nodes, hidden units, Σ width²) of a model other than the config's MLP (``api.sweep``); hidden units
        of 0 leave out what grows with them, so the estimate is a lower bound.
    """
    p = float(n_params)
    pinn = config.problem in ("poisson_1d", "diffusion_reaction_2d")
    outputs = 1
    if network is None:
        nodes = float(config.n_nodes) * (PINN_STREAMS * config.dim * (1 + 2 * config.dim) if pinn else 1.0)
        units = float(sum(config.widths))  # hidden units: the forward-over-reverse tangents are per unit
        squares = float(sum(w * w for w in config.widths))
        outputs = config.n_outputs
    else:
        nodes, units, squares = network
    # P tangents per node through every hidden unit, and through the read-out's outputs beyond the first (m = 10:
    # digits' one-hot; counting the m outputs as m times the nodes overcounted XLA's buffers 6-10x, 2026-12-05)
    tangents = SPECTRUM_TANGENTS * p * nodes * (units + outputs - 1)
    size = ITEMSIZE[config.dtype]
    optimizer = registry.get(config.solver)
    krylov, uneven = registry.counts_krylov(config), registry.seed_by_seed(config)
    step_rows, diag_rows, cpu_devices = _rows_in_flight(config, uneven)
    parts = {"batch on the host": config.batch_size * size * (HOST_VECTORS * p + 2 * (
        max(config.max_steps, config.first_order_max_steps) // config.history_stride + 1))}
    if optimizer.dense_state:
        parts["quasi-Newton P×P state"] = (QN_BATCH * batch_rows(config.batch_size, uneven) + QN_ROWS * step_rows) * (
            size * p * p)
    if optimizer.forms_hessian and not krylov:
        # jax.hessian's tangents; a Gauss–Newton method's jacfwd of the output pushes P tangents through every node too
        # (LM at P = 4 928 on 331 samples asked XLA for 41 GB, 2026-12-05).
        if optimizer.gauss_newton:  # jacfwd of the outputs: the hidden units' tangents (digits' LM within 13%)
            step = STEP_PXP * p * p + SPECTRUM_TANGENTS * p * nodes * units
        elif config.hessian != "structured":
            step = STEP_PXP * p * p + tangents
        elif not pinn or network is not None:
            step = STEP_PXP * p * p + STEP_NODES * nodes * squares + (
                STEP_OUTPUT_TANGENTS * p * nodes * outputs if outputs > 1 else 0.0)
        else:
            step = STEP_PXP * p * p + PINN_STEP_TANGENTS * p * nodes
        parts["dense Hessian a step"] = step_rows * size * step
    elif krylov and config.solver == "sfn":  # the Lanczos basis of its Krylov step
        parts["Lanczos basis a step"] = step_rows * size * (config.krylov_max_iter or p) * p
    else:  # Hessian-vector products (MINRES) or gradients only: a few P-vectors
        parts["vectors a step"] = step_rows * size * KRYLOV_VECTORS * p
    if config.spectrum == "dense":
        parts["dense spectrum at the end"] = diag_rows * 8 * (tangents + SPECTRUM_PXP * p * p)
    else:
        parts["Lanczos spectrum at the end"] = diag_rows * 8 * 2 * LANCZOS_STEPS * p
    if cpu_devices:  # on CPU the runtime shares the host's memory with the run; an accelerator's is the run's own
        parts["this process now"] = float(resident_bytes())
    source = "config field memory_limit"
    if limit is None:
        limit, source = (config.memory_limit * GiB, source) if config.memory_limit else available(cpu_devices > 0)
    return Estimate(parts, limit, source, cpu_devices)


def resident_bytes() -> int:
    """This process's resident memory now (Linux; its peak so far elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def available(on_cpu: bool = True) -> tuple[float, str]:
    """(bytes a run may use, where that comes from): the host's available memory plus what this process already
    holds on CPU (the limit of a cgroup, a container's, if lower), the first device's memory elsewhere."""
    if not on_cpu:
        stats = jax.local_devices()[0].memory_stats() or {}
        if "bytes_limit" in stats:
            return float(stats["bytes_limit"]), f"{jax.local_devices()[0].device_kind} memory"
    free = _meminfo("MemAvailable")
    limit = (free + resident_bytes(), "this machine's available memory") if free else (float("inf"), "unknown")
    cgroup = _cgroup_limit()
    if cgroup is not None and cgroup < limit[0]:
        limit = (cgroup, "this container's memory limit")
    return limit


def _meminfo(field: str) -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cgroup_limit() -> float | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            return float(text)
    return None


def way_out(config: Config, part: str) -> str:
    """What to change so that ``part`` shrinks, in words."""
    if part == "dense Hessian a step":
        return ("linear_solver=krylov (Hessian-vector products, nothing P×P formed)"
                if "linear_solver" in registry.get(config.solver).hyperparameters
                else "an optimiser that forms no Hessian, or a smaller network")
    if part == "dense spectrum at the end":
        return "spectrum=lanczos (the end points' spectrum from products only)"
    if part in ("batch on the host", "quasi-Newton P×P state"):
        return "a smaller seed_batch"
    if part == "Lanczos basis a step":
        return "a smaller krylov_max_iter"
    return "a smaller network"


def check(config: Config, n_params: int, log=None, network: tuple[float, float, float] | None = None) -> Estimate:
    """Refuse (ValueError, one line) a sweep whose ``estimate`` exceeds what it may use; else return the estimate."""
    found = estimate(config, n_params, network=network)
    if found.total > found.limit:
        # Every part that alone leaves too little room, largest first: each needs its own change.
        lasting = found.total - max((found.parts[k] for k in found.transient), default=0.0)
        over = sorted((k for k, v in found.parts.items() if k != "this process now" and
                       (v + (lasting if _transient(k) else 0.0) > found.limit or not _transient(k) and v > 0.25 * found.limit)),
                      key=lambda k: -found.parts[k]) or [max(found.parts, key=found.parts.get)]
        cpu = (f"; or JAXNEWTON_CPU_DEVICES=1 (one chunk in flight, not {found.cpu_devices})"
               if any(_transient(k) for k in over) and found.cpu_devices > 1 else "")
        raise ValueError(f"{config.name} (P = {n_params}) needs {found.describe()} but {found.limit_source} is "
                         f"{found.limit / GiB:.2f} GiB: use {' and '.join(way_out(config, k) for k in over)}{cpu}, "
                         "or set memory_limit (GiB) if more is free")
    if log is not None and found.total > 0.5 * found.limit:
        log(f"memory: {config.name} needs {found.describe()} of {found.limit / GiB:.2f} GiB ({found.limit_source})")
    return found
