"""From a Config to a results folder: build the problem, sweep the seeds, write the contract.

A results folder holds ``config.json``, ``runs.csv`` (one row per seed), ``arrays.npz``
(leading seed axis), ``summary.json`` and PNG figures. Seed batches are checkpointed
under ``checkpoints/<config hash>/`` after every segment, so rerunning the same
command after an interruption resumes where it stopped and redoes nothing finished.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import Config
from jaxnewton.diagnostics import LABELS, Diagnostics, make_diagnose
from jaxnewton.models import Model, fourier_features, fourier_matrix, make_mlp
from jaxnewton.problems import (Problem, grid_nodes, make_pinn, make_regression, quadrature_weights, sine_product,
                                sine_product_source, sine_target)
from jaxnewton.results import (Log, Progress, checkpoint_dir, wilson_interval, write_config, write_csv, write_npz,
                               write_summary)
from jaxnewton.runner import RUNNING, STATUS, STATUS_MESSAGES, Loop, RunState, make_context_loop
from jaxnewton.solvers import CurvatureState, Solver, build_solver
from jaxnewton.sweep import BatchFns, diagnose_batch, init_batch, make_batch_fns, run_checkpointed, save_state

RUNS_COLUMNS = [
    "seed", "status", "steps", "loss", "grad_norm", "trivial", "label", "n_neg", "n_zero", "n_pos",
    "loss_ratio", "rel_output_norm", "outer_weight_norm", "max_basis_cosine", "rel_l2_error",
]

FOURIER_STREAM = 1  # B of seed s is drawn from fold_in(seed key, FOURIER_STREAM); θ₀ from the seed key itself
ERROR_REFINEMENT = 4  # a PINN's error is measured on a grid this many times finer per axis than its nodes
SOLVED_L2 = 1e-2  # a run "solved" the problem when its relative L2 error against the exact solution is below this
OUTER_ZERO = 1e-3  # ||θᴼ|| below this counts as the paper's θᴼ = 0 trivial point


class Experiment(NamedTuple):
    """A config turned into pure functions.

    Attributes:
      config: the validated config.
      problem: the problem of seed 0's context (the problem of every seed when there is no context).
      problem_for: ``problem_for(context) -> Problem``: a seed's problem (E5: built from its B).
      loop: the per-seed loop.
      diagnose: ``diagnose(theta_P, context=()) -> Diagnostics``.
      contexts: ``contexts(seeds_S) -> context`` with a leading seed axis (``()`` when none).
    """

    config: Config
    problem: Problem
    problem_for: Callable[[Any], Problem]
    loop: Loop
    diagnose: Callable[..., Diagnostics]
    contexts: Callable[[np.ndarray], Any]


def make_solver(config: Config, problem: Problem) -> Solver:
    """The config's optimiser on ``problem``'s loss."""
    return build_solver(config.solver, problem.loss, hessian=problem.hessian, eta=config.eta, eps=config.eps,
                        learning_rate=config.learning_rate, gd_learning_rate=config.gd_learning_rate,
                        memory=config.memory, gss_evals=config.gss_evals)


def solver_settings(config: Config) -> str:
    """The settings of the config's optimiser, for log lines and figure legends."""
    return {"newton": f"η={config.eta} ε={config.eps}", "sfn": f"η={config.eta} ε={config.eps}",
            "bfgs": "zoom line search", "lbfgs": f"memory {config.memory}, zoom line search",
            "lbfgs_gss": f"memory {config.memory}, {config.gss_evals}-evaluation golden section",
            "adam": f"lr={config.learning_rate}", "gd": f"α={config.gd_learning_rate}",
            "bfgs_fixed": f"fixed step η={config.eta}", "bfgs_fixed_unguarded": f"fixed step η={config.eta}, "
                                                                               "no curvature safeguard"}[config.solver]


def make_model(config: Config, in_dim: int) -> Model:
    """The config's MLP (plain, SIREN, or behind Fourier features of ``in_dim`` entries)."""
    return make_mlp(in_dim, config.widths, config.activation, config.bias_init, config.weight_init, config.omega0)


