"""The paper's explanation of why quasi-Newton methods avoid the trivial saddle, measured along their runs.

The claim (E9): BFGS-type methods succeed because their curvature condition yᵀs > 0 keeps
the Hessian approximation positive definite, so they refuse the negative curvature that
draws exact Newton to saddles. For each quasi-Newton optimiser and seed this records,
every ``stride`` steps:

- the curvature pairs (s, y) met so far and how many broke yᵀs > 0 (``optim.quasi_newton.track_curvature``),
  and yᵀs / sᵀs of the newest pair (the true Hessian's mean curvature along the last step);
- the smallest eigenvalue of the true Hessian ∇²L at the iterate, and its number of negative
  eigenvalues (|λ| > eig_rtol · max|λ|, as the diagnostics count them);
- for the optimisers registered with an ``inverse_hessian`` reader (``bfgs``, ``lbfgs_gss`` and the
  fixed-step ablations), the smallest eigenvalue of the approximate Hessian B = H⁻¹ (``lbfgs`` keeps
  its scaling inside optax, so it is not recorded).

The runs are the base config's first seeds from the same θ₀ and with the same stopping
rule as its sweeps; a run this short is not checkpointed (rerun it).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jax
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core.diagnostics import LABELS
from jaxnewton.core.linalg import symmetric_eigvals
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import MAX_STEPS, ConfigBase, Run, base_config, load_config, require
from jaxnewton.engine.io import Log, Progress, write_npz, write_summary
from jaxnewton.engine.loop import RUNNING, STATUS
from jaxnewton.engine.sweep import advance_running, diagnose_batch, init_batch, make_batch_fns, seed_mesh_for
from jaxnewton.optim import registry
from jaxnewton.report.figures import save

MAX_RECORDED = 1_000_000  # recorded iterates (θ each) held in memory


@dataclass(frozen=True)
class MechanismConfig(ConfigBase):
    """Along quasi-Newton runs: the curvature condition and the true Hessian's smallest eigenvalue (``studies.mechanism``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config whose problem and stopping rule are used.
      optimizers: optimisers registered as quasi-Newton to follow (``bfgs``, ``lbfgs``, ``lbfgs_gss``, the ablations).
      n_seeds: seeds per optimiser (the base's first seeds: the same θ₀ as its sweeps).
      max_steps: the iteration cap.
      stride: the iterate is recorded, and the true Hessian's spectrum computed, every this many steps.
    """

    name: str
    base: str = "mlp_tanh"
    optimizers: tuple[str, ...] = ("bfgs", "lbfgs", "lbfgs_gss")
    n_seeds: int = 16
    max_steps: int = 2000
    stride: int = 20

    def validate(self) -> None:
        base_config(self)
        quasi_newton = registry.names(quasi_newton=True)
        require(len(self.optimizers) >= 1 and all(o in quasi_newton for o in self.optimizers), "optimizers",
                self.optimizers, f"names from {list(quasi_newton)}")
        require(1 <= self.max_steps <= MAX_STEPS, "max_steps", self.max_steps, f"an integer in [1, {MAX_STEPS}]")
        require(1 <= self.stride <= self.max_steps, "stride", self.stride, "an integer in [1, max_steps]")
        snapshots = self.max_steps // self.stride + 1
        require(1 <= self.n_seeds and self.n_seeds * snapshots <= MAX_RECORDED, "n_seeds", self.n_seeds,
                f"at least 1 seed, and n_seeds · (max_steps / stride + 1) ≤ {MAX_RECORDED} recorded iterates")

    def depends_on(self) -> dict[str, Any]:
        return {"base_hash": load_config(self.base).hash()}


CONFIG = MechanismConfig


def follow(config: MechanismConfig, optimizer: str, eigvals: Callable, log: Log, progress=None) -> dict:
    """Run ``optimizer`` on the base problem for ``n_seeds`` seeds, recording every ``stride`` steps.

    ``eigvals`` maps iterates ``theta_NxP`` to the true Hessian's ascending eigenvalues (compiled once per run).
    """
    base = base_config(config)
    sweep = dataclasses.replace(base, name=f"{base.name}_{optimizer}", solver=optimizer, optimizers=(),
                                n_seeds=config.n_seeds, max_steps=config.max_steps)
    experiment = build(sweep)
    fns = make_batch_fns(experiment.loop, experiment.diagnose, seed_mesh_for(config.n_seeds))
    reader = registry.get(optimizer).inverse_hessian
    inverse_hessian = jax.jit(jax.vmap(reader)) if reader is not None else None
    seeds = np.arange(config.n_seeds)
    state = init_batch(fns, initial_points(experiment, seeds))
    start = time.perf_counter()
    snapshots = {"step": [], "theta": [], "steps": [], "status": [], "pairs": [], "bad_pairs": [], "ratio": [],
                 "approx_min": []}

    def record(s, step: int) -> None:
        snapshots["step"].append(step)
        curvature = s.solver_state
        snapshots["theta"].append(np.asarray(s.theta))
        snapshots["steps"].append(np.asarray(s.steps))
        snapshots["status"].append(np.asarray(s.status))
        snapshots["pairs"].append(np.asarray(curvature.n_pairs))
        snapshots["bad_pairs"].append(np.asarray(curvature.n_bad))
        snapshots["ratio"].append(np.asarray(curvature.last_ratio))
        # B = H⁻¹ has the eigenvalues 1/λ(H): its smallest is 1/λ_max(H) when H is positive definite, and
        # negative (1 over H's negative eigenvalue nearest 0) when it is not.
        if inverse_hessian is None:
            snapshots["approx_min"].append(np.full(len(seeds), np.nan))
        else:
            h = np.asarray(inverse_hessian(curvature.inner))
            lam = np.linalg.eigvalsh(0.5 * (h + np.swapaxes(h, 1, 2)))
            with np.errstate(divide="ignore"):
                snapshots["approx_min"].append(np.min(1.0 / lam, axis=1))

    record(state, 0)
    for until in range(config.stride, config.max_steps + config.stride, config.stride):
        until = min(until, config.max_steps)
        state = advance_running(fns, state, until)
        record(state, until)
        if progress:
            progress(until / config.max_steps, f"step {until}")
        if not (np.asarray(state.status) == RUNNING).any():
            break
    seconds = time.perf_counter() - start
    arrays = {k: np.stack(v, axis=1) for k, v in snapshots.items() if k != "step"}  # seed × snapshot
    arrays["step"] = np.asarray(snapshots["step"])
    diagnostics = diagnose_batch(fns, state.theta)
    arrays.update(true_hessian_spectrum(eigvals, arrays["theta"], sweep.eig_rtol))
    arrays["final_status"] = np.asarray(state.status)
    arrays["final_trivial"] = np.asarray(diagnostics.trivial)
    arrays["final_label"] = np.asarray(diagnostics.label)
    arrays["final_rel_l2_error"] = np.asarray(diagnostics.rel_l2_error)
    log(f"[{config.name}] {optimizer}: {config.n_seeds} seeds, {len(arrays['step'])} snapshots, {seconds:.1f} s")
    return arrays


def true_hessian_spectrum(eigvals: Callable, theta_SxKxP: np.ndarray, eig_rtol: float) -> dict[str, np.ndarray]:
    """λ_min and the number of negative eigenvalues of the true Hessian at every recorded iterate."""
    s, k, p = theta_SxKxP.shape
    lam = np.concatenate([np.asarray(eigvals(chunk)) for chunk in np.array_split(theta_SxKxP.reshape(s * k, p),
                                                                               max(1, (s * k) // 256))])
    threshold = eig_rtol * np.max(np.abs(lam), axis=1, keepdims=True)
    return {"true_min": lam[:, 0].reshape(s, k), "true_neg": np.sum(lam < -threshold, axis=1).reshape(s, k)}


def recorded_iterates(steps_SxK: np.ndarray) -> np.ndarray:
    """Which snapshots hold a new iterate: the first, and each where the seed had moved on (up to its last)."""
    live = np.ones(steps_SxK.shape, bool)
    live[:, 1:] = steps_SxK[:, 1:] > steps_SxK[:, :-1]
    return live


def optimizer_summary(arrays: dict) -> dict:
    """What one optimiser's record says, over its seeds and recorded iterates (up to each seed's end)."""
    live = recorded_iterates(arrays["steps"])
    final_status = [STATUS[i] for i in arrays["final_status"]]
    approx = arrays["approx_min"][live]
    return {
        "n_seeds": int(arrays["final_status"].shape[0]),
        "iterates": int(np.sum(live)),
        "iterates_true_hessian_indefinite": int(np.sum(arrays["true_neg"][live] > 0)),
        "seeds_meeting_negative_curvature": int(np.sum(np.any((arrays["true_neg"] > 0) & live, axis=1))),
        "median_negative_eigenvalues": float(np.median(arrays["true_neg"][live])),
        "most_negative_true_eigenvalue": float(np.min(arrays["true_min"][live])),
        "curvature_pairs": int(np.sum(arrays["pairs"][:, -1])),
        "bad_curvature_pairs": int(np.sum(arrays["bad_pairs"][:, -1])),
        "seeds_with_bad_pairs": int(np.sum(arrays["bad_pairs"][:, -1] > 0)),
        "min_step_curvature": float(np.nanmin(arrays["ratio"])),
        "approximation_recorded": bool(not np.isnan(approx).all()),
        "iterates_approximation_not_positive_definite": int(np.sum(approx <= 0.0)),
        "final": {
            "converged": final_status.count("converged"),
            "trivial": int(np.sum((arrays["final_status"] == STATUS.index("converged")) & arrays["final_trivial"])),
            "labels": {name: int(np.sum((arrays["final_status"] == STATUS.index("converged"))
                                        & (arrays["final_label"] == i))) for i, name in enumerate(LABELS)},
            "max_steps": final_status.count("max_steps"),
            "nonfinite": final_status.count("nonfinite"),
            "solved": int(np.sum(arrays["final_rel_l2_error"] <= 1e-2)),
        },
    }


def run(config: MechanismConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Follow every optimiser of ``config``; write ``<optimizer>.npz``, ``summary.json`` and ``mechanism.png``."""
    out = Path(out_dir)
    records, summaries, start = {}, {}, time.perf_counter()
    n = len(config.optimizers)
    problem = build(base_config(config)).problem  # the Hessian is the same function for every optimiser
    eigvals = jax.jit(jax.vmap(lambda t: symmetric_eigvals(problem.hessian(t))))
    for i, optimizer in enumerate(config.optimizers):
        def sub(fraction: float, text: str, i: int = i, optimizer: str = optimizer) -> None:
            progress((i + fraction) / n, f"{optimizer}: {text}")

        records[optimizer] = follow(config, optimizer, eigvals, log, sub if progress else None)
        write_npz(out / f"{optimizer}.npz", {k: v for k, v in records[optimizer].items() if k != "theta"})
        summaries[optimizer] = optimizer_summary(records[optimizer])
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "base": config.base,
        "n_seeds": config.n_seeds,
        "max_steps": config.max_steps,
        "stride": config.stride,
        "optimizers": summaries,
        "definitions": {
            "iterates": "recorded iterates (every stride steps) up to each seed's last step",
            "iterates_true_hessian_indefinite": "of those, where ∇²L had a negative eigenvalue (|λ| > eig_rtol·max|λ|)",
            "bad_curvature_pairs": "pairs (s, y) with yᵀs ≤ 0 over all seeds (optim.quasi_newton.track_curvature)",
            "min_step_curvature": "the smallest yᵀs / sᵀs of a recorded newest pair",
            "iterates_approximation_not_positive_definite": "recorded iterates where the quasi-Newton "
                                                            "approximation had an eigenvalue ≤ 0 (bfgs, lbfgs_gss)",
            "final": "the seeds' endpoints as the sweeps classify them",
        },
        "wall_seconds": time.perf_counter() - start,
    }
    save(mechanism_figure(records, config), out / "mechanism.png")
    write_summary(out, summary)
    for optimizer, s in summaries.items():
        log(f"[{config.name}] {optimizer}: true H indefinite at {s['iterates_true_hessian_indefinite']}/"
            f"{s['iterates']} iterates; bad curvature pairs {s['bad_curvature_pairs']}/{s['curvature_pairs']}; "
            f"final {s['final']}")
    return summary


