"""FourierPathFinder on the companion paper's 2-D toy landscape (``make paths-toy``).

f(x, y) = −Σ_{i=1,2} exp(−3|r − c_i|²) + Σ_{j=1,2} exp(−15|r − d_j|²) + 1.019, with wells at
c₁ = (−0.5, −0.5), c₂ = (0.5, 0) and bumps at d₁ = (−0.2, −0.4), d₂ = (0, 0.3); the path runs from
(−0.62, −0.54) to (0.49, −0.02) with M = 100 samples. The paper: straight-line height 1.102,
optimised ≈ 0.64–0.65 for λ = 10 … 1000. Each optimised path's top is refined by Newton on ∇f to a
stationary point, whose Hessian index says whether the path crossed at a pass (index 1).
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton import __version__
from jaxnewton.config import PathsToyConfig
from jaxnewton.paths import make_path_finder, make_saddle_check, path_points, sample_times, settings_of
from jaxnewton.results import Log, write_config, write_csv, write_npz, write_summary

TOY_WELLS = jnp.array([[-0.5, -0.5], [0.5, 0.0]])
TOY_BUMPS = jnp.array([[-0.2, -0.4], [0.0, 0.3]])
TOY_END_A = jnp.array([-0.62, -0.54])
TOY_END_B = jnp.array([0.49, -0.02])
PAPER = {"straight_height": 1.102, "optimised_height": (0.64, 0.65)}


def toy_landscape(r: jax.Array) -> jax.Array:
    """The companion paper's f(x, y) (module docstring) at ``r = (x, y)``."""
    wells = jnp.sum(jnp.exp(-3.0 * jnp.sum((r - TOY_WELLS) ** 2, axis=1)))
    bumps = jnp.sum(jnp.exp(-15.0 * jnp.sum((r - TOY_BUMPS) ** 2, axis=1)))
    return -wells + bumps + 1.019


def run_paths_toy(config: PathsToyConfig, out_dir: Path | str, log: Log = print) -> dict:
    """Straight and optimised paths for every λ, the Newton refinement of each top, a figure and a summary.

    Writes ``config.json``, ``paths.csv`` (one row per λ), ``arrays.npz`` (``path_<i>``: the optimised
    sample points of ``lams[i]``; ``straight``), ``summary.json`` and ``paths_toy.png``.
    """
    from jaxnewton import plots

    out = Path(out_dir)
    start_time = time.perf_counter()
    write_config(out, config)
    check = jax.jit(make_saddle_check(toy_landscape, max_steps=config.newton_steps))
    t_M = sample_times(config.n_points)
    rows, arrays = [], {"straight": np.asarray(path_points(TOY_END_A, TOY_END_B, jnp.zeros((0, 2)), t_M))}
    for i, lam in enumerate(config.lams):
        result = jax.jit(make_path_finder(toy_landscape, settings_of(config, lam)))(TOY_END_A, TOY_END_B)
        saddle = check(result.top_theta)
        arrays[f"path_{i}"] = np.asarray(path_points(TOY_END_A, TOY_END_B, result.coeffs, t_M))
        arrays[f"saddle_{i}"] = np.asarray(saddle.theta)
        rows.append({"lam": lam, "straight_height": float(result.straight.height),
                     "optimised_height": float(result.optimised.height),
                     "optimised_above": float(result.optimised.above),
                     "objective_start": float(result.objective[0]), "objective_end": float(result.objective[-1]),
                     "saddle_x": float(saddle.theta[0]), "saddle_y": float(saddle.theta[1]),
                     "saddle_loss": float(saddle.loss), "saddle_index": int(saddle.index),
                     "saddle_converged": bool(saddle.converged), "saddle_steps": int(saddle.steps)})
        log(f"[{config.name}] λ = {lam:g}: straight {rows[-1]['straight_height']:.4f}, optimised "
            f"{rows[-1]['optimised_height']:.4f}; Newton from the top: index {rows[-1]['saddle_index']} at "
            f"f = {rows[-1]['saddle_loss']:.4f} ({'converged' if saddle.converged else 'not converged'})")
    write_npz(out / "arrays.npz", arrays)
    write_csv(out / "paths.csv", rows, list(rows[0]))
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__,
        "paper": {"straight_height": PAPER["straight_height"], "optimised_height": list(PAPER["optimised_height"])},
        "straight_height": rows[0]["straight_height"],
        "optimised_height": {f"{row['lam']:g}": row["optimised_height"] for row in rows},
        "saddles": {f"{row['lam']:g}": {"index": row["saddle_index"], "loss": row["saddle_loss"],
                                         "converged": row["saddle_converged"],
                                         "point": [row["saddle_x"], row["saddle_y"]]} for row in rows},
        "definitions": {
            "optimised_height": "max over the M samples of f on the optimised path, per λ",
            "saddles": "where undamped Newton on ∇f from the optimised path's highest sample converged, its "
                       "Hessian index and f there",
        },
    }
    plots.save(plots.paths_toy(toy_landscape, arrays, rows), out / "paths_toy.png")
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    return summary
