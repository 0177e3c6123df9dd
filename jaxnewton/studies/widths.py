"""Does exact Newton still find the trivial saddle as the network widens? One seed sweep per hidden width.

A ``WidthsConfig`` names a base experiment (E3: a 1-w-w-1 tanh MLP) and the hidden widths w to run it at, each
with its own number of seeds, iteration cap and linear solver (``"dense"``: form H, LU; ``"krylov"``: MINRES on
Hessian-vector products, ``optim.newton``). End points with more than ``lanczos_above`` parameters are diagnosed
from Hessian-vector products (``spectrum = "lanczos"``, ``core.diagnostics``): the label with whether it is
certain, and the index fraction with a 95% bracket. Everything else is the base's (the paper's η, ε, T).

Methods (``METHODS``: damped Newton as the width's ``linear_solvers`` say, truncated damped Newton with MINRES capped
at 50 or 500 products, saddle-free Newton on 50 Lanczos steps, Newton-MR, BFGS; each the setting of a registered
optimiser, none new) and parametrisations (``"standard"``, ``"ntk"``: ``Config.parametrisation``) multiply the
cells: every method runs at every width up to its ``max_params``, in every parametrisation, from the same θ₀ (the
NTK coordinates start at the same network). Damped Newton in the standard parametrisation keeps its old cell label.

Each cell is an ordinary seed sweep (``studies.seeds``) into its own folder ``<out>.cells/width-<w>-<hash>/``
beside the study's (``studies.settings.cell_folder``): checkpointed and resumable like any run, and a finished
width is never rerun, even by a study that adds widths or seeds later. ``summary.json`` lists per width: P, the
seeds, cap and solver, p(converged at the trivial point) and p(at the trivial point at the end, converged or
capped) with 95% Wilson intervals, which kind of trivial point (θᴼ = 0, or units that cancel or saturate),
the median steps and Krylov iterations per step, the index fraction of the end points, the fit of the runs that
did not end trivial, and the capped runs with where they stand (their loss ratio L / L(0)).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.engine.config import MAX_SEEDS, Config, BasedConfig, Run, base_config, override, require
from jaxnewton.core.models import PARAMETRISATIONS
from jaxnewton.core.stats import fisher_exact, mantel_haenszel, trend_test
from jaxnewton.engine.folders import made_by
from jaxnewton.core.curvature import hessian_vector_product
from jaxnewton.core.spectra import lanczos, ritz
from jaxnewton.engine import preempt
from jaxnewton.engine.build import build, initial_points
from jaxnewton.engine.io import Log, Progress, git_commit, load_npz, read_json, write_json, write_summary
from jaxnewton.engine.loop import STATUS
from jaxnewton.engine.sweep import advance_running, init_batch, make_batch_fns, map_rows, seed_mesh_for
from jaxnewton.optim import registry
from jaxnewton.engine.outcomes import AT_TRIVIAL, TRIVIAL
from jaxnewton.optim.newton import LINEAR_SOLVERS
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies import seeds
from jaxnewton.studies.settings import cell_folder, difference, proportion, run_cell


@dataclass(frozen=True)
class WidthsConfig(BasedConfig):
    """One seed sweep of ``base`` per hidden width (``studies.widths``); the per-width tuples align with ``widths``.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config every width starts from (two hidden layers; its ``optimizers`` must be empty).
      widths: the hidden widths w (both layers w wide).
      n_seeds: seeds per width (the first n of the same seed stream at every width).
      max_steps: the iteration cap per width (the base's where it fits the budget, lower where it does not: a
        capped run is reported as capped, with where it stands).
      linear_solvers: ``"dense"`` or ``"krylov"`` per width (``Config.linear_solver``).
      lanczos_above: end points with more parameters than this are diagnosed with ``spectrum = "lanczos"``.
      fixed: ``field=value`` changes made to the base at every width.
      methods: ``METHODS`` run at every width up to their ``max_params``.
      parametrisations: ``"standard"`` and / or ``"ntk"``.
      krylov_max_steps: per width, the cap of the methods whose every step is a capped Krylov solve (truncated
        Newton, Lanczos saddle-free Newton, Newton-MR: a step costs up to their cap of products, one seed at a
        time); empty: ``max_steps``.
      path_seeds: the first this many seeds of ``path_method`` are rerun at every width and parametrisation with
        λ_min(H + εI) taken at ``path_points`` steps along each path (``lambda_min_path``); 0: none.
      path_method: a ``METHODS`` entry whose paths are traced.
      path_points: points along a path, evenly spaced in steps up to the cell's cap (and the start).
    """

    name: str
    base: str = "mlp_tanh"
    widths: tuple[int, ...] = (10, 20)
    n_seeds: tuple[int, ...] = (32, 32)
    max_steps: tuple[int, ...] = (10_000, 10_000)
    linear_solvers: tuple[str, ...] = ("dense", "dense")
    lanczos_above: int = 2_000
    fixed: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("newton",)
    parametrisations: tuple[str, ...] = ("standard",)
    krylov_max_steps: tuple[int, ...] = ()
    path_seeds: int = 0
    path_method: str = "truncated500"
    path_points: int = 10

    def validate(self) -> None:
        base = base_config(self)
        require(not base.optimizers and len(base.widths) == 2, "base", self.base,
                "a single-optimiser sweep config with two hidden layers")
        n = len(self.widths)
        require(n >= 1 and all(w >= 1 for w in self.widths) and len(set(self.widths)) == n, "widths", self.widths,
                "distinct widths ≥ 1")
        for field in ("n_seeds", "max_steps", "linear_solvers"):
            require(len(getattr(self, field)) == n, field, getattr(self, field), f"one entry per width ({n})")
        require(len(self.krylov_max_steps) in (0, n) and all(s >= 1 for s in self.krylov_max_steps),
                "krylov_max_steps", self.krylov_max_steps, f"empty or one cap ≥ 1 per width ({n})")
        require(all(1 <= s <= MAX_SEEDS for s in self.n_seeds), "n_seeds", self.n_seeds, f"1 … {MAX_SEEDS} per width")
        require(all(s >= 1 for s in self.max_steps), "max_steps", self.max_steps, "caps ≥ 1")
        require(set(self.linear_solvers) <= set(LINEAR_SOLVERS), "linear_solvers", self.linear_solvers,
                f"entries from {list(LINEAR_SOLVERS)}")
        require(self.lanczos_above >= 1, "lanczos_above", self.lanczos_above, "a parameter count ≥ 1")
        require(len(self.methods) >= 1 and set(self.methods) <= set(METHODS) and len(set(self.methods)) ==
                len(self.methods), "methods", self.methods, f"distinct names from {list(METHODS)}")
        require(len(self.parametrisations) >= 1 and set(self.parametrisations) <= set(PARAMETRISATIONS) and
                len(set(self.parametrisations)) == len(self.parametrisations), "parametrisations",
                self.parametrisations, f"distinct names from {list(PARAMETRISATIONS)}")
        require(0 <= self.path_seeds <= min(self.n_seeds), "path_seeds", self.path_seeds,
                f"0 … {min(self.n_seeds)} (the fewest seeds of a width)")
        require(self.path_method in METHODS, "path_method", self.path_method, f"a name from {list(METHODS)}")
        require(self.path_points >= 1, "path_points", self.path_points, "≥ 1")
        for i, method, parametrisation in cells(self):
            self.require_builds("widths", f"width {self.widths[i]} {method} {parametrisation}",
                                lambda: width_config(self, i, method, parametrisation))


CONFIG = WidthsConfig


def n_params(base: Config, width: int) -> int:
    """P of ``base`` with both hidden layers ``width`` wide (hidden biases, bias-free read-out)."""
    inputs = 2 * base.fourier_features if base.input_features == "fourier" else base.dim
    return (inputs + 1) * width + (width + 1) * width + width


class Method(NamedTuple):
    """A method of the width study: the settings of a registered optimiser, the largest P it runs at, and whether its
    steps are capped Krylov solves (capped by ``krylov_max_steps``)."""

    settings: tuple[str, ...]
    max_params: int
    title: str
    krylov: bool = False


# ``linear_solver`` and the cap of MINRES / Lanczos; "newton" takes the width's own linear solver (``linear_solvers``).
METHODS = {
    # Exact Newton to 1e-10 costs 1.9 s a seed-step at P = 26 240 (the earlier study's width 160, 100 steps): up to P = 6 720 here.
    "newton": Method((), 7_000, "damped Newton, exact solve"),
    "truncated50": Method(("linear_solver=krylov", "krylov_max_iter=50"), 10 ** 9,
                          "truncated damped Newton, MINRES ≤ 50 products", True),
    "truncated500": Method(("linear_solver=krylov", "krylov_max_iter=500"), 10 ** 9,
                           "truncated damped Newton, MINRES ≤ 500 products", True),
    "sfn_lanczos50": Method(("solver=sfn", "linear_solver=krylov", "krylov_max_iter=50"), 10 ** 9,
                            "saddle-free Newton on 50 Lanczos steps", True),
    "newton_mr": Method(("solver=newton_mr", "krylov_max_iter=500"), 10 ** 9,
                        "Newton-MR, MINRES ≤ 500 products", True),
    # A P × P inverse Hessian per row of the batch, padding included: 0.36 GB each at P = 6 720, where 8 seeds (a CPU
    # chunk of 16 rows) held over 21.6 GB and were killed on the 24 GiB VM (2026-12-06): up to P = 1 760 here.
    "bfgs": Method(("solver=bfgs",), 2_000, "BFGS"),
}


def cells(config: WidthsConfig) -> list[tuple[int, str, str]]:
    """(width index, method, parametrisation) of every cell, widths outermost; a method above its max_params skipped."""
    base = base_config(config)
    return [(i, method, parametrisation) for i, w in enumerate(config.widths) for method in config.methods
            if n_params(base, w) <= METHODS[method].max_params for parametrisation in config.parametrisations]


def width_config(config: WidthsConfig, i: int, method: str = "newton", parametrisation: str = "standard") -> Config:
    """The seed-sweep config of the i-th width, ``method`` and ``parametrisation``: the base with ``fixed`` and the
    cell's settings (damped Newton in the standard parametrisation: the width's config of the earlier study)."""
    base = base_config(config)
    w = config.widths[i]
    spectrum = "lanczos" if n_params(base, w) > config.lanczos_above else "dense"
    cap = config.krylov_max_steps[i] if METHODS[method].krylov and config.krylov_max_steps else config.max_steps[i]
    changes = [*config.fixed, f"widths={w},{w}", f"n_seeds={config.n_seeds[i]}", f"max_steps={cap}",
               f"linear_solver={config.linear_solvers[i]}", f"spectrum={spectrum}", *METHODS[method].settings]
    return override(base, changes + ([f"parametrisation={parametrisation}"] if parametrisation != "standard" else []))


def cell_label(width: int, method: str, parametrisation: str) -> str:
    return f"width={width}" + ("" if (method, parametrisation) == ("newton", "standard") else
                               f"-{method}-{parametrisation}")


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def width_record(width: int, cell: Config, summary: dict, folder: Path, method: str = "newton") -> dict:
    """A cell's line of ``summary.json`` from its seed sweep's summary, runs.csv and arrays.npz."""
    n = summary["n_seeds"]
    outcomes = summary["outcomes"]
    with open(folder / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    trivial = summary["counts"]["trivial"]
    capped = [r for r in runs if r["status"] == "max_steps"]
    eigvals = load_npz(folder / "arrays.npz")["eigvals"]  # every eigenvalue, or a Lanczos run's Ritz values
    return {
        "width": width,
        "method": method,
        "parametrisation": cell.parametrisation,
        "folder": f"{folder.parent.name}/{folder.name}",
        "commit": made_by(summary),
        "config_hash": cell.hash(),
        "n_params": summary["n_params"],
        "n_seeds": n,
        "max_steps": cell.max_steps,
        "linear_solver": cell.linear_solver,
        "spectrum": cell.spectrum,
        "p_trivial": proportion(outcomes.count(TRIVIAL), n),
        "p_trivial_end": proportion(sum(o in AT_TRIVIAL for o in outcomes), n),
        "p_fit": proportion(summary["solved"], n),
        "trivial_kinds": {"outer_zero": summary["trivial_outer_zero"],
                          "cancelling_or_saturated": trivial - summary["trivial_outer_zero"]},
        "counts": summary["counts"],
        "labels": summary["labels"],
        "uncertain_labels": summary.get("uncertain_labels", 0),
        "median_steps": summary["median_steps"],
        "median_krylov_iterations": summary["median_krylov_iterations"],
        "krylov_unsolved": summary.get("krylov_unsolved"),
        "index_fraction": summary.get("index_fraction"),
        "median_lambda_min": float(np.median(np.nanmin(eigvals, axis=1))),
        "curvature_steps": summary.get("curvature_steps"),
        "capped": {"n": len(capped), "at_trivial": summary["trivial_at_cap"],
                   "elsewhere_median_loss_ratio": _median([float(r["loss_ratio"]) for r in capped
                                                           if r["trivial"] != "true"])},
        "non_trivial_rel_l2_error": _median([float(r["rel_l2_error"]) for r in runs if r["trivial"] != "true"]),
        "wall_seconds": summary["wall_seconds"],
    }


# Lanczos steps for λ_min along a path: the smallest Ritz value is an upper bound on λ_min (interlacing), its residual
# bound says how far an eigenvalue lies from it.
PATH_LANCZOS_STEPS = 80


def lambda_min_path(cell: Config, seed: int, points: int) -> dict:
    """One seed's run of ``cell`` traced: at ``points`` evenly spaced steps (and step 0) the smallest Ritz value of
    ``PATH_LANCZOS_STEPS`` Lanczos steps on H (plus ε: λ_min(H + εI) is at most this), its residual bound, and
    L / L(0) (L(0): the zero function's loss, 1 at the trivial point). The run is the cell's own: the engine's batch
    functions for the cell, from the same θ₀ (a chunk of the same shape); it stops being traced once the seed stops."""
    experiment = build(cell)
    problem = experiment.problem
    loss, zero_loss = problem.loss, float(problem.scale * problem.norm2(problem.target))
    uneven = registry.seed_by_seed(cell)
    fns = make_batch_fns(experiment.loop, None, seed_mesh_for(1, uneven), uneven=uneven)
    state = init_batch(fns, initial_points(experiment, np.array([seed])))
    p = problem.n_params
    hvp = hessian_vector_product(loss)

    def smallest(theta):
        v0 = jax.random.normal(jax.random.key(seed), (p,), theta.dtype)
        values, _, bounds = ritz(lanczos(lambda v: hvp(theta, v), v0, min(PATH_LANCZOS_STEPS, p),
                                         jax.random.key(seed + 1)))
        return values[0], bounds[0]

    smallest_rows = map_rows(smallest)
    eps = cell.eps  # the paper's shift, whichever method made the path: the wide limit's regularised Hessian
    trace = {"seed": seed, "steps": [], "lambda_min_shifted": [], "residual_bound": [], "loss_ratio": []}
    for bound in np.unique(np.linspace(0, cell.max_steps, points + 1).round().astype(int)):
        state = advance_running(fns, state, int(bound)) if bound else state
        (value,), (residual,) = smallest_rows(state.theta)
        trace["steps"].append(int(state.steps[0]))
        trace["lambda_min_shifted"].append(float(value) + eps)
        trace["residual_bound"].append(float(residual))
        trace["loss_ratio"].append(float(state.loss[0]) / zero_loss)
        if STATUS[int(state.status[0])] != "running":
            break
    trace["status"] = STATUS[int(state.status[0])]
    return trace


def path_record(config: WidthsConfig, out: Path, i: int, parametrisation: str, log: Log) -> dict:
    """The traced paths of the first ``path_seeds`` seeds at width i (resumable seed by seed, in a file of its own)."""
    cell = width_config(config, i, config.path_method, parametrisation)
    w = config.widths[i]
    path = cell_folder(out, f"path-w{w}-{config.path_method}-{parametrisation}", cell).with_suffix(".json")
    done = read_json(path)
    if not done or done.get("config_hash") != cell.hash() or done.get("points") != config.path_points:
        done = {"config_hash": cell.hash(), "width": w, "parametrisation": parametrisation,
                "method": config.path_method, "n_params": n_params(base_config(config), w), "max_steps": cell.max_steps,
                "eps": cell.eps, "points": config.path_points, "commit": git_commit(), "seeds": []}
    for seed in range(len(done["seeds"]), config.path_seeds):
        log(f"  path: width {w}, {config.path_method}, {parametrisation}, seed {seed}: λ_min(H + εI) at "
            f"{config.path_points} points to step {cell.max_steps}")
        done["seeds"].append(lambda_min_path(cell, seed, config.path_points))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, done)
        preempt.checkpoint_reached(f"path of seed {seed} at width {w}")
    values = [v for t in done["seeds"] for v in t["lambda_min_shifted"]]
    return {**{k: v for k, v in done.items() if k != "config_hash"},
            "min_lambda_min_shifted": min(values),
            # certain: the smallest Ritz value is an upper bound on λ_min, so a negative one proves H + εI indefinite
            "points_indefinite": sum(v < 0 for v in values), "n_points": len(values)}


def run(config: WidthsConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every width (skipping finished ones) and write ``summary.json`` and ``widths.png``."""
    out = Path(out_dir)
    todo = cells(config)
    n = len(todo)
    log(f"[{config.name}] {config.base} at widths {', '.join(map(str, config.widths))}: {n} cells "
        f"({', '.join(config.methods)}; {', '.join(config.parametrisations)})")
    records = []
    for k, (i, method, parametrisation) in enumerate(todo):
        w = config.widths[i]
        cell = width_config(config, i, method, parametrisation)
        folder = cell_folder(out, cell_label(w, method, parametrisation), cell)
        summary = run_cell(cell, folder, f"width {w}, {method}, {parametrisation} ({k + 1}/{n}): {cell.n_seeds} seeds, "
                           f"cap {cell.max_steps}, {cell.linear_solver} solve, {cell.spectrum} spectrum", k / n, 1 / n,
                           log, progress)
        records.append(width_record(w, cell, summary, folder, method))
    for record in records:  # against the first width of the same method and parametrisation
        first = next(r for r in records if (r["method"], r["parametrisation"]) ==
                     (record["method"], record["parametrisation"]))
        record["vs_first"] = {k: difference(record[k], first[k]) for k in ("p_trivial", "p_trivial_end", "p_fit")}
    for record in records:  # the wide-limit question: another parametrisation against the standard one's same cell
        standard = next((r for r in records if (r["width"], r["method"], r["parametrisation"]) ==
                         (record["width"], record["method"], "standard")), record)
        if standard is not record:
            record["vs_standard"] = {k: {**difference(record[k], standard[k]), "fisher_p": fisher_exact(
                record[k]["k"], record[k]["n"], standard[k]["k"], standard[k]["n"])}
                for k in ("p_trivial", "p_trivial_end", "p_fit")}
    paths = [path_record(config, out, i, parametrisation, log) for i in range(len(config.widths))
             for parametrisation in config.parametrisations if config.path_seeds]
    groups = series(records)
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "base": config.base,
        "widths": records,
        "paths": paths,
        "wall_seconds": sum(r["wall_seconds"] for r in records),
        "vs_standard_pooled": pooled_vs_standard(groups),
        "width_trend": width_trend(groups),
        "definitions": {
            "p_trivial": "seeds that met the tolerance at a point meeting the trivial rule, with a 95% Wilson interval",
            "p_trivial_end": "seeds whose end point meets the trivial rule, converged or capped",
            "p_fit": f"seeds whose relative L2 error against v is ≤ {seeds.SOLVED_L2:g}",
            "trivial_kinds": f"converged trivial seeds with ||θᴼ||₂ ≤ {seeds.OUTER_ZERO:g} (the paper's θᴼ = 0 "
                             "point) and the others (hidden units that cancel or saturate so that N ⊥ v)",
            "median_krylov_iterations": "linear_solver=krylov only: the median over seeds of MINRES iterations "
                                        "(Hessian-vector products) per step",
            "krylov_unsolved": "linear_solver=krylov only: steps (over all seeds) whose MINRES stopped at its cap "
                               "above its tolerance, and the seeds with any",
            "index_fraction": "median over seeds of n_neg / P at the end point, with the medians of its 95% "
                              "bracket (exact for spectrum=dense)",
            "capped": "runs that reached max_steps: how many, how many stand at a trivial point, and the median "
                      "L / L(0) of the others (1 at the trivial point and at the zero function, 0 at an exact fit)",
            "non_trivial_rel_l2_error": "median ||N − v|| / ||v|| over the seeds whose end point is not trivial",
            "vs_first": "the cell's p minus the first width's of the same method and parametrisation, with a 95% "
                        "Newcombe interval; moves: it excludes 0",
            "vs_standard": "a non-standard parametrisation's cell: its p minus the standard parametrisation's at the "
                           "same width and method, with a 95% Newcombe interval and Fisher's exact two-sided p",
            "vs_standard_pooled": "per method and non-standard parametrisation, the seeds at the trivial point at the "
                                  "end summed over the widths where both parametrisations ran, against the standard "
                                  "one's: the Mantel–Haenszel common difference (strata: the widths) and the "
                                  "Cochran–Mantel–Haenszel test's p (continuity-corrected)",
            "width_trend": "per method and parametrisation, the Cochran–Armitage test for a trend of p_trivial_end in "
                           "log₂ width: z < 0 when the trivial point grows rarer with width, and its two-sided p",
            "median_lambda_min": "median over seeds of the smallest eigenvalue of H at the end point (the dense "
                                 "spectrum's, or Lanczos's smallest Ritz value: an upper bound on it); "
                                 "λ_min(H + εI) adds ε",
            "paths": f"λ_min(H + εI) along the runs of the first {config.path_seeds} seeds of {config.path_method} at "
                     f"every width and parametrisation, at {config.path_points} evenly spaced steps: the smallest "
                     f"Ritz value of {PATH_LANCZOS_STEPS} Lanczos steps plus ε (an upper bound: a negative value "
                     "proves H + εI indefinite there), its residual bound, L / L(0); points_indefinite counts the "
                     "negative ones. The wide-limit prediction (regularised Hessian positive definite as width "
                     "grows) reads: fewer indefinite points as P grows",
            "methods": {m: METHODS[m].title for m in config.methods},
        },
    }
    if paths:
        save(paths_figure(summary), out / "paths.png")
    save(widths_figure(summary), out / "widths.png")
    write_summary(out, summary)
    log(f"[{config.name}] " + "; ".join(f"w={r['width']} {r['method']} {r['parametrisation']}: {r['p_trivial']['k']}/"
                                        f"{r['n_seeds']} trivial" for r in records) + f" → {out}")
    return summary


