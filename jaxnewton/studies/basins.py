"""E1, E2: every stationary point of a known-answer landscape, and the basin each start falls into.

Run undamped Newton (η = 1, ε = 0), the paper's damped Newton and gradient descent from a
dense grid of starts, on the same loop and seed runner as the networks (one start is one
"seed"); merge the converged points that agree modulo 2π into stationary points; label
each by its Hessian eigenvalues; and record, for every start and method, which point it
reached. The fraction of starts reaching each kind of point measures the paper's
"Newton is not biased toward minima" against gradient descent, which is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb

from jaxnewton.version import __version__
from jaxnewton.core.diagnostics import LABELS, classify_spectrum, hessian_eigvals
from jaxnewton.engine.config import MAX_STEPS, ConfigBase, Run, require
from jaxnewton.engine.io import Log, Progress, checkpoint_dir, write_csv, write_npz, write_summary
from jaxnewton.engine.loop import CONVERGED, RUNNING, STATUS, STATUS_MESSAGES, RunState, make_loop
from jaxnewton.engine.sweep import init_batch, make_batch_fns, run_checkpointed
from jaxnewton.optim.base import Solver, on_angles
from jaxnewton.optim.first_order import gradient_descent
from jaxnewton.optim.newton import damped_newton
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.tools.landscapes import Landscape, check_torus, elliptic_torus, unit_circle

LANDSCAPES = ("circle", "torus")
MAX_STARTS = 10_000_000


@dataclass(frozen=True)
class LandscapeConfig(ConfigBase):
    """E1 / E2: where Newton and gradient descent go from every start of a dense grid of angles.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      problem: ``"circle"`` (E1, N(θ) = [cos θ, sin θ]) or ``"torus"`` (E2, ``tools.landscapes``).
      target: v (2 entries for the circle, 3 for the torus).
      R, r, e: the torus's radii and ellipticity (``landscapes.check_torus`` says which are
        allowed); must stay 0 for the circle.
      grid: starts per axis, at the cell centres of [0, 2π)^D (grid^D starts).
      eta, eps: the damped Newton method's relaxation η and shift ε (the undamped method is η = 1, ε = 0).
      learning_rate: gradient descent's step α: θ ← θ − α ∇L.
      tol: a run has converged when ||∇L||₂ ≤ tol.
      max_steps: iteration cap of every method.
      segment_steps: steps per compiled segment (progress is printed between segments).
      merge_tol: converged points closer than this (max-norm, modulo 2π) are one stationary point.
      eig_rtol: an eigenvalue is near-zero when |λ| ≤ eig_rtol · max|λ|.
    """

    name: str
    problem: str = "circle"
    target: tuple[float, ...] = (2.0, 2.0)
    R: float = 0.0
    r: float = 0.0
    e: float = 0.0
    grid: int = 1000
    eta: float = 5e-2
    eps: float = 5e-2
    learning_rate: float = 0.05
    tol: float = 1e-11
    max_steps: int = 5000
    segment_steps: int = 1000
    merge_tol: float = 1e-6
    eig_rtol: float = 1e-6

    def validate(self) -> None:
        require(self.problem in LANDSCAPES, "problem", self.problem, f"one of {list(LANDSCAPES)}")
        if self.problem == "circle":
            require(len(self.target) == 2, "target", self.target, "2 numbers for the circle, e.g. target=2,2")
            require(self.R == self.r == self.e == 0.0, "R", (self.R, self.r, self.e),
                     "R = r = e = 0: they describe the torus only")
        else:
            try:
                check_torus(self.R, self.r, self.e, self.target)
            except ValueError as error:
                raise ValueError(f"config fields R, r, e, target: {error}") from None
        dim = 1 if self.problem == "circle" else 2
        require(2 <= self.grid and self.grid ** dim <= MAX_STARTS, "grid", self.grid,
                f"an integer ≥ 2 with grid^{dim} ≤ {MAX_STARTS} starts (every start is held in memory)")
        require(0.0 < self.eta <= 1.0, "eta", self.eta, "a step relaxation in (0, 1]")
        require(self.eps >= 0.0, "eps", self.eps, "a shift ≥ 0")
        require(self.learning_rate > 0.0, "learning_rate", self.learning_rate, "a step > 0")
        require(self.tol > 0.0, "tol", self.tol, "a gradient-norm tolerance > 0")
        require(1 <= self.max_steps <= MAX_STEPS, "max_steps", self.max_steps, f"an integer in [1, {MAX_STEPS}]")
        require(self.segment_steps >= 1, "segment_steps", self.segment_steps, "an integer ≥ 1")
        require(0.0 < self.merge_tol < 1.0, "merge_tol", self.merge_tol, "a distance in (0, 1)")
        require(0.0 < self.eig_rtol < 1.0, "eig_rtol", self.eig_rtol, "a relative tolerance in (0, 1)")


CONFIG = LandscapeConfig


METHODS = {"newton": "undamped Newton", "damped_newton": "damped Newton", "gradient_descent": "gradient descent"}
NOT_CONVERGED = -1  # destination of a start whose run did not converge
DIVERGENCE_FACTOR = 1e8  # the networks' blow-up rule; these losses are bounded, so it only catches NaN/Inf


def make_landscape(config: LandscapeConfig) -> Landscape:
    """The landscape a config names."""
    if config.problem == "circle":
        return unit_circle(config.target)
    return elliptic_torus(config.R, config.r, config.e, config.target)


def make_method(config: LandscapeConfig, landscape: Landscape, method: str) -> Solver:
    """One of ``METHODS`` on the landscape's loss (keeping θ in [0, 2π) on angles: ``optim.base.on_angles``)."""
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


