"""Toy saddles: gradient descent creeps past a saddle, undamped Newton jumps onto it.

On f(x, y) = x² − y², gradient descent from (x₀, y₀) is exactly
x_k = (1 − 2α)^k x₀, y_k = (1 + 2α)^k y₀: it slides along x toward the saddle and leaves
along y only after about log(1/|y₀|) / log(1 + 2α) steps, so a start near y = 0 lingers.
Undamped Newton solves H δ = −∇f with H = diag(2, −2) and lands on the origin in one step
from anywhere. On the monkey saddle f = x³ − 3xy² the gradient is homogeneous of degree 2,
so H θ = 2 ∇f (Euler) and Newton halves θ every step: it still converges to the saddle,
linearly, because the Hessian vanishes there (the point is degenerate).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core.diagnostics import LABELS, classify_spectrum, hessian_eigvals
from jaxnewton.engine.config import ConfigBase, Run, require
from jaxnewton.engine.io import Log, Progress, write_csv, write_npz, write_summary
from jaxnewton.optim.base import Solver
from jaxnewton.optim.first_order import gradient_descent
from jaxnewton.optim.newton import damped_newton
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.tools.landscapes import Landscape, monkey_saddle, saddle


@dataclass(frozen=True)
class SaddlesConfig(ConfigBase):
    """Toy saddles x² − y² and x³ − 3xy²: gradient descent and undamped Newton trajectories.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      start_x: every start is (start_x, y₀): beside the saddle's attracting direction.
      start_y: the offsets y₀ (how close to the stable manifold y = 0 each start is).
      learning_rate: gradient descent's step α.
      gd_steps: gradient descent steps drawn.
      newton_steps: undamped Newton steps drawn.
    """

    name: str
    start_x: float = 1.0
    start_y: tuple[float, ...] = (0.3, 1e-2, 1e-4)
    learning_rate: float = 0.05
    gd_steps: int = 150
    newton_steps: int = 30

    def validate(self) -> None:
        require(0.0 < self.start_x <= 1.0, "start_x", self.start_x, "a value in (0, 1] (inside the plotted box)")
        require(len(self.start_y) >= 1 and all(0.0 < abs(y) <= 1.0 for y in self.start_y), "start_y",
                 self.start_y, "non-zero offsets in [−1, 1], e.g. start_y=0.3,1e-2")
        require(0.0 < self.learning_rate < 0.5, "learning_rate", self.learning_rate,
                 "a step in (0, 0.5): larger ones overshoot x² − y²'s attracting direction")
        require(self.gd_steps >= 1, "gd_steps", self.gd_steps, "an integer ≥ 1")
        require(self.newton_steps >= 1, "newton_steps", self.newton_steps, "an integer ≥ 1")


CONFIG = SaddlesConfig


ORIGIN_EIG_RTOL = 1e-6
STOP_RADIUS = 10.0  # a path beyond this distance from the saddle has escaped; it is frozen there


def trajectory(loss: Callable[[jax.Array], jax.Array], solver: Solver, theta0: jax.Array, steps: int,
               stop_radius: float = STOP_RADIUS) -> jax.Array:
    """Every iterate θ_0 … θ_steps of ``solver`` on ``loss``, ``path_(steps+1)xD`` (a ``lax.scan``).

    Unlike the runner, convergence does not stop a path: the point is to draw where the
    method goes. A path that has left the ball |θ| ≤ ``stop_radius`` stays where it is, so
    an escape down an unbounded valley (f → −∞) ends finite instead of overflowing.
    """
    grad = jax.grad(loss)

    def step(carry, _):
        theta, state = carry
        escaped = jnp.linalg.norm(theta) > stop_radius
        new_theta, new_state = solver.update(theta, grad(theta), state, escaped)
        theta, state = jax.tree.map(lambda n, o: jnp.where(escaped, o, n), (new_theta, new_state), (theta, state))
        return (theta, state), theta

    _, path = jax.lax.scan(step, (theta0, solver.init(theta0)), None, length=steps)
    return jnp.concatenate([theta0[None], path])


def starts(config: SaddlesConfig) -> np.ndarray:
    """``starts_Sx2``: (start_x, y₀) for each offset y₀."""
    return np.array([[config.start_x, y] for y in config.start_y])


def paths(config: SaddlesConfig, landscape: Landscape) -> dict[str, np.ndarray]:
    """Gradient descent and undamped Newton paths from every start: ``{method: path_Sx(T+1)x2}``."""
    theta0 = jnp.asarray(starts(config))
    gd = gradient_descent(config.learning_rate)
    newton = damped_newton(landscape.loss, 1.0, 0.0)
    run = {
        "gradient_descent": jax.jit(jax.vmap(lambda t: trajectory(landscape.loss, gd, t, config.gd_steps))),
        "newton": jax.jit(jax.vmap(lambda t: trajectory(landscape.loss, newton, t, config.newton_steps))),
    }
    return {method: np.asarray(fn(theta0)) for method, fn in run.items()}


def path_measures(path_Tx2: np.ndarray, escape_radius: float) -> dict:
    """Closest approach to the origin, when, and the first later step beyond ``escape_radius`` (None if never)."""
    distance = np.linalg.norm(path_Tx2, axis=-1)
    closest = int(np.argmin(distance))
    beyond = np.flatnonzero(distance[closest:] > escape_radius)
    return {"closest_distance": float(distance[closest]), "closest_step": closest,
            "escape_step": int(closest + beyond[0]) if beyond.size else None,
            "final_distance": float(distance[-1])}


def run(config: SaddlesConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Trajectories on x² − y² and x³ − 3xy², the Hessian label at the origin, a figure and a summary.

    Writes ``trajectories.csv`` (one row per function, method and start),
    ``arrays.npz``, ``summary.json`` and ``saddles.png``.
    """
    out = Path(out_dir)
    start_time = time.perf_counter()
    summary = {"experiment": config.name, "config_hash": config.hash(), "version": __version__, "landscapes": {}}
    arrays, rows, drawn = {}, [], {}
    for landscape in (saddle(), monkey_saddle()):
        origin = jnp.zeros(2)
        eigvals = hessian_eigvals(landscape.loss, origin)
        label = LABELS[int(classify_spectrum(eigvals, ORIGIN_EIG_RTOL)[3])]
        landscape_paths = paths(config, landscape)
        drawn[landscape.name] = (landscape, landscape_paths)
        entry = {"origin_eigvals": np.asarray(eigvals).tolist(), "origin_label": label, "runs": []}
        for method, path in landscape_paths.items():
            arrays[f"{landscape.name}_{method}"] = path
            for s, y0 in enumerate(config.start_y):
                measures = path_measures(path[s], escape_radius=float(np.linalg.norm(path[s, 0])))
                run = {"method": method, "start": path[s, 0].tolist(), **measures,
                       "distance_after_1_step": float(np.linalg.norm(path[s, 1]))}
                entry["runs"].append(run)
                rows.append({"function": landscape.name, **{k: v for k, v in run.items() if k != "start"},
                             "start_x": config.start_x, "start_y": y0})
        summary["landscapes"][landscape.name] = entry
        log(f"[{config.name}] {landscape.name}: origin is a {label} (eigenvalues {np.asarray(eigvals).tolist()})")
    arrays["starts"] = starts(config)
    write_npz(out / "arrays.npz", arrays)
    write_csv(out / "trajectories.csv", rows,
              ["function", "method", "start_x", "start_y", "closest_distance", "closest_step", "escape_step",
               "final_distance", "distance_after_1_step"])
    save(saddle_trajectories(drawn, config), out / "saddles.png")
    summary["definitions"] = {
        "closest_distance": "min over the path of |θ_k| (the distance to the saddle at the origin)",
        "escape_step": "first step after the closest approach with |θ_k| > |θ_0|; null if the path never leaves",
        "origin_label": f"Hessian label at the origin (near-zero: |λ| ≤ {ORIGIN_EIG_RTOL:g}·max|λ|, or all λ = 0)",
    }
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    for name, entry in summary["landscapes"].items():
        for run in entry["runs"]:
            log(f"  {name} {run['method']} from {np.round(run['start'], 6).tolist()}: closest {run['closest_distance']:.2e} "
                f"at step {run['closest_step']}, escape step {run['escape_step']}")
    return summary


