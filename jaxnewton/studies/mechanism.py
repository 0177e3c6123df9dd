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

Any registered optimiser can be followed (``make escapes``: the second-order family and the mechanism
variants of ``optim.registry``); the curvature-pair fields are then recorded for the quasi-Newton ones only.
For every optimiser and recorded iterate it also records how near the iterate is to a trivial point
(``core.diagnostics.make_trivial_measures``: L/L(0), ||N||/||v||, ||θᴼ||, the trivial rule), so a seed that
*visited* the trivial point (some recorded iterate met the rule) and then *left* it (its end does not) is told
apart from one that never came near. "Visited" is sampled every ``stride`` steps: a pass between two records is
not seen.

The runs are the base config's first seeds from the same θ₀ and with the same stopping rule as its sweeps.
Each optimiser's record is written (``<optimizer>.npz``) as soon as it is done, and a rerun into the same
folder (same config) reads it back instead of running that optimiser again.
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
from jaxnewton.core.diagnostics import LABELS, make_trivial_measures
from jaxnewton.core.linalg import symmetric_eigvals
from jaxnewton.core.stats import proportion
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.config import MAX_STEPS, BasedConfig, Run, base_config, require
from jaxnewton.engine import preempt
from jaxnewton.engine.io import Log, Progress, read_checked_npz, write_checked_npz, write_csv, write_summary
from jaxnewton.engine.loop import RUNNING, STATUS
from jaxnewton.engine.outcomes import AT_TRIVIAL, CAPPED_TRIVIAL, TRIVIAL, classify
from jaxnewton.engine.sweep import advance_running, diagnose_batch, init_batch, make_batch_fns, seed_mesh_for
from jaxnewton.optim import registry
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies.compare import AVOIDS_SHARE
from jaxnewton.studies.seeds import SOLVED_L2

MAX_RECORDED = 1_000_000  # recorded iterates (θ each) held in memory


