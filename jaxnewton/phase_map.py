"""Where damped Newton ends, over a grid of (η, ε) and over hidden width (issue 5's phase map).

Every cell of the grid runs the same seeds from the same θ₀ as the base config's sweep. The
grid is a per-row *context* of the loop (``runner.make_context_loop``): row (cell, seed)
carries its own (η, ε) and the step is built from it inside the traced function, so the
whole grid × seeds is one batch of the usual sweep machinery (chunked vmap, compaction of
finished rows, checkpoints). That is the nested vmap over grid and seeds, flattened, and
it computes exactly what ``jax.vmap(jax.vmap(...))`` over (cells, seeds) computes
(``tests/test_phase_map.py``); flattened, finished rows stop costing compute.

Each endpoint falls in one ``OUTCOMES`` class; ``summary.json`` holds their counts per cell
(rows η, columns ε). The width sweep runs each width w (a w-w network) at the base's η, ε
as an ordinary seed sweep into ``width_<w>/``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import Config, PhaseMapConfig, load_config
from jaxnewton.diagnostics import LABELS
from jaxnewton.experiment import build, initial_points, run_experiment, run_rows
from jaxnewton.results import Log, Progress, checkpoint_dir, write_config, write_npz, write_summary
from jaxnewton.runner import STATUS, make_context_loop
from jaxnewton.solvers import damped_newton
from jaxnewton.sweep import make_batch_fns

OUTCOMES = {
    "trivial": "converged to a trivial point",
    "minimum": "converged to a non-trivial minimum",
    "saddle": "converged to a non-trivial saddle",
    "other": "converged to a non-trivial maximum or degenerate point",
    "capped_trivial": "reached max_steps at a point that meets the trivial rule (not stationary to tol)",
    "capped": "reached max_steps elsewhere",
    "nonfinite": "blew up (NaN/Inf or a loss explosion)",
}


def outcome_classes(status: np.ndarray, trivial: np.ndarray, label: np.ndarray) -> np.ndarray:
    """The ``OUTCOMES`` key of every endpoint, from its status, trivial flag and Hessian label (index of LABELS)."""
    names = np.asarray(STATUS)[status]
    labels = np.asarray(LABELS)[label]
    converged = names == "converged"
    out = np.full(status.shape, "nonfinite", dtype=object)
    out[converged & trivial] = "trivial"
    for kind in ("minimum", "saddle"):
        out[converged & ~trivial & (labels == kind)] = kind
    out[converged & ~trivial & np.isin(labels, ("maximum", "degenerate"))] = "other"
    out[(names == "max_steps") & trivial] = "capped_trivial"
    out[(names == "max_steps") & ~trivial] = "capped"
    return out


def base_of(config: PhaseMapConfig) -> Config:
    """The base seed-sweep config with this run's seeds and cap."""
    base = load_config(config.base)
    return dataclasses.replace(base, n_seeds=config.n_seeds, max_steps=config.max_steps, optimizers=(),
                               solver="newton")


def run_grid(config: PhaseMapConfig, out: Path, log: Log, progress: Progress | None = None) -> dict:
    """Run every (η, ε) cell × seed; write ``grid.npz`` and return the counts per cell."""
    base = base_of(config)
    experiment = build(base)
    problem = experiment.problem

    def solve(context):
        eta, eps = context
        return problem.loss, damped_newton(problem.loss, eta, eps, problem.hessian)

    loop = make_context_loop(solve, base.tol, base.max_steps, base.history_stride, base.divergence_factor)
    fns = make_batch_fns(loop, lambda theta, context: experiment.diagnose(theta))
    n_e, n_p, n_s = len(config.etas), len(config.epss), config.n_seeds
    eta_grid, eps_grid = np.meshgrid(np.asarray(config.etas, float), np.asarray(config.epss, float), indexing="ij")
    rows_eta = np.repeat(eta_grid.ravel(), n_s)  # row (cell c, seed s) is c·n_s + s
    rows_eps = np.repeat(eps_grid.ravel(), n_s)
    theta0 = np.tile(np.asarray(initial_points(experiment, np.arange(n_s))), (n_e * n_p, 1))
    log(f"[{config.name}] damped Newton on {base.name}: {n_e} η × {n_p} ε × {n_s} seeds = {len(theta0)} runs, "
        f"max_steps={base.max_steps}")

    def on_segment(state):
        if progress:
            done = int(np.sum(np.asarray(state.status) != 0))
            progress(0.9 * done / len(theta0), f"grid: {done}/{len(theta0)} runs done")

    ckpt = checkpoint_dir(out, config.hash(), log) / "grid.npz"
    state, d, seconds = run_rows(fns, theta0, (rows_eta, rows_eps), ckpt, base.max_steps, base.segment_steps,
                                 "  grid", log, on_segment)
    shape = (n_e, n_p, n_s)
    status = np.asarray(state.status).reshape(shape)
    classes = outcome_classes(status, np.asarray(d.trivial).reshape(shape), np.asarray(d.label).reshape(shape))
    write_npz(out / "grid.npz", {
        "eta": np.asarray(config.etas, float), "eps": np.asarray(config.epss, float), "status": status,
        "trivial": np.asarray(d.trivial).reshape(shape), "label": np.asarray(d.label).reshape(shape),
        "loss_ratio": np.asarray(d.loss_ratio).reshape(shape), "steps": np.asarray(state.steps).reshape(shape),
        "rel_l2_error": np.asarray(d.rel_l2_error).reshape(shape), "outcome": classes.astype(str),
    })
    return {"counts": {k: np.sum(classes == k, axis=-1).tolist() for k in OUTCOMES},
            "median_steps": np.median(np.asarray(state.steps).reshape(shape), axis=-1).tolist(),
            "wall_seconds": seconds}


