"""Seed sweeps of the networks (E3–E6, and each optimiser of a comparison): run, results folder, figures, rows.

``run(config, out)`` sweeps every seed of a ``Config`` in batches of ``seed_batch`` (each checkpointed
after every segment under ``checkpoints/<config hash>/``, so rerunning the same command after an
interruption resumes and redoes nothing finished), diagnoses every end point, and writes the results
contract: ``runs.csv`` (one row per seed), ``arrays.npz`` (leading seed axis),
``summary.json`` and the figures (loss histories, fits, basis functions, Hessian spectra; fields in 2-D);
``engine.folders`` adds ``config.json`` and ``manifest.json``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core.datasets import DATASETS
from jaxnewton.core.diagnostics import LABELS
from jaxnewton.core.stats import proportion, two_sample_verdict, wilson_interval
from jaxnewton.engine import distributed, memory
from jaxnewton.engine.build import (ERROR_REFINEMENT, BatchResult, Experiment, build, make_problem_for,
                                    run_batch)
from jaxnewton.engine.config import Config, Run
from jaxnewton.engine.io import (Log, Progress, RowWriter, checkpoint_dir, read_checked_npz, write_checked_npz,
                                write_summary)
from jaxnewton.engine.loop import RUNNING, STATUS, STATUS_MESSAGES, RunState
from jaxnewton.engine.outcomes import TRIVIAL, classify, kind
from jaxnewton.engine.sweep import discard_checkpoints, make_batch_fns, seed_mesh_for
from jaxnewton.optim import registry
from jaxnewton.report.figures import fields_grid, outcome_colour, outcome_legend, save
from jaxnewton.report.table import NOT_RUN, NOT_RUN_CELLS, Cells, Figure, Row, Summary

CONFIG = Config
RUNS_COLUMNS = [
    "seed", "status", "steps", "loss", "grad_norm", "trivial", "label", "n_neg", "n_zero", "n_pos",
    "loss_ratio", "rel_output_norm", "outer_weight_norm", "max_basis_cosine", "rel_l2_error",
]
SOLVED_L2 = 1e-2  # a run "solved" the problem when its relative L2 error against the exact solution is below this
OUTER_ZERO = 1e-3  # ||θᴼ|| below this counts as the paper's θᴼ = 0 trivial point


def selects(config: Config) -> bool:
    """A ``Config`` without ``optimizers`` is one sweep (with ``optimizers`` it is a comparison)."""
    return not config.optimizers


def check(config: Config) -> None:
    """Refuse a sweep that cannot fit in memory (``engine.memory``), before anything is written or compiled."""
    memory.check(config, build(config).problem.n_params)


def run(config: Config, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Sweep every seed of ``config`` and write the results contract into ``out_dir``.

    Seeds run in batches of ``config.batch_size``, drawn as they are needed (across processes: batch b on
    process b mod n, ``engine.distributed``, and process 0 writes the folder) (seed s from ``fold_in(key(seed),
    s)``); each finished batch is written to ``checkpoints/<hash>/result_<b>.npz`` and dropped from memory, so
    the sweep holds one batch whatever ``n_seeds`` is, and a rerun skips the batches already finished.

    Args:
      config: a validated Config.
      out_dir: the results folder (created if missing).
      log: where progress lines go.
      progress: called after every segment with the fraction of the run done and "k/n seeds done".

    Returns:
      The summary dict (also written to ``summary.json``).
    """
    out = Path(out_dir)
    experiment = build(config)
    size, n_batches = config.batch_size, -(-config.n_seeds // config.batch_size)
    uneven = registry.seed_by_seed(config)  # each seed runs its own loop (engine.sweep)
    memory.check(config, experiment.problem.n_params, log)  # before anything compiles: refuse what cannot fit
    fns = make_batch_fns(experiment.loop, experiment.diagnose, seed_mesh_for(size, uneven), uneven=uneven)
    settings = registry.get(config.solver).settings(config)
    log(f"[{config.name}] {config.n_seeds} seeds, {experiment.problem.n_params} parameters, "
        f"{config.problem} ({config.loss_reduction} loss, {config.dtype}), {config.solver} {settings} "
        f"tol={config.tol} on ||{'∇L' if config.tol_on == 'grad' else 'Δθ'}||, max_steps={config.max_steps}, "
        f"{n_batches} batch(es) of ≤{size}")
    distributed.barrier("claimed")  # process 0 has claimed the folder (engine.distributed)
    ckpt_dir = checkpoint_dir(out, config.hash())  # after the barrier: nothing is written before the claim
    for b in distributed.mine(n_batches):
        if read_checked_npz(_result_path(ckpt_dir, b), log) is not None:  # finished, and its file checks out
            continue
        log(f"batch {b + 1}/{n_batches}")

        def on_segment(s: RunState, b: int = b) -> None:
            done = b * size + int(np.sum(np.asarray(s.status) != RUNNING))
            progress((b + float(np.max(s.steps)) / config.max_steps) / n_batches, f"{done}/{config.n_seeds} seeds done")

        seeds = np.arange(b * size, min((b + 1) * size, config.n_seeds))
        part = run_batch(experiment, fns, seeds, ckpt_dir / f"batch_{b:04d}.npz", log, on_segment if progress else None)
        write_checked_npz(_result_path(ckpt_dir, b), batch_record(config, part))
        discard_checkpoints(ckpt_dir / f"batch_{b:04d}.npz")  # the result holds everything still needed
    distributed.barrier("batches done")
    if distributed.index() != 0:
        return {}  # process 0 writes the folder from every process's batches
    return write_results(experiment, [_result_path(ckpt_dir, b) for b in range(n_batches)], out, log)


def _result_path(ckpt_dir: Path, b: int) -> Path:
    return ckpt_dir / f"result_{b:04d}.npz"


def batch_record(config: Config, part: BatchResult) -> dict[str, np.ndarray]:
    """What ``write_results`` reads of a finished batch: per-seed arrays (leading seed axis) and its seconds."""
    state = part.state
    record = {"seed": part.seeds, "theta0": part.theta0, "seconds": np.asarray(part.seconds),
              **{k: getattr(state, k) for k in ("theta", "loss", "grad_norm", "steps", "status", "history_loss",
                                                "history_grad_norm")},
              **{f"diagnostics_{k}": v for k, v in part.diagnostics._asdict().items()}}
    if config.input_features == "fourier":
        record["fourier_B"] = part.context  # B_SxFxD: part of each seed's record
    if registry.counts_krylov(config):
        record["krylov_iterations"] = state.solver_state.krylov_iterations  # Hessian-vector products over all steps
        record["krylov_unsolved_steps"] = state.solver_state.unsolved_steps  # MINRES stopped at its cap
    for name in registry.get(config.solver).records:  # e.g. Newton-MR's steps along non-positive curvature
        record[name] = getattr(state.solver_state, name)
    if registry.get(config.solver).quasi_newton:  # the curvature pairs (s, y) it met, and how many had yᵀs ≤ 0
        record["curvature_pairs"], record["curvature_bad_pairs"] = state.solver_state.n_pairs, state.solver_state.n_bad
    return {k: np.asarray(v) for k, v in record.items()}


FIGURE_SEEDS = 256  # the histories and spectra figures draw the first this many seeds of larger sweeps
SUMMARY_COLUMNS = ("status", "steps", "loss", "diagnostics_trivial", "diagnostics_label", "diagnostics_outer_weight_norm",
                   "diagnostics_rel_l2_error", "diagnostics_label_certain", "diagnostics_index_fraction",
                   "diagnostics_index_low", "diagnostics_index_high")


def write_results(experiment: Experiment, results: list[Path], out: Path, log: Log) -> dict:
    """Write runs.csv, arrays.npz, summary.json and the figures from the batches' records, one batch at a time.

    Memory: one batch's arrays, the first ``FIGURE_SEEDS`` seeds' for the figures, and a few numbers per seed
    for the summary (its medians and per-seed outcomes).
    """
    config = experiment.config
    tracked = registry.get(config.solver).quasi_newton
    writer = RowWriter(out / "runs.csv", out / "arrays.npz", RUNS_COLUMNS)
    krylov = registry.counts_krylov(config)
    records = registry.get(config.solver).records
    columns = {k: [] for k in (*SUMMARY_COLUMNS, *(("curvature_pairs", "curvature_bad_pairs") if tracked else ()),
                               *(("krylov_iterations", "krylov_unsolved_steps") if krylov else ()), *records)}
    figure_arrays, figure_rows, seconds = {}, [], 0.0
    for path in results:
        r = read_checked_npz(path, log)
        if r is None:  # checked when its batch was skipped: damaged since (or another process's was never written)
            raise ValueError(f"{path} is missing or failed its check after the batches were done: rerun the same "
                             "command to recompute it")
        seconds += float(r["seconds"])
        rows = [
            {
                "seed": int(r["seed"][i]), "status": STATUS[r["status"][i]], "steps": int(r["steps"][i]),
                "loss": r["loss"][i], "grad_norm": r["grad_norm"][i], "trivial": bool(r["diagnostics_trivial"][i]),
                "label": LABELS[r["diagnostics_label"][i]], "n_neg": int(r["diagnostics_n_neg"][i]),
                "n_zero": int(r["diagnostics_n_zero"][i]), "n_pos": int(r["diagnostics_n_pos"][i]),
                "loss_ratio": r["diagnostics_loss_ratio"][i], "rel_output_norm": r["diagnostics_rel_output_norm"][i],
                "outer_weight_norm": r["diagnostics_outer_weight_norm"][i],
                "max_basis_cosine": r["diagnostics_max_basis_cosine"][i], "rel_l2_error": r["diagnostics_rel_l2_error"][i],
            }
            for i in range(len(r["seed"]))
        ]
        arrays = {"seed": r["seed"], "theta0": r["theta0"], "theta": r["theta"], "eigvals": r["diagnostics_eigvals"],
                  "basis_cosines": r["diagnostics_basis_cosines"], "history_loss": r["history_loss"],
                  "history_grad_norm": r["history_grad_norm"],
                  **{k: r[k] for k in ("fourier_B", "curvature_pairs", "curvature_bad_pairs", "krylov_iterations",
                                  "krylov_unsolved_steps", *records) if k in r}}
        writer.add(rows, arrays)
        for k in columns:
            columns[k].append(r[k])
        room = FIGURE_SEEDS - len(figure_rows)
        if room > 0:
            figure_rows += rows[:room]
            for k, v in arrays.items():
                figure_arrays[k] = np.concatenate([figure_arrays[k], v[:room]]) if k in figure_arrays else v[:room]
    history_step = np.arange(experiment.loop.n_history) * config.history_stride
    writer.close({"history_step": history_step})
    c = {k: np.concatenate(v) for k, v in columns.items()}
    status, trivial_flag, label = c["status"], c["diagnostics_trivial"], c["diagnostics_label"]
    n_seeds = len(status)
    outcomes = classify(status, trivial_flag, label).tolist()
    converged = status == STATUS.index("converged")
    trivial = converged & trivial_flag
    trivial_converged = int(np.sum(trivial))
    low, high = wilson_interval(trivial_converged, n_seeds)
    error = c["diagnostics_rel_l2_error"]
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "n_seeds": n_seeds,
        "n_params": experiment.problem.n_params,
        "counts": {
            **{name: int(np.sum(status == i)) for i, name in enumerate(STATUS) if name != "running"},
            "trivial": trivial_converged,
        },
        "labels": {name: int(np.sum(converged & (label == i))) for i, name in enumerate(LABELS)},
        "trivial_labels": {name: int(np.sum(trivial & (label == i))) for i, name in enumerate(LABELS)},
        "trivial_outer_zero": int(np.sum(trivial & (c["diagnostics_outer_weight_norm"] <= OUTER_ZERO))),
        "trivial_at_cap": int(np.sum((status == STATUS.index("max_steps")) & trivial_flag)),
        "outcomes": outcomes,
        "trivial_rate": proportion(trivial_converged, n_seeds),
        "rel_l2_error": {"median": float(np.median(error)), "min": float(np.min(error)), "max": float(np.max(error))},
        "solved": int(np.sum(error <= SOLVED_L2)),
        "median_loss": float(np.median(c["loss"])),
        "median_steps": float(np.median(c["steps"])),
        "spectrum": config.spectrum,
        "uncertain_labels": int(np.sum(~c["diagnostics_label_certain"])),
        "index_fraction": {k: float(np.median(c[f"diagnostics_index_{v}"]))
                           for k, v in (("median", "fraction"), ("median_low", "low"), ("median_high", "high"))},
        "definitions": {
            "counts.trivial": "seeds that converged (||∇L||₂ ≤ tol) to a trivial point",
            "labels": "Hessian labels of the converged seeds only",
            "trivial_labels": "Hessian labels of the converged trivial seeds",
            "trivial_at_cap": "seeds that reached max_steps at a point that meets the trivial rule (not counted "
                              "as trivial: they are not stationary to the tolerance)",
            "outcomes": "per seed, in seed order: trivial / non-trivial <label> for a converged seed, else its "
                        "status (max_steps ending at a point that meets the trivial rule says so)",
            "trivial_outer_zero": f"converged trivial seeds with ||θᴼ||₂ ≤ {OUTER_ZERO:g} (the paper's θᴼ = 0 "
                                  "point); the others cancel redundant basis functions",
            "trivial_rate": "counts.trivial / n_seeds with a 95% Wilson interval",
            "rel_l2_error": "||N − u|| / ||u|| over all seeds, u the exact solution: at the nodes with u = v for "
                            f"regression, on a grid {ERROR_REFINEMENT}× finer per axis for a PINN",
            "solved": f"seeds, whatever their status, with rel_l2_error ≤ {SOLVED_L2:g}",
            "uncertain_labels": "seeds whose Hessian label is not certain (spectrum=lanczos: a minimum or maximum "
                                "read from Ritz values, which may miss an eigenvalue of the other sign)",
            "index_fraction": "the median over all seeds of the end point's index fraction n_neg / P, and of its 95% "
                              "bracket's ends (spectrum=dense: exact, the three equal; lanczos: stochastic Lanczos "
                              "quadrature, core.diagnostics)",
            "median_krylov_iterations": "linear_solver=krylov only (else null): the median over seeds of MINRES "
                                        "iterations (newton) or Lanczos steps (sfn), i.e. Hessian-vector products, "
                                        "per step",
            "krylov_unsolved": "linear_solver=krylov only (else null): the steps, over all seeds, whose MINRES "
                               "stopped at krylov_max_iter above krylov_rtol (an inexact Newton step), and the seeds "
                               "with any (always 0 for sfn, whose Lanczos runs a fixed number of steps)",
            "curvature": "quasi-Newton runs only (else null): the curvature pairs s = θ_k − θ_{k−1}, y = ∇L_k − "
                         "∇L_{k−1} of all seeds, how many broke the curvature condition yᵀs > 0, and in how many "
                         "seeds (optim.quasi_newton.track_curvature)",
            "status": STATUS_MESSAGES,
            **{name: f"{config.solver} only: the steps, over all seeds, its state counts as {name} (optim.registry "
                     "records), and the seeds with any" for name in records},
        },
        "curvature": {"pairs": int(np.sum(c["curvature_pairs"])), "bad_pairs": int(np.sum(c["curvature_bad_pairs"])),
                      "seeds_with_bad_pairs": int(np.sum(c["curvature_bad_pairs"] > 0))} if tracked else None,
        "total_iterations": int(np.sum(c["steps"])),
        "median_krylov_iterations": (float(np.median(c["krylov_iterations"] / np.maximum(c["steps"], 1)))
                                     if krylov else None),
        "krylov_unsolved": ({"steps": int(np.sum(c["krylov_unsolved_steps"])),
                             "seeds": int(np.sum(c["krylov_unsolved_steps"] > 0))} if krylov else None),
        **{name: {"steps": int(np.sum(c[name])), "seeds": int(np.sum(c[name] > 0))} for name in records},
        "wall_seconds": seconds,
    }
    figure_arrays["history_step"] = history_step
    write_figures(experiment, figure_arrays, figure_rows, outcomes[:FIGURE_SEEDS], out)
    write_summary(out, summary)
    log(f"[{config.name}] converged {summary['counts']['converged']}/{n_seeds}, "
        f"trivial {trivial_converged}/{n_seeds} (95% CI {low:.2f}–{high:.2f}), "
        f"labels {summary['labels']}, {summary['wall_seconds']:.1f} s → {out}")
    return summary