def pooled_vs_standard(groups: dict[tuple[str, str], list[dict]]) -> dict[str, dict]:
    """Each method's other parametrisations against its standard one over their shared widths (``summary.json``'s
    ``vs_standard_pooled``, by method, then parametrisation)."""
    pooled = {}
    for (method, parametrisation), rows in groups.items():
        standard = {r["width"]: r for r in groups.get((method, "standard"), [])}
        shared = [r for r in rows if r["width"] in standard]
        pairs = [(r["p_trivial_end"], standard[r["width"]]["p_trivial_end"]) for r in shared]
        if parametrisation == "standard" or not pairs:
            continue
        pooled.setdefault(method, {})[parametrisation] = {
            "widths": [r["width"] for r in shared],
            "k": sum(a["k"] for a, _ in pairs), "n": sum(a["n"] for a, _ in pairs),
            "k_standard": sum(b["k"] for _, b in pairs), "n_standard": sum(b["n"] for _, b in pairs),
            **mantel_haenszel([(a["k"], a["n"], b["k"], b["n"]) for a, b in pairs])}
    return pooled


def width_trend(groups: dict[tuple[str, str], list[dict]]) -> dict[str, dict]:
    """Per method and parametrisation with several widths, the Cochran–Armitage trend of p_trivial_end in log₂ width
    (``summary.json``'s ``width_trend``)."""
    trend: dict[str, dict] = {}
    for (method, parametrisation), rows in groups.items():
        if len(rows) > 1:
            trend.setdefault(method, {})[parametrisation] = trend_test(
                [r["p_trivial_end"]["k"] for r in rows], [r["n_seeds"] for r in rows],
                [math.log2(r["width"]) for r in rows])
    return trend