def run_widths(config: PhaseMapConfig, out: Path, log: Log, progress: Progress | None = None) -> dict:
    """One seed sweep per width at the base's η and ε, into ``width_<w>/``; their counts."""
    results, base = {}, base_of(config)
    for i, width in enumerate(config.widths):
        sweep = dataclasses.replace(base, name=f"{base.name}_w{width}", widths=(width,) * len(base.widths))

        def sub(fraction: float, text: str, i: int = i, width: int = width) -> None:
            progress(0.9 + 0.1 * (i + fraction) / len(config.widths), f"width {width}: {text}")

        summary = run_experiment(sweep, out / f"width_{width}", log, sub if progress else None)
        outcomes = summary["outcomes"]
        results[str(width)] = {
            "n_params": summary["n_params"], "n_seeds": summary["n_seeds"], "counts": summary["counts"],
            "labels": summary["labels"], "trivial_at_cap": summary["trivial_at_cap"],
            "trivial_rate": summary["trivial_rate"], "solved": summary["solved"],
            "outcome_counts": {o: outcomes.count(o) for o in sorted(set(outcomes))},
            "wall_seconds": summary["wall_seconds"],
        }
    return results


def run_phase_map(config: PhaseMapConfig, out_dir: Path | str, log: Log = print,
                  progress: Progress | None = None) -> dict:
    """Run the (η, ε) grid and the width sweep; write ``summary.json``, ``grid.npz`` and ``phase_map.png``.

    Returns:
      The summary dict.
    """
    from jaxnewton import plots  # matplotlib is only imported when figures are drawn

    out = Path(out_dir)
    write_config(out, config)
    grid = run_grid(config, out, log, progress)
    widths = run_widths(config, out, log, progress)
    base = base_of(config)
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "base": config.base,
        "base_eta": base.eta,
        "base_eps": base.eps,
        "etas": list(config.etas),
        "epss": list(config.epss),
        "n_seeds": config.n_seeds,
        "max_steps": config.max_steps,
        "grid": grid,
        "widths": widths,
        "definitions": {
            "grid.counts": "per outcome, a list over η of lists over ε of seed counts",
            "outcomes": OUTCOMES,
            "widths": "per width w (a w-w network at the base's η and ε): the seed sweep's counts, in width_<w>/",
        },
        "wall_seconds": grid["wall_seconds"] + sum(w["wall_seconds"] for w in widths.values()),
    }
    plots.save(plots.phase_map(summary), out / "phase_map.png")
    write_summary(out, summary)
    trivial = np.asarray(grid["counts"]["trivial"])
    log(f"[{config.name}] trivial seeds per cell (rows η {list(config.etas)}, columns ε {list(config.epss)}):\n"
        f"{trivial}")
    return summary


def nested_vmap_run(loop, theta0_SxP: jax.Array, etas_G: jax.Array, epss_G: jax.Array, steps: int):
    """The phase map as literally nested vmaps: over grid cells (G), then seeds (S); states with axes G×S.

    For small grids and tests: no chunking, compaction or checkpoints (``run_grid`` has them).
    """
    def cell(eta, eps):
        return jax.vmap(lambda t: loop.advance(loop.init(t, (eta, eps)), steps))(theta0_SxP)

    return jax.vmap(cell)(etas_G, epss_G)