# ----------------------------------------------------------------------------- figures

MAX_PANELS = 12


def histories(arrays: dict, outcomes: list[str], tol: float) -> plt.Figure:
    """Loss and ||∇L|| against step for every seed, coloured by outcome."""
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4))
    step = arrays["history_step"]
    for i, outcome in enumerate(outcomes):
        colour = outcome_colour(outcome)
        ax_loss.semilogy(step, arrays["history_loss"][i], color=colour, lw=0.8, alpha=0.7)
        ax_grad.semilogy(step, arrays["history_grad_norm"][i], color=colour, lw=0.8, alpha=0.7)
    ax_grad.axhline(tol, color="k", ls=":", lw=1, label=f"tol = {tol:g}")
    ax_loss.set(xlabel="Newton step", ylabel="loss L(θ)", title="loss")
    ax_grad.set(xlabel="Newton step", ylabel="||∇L||₂", title="gradient norm")
    outcome_legend(ax_loss, outcomes)
    return fig


def _context(arrays: dict, i: int):
    """Seed i's problem context as saved in arrays.npz (B for Fourier features, else ``()``)."""
    return arrays["fourier_B"][i] if "fourier_B" in arrays else ()


def fits(experiment: Experiment, arrays: dict, rows: list[dict], outcomes: list[str]) -> plt.Figure:
    """Final N(x) against the target v (regression) or the exact solution u (PINN), up to MAX_PANELS seeds."""
    pinn = experiment.config.problem != "regression"
    shown = rows[:MAX_PANELS]
    cols = min(4, len(shown))
    nrows = -(-len(shown) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.4 * nrows), squeeze=False, sharey=True)
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for i, (ax, row) in enumerate(zip(axes.flat, shown)):
        problem = experiment.problem_for(_context(arrays, i))
        if pinn:  # the error grid: finer than the collocation nodes
            x = np.linspace(0.0, 1.0, problem.exact.shape[0])
            ax.plot(x, np.asarray(problem.exact), "k--", lw=1, label="exact u")
        else:
            x = np.linspace(0.0, 1.0, experiment.config.n_points)  # the nodes (problem.x holds γ(x) for E5)
            ax.plot(x, np.asarray(problem.target), "k--", lw=1, label="target v")
        ax.plot(x, np.asarray(problem.solution(arrays["theta"][i])), color=outcome_colour(outcomes[i]), lw=1.5,
                label="N(x)")
        ax.set_title(f"seed {row['seed']}: {kind(outcomes[i])}, {row['label']}\nL/L(0) = {row['loss_ratio']:.3g}, "
                     f"rel. L2 error {row['rel_l2_error']:.2g}", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"final {'solutions' if pinn else 'fits'} ({len(shown)} of {len(rows)} seeds)")
    fig.tight_layout()
    return fig