def series(records: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """The records per (method, parametrisation), widths in order (a summary before methods: all damped Newton)."""
    out: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        out.setdefault((r.get("method", "newton"), r.get("parametrisation", "standard")), []).append(r)
    return out


def widths_figure(summary: dict) -> plt.Figure:
    """Against P: the trivial and fit proportions with 95% intervals, and the end points' index fraction; with several
    methods or parametrisations, p(at the trivial point at the end) and the median λ_min, one line per series."""
    if len(series(summary["widths"])) > 1:
        return methods_figure(summary)
    records = summary["widths"]
    p = np.array([r["n_params"] for r in records], float)
    fig, (ax, ax_index) = plt.subplots(1, 2, figsize=(11, 4))
    for key, shift, style, name in (("p_trivial", 0.97, "o", "converged at the trivial point"),
                                    ("p_trivial_end", 1.0, "s", "at the trivial point at the end"),
                                    ("p_fit", 1.03, "^", "fit v (relative L2 error ≤ 1e-2)")):
        value = np.array([r[key]["p"] for r in records])
        err = np.array([[r[key]["p"] - r[key]["ci_low"], r[key]["ci_high"] - r[key]["p"]] for r in records]).T
        ax.errorbar(p * shift, value, yerr=err, fmt=style + "-", ms=5, capsize=2, label=name,
                    mfc="white" if style != "o" else None)
    for r in records:
        ax.annotate(f"w={r['width']}\n{r['n_seeds']} seeds\ncap {r['max_steps']}", (r["n_params"], 1.02),
                    fontsize=6, ha="center", va="bottom", annotation_clip=False)
    ax.set(xscale="log", ylim=(0, 1), xlabel="parameters P", ylabel="proportion of seeds (95% Wilson interval)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    index = [r["index_fraction"] for r in records]
    mid = np.array([i["median"] for i in index])
    err = np.array([[i["median"] - i["median_low"], i["median_high"] - i["median"]] for i in index]).T
    ax_index.errorbar(p, mid, yerr=err, fmt="o-", capsize=3)
    ax_index.set(xscale="log", ylim=(0, 1), xlabel="parameters P",
                 ylabel="index fraction n_neg / P at the end point",
                 title="median over seeds (bars: SLQ's 95% bracket, lanczos only)")
    for axis in (ax, ax_index):
        axis.set_xticks(p, [f"{int(x)}" for x in p])
        axis.minorticks_off()
    fig.suptitle(f"{summary['base']} across hidden widths: damped Newton at the paper's η, ε, T", fontsize=10)
    fig.tight_layout()
    return fig


def methods_figure(summary: dict) -> plt.Figure:
    fig, (ax, ax_min) = plt.subplots(1, 2, figsize=(12, 4.5))
    for (method, parametrisation), rows in series(summary["widths"]).items():
        p = np.array([r["n_params"] for r in rows], float)
        end = np.array([r["p_trivial_end"]["p"] for r in rows])
        err = np.array([[r["p_trivial_end"]["p"] - r["p_trivial_end"]["ci_low"],
                         r["p_trivial_end"]["ci_high"] - r["p_trivial_end"]["p"]] for r in rows]).T
        style = "-" if parametrisation == "standard" else "--"
        line = ax.errorbar(p, end, yerr=err, fmt="o" + style, ms=4, capsize=2, label=f"{method}, {parametrisation}")
        ax_min.plot(p, [r["median_lambda_min"] for r in rows], "o" + style, ms=4, color=line[0].get_color())
    ax.set(xscale="log", ylim=(0, 1), xlabel="parameters P",
           ylabel="p(at the trivial point at the end), 95% Wilson interval")
    ax.legend(fontsize=6, ncol=2)
    ax_min.set(xscale="log", yscale="symlog", xlabel="parameters P", ylabel="median λ_min(H) at the end points",
               title="below 0: a saddle or maximum (λ_min(H + εI) = λ_min + ε)")
    ax_min.axhline(0.0, color="k", lw=0.6)
    fig.suptitle(f"{summary['base']} across hidden widths, per method and parametrisation", fontsize=10)
    fig.tight_layout()
    return fig


def paths_figure(summary: dict) -> plt.Figure:
    """λ_min(H + εI) (symlog) against the step along each traced path, one panel per parametrisation, a colour per
    width."""
    parametrisations = sorted({r["parametrisation"] for r in summary["paths"]}, key=PARAMETRISATIONS.index)
    widths = sorted({r["width"] for r in summary["paths"]})
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(widths)))
    fig, axes = plt.subplots(1, len(parametrisations), figsize=(5.5 * len(parametrisations), 4), squeeze=False)
    for ax, parametrisation in zip(axes[0], parametrisations):
        for r in summary["paths"]:
            if r["parametrisation"] != parametrisation:
                continue
            colour = colours[widths.index(r["width"])]
            for j, t in enumerate(r["seeds"]):
                ax.plot(t["steps"], t["lambda_min_shifted"], "o-", ms=3, lw=1, color=colour,
                        label=f"w={r['width']} (P={r['n_params']})" if j == 0 else None)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set(yscale="symlog", xlabel="step", ylabel="λ_min(H + εI) (upper bound: smallest Ritz value + ε)",
               title=f"{parametrisation} parametrisation")
        ax.legend(fontsize=6)
    fig.suptitle(f"{summary['base']}: the regularised Hessian along {summary['paths'][0]['method']} paths; below 0 "
                 "it is indefinite", fontsize=10)
    fig.tight_layout()
    return fig


