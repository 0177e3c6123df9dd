"""Every stationary point of a known-answer landscape, and the basin each start falls into.

Run undamped Newton (η = 1, ε = 0), the paper's damped Newton and gradient descent from a
dense grid of starts, on the same loop and seed runner as the networks (one start is one
"seed"); merge the converged points that agree modulo 2π into stationary points; label
each by its Hessian eigenvalues; and record, for every start and method, which point it
reached. The fraction of starts reaching each kind of point measures the paper's
"Newton is not biased toward minima" against gradient descent, which is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import LandscapeConfig
from jaxnewton.diagnostics import LABELS, classify_spectrum, hessian_eigvals
from jaxnewton.landscapes import Landscape, elliptic_torus, unit_circle
from jaxnewton.results import Log, Progress, checkpoint_dir, write_config, write_csv, write_npz, write_summary
from jaxnewton.runner import CONVERGED, RUNNING, STATUS, STATUS_MESSAGES, RunState, make_loop
from jaxnewton.solvers import Solver, damped_newton, gradient_descent, on_angles
from jaxnewton.sweep import init_batch, make_batch_fns, run_checkpointed

METHODS = ("newton", "damped_newton", "gradient_descent")
NOT_CONVERGED = -1  # destination of a start whose run did not converge
DIVERGENCE_FACTOR = 1e8  # the networks' blow-up rule; these losses are bounded, so it only catches NaN/Inf


def make_landscape(config: LandscapeConfig) -> Landscape:
    """The landscape a config names."""
    if config.problem == "circle":
        return unit_circle(config.target)
    return elliptic_torus(config.R, config.r, config.e, config.target)


def make_method(config: LandscapeConfig, landscape: Landscape, method: str) -> Solver:
    """One of ``METHODS`` on the landscape's loss (keeping θ in [0, 2π) on angles: ``solvers.on_angles``)."""
    if method == "newton":
        solver = damped_newton(landscape.loss, 1.0, 0.0)
    elif method == "damped_newton":
        solver = damped_newton(landscape.loss, config.eta, config.eps)
    elif method == "gradient_descent":
        solver = gradient_descent(config.learning_rate)
    else:
        raise ValueError(f"method={method!r} is unknown; use one of {list(METHODS)}")
    return on_angles(solver) if landscape.periodic else solver