def make_problem_for(config: Config) -> Callable[[Any], Problem]:
    """``problem_for(context) -> Problem`` of the config; the context is B for Fourier features, else ``()``."""
    weights = quadrature_weights(config.n_points ** config.dim)
    x = grid_nodes(config.n_points, config.dim)
    if config.problem == "regression":
        target = sine_target(config.target_amplitude, config.target_wavenumber)(x)
        if config.input_features == "fourier":
            model = make_model(config, 2 * config.fourier_features)
            return lambda B_FxD: make_regression(model, fourier_features(x, B_FxD), target, weights, config.hessian)
        problem = make_regression(make_model(config, 1), x, target, weights, config.hessian)
        return lambda context: problem
    reaction = 1.0 if config.problem == "diffusion_reaction_2d" else 0.0
    x_error = grid_nodes(ERROR_REFINEMENT * (config.n_points - 1) + 1, config.dim)
    exact = sine_product(config.target_amplitude, config.target_wavenumber)(x_error)
    source = sine_product_source(config.target_amplitude, config.target_wavenumber, reaction)(x)
    problem = make_pinn(make_model(config, config.dim), x, source, weights, reaction, x_error, exact)
    return lambda context: problem


def build(config: Config) -> Experiment:
    """Build the problem, loop and diagnostics a config describes (nothing is compiled here)."""
    problem_for = make_problem_for(config)

    def contexts(seeds: np.ndarray) -> Any:
        if config.input_features != "fourier":
            return ()
        # B from its own stream of the seed's key, so θ₀ is drawn exactly as without features.
        keys = jax.vmap(lambda k: jax.random.fold_in(k, FOURIER_STREAM))(seed_keys(config.seed, seeds))
        return jax.vmap(lambda k: fourier_matrix(k, config.fourier_features, config.dim, config.fourier_sigma2))(keys)

    def solve(context: Any):
        problem = problem_for(context)
        return problem.loss, make_solver(config, problem)

    def diagnose(theta: jax.Array, context: Any = ()) -> Diagnostics:
        return make_diagnose(problem_for(context), config.eig_rtol, config.trivial_loss_ratio,
                             config.trivial_output_ratio)(theta)

    problem = problem_for(jax.tree.map(lambda a: a[0], contexts(np.arange(1))))
    loop = make_context_loop(solve, config.tol, config.max_steps, config.history_stride, config.divergence_factor)
    return Experiment(config=config, problem=problem, problem_for=problem_for, loop=loop, diagnose=diagnose,
                      contexts=contexts)


def seed_keys(root_seed: int, seeds: np.ndarray) -> jax.Array:
    """Per-seed keys ``fold_in(key(root_seed), s)``: seed s's key does not depend on the others."""
    root = jax.random.key(root_seed)
    return jax.vmap(lambda s: jax.random.fold_in(root, s))(jnp.asarray(seeds, jnp.uint32))


def initial_points(experiment: Experiment, seeds: np.ndarray) -> jax.Array:
    """θ₀ for each seed, ``theta0_SxP``."""
    return jax.vmap(experiment.problem.init)(seed_keys(experiment.config.seed, seeds))


class BatchResult(NamedTuple):
    seeds: np.ndarray
    theta0: np.ndarray
    context: Any
    state: RunState
    diagnostics: Diagnostics
    seconds: float


def run_rows(fns: BatchFns, theta0, context: Any, checkpoint: Path, max_steps: int, segment_steps: int,
             label: str, log: Log, on_segment: Callable[[RunState], None] | None = None
             ) -> tuple[RunState, Diagnostics, float]:
    """Run rows (θ₀ with their contexts) to the end and diagnose them, resuming from and saving to ``checkpoint``.

    ``fns.diagnose`` must return ``Diagnostics``. Returns the final state, the diagnostics and the seconds
    spent (over every resumption).
    """
    state, start, extra = run_checkpointed(fns, init_batch(fns, theta0, context), checkpoint, max_steps,
                                           segment_steps, label, log, on_segment)
    if extra:
        diagnostics = Diagnostics(**{k: extra[k] for k in Diagnostics._fields})
    else:
        diagnostics = diagnose_batch(fns, state.theta, context)
        save_state(checkpoint, state, time.perf_counter() - start, diagnostics._asdict())
        log(f"{label}: Hessian diagnostics done, {time.perf_counter() - start:.1f} s")
    return state, diagnostics, time.perf_counter() - start