# ----------------------------------------------------------------------------- figures

SADDLE_FORMULAS = {"saddle": "x² − y²", "monkey_saddle": "monkey saddle x³ − 3xy²"}


SADDLE_NEWTON = {"saddle": "Newton lands on it in one step (|θ₁| = 0, off the scale)",
                 "monkey_saddle": "Newton halves |θ| every step (H = 0 at the saddle)"}


def saddle_trajectories(drawn: dict, config) -> plt.Figure:
    """Top: contours of each toy function with GD (solid) and undamped Newton (dashed) paths.
    Bottom: distance to the saddle against step (log scale)."""
    fig, axes = plt.subplots(2, len(drawn), figsize=(6 * len(drawn), 10.5), squeeze=False)
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(config.start_y)))
    for col, (name, (landscape, paths)) in enumerate(drawn.items()):
        ax, ax_dist = axes[0, col], axes[1, col]
        grid = np.linspace(-1.2, 1.2, 241)
        xx, yy = np.meshgrid(grid, grid)
        values = np.asarray(jax.vmap(landscape.loss)(np.stack([xx.ravel(), yy.ravel()], -1))).reshape(xx.shape)
        ax.contourf(xx, yy, values, 30, cmap="RdBu_r", alpha=0.8)
        ax.contour(xx, yy, values, [0.0], colors="k", linewidths=0.6)
        for s, colour in enumerate(shades):
            gd, newton = paths["gradient_descent"][s], paths["newton"][s]
            inside = np.all(np.abs(gd) <= 1.2, axis=-1)
            stop = int(np.argmin(inside)) if not inside.all() else len(gd)
            ax.plot(gd[:stop, 0], gd[:stop, 1], "-", color=colour, lw=1.8, label=f"GD, y₀ = {config.start_y[s]:g}")
            ax.plot(newton[:, 0], newton[:, 1], "--o", color=colour, ms=3, lw=1, mec="k", mew=0.4,
                    label=f"Newton, y₀ = {config.start_y[s]:g}")
            ax_dist.semilogy(np.linalg.norm(gd, axis=-1), "-", color=colour, label=f"GD, y₀ = {config.start_y[s]:g}")
            ax_dist.semilogy(np.maximum(np.linalg.norm(newton, axis=-1), 1e-300), "--o", color=colour, ms=3,
                             label=f"Newton, y₀ = {config.start_y[s]:g}")
        ax.plot(0, 0, "k*", ms=12)
        ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), aspect="equal", xlabel="x", ylabel="y",
               title=f"{SADDLE_FORMULAS.get(name, name)}: GD (α = {config.learning_rate}) and Newton")
        ax.legend(fontsize=6, loc="lower left")
        ax_dist.set(xlabel="step", ylabel="|θ_k| (distance to the saddle)", ylim=(1e-17, 1e3),
                    title=f"GD lingers near the saddle, then escapes.\n{SADDLE_NEWTON.get(name, '')}")
        ax_dist.legend(fontsize=6)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