def run(config: LandscapeConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Enumerate the stationary points and basins of ``config``'s landscape; write the results folder.

    Writes ``stationary_points.csv``, ``basins.csv``, ``arrays.npz`` (leading
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
    out = Path(out_dir)
    ckpt_dir = checkpoint_dir(out, config.hash())
    landscape = make_landscape(config)
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

    save(landscape_basins(landscape, enumeration, starts, config.grid, fractions), out / "basins.png")
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


# ----------------------------------------------------------------------------- figures

KIND_COLOURS = {  # one family per label; the points of a label take successive shades
    "minimum": ["#1f77b4", "#6baed6", "#08306b", "#9ecae1"],
    "maximum": ["#d62728", "#fc9272", "#67000d", "#fcbba1"],
    "saddle": ["#2ca02c", "#ff7f0e", "#9467bd", "#bcbd22", "#17becf", "#8c564b"],
    "degenerate": ["#7f7f7f", "#525252"],
}


KIND_MARKERS = {"minimum": "v", "maximum": "^", "saddle": "X", "degenerate": "s"}


NOT_CONVERGED_COLOUR = "#e6e6e6"


def point_colours(enumeration: Enumeration) -> list[str]:
    """A colour per stationary point: its label's family, shades in table order."""
    seen: dict[str, int] = {}
    colours = []
    for p in enumeration.points:
        family = KIND_COLOURS[p.label]
        colours.append(family[seen.get(p.label, 0) % len(family)])
        seen[p.label] = seen.get(p.label, 0) + 1
    return colours


def _destination_colours(enumeration: Enumeration, method: str) -> np.ndarray:
    """RGB per start: the colour of the point it reached, light grey if it did not converge."""
    palette = np.array([to_rgb(c) for c in point_colours(enumeration)] + [to_rgb(NOT_CONVERGED_COLOUR)])
    return palette[enumeration.destination[method]]  # NOT_CONVERGED = −1 takes the last entry


def _kind_legend(ax: plt.Axes, enumeration: Enumeration) -> None:
    present = [k for k in KIND_MARKERS if any(p.label == k for p in enumeration.points)]
    handles = [plt.Line2D([], [], ls="", marker=KIND_MARKERS[k], color="k", label=k) for k in present]
    handles.append(plt.Rectangle((0, 0), 1, 1, color=NOT_CONVERGED_COLOUR, label="not converged"))
    ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.9)


def landscape_basins(landscape: Landscape, enumeration: Enumeration, starts: np.ndarray, grid: int,
                     fractions: dict[str, dict[str, float]]) -> plt.Figure:
    """Where each start went, per method, with the stationary points marked by kind (E1: 1-D, E2: 2-D)."""
    methods = list(enumeration.destination)
    colours = point_colours(enumeration)
    loss = jax.jit(jax.vmap(landscape.loss))
    if landscape.dim == 1:
        fig, (ax_circle, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
        # Left: the circle in the plane, each start coloured by where undamped Newton took it.
        xy = np.asarray(jax.vmap(landscape.approximation)(starts))
        ax_circle.scatter(xy[:, 0], xy[:, 1], c=_destination_colours(enumeration, methods[0]), s=6)
        v = np.asarray(landscape.target)
        ax_circle.plot(*v, "k*", ms=12, label="target v")
        for p, colour in zip(enumeration.points, colours):
            n = np.asarray(landscape.approximation(p.theta))
            ax_circle.plot([v[0], n[0]], [v[1], n[1]], color=colour, lw=1, ls=":")
            ax_circle.plot(*n, KIND_MARKERS[p.label], color=colour, mec="k", ms=11,
                           label=f"{p.label}, θ = {p.theta[0]:.4f}, L = {p.loss:.4f}")
        ax_circle.set(aspect="equal", xlabel="N₁ = cos θ", ylabel="N₂ = sin θ",
                      title=f"starts coloured by where {METHODS[methods[0]]} went")
        ax_circle.legend(fontsize=7, loc="lower right")
        # Right: L(θ), with one strip per method below it.
        theta, loss_S = starts[:, 0], np.asarray(loss(starts))
        ax_loss.plot(theta, loss_S, "k", lw=1.2)
        top = float(np.max(loss_S))
        height = 0.12 * top
        for i, method in enumerate(methods):
            y0 = -(i + 1) * height * 1.25
            strip = _destination_colours(enumeration, method)[None, :, :]
            ax_loss.imshow(strip, extent=(landscape.low, landscape.high, y0, y0 + height), aspect="auto",
                           interpolation="nearest")
            ax_loss.text(landscape.high + 0.05, y0 + height / 2, f"{METHODS[method]}\n"
                         f"{fraction_text(fractions[method])}", va="center", fontsize=7)
        for p, colour in zip(enumeration.points, colours):
            ax_loss.plot(p.theta[0], p.loss, KIND_MARKERS[p.label], color=colour, mec="k", ms=10)
        ax_loss.set(xlim=(landscape.low, landscape.high), ylim=(-(len(methods) + 0.3) * height * 1.25, top * 1.05),
                    xlabel="θ (start)", ylabel="L(θ)", title="L(θ) and each method's basins (strips below)")
        _kind_legend(ax_loss, enumeration)
        fig.tight_layout()
        return fig

    fig, axes = plt.subplots(1, len(methods) + 1, figsize=(4.4 * (len(methods) + 1), 4.6))
    extent = (landscape.low, landscape.high, landscape.low, landscape.high)
    surface = np.asarray(loss(starts)).reshape(grid, grid)
    contour = axes[0].contourf(starts[:, 0].reshape(grid, grid), starts[:, 1].reshape(grid, grid), surface, 30,
                               cmap="viridis")
    fig.colorbar(contour, ax=axes[0], shrink=0.8, label="L(θ)")
    axes[0].set_title(f"L(θ₁, θ₂), {len(enumeration.points)} stationary points")
    for ax, method in zip(axes[1:], methods):
        image = _destination_colours(enumeration, method).reshape(grid, grid, 3).transpose(1, 0, 2)
        ax.imshow(image, origin="lower", extent=extent, interpolation="nearest")
        ax.set_title(f"{METHODS[method]}\n{fraction_text(fractions[method])}", fontsize=9)
    for ax in axes:
        for p, colour in zip(enumeration.points, colours):
            ax.plot(*p.theta, KIND_MARKERS[p.label], color=colour, mec="k", ms=10)
        ax.set(xlabel="θ₁", ylabel="θ₂", xlim=extent[:2], ylim=extent[2:], aspect="equal")
    _kind_legend(axes[-1], enumeration)
    fig.suptitle("basins of attraction: each start coloured by the stationary point its run converged to")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

PLURALS = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles"}


def landscape_cells(paper_labels: dict[str, int]) -> Callable[[list[Summary]], Cells]:
    """Cells of a known-answer landscape: the points found, the starts reaching each kind, the verdict.

    Verdict: "reproduced" when the stationary points found have the paper's labels and undamped Newton
    reached every kind, "differs" (saying how) otherwise.
    """

    def cells(summaries: list[Summary]) -> Cells:
        (summary,) = summaries
        if summary is None:
            return NOT_RUN_CELLS
        points = summary["stationary_points"]
        found = {label: sum(p["label"] == label for p in points)
                 for label in dict.fromkeys(p["label"] for p in points)}
        found_text = f"{len(points)} points: " + ", ".join(
            f"{n} {PLURALS.get(label, label) if n > 1 else label}" for label, n in found.items())
        listing = "; ".join(f"θ = ({', '.join(f'{t:.4f}' for t in p['theta'])}) {SHORT_NAMES[p['label']]} "
                            f"L = {p['loss']:.4f}" for p in points)
        fractions = summary["basin_fractions"]
        reach_text = f"{summary['n_starts']} starts:<br>" + "<br>".join(
            f"{METHODS[m]}: {fraction_text(f)}" for m, f in fractions.items())
        missed = [k for k in paper_labels if fractions["newton"][k] == 0]
        if found != paper_labels:
            verdict = f"differs: found {found}, paper {paper_labels}"
        elif missed:
            verdict = f"differs: undamped Newton never reached a {', '.join(missed)}"
        else:
            verdict = "reproduced"
        headline = f"{found_text}; undamped Newton: {fraction_text(fractions['newton'])}"
        return Cells(f"{found_text}<br>{listing}", reach_text, verdict, headline)

    return cells


BASINS_CAPTION = ("Where each start converged, per method (undamped Newton, damped Newton, gradient descent), "
                  "coloured by the "
                  "stationary point reached; markers show the points by kind.",
                  "The paper's claim: Newton's basins cover every kind of point, gradient descent's only the minima.")


ROWS = (
    Row("E1", "unit circle", "unit circle, v = [2, 2]", "π/4 minimum, 5π/4 maximum; Newton finds both", ("circle",),
        landscape_cells({"minimum": 1, "maximum": 1}), (Figure("circle", "basins.png", BASINS_CAPTION),)),
    Row("E2", "elliptic torus", "elliptic torus R = 2, r = 1, e = 0.6, v = (0, 0, 0.5)",
        "2 minima, 2 maxima, 4 saddles; Newton reaches every kind", ("torus",),
        landscape_cells({"minimum": 2, "maximum": 2, "saddle": 4}), (Figure("torus", "basins.png", BASINS_CAPTION),)),
)

RUNS = (
    Run("circle", "circle", 6, quick={"grid": 200}, quick_s=6),
    Run("torus", "torus", 64, quick={"grid": 60}, quick_s=12),
)
