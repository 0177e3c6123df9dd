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
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import SaddlesConfig
from jaxnewton.diagnostics import LABELS, classify_spectrum, hessian_eigvals
from jaxnewton.landscapes import Landscape, monkey_saddle, saddle
from jaxnewton.results import write_config, write_csv, write_npz, write_summary
from jaxnewton.solvers import Solver, damped_newton, gradient_descent

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


def run_saddles(config: SaddlesConfig, out_dir: Path | str, log: Callable[[str], None] = print) -> dict:
    """Trajectories on x² − y² and x³ − 3xy², the Hessian label at the origin, a figure and a summary.

    Writes ``config.json``, ``trajectories.csv`` (one row per function, method and start),
    ``arrays.npz``, ``summary.json`` and ``saddles.png``.
    """
    from jaxnewton import plots

    out = Path(out_dir)
    start_time = time.perf_counter()
    write_config(out, config)
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
    plots.save(plots.saddle_trajectories(drawn, config), out / "saddles.png")
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