NEWTON_ONE_STEP_ATOL = 1e-12  # undamped Newton "lands on" x² − y²'s saddle when ‖θ₁‖ is below this


def saddles_cells(summaries: list[Summary]) -> Cells:
    """Cells of the toy saddles: Newton's distance after one step, GD's escape steps, the verdict.

    Verdict: "reproduced" when undamped Newton lands on the x² − y² saddle in one step and every
    gradient-descent path escapes it.
    """
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS

    def runs(function: str, method: str) -> list[dict]:
        return [r for r in summary["landscapes"][function]["runs"] if r["method"] == method]

    def escapes(function: str) -> str:
        return ", ".join(f"y₀ = {r['start'][1]:g}: {r['escape_step']}" for r in runs(function, "gradient_descent"))

    newton_one_step = max(r["distance_after_1_step"] for r in runs("saddle", "newton"))
    gd_escaped = all(r["escape_step"] is not None for r in runs("saddle", "gradient_descent"))
    monkey = summary["landscapes"]["monkey_saddle"]
    monkey_newton = max(r["final_distance"] for r in runs("monkey_saddle", "newton"))
    small = (f"x² − y²: undamped Newton ‖θ₁‖ ≤ {newton_one_step:.1e} after one step; "
             f"GD escape step {escapes('saddle')}")
    large = (f"x³ − 3xy² (origin {monkey['origin_label']}): Newton ends at ‖θ‖ ≤ {monkey_newton:.1e}; "
             f"GD escape step {escapes('monkey_saddle')}")
    if newton_one_step <= NEWTON_ONE_STEP_ATOL and gd_escaped:
        verdict = "reproduced"
    else:
        verdict = (f"differs: Newton ‖θ₁‖ = {newton_one_step:.1e} after one step"
                   + ("" if gd_escaped else "; a GD path never escaped"))
    steps = [r["escape_step"] for r in runs("saddle", "gradient_descent") if r["escape_step"] is not None]
    headline = (f"Newton ‖θ₁‖ ≤ {newton_one_step:.1e} after one step; GD escapes after "
                + (f"{min(steps)}–{max(steps)} steps" if steps else "never"))
    return Cells(small, large, verdict, headline)


SADDLES_CAPTION = ("Top: gradient descent (solid) and undamped Newton (dashed) paths on x² − y² and x³ − 3xy². "
                   "Bottom: distance to the origin against step.",
                   "The teaching text's claim: Newton lands on the saddle in one step; GD slides toward it along x "
                   "and escapes along y, later the closer it starts to the x axis.")


ROWS = (
    Row("S", "toy saddles", "toy saddles x² − y², x³ − 3xy² (teaching text)",
        "Newton lands on the saddle in one step; GD approaches, then escapes slowly", ("saddles",),
        saddles_cells, (Figure("saddles", "saddles.png", SADDLES_CAPTION),)),
)

RUNS = (Run("saddles", "saddles", 5, quick_s=6),)