def basis_functions(experiment: Experiment, arrays: dict, rows: list[dict], outcomes: list[str]) -> plt.Figure:
    """The basis functions of the first trivial and the first non-trivial converged seed.

    Regression: h_k(x). PINN: L[g h_k](x), each scaled to max 1, what the trivial analysis tests against −v.
    Drawn on a grid 4× finer than the nodes, so SIREN's and Fourier features' high frequencies show.
    """
    config = experiment.config
    pinn = config.problem != "regression"
    fine = dataclasses.replace(config, n_points=4 * (config.n_points - 1) + 1)
    fine_problem_for = make_problem_for(fine)

    def first(trivial: bool) -> int | None:
        """The first converged seed of the kind, else the first capped one ending at a point of that kind."""
        wanted = "trivial" if trivial else "non-trivial"
        return next((i for i, o in enumerate(outcomes) if kind(o) == wanted),
                    next((i for i, r in enumerate(rows) if r["status"] == "max_steps" and r["trivial"] == trivial),
                         None))

    picks = {"trivial": first(True), "non-trivial": first(False)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, (name, i) in zip(axes, picks.items()):
        if i is None:
            ax.text(0.5, 0.5, f"no {name} seed, converged or capped, in this run", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_title(name)
            continue
        problem = fine_problem_for(_context(arrays, i))
        x = np.linspace(0.0, 1.0, fine.n_points)  # problem.x holds γ(x) for E5
        basis_QxK = np.asarray(problem.basis(arrays["theta"][i]))
        v = np.asarray(problem.target)
        if pinn:
            basis_QxK = basis_QxK / np.maximum(np.max(np.abs(basis_QxK), axis=0), 1e-300)
        ax.plot(x, basis_QxK, lw=1)
        ax.plot(x, v / np.max(np.abs(v)), "k--", lw=1.5, label=("−v" if pinn else "v") + " / max|v|")
        status = "" if rows[i]["status"] == "converged" else f" ({rows[i]['status']})"
        ax.set(xlabel="x", title=f"{name}{status}: seed {rows[i]['seed']}, max |cos| = "
                                 f"{rows[i]['max_basis_cosine']:.2g}")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("L[g h_k](x) / max|L[g h_k]|" if pinn else "h_k(x)")
    return fig


def fields(experiment: Experiment, arrays: dict, rows: list[dict], outcomes: list[str]) -> plt.Figure:
    """2-D problems: the exact solution, and N and N − u of up to 3 seeds, on the error grid."""
    problem = experiment.problem
    fig = fields_grid(problem.exact, [
        (problem.solution(arrays["theta"][i]), f"seed {row['seed']}: N ({kind(outcomes[i])}, {row['label']})",
         f"N − u, rel. L2 error {row['rel_l2_error']:.2g}") for i, row in enumerate(rows[:3])])
    fig.tight_layout()
    return fig


def spectrum(arrays: dict, rows: list[dict], eig_rtol: float, ritz: bool = False) -> plt.Figure:
    """Hessian eigenvalues at the final iterate of every seed (symlog scale); ``ritz``: they are the Ritz values of
    one Lanczos run (``spectrum = "lanczos"``), whose ends are the spectrum's and whose inside is a sample."""
    eigvals = arrays["eigvals"]
    fig, ax = plt.subplots(figsize=(max(6, 0.12 * len(rows) + 4), 4))
    for i, row in enumerate(rows):
        lam = eigvals[i]
        threshold = eig_rtol * np.max(np.abs(lam))
        colours = np.where(lam < -threshold, "tab:red", np.where(lam > threshold, "tab:blue", "tab:gray"))
        ax.scatter(np.full(lam.shape, i), lam, c=colours, s=6)
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{r['seed']}\n{r['label'][:3]}" for r in rows], fontsize=6)
    ax.set(xlabel="seed / label", ylabel="eigenvalue of ∇²L",
           title=f"Hessian {'Ritz values (Lanczos, k steps)' if ritz else 'spectrum'} at the final iterate (red < 0, "
                 f"grey near zero: |λ| ≤ {eig_rtol:g}·max|λ|, blue > 0)")
    return fig


def write_figures(experiment: Experiment, arrays: dict, rows: list[dict], outcomes: list[str], out: Path) -> None:
    """Write a sweep's figures as PNGs into ``out``: histories and spectrum; fits and basis in 1-D, fields in 2-D
    (a data set's samples have no such picture)."""
    config = experiment.config
    figures = {
        "histories": lambda: histories(arrays, outcomes, config.tol),
        "spectrum": lambda: spectrum(arrays, rows, config.eig_rtol, ritz=config.spectrum == "lanczos"),
    }
    if config.problem in DATASETS:
        pass
    elif config.dim == 1:
        figures["fits"] = lambda: fits(experiment, arrays, rows, outcomes)
        figures["basis"] = lambda: basis_functions(experiment, arrays, rows, outcomes)
    else:
        figures["fields"] = lambda: fields(experiment, arrays, rows, outcomes)
    for name, draw in figures.items():
        save(draw(), out / f"{name}.png")


# ----------------------------------------------------------------------------- report rows

def counts_text(summary: dict) -> str:
    """"2/10 trivial (8 max_steps; 4 of those at the trivial point)" from a sweep's summary."""
    c = summary["counts"]
    extra = ", ".join(f"{c[k]} {k}" for k in ("max_steps", "nonfinite") if c[k])
    at_cap = summary.get("trivial_at_cap", 0)
    extra += f"; {at_cap} of those at the trivial point" if at_cap else ""
    return f"{c['trivial']}/{summary['n_seeds']} trivial" + (f" ({extra})" if extra else "")


def trivial_total(summary: dict) -> int:
    """Seeds ending at the trivial point: converged there, or capped there."""
    return summary["counts"]["trivial"] + summary.get("trivial_at_cap", 0)


def outcome_counts_text(outcomes: list[str]) -> str:
    """"3/5 trivial (1 max_steps, 1 non-trivial saddle)" from a summary's per-seed outcomes."""
    others = {o: outcomes.count(o) for o in dict.fromkeys(outcomes) if o != TRIVIAL}
    extra = ", ".join(f"{n} {o}" for o, n in others.items())
    return f"{outcomes.count(TRIVIAL)}/{len(outcomes)} trivial" + (f" ({extra})" if extra else "")


def _rate(summary: dict) -> tuple[str, float, float]:
    rate = summary["trivial_rate"]
    low, high = rate["ci95"]
    return f"p = {rate['p']:.2f} [{low:.2f}, {high:.2f}]", low, high


def sweep_cells(paper_trivial: int, paper_seeds: int) -> Callable[[list[Summary]], Cells]:
    """Cells of a sweep at the paper's seeds and a larger one, whose result is the share converging trivially.

    Verdict: ``core.stats.two_sample_verdict`` of the paper's count against the larger sweep's (Fisher's exact test).
    """

    def cells(summaries: list[Summary]) -> Cells:
        small, large = summaries
        small_text = counts_text(small) if small else NOT_RUN
        if large is None:
            return Cells(small_text, NOT_RUN, "—", small_text)
        rate, _, _ = _rate(large)
        verdict = two_sample_verdict(paper_trivial, paper_seeds, large["counts"]["trivial"], large["n_seeds"])
        small_count = f"{small['counts']['trivial']}/{small['n_seeds']} at {small['n_seeds']} seeds; " if small else ""
        headline = f"{small_count}{large['counts']['trivial']}/{large['n_seeds']} at {large['n_seeds']}, {rate}"
        return Cells(small_text, f"{counts_text(large)}: {rate}", verdict, headline)

    return cells


def first_seeds_cells(paper_trivial: int, paper_seeds: int) -> Callable[[list[Summary]], Cells]:
    """Cells of one sweep whose first ``paper_seeds`` seeds are the paper's setting (a seed's run does not
    depend on the sweep it runs in, bit for bit on CPU: ``engine.sweep``), the whole sweep the larger one.

    Seeds that reached the cap at a point meeting the trivial rule are counted beside, never as trivial. Verdict as
    ``sweep_cells``'s, on the whole sweep.
    """

    def cells(summaries: list[Summary]) -> Cells:
        (summary,) = summaries
        if summary is None:
            return NOT_RUN_CELLS
        first = summary["outcomes"][:paper_seeds]
        small = f"seeds 0–{paper_seeds - 1}: {outcome_counts_text(first)}"
        rate, _, _ = _rate(summary)
        verdict = two_sample_verdict(paper_trivial, paper_seeds, summary["counts"]["trivial"], summary["n_seeds"])
        at_cap = summary.get("trivial_at_cap", 0)
        if at_cap:
            verdict += f"; {at_cap} more seeds ended at the trivial point without meeting the tolerance"
        headline = (f"seeds 0–{paper_seeds - 1}: {first.count(TRIVIAL)}/{paper_seeds} trivial; "
                    f"all {summary['n_seeds']}: {summary['counts']['trivial']}/{summary['n_seeds']}, {rate}")
        return Cells(small, f"{counts_text(summary)}: {rate}", verdict, headline)

    return cells


E3_FIGURES = (
    ("histories.png", ("Loss and ||∇L||₂ against step for every seed, coloured by outcome (trivial, non-trivial, "
                       "capped at max_steps, nonfinite).",
                       "A trivial run's loss plateaus at the loss of the zero function while ||∇L|| falls below "
                       "the tolerance.")),
    ("fits.png", ("The final N(x) against the target v for up to 12 seeds.",
                  "At a trivial point N is close to zero everywhere.")),
    ("basis.png", ("The last hidden layer's basis functions h_k(x) of the first trivial and the first non-trivial "
                   "converged seed.",
                   "The paper finds them mostly constants and sin(πx) + c at the trivial point.")),
    ("spectrum.png", ("Hessian eigenvalues at the final iterate of every seed (symlog scale).",
                      "Negative and positive eigenvalues together mark a saddle; the paper's Hessians confirm one.")),
)


PINN_FIGURES = (
    E3_FIGURES[0],
    ("fits.png", ("The final N(x) against the exact solution u for up to 12 seeds, on a grid 4× finer than the "
                  "collocation nodes.", "At a trivial point N is close to zero everywhere.")),
    ("basis.png", ("L[g h_k] = (g h_k)'' of the first trivial and the first non-trivial converged seed, each scaled "
                   "to max 1, with −v.", "The paper finds them orthogonal to the source at the trivial point.")),
    E3_FIGURES[3],
)


def _sweep_figures(folder: str, figures=E3_FIGURES) -> tuple[Figure, ...]:
    return tuple(Figure(folder, file, caption) for file, caption in figures)


ROWS = (
    Row("E3", "tanh MLP", "tanh MLP 1-10-10-1, v = 2 sin(4πx), η = ε = 5e-2", "9/10 trivial",
        ("mlp_tanh", "mlp_tanh_100"), sweep_cells(9, 10), _sweep_figures("mlp_tanh") + _sweep_figures("mlp_tanh_100")),
    Row("E4", "SIREN", "SIREN 1-10-10-1, sin(ω₀ ·), ω₀ = 4, v = 2 sin(4πx), η = 5e-2, ε = 1e-1", "4/5 trivial",
        ("siren",), first_seeds_cells(4, 5), _sweep_figures("siren")),
    Row("E5", "Fourier features", "Fourier features (f = 10 rows of B, σ² = 1.5) into a tanh 20-10-10-1 MLP, "
        "v = 2 sin(4πx)", "about half trivial, most others do not converge", ("fourier",), first_seeds_cells(5, 10),
        _sweep_figures("fourier")),
    Row("E6", "1-D PINN", "1-D PINN u'' + v = 0, u = sin(2πx), N = x(1 − x)·MLP 1-10-10-1, η = ε = 5e-2",
        "5/5 trivial", ("pinn1d",), first_seeds_cells(5, 5), _sweep_figures("pinn1d", PINN_FIGURES)),
)

LARGE_SWEEP_SEEDS = 100
RUNS = (
    Run("mlp_tanh", "mlp_tanh", 137, quick={"max_steps": 1500}, quick_s=33),
    Run("mlp_tanh_100", "mlp_tanh", 445, {"n_seeds": LARGE_SWEEP_SEEDS}, quick={"n_seeds": 30, "max_steps": 1500},
        quick_s=37),
    Run("siren", "siren", 405, quick={"n_seeds": 16, "max_steps": 300}, quick_s=19),
    Run("fourier", "fourier", 250, quick={"max_steps": 100}, quick_s=23),
    Run("pinn1d", "pinn1d", 84, quick={"max_steps": 100}, quick_s=16),
)