@dataclass(frozen=True)
class MechanismConfig(BasedConfig):
    """Along optimiser runs: the true Hessian's spectrum, the nearness to the trivial point and, for quasi-Newton
    runs, the curvature condition (``studies.mechanism``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config whose problem, stopping rule and optimiser settings are used.
      optimizers: registered optimisers to follow (the quasi-Newton ones also get the curvature-pair record).
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
        known = registry.names()
        require(len(self.optimizers) >= 1 and all(o in known for o in self.optimizers)
                and len(set(self.optimizers)) == len(self.optimizers), "optimizers", self.optimizers,
                f"distinct names from {list(known)}")
        require(1 <= self.max_steps <= MAX_STEPS, "max_steps", self.max_steps, f"an integer in [1, {MAX_STEPS}]")
        require(1 <= self.stride <= self.max_steps, "stride", self.stride, "an integer in [1, max_steps]")
        snapshots = self.max_steps // self.stride + 1
        require(1 <= self.n_seeds and self.n_seeds * snapshots <= MAX_RECORDED, "n_seeds", self.n_seeds,
                f"at least 1 seed, and n_seeds · (max_steps / stride + 1) ≤ {MAX_RECORDED} recorded iterates")


CONFIG = MechanismConfig


def follow(config: MechanismConfig, optimizer: str, eigvals: Callable, measures: Callable, log: Log,
           progress=None) -> dict:
    """Run ``optimizer`` on the base problem for ``n_seeds`` seeds, recording every ``stride`` steps.

    ``eigvals`` maps iterates ``theta_NxP`` to the true Hessian's ascending eigenvalues and ``measures`` to their
    ``TrivialMeasures`` (both compiled once per run).
    """
    base = base_config(config)
    sweep = dataclasses.replace(base, name=f"{base.name}_{optimizer}", solver=optimizer, optimizers=(),
                                n_seeds=config.n_seeds, max_steps=config.max_steps)
    experiment = build(sweep)
    fns = make_batch_fns(experiment.loop, experiment.diagnose, seed_mesh_for(config.n_seeds))
    tracked = registry.get(optimizer).quasi_newton  # its solver state is track_curvature's
    reader = registry.get(optimizer).inverse_hessian
    inverse_hessian = jax.jit(jax.vmap(reader)) if reader is not None else None
    seeds = np.arange(config.n_seeds)
    state = init_batch(fns, initial_points(experiment, seeds))
    start = time.perf_counter()
    snapshots = {"step": [], "theta": [], "steps": [], "status": [], "pairs": [], "bad_pairs": [], "ratio": [],
                 "approx_min": []}

    def record(s, step: int) -> None:
        snapshots["step"].append(step)
        snapshots["theta"].append(np.asarray(s.theta))
        snapshots["steps"].append(np.asarray(s.steps))
        snapshots["status"].append(np.asarray(s.status))
        if tracked:
            curvature = s.solver_state
            snapshots["pairs"].append(np.asarray(curvature.n_pairs))
            snapshots["bad_pairs"].append(np.asarray(curvature.n_bad))
            snapshots["ratio"].append(np.asarray(curvature.last_ratio))
        else:
            snapshots["pairs"].append(np.zeros(len(seeds), np.int32))
            snapshots["bad_pairs"].append(np.zeros(len(seeds), np.int32))
            snapshots["ratio"].append(np.full(len(seeds), np.nan))
        # B = H⁻¹ has the eigenvalues 1/λ(H): its smallest is 1/λ_max(H) when H is positive definite, and
        # negative (1 over H's negative eigenvalue nearest 0) when it is not.
        if inverse_hessian is None:
            snapshots["approx_min"].append(np.full(len(seeds), np.nan))
        else:
            h = np.asarray(inverse_hessian(s.solver_state.inner))
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
    arrays.update(path_measures(measures, arrays["theta"]))
    arrays["final_status"] = np.asarray(state.status)
    arrays["final_trivial"] = np.asarray(diagnostics.trivial)
    arrays["final_label"] = np.asarray(diagnostics.label)
    arrays["final_rel_l2_error"] = np.asarray(diagnostics.rel_l2_error)
    arrays["seconds"] = np.asarray(seconds)
    log(f"[{config.name}] {optimizer}: {config.n_seeds} seeds, {len(arrays['step'])} snapshots, {seconds:.1f} s")
    return arrays


def true_hessian_spectrum(eigvals: Callable, theta_SxKxP: np.ndarray, eig_rtol: float) -> dict[str, np.ndarray]:
    """λ_min and the number of negative eigenvalues of the true Hessian at every recorded iterate."""
    s, k, p = theta_SxKxP.shape
    lam = np.concatenate([np.asarray(eigvals(chunk)) for chunk in np.array_split(theta_SxKxP.reshape(s * k, p),
                                                                               max(1, (s * k) // 256))])
    threshold = eig_rtol * np.max(np.abs(lam), axis=1, keepdims=True)
    return {"true_min": lam[:, 0].reshape(s, k), "true_neg": np.sum(lam < -threshold, axis=1).reshape(s, k)}


RECORDED = {"path_trivial", "seconds", "final_label"}  # keys a record read back must hold (else it is rerun)


def path_measures(measures: Callable, theta_SxKxP: np.ndarray) -> dict[str, np.ndarray]:
    """L/L(0), ||N||/||v||, ||θᴼ|| and the trivial rule at every recorded iterate (``path_`` arrays, seed × snapshot)."""
    s, k, p = theta_SxKxP.shape
    m = measures(theta_SxKxP.reshape(s * k, p))
    return {f"path_{name}": np.asarray(getattr(m, name)).reshape(s, k)
            for name in ("loss_ratio", "rel_output_norm", "outer_weight_norm", "trivial")}


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
    n = int(arrays["final_status"].shape[0])
    ends = final_outcomes(arrays)
    trivial = int(np.sum(ends == TRIVIAL))
    fit = int(np.sum(arrays["final_rel_l2_error"] <= SOLVED_L2))
    # After θ₀ only: some initialisations already meet the trivial rule (a small read-out), which says nothing of
    # where the optimiser goes.
    met = arrays["path_trivial"].astype(bool)[:, 1:] & live[:, 1:]
    visited = np.any(met, axis=1)
    left = visited & ~arrays["final_trivial"].astype(bool)
    first_visit = [int(arrays["step"][1 + np.argmax(row)]) for row in met[visited]]
    nearest = np.where(live, arrays["path_rel_output_norm"], np.inf)[:, 1:].min(axis=1, initial=np.inf)
    smallest_outer = np.where(live, arrays["path_outer_weight_norm"], np.inf)[:, 1:].min(axis=1, initial=np.inf)
    rates = {
        "trivial_rate": proportion(trivial, n),
        "at_trivial_end_rate": proportion(int(np.sum(np.isin(ends, list(AT_TRIVIAL)))), n),
        "fit_rate": proportion(fit, n),
        "visits": {
            "started_near": int(np.sum(arrays["path_trivial"][:, 0])),
            "visited": int(np.sum(visited)),
            "visited_then_left": int(np.sum(left)),
            "never_near": int(n - np.sum(visited)),
            "median_first_visit_step": float(np.median(first_visit)) if first_visit else None,
            "median_min_rel_output_norm": float(np.median(nearest)),
            "median_min_outer_weight_norm": float(np.median(smallest_outer)),
            "median_final_rel_output_norm": float(np.median(arrays["path_rel_output_norm"][np.arange(n),
                                                                                           _last(live)])),
        },
        "median_steps": float(np.median(arrays["steps"][:, -1])),
        "wall_seconds": float(arrays["seconds"]),
    }
    return {**rates,
        "n_seeds": int(arrays["final_status"].shape[0]),
        "iterates": int(np.sum(live)),
        "iterates_true_hessian_indefinite": int(np.sum(arrays["true_neg"][live] > 0)),
        "seeds_meeting_negative_curvature": int(np.sum(np.any((arrays["true_neg"] > 0) & live, axis=1))),
        "median_negative_eigenvalues": float(np.median(arrays["true_neg"][live])),
        "most_negative_true_eigenvalue": float(np.min(arrays["true_min"][live])),
        "curvature_pairs": int(np.sum(arrays["pairs"][:, -1])),
        "bad_curvature_pairs": int(np.sum(arrays["bad_pairs"][:, -1])),
        "seeds_with_bad_pairs": int(np.sum(arrays["bad_pairs"][:, -1] > 0)),
        "min_step_curvature": (None if np.isnan(arrays["ratio"]).all() else float(np.nanmin(arrays["ratio"]))),
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


def _last(live_SxK: np.ndarray) -> np.ndarray:
    """Each seed's last recorded snapshot (its end)."""
    return live_SxK.shape[1] - 1 - np.argmax(live_SxK[:, ::-1], axis=1)