def widths_cells(summaries: list[Summary]) -> Cells:
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    groups = series(summary["widths"])
    records = groups.get(("newton", "standard")) or next(iter(groups.values()))

    def text(r: dict) -> str:
        p, end = r["p_trivial"], r["p_trivial_end"]
        capped = f", cap {r['max_steps']}: {r['capped']['n']} capped" if r["capped"]["n"] else ""
        which = "" if len(groups) == 1 else f" {r['method']} {r['parametrisation']}"
        return (f"w={r['width']}{which} (P={r['n_params']}): {p['k']}/{p['n']} [{p['ci_low']:.2f}, "
                f"{p['ci_high']:.2f}], {end['k']} at trivial at the end{capped}")

    larger = "; ".join(text(r) for r in summary["widths"])
    if len(groups) == 1:  # the earlier study's summary: damped Newton alone
        headline = ("trivial (end), P: " + ", ".join(
            f"{r['n_params']}: {r['p_trivial']['k']}/{r['n_seeds']} ({r['p_trivial_end']['k']})" for r in records)
            + "; caps " + "/".join(str(r["max_steps"]) for r in records))
    elif summary.get("vs_standard_pooled"):
        headline = _pooled_headline(summary)
    else:
        headline = _series_headline(groups)
    return Cells(text(records[0]), larger, "extension: the paper does not vary the width", headline)


