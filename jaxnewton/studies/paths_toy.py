"""FourierPathFinder on the companion paper's 2-D toy landscape (``make paths-toy``).

f(x, y) = −Σ_{i=1,2} exp(−3|r − c_i|²) + Σ_{j=1,2} exp(−15|r − d_j|²) + 1.019, with wells at
c₁ = (−0.5, −0.5), c₂ = (0.5, 0) and bumps at d₁ = (−0.2, −0.4), d₂ = (0, 0.3); the path runs from
(−0.62, −0.54) to (0.49, −0.02) with M = 100 samples. The paper: straight-line height 1.102,
optimised ≈ 0.64–0.65 for λ = 10 … 1000. Each optimised path's top is refined by Newton on ∇f to a
stationary point, whose Hessian index says whether the path crossed at a pass (index 1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.engine.config import ConfigBase, Run, require
from jaxnewton.engine.io import Log, Progress, write_csv, write_npz, write_summary
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.tools.paths import (PATH_OBJECTIVES, make_path_finder, make_saddle_check, path_points,
                                   require_path_settings, sample_times, settings_of)


@dataclass(frozen=True)
class PathsToyConfig(ConfigBase):
    """FourierPathFinder on the companion paper's 2-D toy landscape (``studies.paths_toy``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      lams: the segment-penalty weights λ to run (the paper: 10 … 1000 give ≈ 0.64–0.65).
      n_modes: N_F, sine modes of the path.
      n_points: M, sample points, ends included (the paper: 100 for the toy).
      path_learning_rate, path_steps: ADAM on the sine coefficients.
      path_objective: the objective of the row, ``"f2"`` (Σ f², the companion paper's code) or ``"f"`` (Σ f);
        the other one runs too, and both go in the summary.
      path_noise: Gaussian noise added to the gradient each step (the code: 1).
      path_keep_best: 1: the path of lowest objective met is returned (the code), 0: the last.
      newton_steps: the cap of the Newton refinement from the path's top.
    """

    name: str
    lams: tuple[float, ...] = (1e-4, 10.0, 100.0, 1000.0)
    n_modes: int = 10
    n_points: int = 100
    path_learning_rate: float = 1e-2
    path_steps: int = 2000
    path_objective: str = "f"
    path_noise: float = 0.0
    path_keep_best: int = 0
    newton_steps: int = 50

    def validate(self) -> None:
        require(len(self.lams) >= 1 and all(lam >= 0.0 for lam in self.lams), "lams", self.lams,
                 "penalty weights ≥ 0, e.g. lams=10,100,1000")
        require_path_settings(self)
        require(self.newton_steps >= 1, "newton_steps", self.newton_steps, "an integer ≥ 1")


CONFIG = PathsToyConfig


TOY_WELLS = np.array([[-0.5, -0.5], [0.5, 0.0]])
TOY_BUMPS = np.array([[-0.2, -0.4], [0.0, 0.3]])
TOY_END_A = np.array([-0.62, -0.54])
TOY_END_B = np.array([0.49, -0.02])
PAPER = {"straight_height": 1.102, "optimised_height": (0.64, 0.65)}


def toy_landscape(r: jax.Array) -> jax.Array:
    """The companion paper's f(x, y) (module docstring) at ``r = (x, y)``."""
    wells = jnp.sum(jnp.exp(-3.0 * jnp.sum((r - TOY_WELLS) ** 2, axis=1)))
    bumps = jnp.sum(jnp.exp(-15.0 * jnp.sum((r - TOY_BUMPS) ** 2, axis=1)))
    return -wells + bumps + 1.019


def run(config: PathsToyConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Straight and optimised paths for every λ, the Newton refinement of each top, a figure and a summary.

    Writes ``paths.csv`` (one row per λ), ``arrays.npz`` (``path_<i>``: the optimised
    sample points of ``lams[i]``; ``straight``), ``summary.json`` and ``paths_toy.png``.
    """
    out = Path(out_dir)
    start_time = time.perf_counter()
    check = jax.jit(make_saddle_check(toy_landscape, max_steps=config.newton_steps))
    t_M = sample_times(config.n_points)
    arrays = {"straight": np.asarray(path_points(TOY_END_A, TOY_END_B, jnp.zeros((0, 2)), t_M))}
    objectives = (config.path_objective, *(o for o in PATH_OBJECTIVES if o != config.path_objective))
    rows = []
    for objective in objectives:
        # λ is an argument of find, not a constant of it: one compilation serves every λ.
        find = jax.jit(make_path_finder(toy_landscape, settings_of(config, config.lams[0])._replace(objective=objective)))
        for i, lam in enumerate(config.lams):
            result = find(TOY_END_A, TOY_END_B, jnp.asarray(lam, jnp.float64))
            saddle = check(result.top_theta)
            tag = "" if objective == config.path_objective else f"{objective}_"
            arrays[f"path_{tag}{i}"] = np.asarray(path_points(TOY_END_A, TOY_END_B, result.coeffs, t_M))
            arrays[f"saddle_{tag}{i}"] = np.asarray(saddle.theta)
            rows.append({"objective": objective, "lam": lam, "straight_height": float(result.straight.height),
                         "optimised_height": float(result.optimised.height),
                         "optimised_above": float(result.optimised.above),
                         "objective_start": float(result.objective[0]), "objective_end": float(result.objective[-1]),
                         "best_step": int(result.best_step),
                         "saddle_x": float(saddle.theta[0]), "saddle_y": float(saddle.theta[1]),
                         "saddle_loss": float(saddle.loss), "saddle_index": int(saddle.index),
                         "saddle_converged": bool(saddle.converged), "saddle_steps": int(saddle.steps)})
            log(f"[{config.name}] objective {objective}, λ = {lam:g}: straight {rows[-1]['straight_height']:.4f}, "
                f"optimised {rows[-1]['optimised_height']:.4f}; Newton from the top: index {rows[-1]['saddle_index']}"
                f" at f = {rows[-1]['saddle_loss']:.4f} ({'converged' if saddle.converged else 'not converged'})")
    write_npz(out / "arrays.npz", arrays)
    write_csv(out / "paths.csv", rows, list(rows[0]))
    mine = [row for row in rows if row["objective"] == config.path_objective]
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__,
        "paper": {"straight_height": PAPER["straight_height"], "optimised_height": list(PAPER["optimised_height"])},
        "objective": config.path_objective,
        "straight_height": rows[0]["straight_height"],
        "optimised_height": {f"{row['lam']:g}": row["optimised_height"] for row in mine},
        "optimised_height_by_objective": {o: {f"{row['lam']:g}": row["optimised_height"] for row in rows
                                              if row["objective"] == o} for o in objectives},
        "saddles": {f"{row['lam']:g}": {"index": row["saddle_index"], "loss": row["saddle_loss"],
                                         "converged": row["saddle_converged"],
                                         "point": [row["saddle_x"], row["saddle_y"]]} for row in mine},
        "definitions": {
            "objective": "the path objective of optimised_height and saddles: f2 = Σ_m f(θ_m)² (the companion "
                         "paper's code), f = Σ_m f(θ_m); each + λ Σ |Δθ|²",
            "optimised_height": "max over the M samples of f on the optimised path, per λ",
            "optimised_height_by_objective": "the same for each objective, the settings otherwise equal",
            "saddles": "where undamped Newton on ∇f from the optimised path's highest sample converged, its "
                       "Hessian index and f there",
        },
    }
    save(paths_toy_figure(toy_landscape, arrays, mine), out / "paths_toy.png")
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    return summary


# ----------------------------------------------------------------------------- figures

def paths_toy_figure(landscape, arrays: dict, rows: list[dict]) -> plt.Figure:
    """The 2-D toy landscape with the straight and the optimised paths, and f along each path."""
    fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(12, 5))
    xs, ys = np.linspace(-1.1, 1.0, 220), np.linspace(-1.1, 0.8, 200)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    f_of = jax.jit(jax.vmap(landscape))
    values = np.asarray(f_of(grid)).reshape(len(ys), len(xs))
    filled = ax.contourf(xs, ys, values, levels=30, cmap="viridis")
    fig.colorbar(filled, ax=ax, label="f(x, y)")
    t = np.linspace(0.0, 1.0, arrays["straight"].shape[0])
    ax.plot(*arrays["straight"].T, color="white", ls="--", lw=1.5, label=f"straight, H = {rows[0]['straight_height']:.3f}")
    ax_f.plot(t, f_of(arrays["straight"]), color="black", ls="--", label="straight line")
    colours = plt.get_cmap("autumn")(np.linspace(0.0, 0.8, len(rows)))
    for i, (row, colour) in enumerate(zip(rows, colours)):
        path = arrays[f"path_{i}"]
        ax.plot(*path.T, ".-", color=colour, ms=2.5, lw=1, label=f"λ = {row['lam']:g}, H = {row['optimised_height']:.3f}")
        ax_f.plot(t, f_of(path), color=colour, label=f"λ = {row['lam']:g}")
    saddles = {(round(r["saddle_x"], 6), round(r["saddle_y"], 6)): r for r in rows}
    for (x, y), r in saddles.items():
        ax.plot(x, y, "X", color="red", ms=10, mec="white")
        ax.annotate(f"index {r['saddle_index']}, f = {r['saddle_loss']:.4f}", (x, y),
                    xytext=(8, 8), textcoords="offset points", color="white", fontsize=8)
        ax_f.axhline(r["saddle_loss"], color="red", lw=0.8, ls=":")
    ax.plot(*np.stack([arrays["straight"][0], arrays["straight"][-1]]).T, "o", color="white", mec="black")
    ax.set(xlabel="x", ylabel="y", title="FourierPathFinder on the companion paper's toy landscape")
    ax.legend(fontsize=7, loc="lower right")
    ax_f.set(xlabel="t", ylabel="f(θ(t))", title="f along the paths (dotted: the index-1 saddle Newton found)")
    ax_f.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

PAPER_TOY_RANGE = (0.64, 0.65)
# With the code's unit gradient noise, the optimised height over 10 noise draws spans 0.635–0.649 (λ = 10),
# 0.638–0.647 (100) and 0.653–0.657 (1000) under Σ f² (docs/results_landscape.md): the verdict allows that spread.
NOISE_TOLERANCE = 1e-2


def paths_toy_cells(summaries: list[Summary]) -> Cells:
    """Cells of the companion paper's 2-D toy: straight and optimised heights, and the saddle Newton found.

    Verdict: "reproduced" when the straight line's height is 1.102 (± 5e-4) and every optimised height for
    λ in 10 … 1000 lies in the paper's 0.64–0.65 (± ``NOISE_TOLERANCE``: the code's gradient noise moves each
    height by that much between noise draws); "partly" when only the straight line does.
    """
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    heights = {float(lam): h for lam, h in summary["optimised_height"].items()}
    checked = {lam: h for lam, h in heights.items() if 10.0 <= lam <= 1000.0}
    saddles = summary["saddles"].values()
    indices = sorted({s["index"] for s in saddles if s["converged"]})
    setting = (f"straight {summary['straight_height']:.3f}; optimised "
               + ", ".join(f"{h:.3f} (λ = {lam:g})" for lam, h in checked.items()))
    others = {o: h for o, h in summary.get("optimised_height_by_objective", {}).items()
              if o != summary.get("objective", "f")}
    large = (", ".join(f"λ = {lam:g}: {h:.3f}" for lam, h in heights.items() if lam not in checked)
             + f"; Newton from every path's top: index {indices} at f = "
             + ", ".join(sorted({f"{s['loss']:.4f}" for s in saddles if s["converged"]}))
             + "".join(f"; objective {o}: " + ", ".join(f"{h:.3f}" for lam, h in hs.items() if 10 <= float(lam) <= 1000)
                       for o, hs in others.items()))
    straight_ok = abs(summary["straight_height"] - 1.102) <= 5e-4
    low, high = PAPER_TOY_RANGE
    optimised_ok = bool(checked) and all(low - NOISE_TOLERANCE <= h <= high + NOISE_TOLERANCE for h in checked.values())
    headline = f"straight {summary['straight_height']:.3f}; optimised " + (
        f"{min(checked.values()):.3f}–{max(checked.values()):.3f}" if checked else "not run for λ in 10 … 1000") + (
        f" (objective {summary['objective']})" if "objective" in summary else "")
    if straight_ok and optimised_ok:
        return Cells(setting, large, "reproduced", headline)
    if straight_ok:
        return Cells(setting, large, (f"partly: straight line reproduced; optimised {min(checked.values()):.2f}–"
                                      f"{max(checked.values()):.2f}, not {low}–{high} (docs/results_landscape.md)"), headline)
    return Cells(setting, large, "differs", headline)


PATHS_TOY_CAPTION = ("The companion paper's 2-D toy landscape with the straight path and the FourierPathFinder "
                     "paths for each λ (left), and f along each path (right); the cross is where Newton on ∇f went "
                     "from the optimised paths' highest samples.",
                     "An index-1 saddle below every path's top confirms that the paths cross the ridge at its pass.")


ROWS = (
    Row("PT", "companion toy paths", "FourierPathFinder on the companion paper's 2-D toy landscape, M = 100",
        "straight line 1.102; optimised ≈ 0.64–0.65 for λ = 10 … 1000", ("paths_toy",), paths_toy_cells,
        (Figure("paths_toy", "paths_toy.png", PATHS_TOY_CAPTION),)),
)

RUNS = (Run("paths_toy", "paths_toy", 5, quick={"lams": (10.0,), "path_steps": 500}, quick_s=6),)