def run(config: MechanismConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Follow every optimiser of ``config``; write ``<optimizer>.npz``, ``comparison.csv``, ``summary.json``,
    ``mechanism.png`` and ``paths.png``. An optimiser whose record is already in ``out_dir`` is read, not rerun."""
    out = Path(out_dir)
    records, summaries = {}, {}
    n = len(config.optimizers)
    base = base_config(config)
    problem = build(base).problem  # the Hessian is the same function for every optimiser
    eigvals = jax.jit(jax.vmap(lambda t: symmetric_eigvals(problem.hessian(t))))
    measures = jax.jit(jax.vmap(make_trivial_measures(problem, base.trivial_loss_ratio, base.trivial_output_ratio)))
    for i, optimizer in enumerate(config.optimizers):
        def sub(fraction: float, text: str, i: int = i, optimizer: str = optimizer) -> None:
            progress((i + fraction) / n, f"{optimizer}: {text}")

        path = out / f"{optimizer}.npz"
        # This config's own (the folder is claimed for it; the identity ties the file to the config and optimiser).
        record = read_checked_npz(path, log, f"{config.hash()}/{optimizer}") or {}
        if RECORDED <= set(record):
            records[optimizer] = record
            log(f"[{config.name}] {optimizer}: read back from {path.name}")
        else:  # not run yet, or recorded by a version that kept less
            records[optimizer] = follow(config, optimizer, eigvals, measures, log, sub if progress else None)
            write_checked_npz(path, {k: v for k, v in records[optimizer].items() if k != "theta"},
                              f"{config.hash()}/{optimizer}")
            preempt.checkpoint_reached(f"{optimizer}'s record")
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
            "trivial_rate": "seeds that converged (the base's tolerance) at a trivial point, 95% Wilson interval",
            "at_trivial_end_rate": "seeds that ended at a trivial point, converged or capped (engine.outcomes.AT_TRIVIAL)",
            "fit_rate": f"seeds whose end has a relative L2 error ≤ {SOLVED_L2:g} (it fits v)",
            "visits.started_near": "seeds whose θ₀ already meets the trivial rule (a small read-out at init)",
            "visits.visited": "seeds with a recorded iterate after θ₀ (every stride steps) that meets the trivial rule",
            "visits.visited_then_left": "of those, seeds whose end does not meet it (visited, then escaped)",
            "visits.never_near": "seeds with no recorded iterate after θ₀ that meets the trivial rule",
            "visits.median_min_rel_output_norm": "median over seeds of the smallest ||N||/||v|| recorded after θ₀",
        },
        # The optimisers' own run times, also where a record was read back: what the study costs.
        "wall_seconds": sum(s["wall_seconds"] for s in summaries.values()),
    }
    save(mechanism_figure(records, config), out / "mechanism.png")
    save(paths_figure(records, summaries, config, base.trivial_output_ratio), out / "paths.png")
    write_csv(out / "comparison.csv", [comparison_row(name, s, base) for name, s in summaries.items()],
              COMPARISON_COLUMNS)
    write_summary(out, summary)
    for optimizer, s in summaries.items():
        log(f"[{config.name}] {optimizer}: trivial {s['trivial_rate']['k']}/{s['trivial_rate']['n']}, fit "
            f"{s['fit_rate']['k']}, visited {s['visits']['visited']} then left {s['visits']['visited_then_left']}; "
            f"true H indefinite at {s['iterates_true_hessian_indefinite']}/{s['iterates']} iterates; bad curvature "
            f"pairs {s['bad_curvature_pairs']}/{s['curvature_pairs']}")
    return summary


COMPARISON_COLUMNS = ["optimizer", "title", "settings", "n_seeds", "trivial", "p_trivial", "trivial_ci_low",
                      "trivial_ci_high", "at_trivial_end", "fit", "p_fit", "fit_ci_low", "fit_ci_high", "visited",
                      "visited_then_left", "median_min_rel_output_norm", "median_steps", "converged", "max_steps",
                      "nonfinite"]


def comparison_row(name: str, s: dict, settings: Any = None) -> dict:
    """One ``comparison.csv`` row: an optimiser's outcome rates with their 95% intervals and its visits."""
    optimizer = registry.get(name)
    return {"optimizer": name, "title": optimizer.title,
            "settings": optimizer.settings(settings) if settings is not None else "", "n_seeds": s["n_seeds"],
            "trivial": s["trivial_rate"]["k"], "p_trivial": s["trivial_rate"]["p"],
            "trivial_ci_low": s["trivial_rate"]["ci95"][0], "trivial_ci_high": s["trivial_rate"]["ci95"][1],
            "at_trivial_end": s["at_trivial_end_rate"]["k"], "fit": s["fit_rate"]["k"], "p_fit": s["fit_rate"]["p"],
            "fit_ci_low": s["fit_rate"]["ci95"][0], "fit_ci_high": s["fit_rate"]["ci95"][1],
            "visited": s["visits"]["visited"], "visited_then_left": s["visits"]["visited_then_left"],
            "median_min_rel_output_norm": s["visits"]["median_min_rel_output_norm"],
            "median_steps": s["median_steps"], "converged": s["final"]["converged"],
            "max_steps": s["final"]["max_steps"], "nonfinite": s["final"]["nonfinite"]}


# ----------------------------------------------------------------------------- figures

BARS = (("converged trivial", "tab:red"), ("at the trivial point, capped", "salmon"), ("fits v", "tab:green"),
        ("other", "lightgrey"))


def final_outcomes(arrays: dict) -> np.ndarray:
    """Each seed's ``engine.outcomes`` outcome at its end."""
    return classify(arrays["final_status"], arrays["final_trivial"], arrays["final_label"])


def outcome_counts(arrays: dict) -> list[int]:
    """Seeds per bar of ``BARS``: the outcomes ``trivial`` and ``max_steps at the trivial point``, then the seeds
    that fit v among the rest, then the others."""
    ends = final_outcomes(arrays)
    elsewhere = ~np.isin(ends, list(AT_TRIVIAL))
    fit = elsewhere & (arrays["final_rel_l2_error"] <= SOLVED_L2)
    counts = [int(np.sum(ends == TRIVIAL)), int(np.sum(ends == CAPPED_TRIVIAL)), int(np.sum(fit))]
    return counts + [len(ends) - sum(counts)]


def paths_figure(records: dict, summaries: dict, config: MechanismConfig, threshold: float) -> plt.Figure:
    """Top: where each optimiser's seeds ended. Below, per optimiser: ||N||/||v|| (dotted: ``threshold``, the trivial
    rule's bound) and L/L(0) along every seed's path, red where the seed ended at the trivial point, green where it
    fits v."""
    names = list(records)
    cols = min(len(names), 5)
    rows = -(-len(names) // cols)
    fig = plt.figure(figsize=(3.6 * cols, 2.0 + 4.2 * rows))
    grid = fig.add_gridspec(1 + 2 * rows, cols, height_ratios=[0.35 * max(len(names), 4) / 4] + [1.0] * (2 * rows))
    bars = fig.add_subplot(grid[0, :])
    counts = np.array([outcome_counts(records[n]) for n in names], float)  # optimiser × bar
    left = np.zeros(len(names))
    for j, (label, colour) in enumerate(BARS):
        bars.barh(np.arange(len(names)), counts[:, j], left=left, color=colour, label=label)
        left += counts[:, j]
    bars.set_yticks(np.arange(len(names)), names, fontsize=7)
    bars.invert_yaxis()
    bars.set_xlabel("seeds")
    bars.legend(fontsize=7, ncol=4, loc="lower right")
    bars.set_title(f"Where each optimiser's {config.n_seeds} seeds ended (same θ₀)")
    for i, name in enumerate(names):
        r, s = records[name], summaries[name]
        live = recorded_iterates(r["steps"])
        ax_n = fig.add_subplot(grid[1 + 2 * (i // cols), i % cols])
        ax_l = fig.add_subplot(grid[2 + 2 * (i // cols), i % cols], sharex=ax_n)
        for seed in range(r["steps"].shape[0]):
            colour = ("tab:red" if r["final_trivial"][seed] else
                      "tab:green" if r["final_rel_l2_error"][seed] <= SOLVED_L2 else "grey")
            steps = r["step"][live[seed]]
            ax_n.plot(steps, r["path_rel_output_norm"][seed, live[seed]], color=colour, lw=0.6, alpha=0.5)
            ax_l.plot(steps, r["path_loss_ratio"][seed, live[seed]], color=colour, lw=0.6, alpha=0.5)
        ax_n.axhline(threshold, color="black", lw=0.7, ls=":")  # the trivial rule's ||N||/||v|| bound
        ax_n.set_yscale("log")
        ax_l.set_yscale("log")
        v = s["visits"]
        ax_n.set_title(f"{name}: visited {v['visited']}, left {v['visited_then_left']}", fontsize=8)
        ax_n.set_ylabel("||N|| / ||v||", fontsize=7)
        ax_l.set_ylabel("L / L(0)", fontsize=7)
        ax_l.set_xlabel("step", fontsize=7)
        for ax in (ax_n, ax_l):
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def mechanism_figure(records: dict, config: MechanismConfig) -> plt.Figure:
    """Along each quasi-Newton run: the true Hessian's smallest eigenvalue, and the approximation's."""
    names = list(records)
    cols = min(len(names), 5)
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(2 * rows, cols, figsize=(4.3 * cols, 7.5 * rows), squeeze=False, sharex=True)
    for i in range(len(names), rows * cols):  # the unused cells of the last row
        axes[2 * (i // cols), i % cols].set_visible(False)
        axes[2 * (i // cols) + 1, i % cols].set_visible(False)
    for i, name in enumerate(names):
        r = records[name]
        live = recorded_iterates(r["steps"])
        ax, ax_neg = axes[2 * (i // cols), i % cols], axes[2 * (i // cols) + 1, i % cols]
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
        ax.set(ylabel="smallest eigenvalue",
               title=f"{name}: yᵀs ≤ 0 in {bad} of {pairs} pairs" if registry.get(name).quasi_newton else name)
        ax.legend(fontsize=7)
        ax_neg.set(xlabel="step", ylabel="negative eigenvalues of ∇²L", title=f"{name}: index of the iterate")
    fig.suptitle(f"Along the runs on {config.base}: {config.n_seeds} seeds, recorded every {config.stride} steps")
    fig.tight_layout()
    return fig


POSITIVE_DEFINITE = ("bfgs_hessian_start", "bfgs_reset_1", "bfgs_reset_10", "bfgs_reset_100")  # BFGS, exact and PD
INDEFINITE = "bfgs_indefinite_start"  # BFGS from the paper's indefinite matrix, fixed step
HEADLINE = (("newton", "newton"), ("newton_monotone", "monotone"), (INDEFINITE, "BFGS from H+εI"))


def escapes_cells(summaries: list[Summary]) -> Cells:
    """Cells of ``make escapes``: per optimiser, seeds ending at the trivial point (converged or capped) with a 95%
    interval, seeds that fit v, and seeds that visited the trivial point then left it.

    The paper's explanation holds ("reproduced") when every positive-definite exact-Hessian BFGS variant avoids the
    trivial point (≤ ``AVOIDS_SHARE`` of its seeds end there) and BFGS from the paper's indefinite matrix does not;
    "partly" when only the first holds, "differs" when the positive-definite variants do not avoid it.
    """
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    optimizers, n = summary["optimizers"], summary["n_seeds"]

    def end(name: str) -> int:
        return optimizers[name]["at_trivial_end_rate"]["k"]

    def line(name: str) -> str:
        s = optimizers[name]
        low, high = s["at_trivial_end_rate"]["ci95"]
        return (f"{name}: {end(name)}/{n} at the trivial point [{low:.2f}, {high:.2f}] ({s['trivial_rate']['k']} "
                f"converged), fit {s['fit_rate']['k']}, visited {s['visits']['visited']} and left "
                f"{s['visits']['visited_then_left']}")

    positive = [o for o in POSITIVE_DEFINITE if o in optimizers]
    positive_avoids = bool(positive) and all(end(o) <= AVOIDS_SHARE * n for o in positive)
    indefinite_goes = INDEFINITE in optimizers and end(INDEFINITE) > AVOIDS_SHARE * n
    why = (f"positive-definite BFGS variants {'avoid' if positive_avoids else 'do not all avoid'} the trivial point "
           f"({', '.join(f'{o} {end(o)}/{n}' for o in positive)}); from the indefinite matrix "
           + (f"{end(INDEFINITE)}/{n}" if INDEFINITE in optimizers else "not run"))
    verdict = ("reproduced" if positive_avoids and indefinite_goes else "partly: " + why if positive_avoids
               else "differs: " + why)

    def blew_up(name: str) -> str:
        k = optimizers[name]["final"]["nonfinite"]
        return f" ({k} blew up)" if k else ""

    parts = [f"{label} {end(o)}{blew_up(o)}" for o, label in HEADLINE if o in optimizers]
    if positive:
        parts.append(f"PD exact BFGS at most {max(end(o) for o in positive)}")
    visited = sum(s["visits"]["visited"] for s in optimizers.values())
    left = sum(s["visits"]["visited_then_left"] for s in optimizers.values())
    headline = f"at the trivial point of {n}: " + ", ".join(parts)
    large = f"visits after θ₀ left again: {left} of {visited}"
    return Cells("<br>".join(line(o) for o in optimizers), large, verdict, headline)


PATHS_CAPTION = ("Top: where each method's 64 seeds ended, all from E3's initial points. Below: ||N||/||v|| and "
                 "L/L(0) along every seed's path (every 10 steps), red where the seed ended at the trivial point, "
                 "green where it fits v; dotted: ||N||/||v|| = 0.1. A seed visited the trivial point when a recorded "
                 "iterate met the trivial rule (||N||/||v|| ≤ 0.1 and L/L(0) ≥ 0.99).",
                 "A path that dips below the dotted line and rises again visited the trivial point and left it.")


ROWS = (  # E9's row reads the quasi-Newton record (studies.compare); the escapes study has its own
    Row("QE", "why BFGS escapes", "BFGS from or reset to the exact Hessian (positive-definite or the "
        "paper's indefinite matrix), damped Newton made monotone, and the second-order family, with each path's "
        "visits to the trivial point, from the same 64 initial points of E3 (make escapes)",
        "BFGS avoids it: positive-definite model", ("escapes",),
        escapes_cells, (Figure("escapes", "paths.png", PATHS_CAPTION),), own_target="make escapes"),
)
RUNS = (Run("mechanism", "mechanism", 108, quick={"max_steps": 300, "stride": 20}, quick_s=36),)