def _pooled_headline(summary: dict) -> str:
    """One short line: per method, the runs at the trivial point at the end over every width, standard vs the other
    parametrisation(s); the methods with none in either, as "others 0"."""
    largest = max(r["n_params"] for r in summary["widths"])
    pooled = summary["vs_standard_pooled"]
    others = sorted({p for by in pooled.values() for p in by})
    parts, zero = [], []
    for method, by in pooled.items():
        if not any(r["k"] or r["k_standard"] for r in by.values()):
            zero.append(method)
            continue
        first = next(iter(by.values()))
        parts.append(f"{method} {first['k_standard']}/{first['n_standard']} vs " + ", ".join(
            (f"{p} " if len(others) > 1 else "") + f"{r['k']}/{r['n']}" for p, r in by.items()))
    return (f"end at trivial, std vs {'/'.join(others)}, P ≤ {largest}: " + "; ".join(parts)
            + ("; others 0" if zero else ""))


def _series_headline(groups: dict[tuple[str, str], list[dict]]) -> str:
    """One line (no "|": it is a table cell): per method, at the trivial point at the end at its smallest and largest
    P, the standard parametrisation's and then the others', named."""
    sizes = [r["n_params"] for rs in groups.values() for r in rs]
    smallest, largest = min(sizes), max(sizes)
    parametrisations = sorted({p for _, p in groups}, key=PARAMETRISATIONS.index)

    def span(records: list[dict]) -> str:
        first, last = records[0]["p_trivial_end"], records[-1]["p_trivial_end"]
        return f"{first['k']}/{first['n']} → {last['k']}/{last['n']}"

    parts = []
    for method in dict.fromkeys(m for m, _ in groups):
        ran = [p for p in parametrisations if (method, p) in groups]
        top = max(r["n_params"] for p in ran for r in groups[(method, p)])
        stop = "" if top == largest else f" (P ≤ {top})"
        parts.append(f"{method}{stop} " + ", ".join((p + " " if j else "") + span(groups[(method, p)])
                                                    for j, p in enumerate(ran)))
    return (f"at the trivial point at the end, P {smallest} → {largest}, {parametrisations[0]}"
            + "".join(f", then {p}" for p in parametrisations[1:]) + ": " + "; ".join(parts))


ROWS = (
    Row("W", "E3 across widths", "damped Newton on E3's problem at hidden widths from 10 up, dense or Krylov "
        "(MINRES on Hessian-vector products) solve, with truncated Newton, Lanczos saddle-free Newton, Newton-MR and "
        "BFGS in the standard and NTK parametrisations where configured, Lanczos spectra above 2 000 parameters, "
        "make widths",
        "not studied (width 10 only)", ("widths",), widths_cells,
        (Figure("widths", "widths.png",
                ("p(converged at the trivial point), p(at the trivial point at the end) and p(fit v) against P, "
                 "with 95% intervals, and the end points' index fraction.",
                 "Does the trivial proportion fall as P grows? Caps are lowered at large P: read p(at the end) "
                 "there.")),
         Figure("widths", "paths.png",
                ("λ_min(H + εI) along the traced paths (an upper bound from Lanczos), per width and parametrisation.",
                 "The wide-limit prediction: the regularised Hessian stays positive definite as width grows "
                 "(the lines stay above 0 at large P in its parametrisation).")),),
        own_target="make widths"),
)
RUNS: tuple[Run, ...] = ()  # its own target (make widths): hours of CPU, read from docs/results by the report