# ----------------------------------------------------------------------------- figures

def mechanism_figure(records: dict, config: MechanismConfig) -> plt.Figure:
    """Along each quasi-Newton run: the true Hessian's smallest eigenvalue, and the approximation's."""
    names = list(records)
    fig, axes = plt.subplots(2, len(names), figsize=(4.3 * len(names), 7.5), squeeze=False, sharex=True)
    for col, name in enumerate(names):
        r = records[name]
        live = recorded_iterates(r["steps"])
        ax, ax_neg = axes[0, col], axes[1, col]
        for s in range(r["steps"].shape[0]):
            steps = r["step"][live[s]]
            ax.plot(steps, r["true_min"][s, live[s]], color="tab:red", lw=0.7, alpha=0.6)
            approx = r["approx_min"][s, live[s]]
            if not np.isnan(approx).all():
                ax.plot(steps, approx, color="tab:blue", lw=0.7, alpha=0.6, ls="--")
            ax_neg.plot(steps, r["true_neg"][s, live[s]], color="tab:red", lw=0.7, alpha=0.6)
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.plot([], [], color="tab:red", label="λ_min of the true ∇²L")
        if not np.isnan(r["approx_min"]).all():
            ax.plot([], [], color="tab:blue", ls="--", label="λ_min of the quasi-Newton B = H⁻¹")
        bad, pairs = int(np.sum(r["bad_pairs"][:, -1])), int(np.sum(r["pairs"][:, -1]))
        ax.set(ylabel="smallest eigenvalue", title=f"{name}: yᵀs ≤ 0 in {bad} of {pairs} pairs")
        ax.legend(fontsize=7)
        ax_neg.set(xlabel="step", ylabel="negative eigenvalues of ∇²L", title=f"{name}: index of the iterate")
    fig.suptitle(f"Quasi-Newton on {config.base}: {config.n_seeds} seeds, recorded every {config.stride} steps")
    fig.tight_layout()
    return fig


ROWS = ()  # the record is read by the E9 row (studies.compare)
RUNS = (Run("mechanism", "mechanism", 240, quick={"max_steps": 300, "stride": 20}, quick_s=36),)