def start_grid(landscape: Landscape, n: int) -> np.ndarray:
    """The n^D cell centres of [low, high)^D, ``starts_SxD`` (axis 0 of θ varies slowest).

    Cell centres, not the cell corners: on [0, 2π) the corners would include θ = 0, and a
    grid that contains a stationary point exactly reports a start that never moves.
    """
    axis = landscape.low + (np.arange(n) + 0.5) * (landscape.high - landscape.low) / n
    mesh = np.meshgrid(*([axis] * landscape.dim), indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


def periodic_distance(a_NxD: np.ndarray, b_D: np.ndarray, periodic: bool) -> np.ndarray:
    """max_i |a_i − b_i|, with differences taken modulo 2π (into [−π, π)) on a periodic landscape."""
    diff = a_NxD - b_D
    if periodic:
        diff = np.mod(diff + np.pi, 2 * np.pi) - np.pi
    return np.max(np.abs(diff), axis=-1)


def deduplicate(points_NxD: np.ndarray, grad_norm_N: np.ndarray, periodic: bool, merge_tol: float):
    """Merge points closer than ``merge_tol`` (``periodic_distance``) into clusters.

    Greedy: the first unassigned point takes every unassigned point within ``merge_tol``
    of it. Converged points of a non-degenerate stationary point lie within about
    tol / |λ|min of it, far inside any sensible ``merge_tol``.

    Returns:
      ``cluster_N`` (int, 0…K−1) and ``representative_K``: the index of each cluster's
      member with the smallest ||∇L||.
    """
    cluster = np.full(len(points_NxD), -1)
    k = 0
    while (cluster < 0).any():
        first = int(np.argmax(cluster < 0))
        near = (periodic_distance(points_NxD, points_NxD[first], periodic) <= merge_tol) & (cluster < 0)
        cluster[near] = k
        k += 1
    representative = np.array([np.flatnonzero(cluster == c)[np.argmin(grad_norm_N[cluster == c])]
                               for c in range(k)], dtype=int)
    return cluster, representative


class StationaryPoint(NamedTuple):
    """One distinct stationary point: ``theta_D`` (in [0, 2π) on angles), L, ||∇L||, Hessian spectrum, label."""

    theta: np.ndarray
    loss: float
    grad_norm: float
    eigvals: np.ndarray
    n_neg: int
    n_zero: int
    n_pos: int
    label: str


class MethodRun(NamedTuple):
    """One method from every start: the final RunState (host arrays) and its wall time."""

    state: RunState
    seconds: float


def run_method(config: LandscapeConfig, landscape: Landscape, method: str, starts_SxD: np.ndarray,
               checkpoint: Path, log: Log, on_segment: Callable[[RunState], None] | None = None) -> MethodRun:
    """Run ``method`` from every start to the end, resuming from and saving to ``checkpoint``.

    ``on_segment(state)`` is called after every checkpointed segment (progress displays).
    """
    loop = make_loop(landscape.loss, make_method(config, landscape, method), config.tol, config.max_steps,
                     config.max_steps, DIVERGENCE_FACTOR)
    # One vmap over a device's share: a step here is a few flops, so chunking would only add loop overhead.
    fns = make_batch_fns(loop, chunk=None)
    state, start, _ = run_checkpointed(fns, init_batch(fns, starts_SxD), checkpoint, config.max_steps,
                                       config.segment_steps, f"  {method}", log, on_segment)
    return MethodRun(state, time.perf_counter() - start)


def classify_points(landscape: Landscape, theta_KxD: np.ndarray, eig_rtol: float) -> list[StationaryPoint]:
    """Loss, gradient norm, Hessian eigenvalues and label at each point (float64, ``jax.hessian``)."""
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(landscape.loss)))
    eigvals_fn = jax.jit(jax.vmap(lambda t: hessian_eigvals(landscape.loss, t)))
    theta = jnp.asarray(theta_KxD)
    loss, grad = value_and_grad(theta)
    eigvals = eigvals_fn(theta)
    n_neg, n_zero, n_pos, label = jax.vmap(lambda lam: classify_spectrum(lam, eig_rtol))(eigvals)
    return [
        StationaryPoint(np.asarray(theta_KxD[k]), float(loss[k]), float(jnp.linalg.norm(grad[k])),
                        np.asarray(eigvals[k]), int(n_neg[k]), int(n_zero[k]), int(n_pos[k]), LABELS[int(label[k])])
        for k in range(len(theta_KxD))
    ]


class Enumeration(NamedTuple):
    """The stationary points found and where every start went.

    Attributes:
      points: distinct stationary points, sorted by label (``LABELS`` order) then θ.
      destination: ``{method: dest_S}``, the index into ``points`` each start reached, or ``NOT_CONVERGED``.
      runs: ``{method: MethodRun}``.
    """

    points: list[StationaryPoint]
    destination: dict[str, np.ndarray]
    runs: dict[str, MethodRun]


def enumerate_stationary_points(landscape: Landscape, runs: dict[str, MethodRun], merge_tol: float,
                                eig_rtol: float) -> Enumeration:
    """Merge the converged end points of every method into distinct stationary points and label them."""
    ends, grad_norms, owners = [], [], []
    for method, run in runs.items():
        converged = np.flatnonzero(run.state.status == CONVERGED)
        theta = run.state.theta[converged]
        ends.append(np.mod(theta, 2 * np.pi) if landscape.periodic else theta)
        grad_norms.append(run.state.grad_norm[converged])
        owners.append((method, converged))
    points_NxD = np.concatenate(ends)
    if len(points_NxD) == 0:
        return Enumeration([], {m: np.full(len(r.state.status), NOT_CONVERGED) for m, r in runs.items()}, runs)
    cluster, representative = deduplicate(points_NxD, np.concatenate(grad_norms), landscape.periodic, merge_tol)
    points = classify_points(landscape, points_NxD[representative], eig_rtol)
    order = sorted(range(len(points)), key=lambda k: (LABELS.index(points[k].label), *points[k].theta))
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order))
    destination, offset = {}, 0
    for method, converged in owners:
        dest = np.full(len(runs[method].state.status), NOT_CONVERGED)
        dest[converged] = rank[cluster[offset: offset + len(converged)]]
        destination[method] = dest
        offset += len(converged)
    return Enumeration([points[k] for k in order], destination, runs)