def run_batch(experiment: Experiment, fns: BatchFns, seeds: np.ndarray, checkpoint: Path, log: Log,
              on_segment: Callable[[RunState], None] | None = None) -> BatchResult:
    """Run one seed batch to the end, resuming from and saving to ``checkpoint``.

    ``on_segment(state)`` is called after every checkpointed segment (progress displays).
    """
    config = experiment.config
    theta0 = initial_points(experiment, seeds)
    context = jax.tree.map(np.asarray, experiment.contexts(seeds))
    state, diagnostics, seconds = run_rows(fns, theta0, context, checkpoint, config.max_steps,
                                           config.segment_steps, f"  seeds {seeds[0]}–{seeds[-1]}", log, on_segment)
    return BatchResult(seeds, np.asarray(theta0), context, state, diagnostics, seconds)


def run_experiment(config: Config, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Sweep every seed of ``config`` and write the results contract into ``out_dir``.

    Args:
      config: a validated Config.
      out_dir: the results folder (created if missing).
      log: where progress lines go.
      progress: called after every segment with the fraction of the run done and "k/n seeds done".

    Returns:
      The summary dict (also written to ``summary.json``).
    """
    out = Path(out_dir)
    ckpt_dir = checkpoint_dir(out, config.hash(), log)
    write_config(out, config)

    experiment = build(config)
    fns = make_batch_fns(experiment.loop, experiment.diagnose)
    all_seeds = np.arange(config.n_seeds)
    batches = [all_seeds[i: i + config.batch_size] for i in range(0, config.n_seeds, config.batch_size)]
    settings = solver_settings(config)
    log(f"[{config.name}] {config.n_seeds} seeds, {experiment.problem.n_params} parameters, "
        f"{config.problem}, {config.solver} {settings} tol={config.tol} max_steps={config.max_steps}, "
        f"{len(batches)} batch(es) of ≤{config.batch_size}")
    parts = []
    for b, seeds in enumerate(batches):
        log(f"batch {b + 1}/{len(batches)}")

        def on_segment(s: RunState, b: int = b) -> None:
            done = sum(len(x) for x in batches[:b]) + int(np.sum(np.asarray(s.status) != RUNNING))
            progress((b + float(np.max(s.steps)) / config.max_steps) / len(batches),
                     f"{done}/{config.n_seeds} seeds done")

        parts.append(run_batch(experiment, fns, seeds, ckpt_dir / f"batch_{b:04d}.npz", log,
                               on_segment if progress else None))
    return write_results(experiment, parts, out, log)


def _cat(parts, get) -> np.ndarray:
    return np.concatenate([np.asarray(get(p)) for p in parts])


def _outcome(status: str, trivial: bool, label: str) -> str:
    """A seed's outcome in words, as ``summary.json``'s ``outcomes`` lists it."""
    if status == "converged":
        return "trivial" if trivial else f"non-trivial {label}"
    return f"{status} at the trivial point" if status == "max_steps" and trivial else status


def write_results(experiment: Experiment, parts: list[BatchResult], out: Path, log: Log) -> dict:
    """Assemble the batches and write runs.csv, arrays.npz, summary.json and the figures."""
    from jaxnewton import plots  # matplotlib is only imported when figures are drawn

    config = experiment.config
    seeds = _cat(parts, lambda p: p.seeds)
    status = _cat(parts, lambda p: p.state.status)
    d = {k: _cat(parts, lambda p, k=k: getattr(p.diagnostics, k)) for k in Diagnostics._fields}
    state = {k: _cat(parts, lambda p, k=k: getattr(p.state, k)) for k in ("theta", "loss", "grad_norm", "steps")}
    rows = [
        {
            "seed": int(seeds[i]), "status": STATUS[status[i]], "steps": int(state["steps"][i]),
            "loss": state["loss"][i], "grad_norm": state["grad_norm"][i], "trivial": bool(d["trivial"][i]),
            "label": LABELS[d["label"][i]], "n_neg": int(d["n_neg"][i]), "n_zero": int(d["n_zero"][i]),
            "n_pos": int(d["n_pos"][i]), "loss_ratio": d["loss_ratio"][i],
            "rel_output_norm": d["rel_output_norm"][i], "outer_weight_norm": d["outer_weight_norm"][i],
            "max_basis_cosine": d["max_basis_cosine"][i], "rel_l2_error": d["rel_l2_error"][i],
        }
        for i in range(len(seeds))
    ]
    write_csv(out / "runs.csv", rows, RUNS_COLUMNS)
    arrays = {
        "seed": seeds,
        "theta0": _cat(parts, lambda p: p.theta0),
        "theta": state["theta"],
        "eigvals": d["eigvals"],
        "basis_cosines": d["basis_cosines"],
        "history_step": np.arange(experiment.loop.n_history) * config.history_stride,
        "history_loss": _cat(parts, lambda p: p.state.history_loss),
        "history_grad_norm": _cat(parts, lambda p: p.state.history_grad_norm),
    }
    if config.input_features == "fourier":
        arrays["fourier_B"] = _cat(parts, lambda p: p.context)  # B_SxFxD: part of each seed's record
    tracked = isinstance(parts[0].state.solver_state, CurvatureState)
    if tracked:  # a quasi-Newton run: the curvature pairs (s, y) it met, and how many had yᵀs ≤ 0
        arrays["curvature_pairs"] = _cat(parts, lambda p: p.state.solver_state.n_pairs)
        arrays["curvature_bad_pairs"] = _cat(parts, lambda p: p.state.solver_state.n_bad)
    write_npz(out / "arrays.npz", arrays)

    converged = status == STATUS.index("converged")
    trivial = converged & d["trivial"]
    trivial_converged = int(np.sum(trivial))
    low, high = wilson_interval(trivial_converged, len(seeds))
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "n_seeds": len(seeds),
        "n_params": experiment.problem.n_params,
        "counts": {
            **{name: int(np.sum(status == i)) for i, name in enumerate(STATUS) if name != "running"},
            "trivial": trivial_converged,
        },
        "labels": {name: int(np.sum(converged & (d["label"] == i))) for i, name in enumerate(LABELS)},
        "trivial_labels": {name: int(np.sum(trivial & (d["label"] == i))) for i, name in enumerate(LABELS)},
        "trivial_outer_zero": int(np.sum(trivial & (d["outer_weight_norm"] <= OUTER_ZERO))),
        "trivial_at_cap": int(np.sum((status == STATUS.index("max_steps")) & d["trivial"])),
        "outcomes": [_outcome(STATUS[status[i]], bool(d["trivial"][i]), LABELS[d["label"][i]])
                     for i in range(len(seeds))],
        "trivial_rate": {"k": trivial_converged, "n": len(seeds), "p": trivial_converged / len(seeds),
                         "ci95": [low, high]},
        "rel_l2_error": {"median": float(np.median(d["rel_l2_error"])), "min": float(np.min(d["rel_l2_error"])),
                         "max": float(np.max(d["rel_l2_error"]))},
        "solved": int(np.sum(d["rel_l2_error"] <= SOLVED_L2)),
        "median_loss": float(np.median(state["loss"])),
        "median_steps": float(np.median(state["steps"])),
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
            "curvature": "quasi-Newton runs only (else null): the curvature pairs s = θ_k − θ_{k−1}, y = ∇L_k − "
                         "∇L_{k−1} of all seeds, how many broke the curvature condition yᵀs > 0, and in how many "
                         "seeds (solvers.track_curvature)",
            "status": STATUS_MESSAGES,
        },
        "curvature": {"pairs": int(np.sum(arrays["curvature_pairs"])), "bad_pairs": int(np.sum(
            arrays["curvature_bad_pairs"])), "seeds_with_bad_pairs": int(np.sum(arrays["curvature_bad_pairs"] > 0))}
        if tracked else None,
        "total_iterations": int(np.sum(state["steps"])),
        "wall_seconds": float(sum(p.seconds for p in parts)),
    }
    plots.write_figures(experiment, arrays, rows, out)
    write_summary(out, summary)
    log(f"[{config.name}] converged {summary['counts']['converged']}/{len(seeds)}, "
        f"trivial {trivial_converged}/{len(seeds)} (95% CI {low:.2f}–{high:.2f}), "
        f"labels {summary['labels']}, {summary['wall_seconds']:.1f} s → {out}")
    return summary
