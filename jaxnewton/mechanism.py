"""The paper's explanation of why quasi-Newton methods avoid the trivial saddle, measured along their runs.

The claim (E9): BFGS-type methods succeed because their curvature condition yᵀs > 0 keeps
the Hessian approximation positive definite, so they refuse the negative curvature that
draws exact Newton to saddles. For each quasi-Newton optimiser and seed this records,
every ``stride`` steps:

- the curvature pairs (s, y) met so far and how many broke yᵀs > 0 (``solvers.track_curvature``),
  and yᵀs / sᵀs of the newest pair (the true Hessian's mean curvature along the last step);
- the smallest eigenvalue of the true Hessian ∇²L at the iterate, and its number of negative
  eigenvalues (|λ| > eig_rtol · max|λ|, as the diagnostics count them);
- for ``bfgs``, ``lbfgs_gss`` and the fixed-step ablations, whose approximation is at hand, the
  smallest eigenvalue of the approximate Hessian B = H⁻¹ (``lbfgs`` keeps its scaling inside
  optax, so it is not recorded).

The runs are the base config's first seeds from the same θ₀ and with the same stopping
rule as its sweeps; a run this short is not checkpointed (rerun it).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import MechanismConfig, load_config
from jaxnewton.diagnostics import LABELS
from jaxnewton.experiment import build, initial_points
from jaxnewton.linalg import symmetric_eigvals
from jaxnewton.results import Log, Progress, write_config, write_npz, write_summary
from jaxnewton.runner import RUNNING, STATUS
from jaxnewton.solvers import LBFGSGSSState, ScaleByBFGSState, lbfgs_direction
from jaxnewton.sweep import advance_running, diagnose_batch, init_batch, make_batch_fns


def approximate_inverse_hessian(solver_state) -> np.ndarray | None:
    """The quasi-Newton inverse-Hessian approximation H_SxPxP in a tracked solver state, or None.

    ``bfgs`` and the fixed-step ablations: the stored dense H. ``lbfgs_gss``: the two-loop recursion applied to the identity's
    columns (H₀ = γI with γ = sᵀy / yᵀy of the newest pair, as the step uses; I with no pairs).
    """
    inner = solver_state.inner
    if isinstance(inner, tuple) and inner and isinstance(inner[0], ScaleByBFGSState):
        return np.asarray(inner[0].inv_hessian)
    if isinstance(inner, LBFGSGSSState):
        def one(s, y, rho, n, newest):
            sy, yy = jnp.dot(s[newest], y[newest]), jnp.dot(y[newest], y[newest])
            gamma = jnp.where(n > 0, sy / jnp.where(n > 0, yy, 1.0), 1.0)
            columns = jnp.eye(s.shape[1], dtype=s.dtype)
            return jax.vmap(lambda e: lbfgs_direction(e, s, y, rho, n, newest, gamma))(columns)
        return np.asarray(jax.jit(jax.vmap(one))(inner.s, inner.y, inner.rho, inner.n_pairs, inner.newest))
    return None


def follow(config: MechanismConfig, optimizer: str, log: Log, progress=None) -> dict:
    """Run ``optimizer`` on the base problem for ``n_seeds`` seeds, recording every ``stride`` steps."""
    base = load_config(config.base)
    sweep = dataclasses.replace(base, name=f"{base.name}_{optimizer}", solver=optimizer, optimizers=(),
                                n_seeds=config.n_seeds, max_steps=config.max_steps)
    experiment = build(sweep)
    fns = make_batch_fns(experiment.loop, experiment.diagnose)
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
        h = approximate_inverse_hessian(curvature)
        # B = H⁻¹ has the eigenvalues 1/λ(H): its smallest is 1/λ_max(H) when H is positive definite, and
        # negative (1 over H's negative eigenvalue nearest 0) when it is not.
        if h is None:
            snapshots["approx_min"].append(np.full(len(seeds), np.nan))
        else:
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
    arrays.update(true_hessian_spectrum(experiment, arrays["theta"], sweep.eig_rtol))
    arrays["final_status"] = np.asarray(state.status)
    arrays["final_trivial"] = np.asarray(diagnostics.trivial)
    arrays["final_label"] = np.asarray(diagnostics.label)
    arrays["final_rel_l2_error"] = np.asarray(diagnostics.rel_l2_error)
    log(f"[{config.name}] {optimizer}: {config.n_seeds} seeds, {len(arrays['step'])} snapshots, {seconds:.1f} s")
    return arrays


def true_hessian_spectrum(experiment, theta_SxKxP: np.ndarray, eig_rtol: float) -> dict[str, np.ndarray]:
    """λ_min and the number of negative eigenvalues of the true Hessian at every recorded iterate."""
    s, k, p = theta_SxKxP.shape
    hessian = experiment.problem.hessian or jax.hessian(experiment.problem.loss)
    eig = jax.jit(jax.vmap(lambda t: symmetric_eigvals(hessian(t))))
    lam = np.concatenate([np.asarray(eig(chunk)) for chunk in np.array_split(theta_SxKxP.reshape(s * k, p),
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


def run_mechanism(config: MechanismConfig, out_dir: Path | str, log: Log = print,
                  progress: Progress | None = None) -> dict:
    """Follow every optimiser of ``config``; write ``<optimizer>.npz``, ``summary.json`` and ``mechanism.png``."""
    from jaxnewton import plots  # matplotlib is only imported when figures are drawn

    out = Path(out_dir)
    write_config(out, config)
    records, summaries, start = {}, {}, time.perf_counter()
    n = len(config.optimizers)
    for i, optimizer in enumerate(config.optimizers):
        def sub(fraction: float, text: str, i: int = i, optimizer: str = optimizer) -> None:
            progress((i + fraction) / n, f"{optimizer}: {text}")

        records[optimizer] = follow(config, optimizer, log, sub if progress else None)
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
            "bad_curvature_pairs": "pairs (s, y) with yᵀs ≤ 0 over all seeds (solvers.track_curvature)",
            "min_step_curvature": "the smallest yᵀs / sᵀs of a recorded newest pair",
            "iterates_approximation_not_positive_definite": "recorded iterates where the quasi-Newton "
                                                            "approximation had an eigenvalue ≤ 0 (bfgs, lbfgs_gss)",
            "final": "the seeds' endpoints as the sweeps classify them",
        },
        "wall_seconds": time.perf_counter() - start,
    }
    plots.save(plots.mechanism(records, config), out / "mechanism.png")
    write_summary(out, summary)
    for optimizer, s in summaries.items():
        log(f"[{config.name}] {optimizer}: true H indefinite at {s['iterates_true_hessian_indefinite']}/"
            f"{s['iterates']} iterates; bad curvature pairs {s['bad_curvature_pairs']}/{s['curvature_pairs']}; "
            f"final {s['final']}")
    return summary