def basin_fractions(enumeration: Enumeration) -> dict[str, dict[str, float]]:
    """For each method, the fraction of starts that reached each label, and ``not_converged``."""
    labels = np.array([p.label for p in enumeration.points] + ["not_converged"])
    fractions = {}
    for method, dest in enumeration.destination.items():
        reached = labels[dest]  # NOT_CONVERGED = −1 picks "not_converged"
        fractions[method] = {name: float(np.mean(reached == name)) for name in (*LABELS, "not_converged")}
    return fractions


SHORT_NAMES = {"minimum": "min", "maximum": "max", "saddle": "saddle", "degenerate": "degen.",
               "not_converged": "not conv."}


def fraction_text(fractions: dict[str, float]) -> str:
    """"min 28%, saddle 57%, …": the non-zero basin fractions of one method (two decimals below 1%)."""
    return ", ".join(f"{SHORT_NAMES[k]} {v:.0%}" if v >= 0.01 else f"{SHORT_NAMES[k]} {v:.2%}"
                     for k, v in fractions.items() if v)


def points_table(enumeration: Enumeration) -> list[dict]:
    """``summary.json``'s ``stationary_points``: θ, loss, label, eigenvalues, ||∇L|| and starts reached per method."""
    return [
        {"theta": p.theta.tolist(), "loss": p.loss, "label": p.label, "eigvals": p.eigvals.tolist(),
         "grad_norm": p.grad_norm, "n_neg": p.n_neg, "n_zero": p.n_zero, "n_pos": p.n_pos,
         "reached_by": {m: int(np.sum(d == k)) for m, d in enumeration.destination.items()}}
        for k, p in enumerate(enumeration.points)
    ]


