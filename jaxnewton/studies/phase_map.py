"""Where damped Newton ends, over a grid of (η, ε) and over hidden width.

Every cell of the grid runs the same seeds from the same θ₀ as the base config's sweep. The
grid is a per-row *context* of the loop (``engine.loop.make_context_loop``): row (cell, seed)
carries its own (η, ε) and the step is built from it inside the traced function, so the
whole grid × seeds is one batch of the usual sweep machinery (chunked vmap, compaction of
finished rows, checkpoints). That is the nested vmap over grid and seeds, flattened, and
it computes exactly what ``jax.vmap(jax.vmap(...))`` over (cells, seeds) computes
(``tests/test_phase_map.py``); flattened, finished rows stop costing compute.

Each endpoint's outcome (``engine.outcomes``) falls in one ``CLASSES`` entry; ``summary.json`` holds
their counts per cell (rows η, columns ε). The width sweep runs each width w (a w-w network) at the base's η, ε
as an ordinary seed sweep into ``width_<w>/``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import jax
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.engine.build import build, initial_points, run_rows
from jaxnewton.engine.config import MAX_STEPS, Config, BasedConfig, Run, base_config, require
from jaxnewton.engine.folders import run_in_folder
from jaxnewton.engine.io import Log, Progress, checkpoint_dir, write_npz, write_summary
from jaxnewton.engine.loop import make_context_loop
from jaxnewton.engine.outcomes import AT_TRIVIAL, CAPPED_TRIVIAL, KIND, TRIVIAL, classify
from jaxnewton.engine.sweep import make_batch_fns
from jaxnewton.optim.newton import damped_newton
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN, NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies import seeds


@dataclass(frozen=True)
class PhaseMapConfig(BasedConfig):
    """Where damped Newton ends over a grid of (η, ε), and over hidden width (``studies.phase_map``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config whose problem, network, tolerance and diagnostics are used (its
        ``eta``, ``eps``, ``n_seeds`` and ``max_steps`` are replaced by the fields below).
      etas, epss: the grid: every η with every ε, the same seeds (and θ₀) in every cell.
      n_seeds: seeds per cell, and per width.
      max_steps: the iteration cap of every run.
      widths: hidden widths w of a w-w network run at the base's η and ε (empty: no width sweep).
    """

    name: str
    base: str = "mlp_tanh"
    etas: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    epss: tuple[float, ...] = (1e-3, 1e-2, 5e-2, 0.2, 1.0)
    n_seeds: int = 16
    max_steps: int = 2000
    widths: tuple[int, ...] = (5, 10, 20)

    def validate(self) -> None:
        base = base_config(self)
        require(base.input_features == "none", "base", self.base,
                 "a config without Fourier features (its per-seed B is a context of its own)")
        require(len(self.etas) >= 1 and all(0.0 < e <= 1.0 for e in self.etas), "etas", self.etas,
                 "step relaxations in (0, 1], e.g. etas=0.05,0.1,0.5")
        require(len(self.epss) >= 1 and all(e >= 0.0 for e in self.epss), "epss", self.epss,
                 "shifts ≥ 0, e.g. epss=0.01,0.05,1")
        rows = len(self.etas) * len(self.epss)
        require(1 <= self.n_seeds and rows * self.n_seeds <= MAX_GRID_ROWS, "n_seeds", self.n_seeds,
                f"at least 1 seed, and at most {MAX_GRID_ROWS // rows} for {rows} cells (the grid is one batch)")
        require(1 <= self.max_steps <= MAX_STEPS, "max_steps", self.max_steps, f"an integer in [1, {MAX_STEPS}]")
        require(all(w >= 1 for w in self.widths), "widths", self.widths, "positive widths, e.g. widths=5,10,20")


CONFIG = PhaseMapConfig


MAX_GRID_ROWS = 100_000  # (cells × seeds) rows run as one checkpointed batch
CLASSES = {  # the grid's outcome classes, coarser than engine.outcomes (CLASS_OF maps one to the other)
    "trivial": "converged to a trivial point",
    "minimum": "converged to a non-trivial minimum",
    "saddle": "converged to a non-trivial saddle",
    "other": "converged to a non-trivial maximum or degenerate point",
    "capped_trivial": "reached max_steps at a point that meets the trivial rule (not stationary to tol)",
    "capped": "reached max_steps elsewhere",
    "nonfinite": "blew up (NaN/Inf or a loss explosion)",
}
CLASS_OF = {TRIVIAL: "trivial", "non-trivial minimum": "minimum", "non-trivial saddle": "saddle",
            "non-trivial maximum": "other", "non-trivial degenerate": "other", CAPPED_TRIVIAL: "capped_trivial",
            "max_steps": "capped", "nonfinite": "nonfinite"}


def outcome_classes(status: np.ndarray, trivial: np.ndarray, label: np.ndarray) -> np.ndarray:
    """The ``CLASSES`` key of every endpoint: its outcome (``engine.outcomes.classify``) through ``CLASS_OF``."""
    return np.vectorize(CLASS_OF.get, otypes=[object])(classify(status, trivial, label))


def base_of(config: PhaseMapConfig) -> Config:
    """The base seed-sweep config with this run's seeds and cap."""
    base = base_config(config)
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

    loop = make_context_loop(solve, base.tol, base.max_steps, base.history_stride, base.divergence_factor,
                             base.tol_on)
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

    ckpt = checkpoint_dir(out, config.hash()) / "grid.npz"
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
    return {"counts": {k: np.sum(classes == k, axis=-1).tolist() for k in CLASSES},
            "median_steps": np.median(np.asarray(state.steps).reshape(shape), axis=-1).tolist(),
            "wall_seconds": seconds}


def run_widths(config: PhaseMapConfig, out: Path, log: Log, progress: Progress | None = None) -> dict:
    """One seed sweep per width at the base's η and ε, into ``width_<w>/``; their counts."""
    results, base = {}, base_of(config)
    for i, width in enumerate(config.widths):
        sweep = dataclasses.replace(base, name=f"{base.name}_w{width}", widths=(width,) * len(base.widths))

        def sub(fraction: float, text: str, i: int = i, width: int = width) -> None:
            progress(0.9 + 0.1 * (i + fraction) / len(config.widths), f"width {width}: {text}")

        summary = run_in_folder(seeds.run, sweep, out / f"width_{width}", log, sub if progress else None,
                                policy="replace")
        outcomes = summary["outcomes"]
        results[str(width)] = {
            "n_params": summary["n_params"], "n_seeds": summary["n_seeds"], "counts": summary["counts"],
            "labels": summary["labels"], "trivial_at_cap": summary["trivial_at_cap"],
            "trivial_rate": summary["trivial_rate"], "solved": summary["solved"],
            "outcome_counts": {o: outcomes.count(o) for o in sorted(set(outcomes))},
            "wall_seconds": summary["wall_seconds"],
        }
    return results


def run(config: PhaseMapConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run the (η, ε) grid and the width sweep; write ``summary.json``, ``grid.npz`` and ``phase_map.png``.

    Returns:
      The summary dict.
    """
    out = Path(out_dir)
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
            "outcomes": CLASSES,
            "widths": "per width w (a w-w network at the base's η and ε): the seed sweep's counts, in width_<w>/",
        },
        "wall_seconds": grid["wall_seconds"] + sum(w["wall_seconds"] for w in widths.values()),
    }
    save(phase_map_figure(summary), out / "phase_map.png")
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


# ----------------------------------------------------------------------------- figures

PHASE_PANELS = (  # (title, outcome classes summed) of the phase map's heat maps
    ("converged, trivial", ("trivial",)),
    ("converged, non-trivial", ("minimum", "saddle", "other")),
    ("capped at the trivial point", ("capped_trivial",)),
    ("capped elsewhere", ("capped",)),
    ("non-finite", ("nonfinite",)),
)


WIDTH_KINDS = (  # (label, colour, outcomes counted) of the width bars
    ("converged trivial", "tab:red", (TRIVIAL,)),
    ("converged non-trivial", "tab:blue", tuple(o for o, k in KIND.items() if k == "non-trivial")),
    ("capped at the trivial point", "salmon", (CAPPED_TRIVIAL,)),
    ("capped elsewhere", "tab:gray", tuple(o for o, k in KIND.items() if k == "max_steps" and o not in AT_TRIVIAL)),
    ("non-finite", "black", ("nonfinite",)),
)


def phase_map_figure(summary: dict) -> plt.Figure:
    """Fractions of seeds per (η, ε) cell for each kind of endpoint, and the width sweep's endpoints."""
    etas, epss, n = summary["etas"], summary["epss"], summary["n_seeds"]
    counts = {k: np.asarray(v, float) for k, v in summary["grid"]["counts"].items()}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    for ax, (title, keys) in zip(axes.flat, PHASE_PANELS):
        frac = sum(counts[k] for k in keys) / n
        image = ax.imshow(frac, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower", aspect="auto")
        for i in range(len(etas)):
            for j in range(len(epss)):
                ax.text(j, i, f"{int(round(frac[i, j] * n))}", ha="center", va="center", fontsize=8,
                        color="white" if frac[i, j] < 0.6 else "black")
        fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of seeds")
        ax.set_xticks(range(len(epss)), [f"{e:g}" for e in epss])
        ax.set_yticks(range(len(etas)), [f"{e:g}" for e in etas])
        if summary["base_eps"] in epss and summary["base_eta"] in etas:  # the paper's setting
            ax.add_patch(plt.Rectangle((epss.index(summary["base_eps"]) - 0.5, etas.index(summary["base_eta"]) - 0.5),
                                       1, 1, fill=False, edgecolor="red", lw=2))
        ax.set(xlabel="shift ε", ylabel="step relaxation η", title=f"{title} (seeds of {n})")
    ax = axes.flat[5]
    widths = summary["widths"]
    names = list(widths)
    bottom = np.zeros(len(names))
    for label, colour, keys in WIDTH_KINDS:
        values = np.array([sum(widths[w]["outcome_counts"].get(k, 0) for k in keys) for w in names], float)
        ax.bar([f"{w}\n({widths[w]['n_params']} p.)" for w in names], values, bottom=bottom, color=colour, label=label)
        bottom += values
    ax.set(xlabel="hidden width (parameters)", ylabel="seeds",
           title=f"width sweep at η = {summary['base_eta']:g}, ε = {summary['base_eps']:g}")
    ax.legend(fontsize=7)
    fig.suptitle(f"Damped Newton on {summary['base']}: where {n} seeds end, {summary['max_steps']} steps at most "
                 "(red box: the paper's η, ε)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

def phase_map_cells(summaries: list[Summary]) -> Cells:
    """Cells of the phase map: the paper's cell (η, ε of the base config), the grid and the widths.
    No verdict: the paper reports no other setting."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    counts = summary["grid"]["counts"]
    etas, epss, n = summary["etas"], summary["epss"], summary["n_seeds"]

    def trivial(i: int, j: int) -> int:
        return counts["trivial"][i][j] + counts["capped_trivial"][i][j]

    setting = NOT_RUN
    if summary["base_eta"] in etas and summary["base_eps"] in epss:
        i, j = etas.index(summary["base_eta"]), epss.index(summary["base_eps"])
        setting = (f"η = {etas[i]:g}, ε = {epss[j]:g}, {summary['max_steps']} steps: {trivial(i, j)}/{n} at the "
                   f"trivial point ({counts['trivial'][i][j]} converged)")
    cells = [(trivial(i, j), etas[i], epss[j]) for i in range(len(etas)) for j in range(len(epss))]
    most = max(cells)
    fewest = min(cells)
    nontrivial = sum(counts[k][i][j] for k in ("minimum", "saddle", "other") for i in range(len(etas))
                     for j in range(len(epss)))
    minima = sum(counts["minimum"][i][j] for i in range(len(etas)) for j in range(len(epss)))
    widths = "; ".join(f"width {w} ({r['n_params']} p.): {r['counts']['trivial'] + r['trivial_at_cap']}/"
                       f"{r['n_seeds']} trivial" for w, r in summary["widths"].items())
    large = (f"{len(cells)} cells × {n} seeds: trivial in {fewest[0]}–{most[0]} per cell (most at η = {most[1]:g}, "
             f"ε = {most[2]:g}; fewest at η = {fewest[1]:g}, ε = {fewest[2]:g}); {nontrivial} non-trivial converged "
             f"runs of {len(cells) * n}, {minima} of them minima" + (f"<br>{widths}" if widths else ""))
    headline = (f"trivial in {fewest[0]}–{most[0]} of {n} per cell; {minima} minima in {len(cells) * n} runs")
    return Cells(setting, large, "extension (no paper number)", headline)


PHASE_MAP_CAPTION = ("Damped Newton's endpoints over the (η, ε) grid, as counts of 16 seeds per cell (red box: the "
                     "paper's η = ε = 5e-2), and over hidden width at the paper's η, ε.",
                     "Where the trivial panels are bright, damped Newton still finds the trivial saddle.")


ROWS = (
    Row("PM", "(η, ε) phase map", "damped Newton on E3 over a grid of (η, ε), and over hidden width",
        "η = ε = 5e-2 only", ("phase_map",), phase_map_cells,
        (Figure("phase_map", "phase_map.png", PHASE_MAP_CAPTION),)),
)

RUNS = (
    Run("phase_map", "phase_map", 746, quick={"etas": (0.05, 0.5), "epss": (0.05, 1.0), "max_steps": 300,
                                              "widths": (5,)}, quick_s=29),
)