def run_landscape(config: LandscapeConfig, out_dir: Path | str, log: Log = print,
                  progress: Progress | None = None) -> dict:
    """Enumerate the stationary points and basins of ``config``'s landscape; write the results folder.

    Writes ``config.json``, ``stationary_points.csv``, ``basins.csv``, ``arrays.npz`` (leading
    start axis), ``summary.json`` and ``basins.png``. Each method's run is checkpointed per
    segment under ``checkpoints/<config hash>/``, so an interrupted run resumes.

    Args:
      config: a validated LandscapeConfig.
      out_dir: the results folder (created if missing).
      log: where progress lines go.
      progress: called after every segment with the fraction done and "k/n starts done".

    Returns:
      The summary dict (also written to ``summary.json``).
    """
    from jaxnewton import plots  # matplotlib is only imported when figures are drawn

    out = Path(out_dir)
    ckpt_dir = checkpoint_dir(out, config.hash(), log)
    landscape = make_landscape(config)
    write_config(out, config)
    starts = start_grid(landscape, config.grid)
    log(f"[{config.name}] {landscape.name}: {len(starts)} starts ({config.grid} per axis), methods {', '.join(METHODS)}; "
        f"damped η={config.eta} ε={config.eps}, GD α={config.learning_rate}, tol={config.tol}, "
        f"max_steps={config.max_steps}")
    runs = {}
    for k, m in enumerate(METHODS):
        def on_segment(s: RunState, k: int = k) -> None:
            done = k * len(starts) + int(np.sum(np.asarray(s.status) != RUNNING))
            progress((k + float(np.max(s.steps)) / config.max_steps) / len(METHODS),
                     f"{done}/{len(METHODS) * len(starts)} starts done ({len(METHODS)} methods)")

        runs[m] = run_method(config, landscape, m, starts, ckpt_dir / f"{m}.npz", log,
                             on_segment if progress else None)
    enumeration = enumerate_stationary_points(landscape, runs, config.merge_tol, config.eig_rtol)
    fractions = basin_fractions(enumeration)

    point_rows = [
        {"index": k, **{f"theta_{i + 1}": p.theta[i] for i in range(landscape.dim)}, "loss": p.loss,
         "grad_norm": p.grad_norm, "label": p.label, "n_neg": p.n_neg, "n_zero": p.n_zero, "n_pos": p.n_pos,
         **{f"eigval_{i + 1}": p.eigvals[i] for i in range(landscape.dim)},
         **{f"reached_{m}": int(np.sum(enumeration.destination[m] == k)) for m in METHODS}}
        for k, p in enumerate(enumeration.points)
    ]
    columns = ["index", *(f"theta_{i + 1}" for i in range(landscape.dim)), "loss", "grad_norm", "label", "n_neg",
               "n_zero", "n_pos", *(f"eigval_{i + 1}" for i in range(landscape.dim)),
               *(f"reached_{m}" for m in METHODS)]
    write_csv(out / "stationary_points.csv", point_rows, columns)
    write_csv(out / "basins.csv", [{"method": m, "reached": name, "fraction": f}
                                   for m in METHODS for name, f in fractions[m].items()],
              ["method", "reached", "fraction"])
    arrays = {"starts": starts}
    for m in METHODS:
        state = runs[m].state
        arrays.update({f"{m}_theta": state.theta, f"{m}_status": state.status, f"{m}_steps": state.steps,
                       f"{m}_grad_norm": state.grad_norm, f"{m}_destination": enumeration.destination[m]})
    write_npz(out / "arrays.npz", arrays)

    plots.save(plots.landscape_basins(landscape, enumeration, starts, config.grid, fractions), out / "basins.png")
    summary = {
        "experiment": config.name,
        "problem": landscape.name,
        "config_hash": config.hash(),
        "version": __version__,
        "n_starts": len(starts),
        "stationary_points": points_table(enumeration),
        "basin_fractions": fractions,
        "counts": {m: {name: int(np.sum(runs[m].state.status == i)) for i, name in enumerate(STATUS)
                       if name != "running"} for m in METHODS},
        "median_steps_converged": {
            m: float(np.median(runs[m].state.steps[runs[m].state.status == CONVERGED]))
            if (runs[m].state.status == CONVERGED).any() else None for m in METHODS},
        "definitions": {
            "methods": {"newton": "undamped Newton, θ ← θ − H⁻¹∇L (η = 1, ε = 0)",
                        "damped_newton": f"θ ← θ − η (H + εI)⁻¹ ∇L with η = {config.eta}, ε = {config.eps}",
                        "gradient_descent": f"θ ← θ − α ∇L with α = {config.learning_rate}"},
            "stationary_points": f"converged end points (||∇L||₂ ≤ {config.tol:g}) of every method, merged when "
                                 f"within {config.merge_tol:g} (max-norm, modulo 2π); θ, loss and eigenvalues "
                                 "are those of the member with the smallest ||∇L||",
            "basin_fractions": "fraction of the grid's starts whose run converged to a point of each label; "
                               "not_converged: max_steps or nonfinite",
            "status": STATUS_MESSAGES,
        },
        "wall_seconds": float(sum(r.seconds for r in runs.values())),
    }
    write_summary(out, summary)
    labels = [p.label for p in enumeration.points]
    log(f"[{config.name}] {len(labels)} stationary points ({', '.join(f'{labels.count(n)} {n}' for n in LABELS)}); "
        + "; ".join(f"{m}: " + ", ".join(f"{k} {v:.1%}" for k, v in fractions[m].items() if v)
                    for m in METHODS) + f"; {summary['wall_seconds']:.1f} s → {out}")
    return summary
