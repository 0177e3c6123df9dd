"""Does exact Newton still find the trivial saddle as the network widens? One seed sweep per hidden width.

A ``WidthsConfig`` names a base experiment (E3: a 1-w-w-1 tanh MLP) and the hidden widths w to run it at, each
with its own number of seeds, iteration cap and linear solver (``"dense"``: form H, LU; ``"krylov"``: MINRES on
Hessian-vector products, ``optim.newton``). End points with more than ``lanczos_above`` parameters are diagnosed
from Hessian-vector products (``spectrum = "lanczos"``, ``core.diagnostics``): the label with whether it is
certain, and the index fraction with a 95% bracket. Everything else is the base's (the paper's η, ε, T).

Each width is an ordinary seed sweep (``studies.seeds``) into its own folder ``<out>.cells/width-<w>-<hash>/``
beside the study's (``studies.settings.cell_folder``): checkpointed and resumable like any run, and a finished
width is never rerun, even by a study that adds widths or seeds later. ``summary.json`` lists per width: P, the
seeds, cap and solver, p(converged at the trivial point) and p(at the trivial point at the end, converged or
capped) with 95% Wilson intervals, which kind of trivial point (θᴼ = 0, or units that cancel or saturate),
the median steps and Krylov iterations per step, the index fraction of the end points, the fit of the runs that
did not end trivial, and the capped runs with where they stand (their loss ratio L / L(0)).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.engine.config import MAX_SEEDS, Config, BasedConfig, Run, base_config, override, require
from jaxnewton.engine.io import Log, Progress, write_summary
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
    """

    name: str
    base: str = "mlp_tanh"
    widths: tuple[int, ...] = (10, 20)
    n_seeds: tuple[int, ...] = (32, 32)
    max_steps: tuple[int, ...] = (10_000, 10_000)
    linear_solvers: tuple[str, ...] = ("dense", "dense")
    lanczos_above: int = 2_000
    fixed: tuple[str, ...] = ()

    def validate(self) -> None:
        base = base_config(self)
        require(not base.optimizers and len(base.widths) == 2, "base", self.base,
                "a single-optimiser sweep config with two hidden layers")
        n = len(self.widths)
        require(n >= 1 and all(w >= 1 for w in self.widths) and len(set(self.widths)) == n, "widths", self.widths,
                "distinct widths ≥ 1")
        for field in ("n_seeds", "max_steps", "linear_solvers"):
            require(len(getattr(self, field)) == n, field, getattr(self, field), f"one entry per width ({n})")
        require(all(1 <= s <= MAX_SEEDS for s in self.n_seeds), "n_seeds", self.n_seeds, f"1 … {MAX_SEEDS} per width")
        require(all(s >= 1 for s in self.max_steps), "max_steps", self.max_steps, "caps ≥ 1")
        require(set(self.linear_solvers) <= set(LINEAR_SOLVERS), "linear_solvers", self.linear_solvers,
                f"entries from {list(LINEAR_SOLVERS)}")
        require(self.lanczos_above >= 1, "lanczos_above", self.lanczos_above, "a parameter count ≥ 1")
        for i in range(n):
            self.require_builds("widths", f"width {self.widths[i]}", lambda: width_config(self, i))


CONFIG = WidthsConfig


def n_params(base: Config, width: int) -> int:
    """P of ``base`` with both hidden layers ``width`` wide (hidden biases, bias-free read-out)."""
    inputs = 2 * base.fourier_features if base.input_features == "fourier" else base.dim
    return (inputs + 1) * width + (width + 1) * width + width


def width_config(config: WidthsConfig, i: int) -> Config:
    """The seed-sweep config of the i-th width: the base with ``fixed`` and the width's settings."""
    base = base_config(config)
    w = config.widths[i]
    spectrum = "lanczos" if n_params(base, w) > config.lanczos_above else "dense"
    return override(base, [*config.fixed, f"widths={w},{w}", f"n_seeds={config.n_seeds[i]}",
                           f"max_steps={config.max_steps[i]}", f"linear_solver={config.linear_solvers[i]}",
                           f"spectrum={spectrum}"])


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def width_record(width: int, cell: Config, summary: dict, folder: Path) -> dict:
    """A width's line of ``summary.json`` from its seed sweep's summary and runs.csv."""
    n = summary["n_seeds"]
    outcomes = summary["outcomes"]
    with open(folder / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    trivial = summary["counts"]["trivial"]
    capped = [r for r in runs if r["status"] == "max_steps"]
    return {
        "width": width,
        "folder": f"{folder.parent.name}/{folder.name}",
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
        "capped": {"n": len(capped), "at_trivial": summary["trivial_at_cap"],
                   "elsewhere_median_loss_ratio": _median([float(r["loss_ratio"]) for r in capped
                                                           if r["trivial"] != "true"])},
        "non_trivial_rel_l2_error": _median([float(r["rel_l2_error"]) for r in runs if r["trivial"] != "true"]),
        "wall_seconds": summary["wall_seconds"],
    }


def run(config: WidthsConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every width (skipping finished ones) and write ``summary.json`` and ``widths.png``."""
    out = Path(out_dir)
    n = len(config.widths)
    log(f"[{config.name}] {config.base} at widths {', '.join(map(str, config.widths))}")
    records = []
    for i, w in enumerate(config.widths):
        cell = width_config(config, i)
        folder = cell_folder(out, f"width={w}", cell)
        summary = run_cell(cell, folder, f"width {w} ({i + 1}/{n}): {cell.n_seeds} seeds, cap {cell.max_steps}, "
                           f"{cell.linear_solver} solve, {cell.spectrum} spectrum", i / n, 1 / n, log, progress)
        records.append(width_record(w, cell, summary, folder))
    for record in records:
        record["vs_first"] = {k: difference(record[k], records[0][k]) for k in ("p_trivial", "p_trivial_end", "p_fit")}
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "base": config.base,
        "widths": records,
        "wall_seconds": sum(r["wall_seconds"] for r in records),
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
            "vs_first": "the width's p minus the first width's, with a 95% Newcombe interval; moves: it excludes 0",
        },
    }
    save(widths_figure(summary), out / "widths.png")
    write_summary(out, summary)
    log(f"[{config.name}] " + "; ".join(f"w={r['width']}: {r['p_trivial']['k']}/{r['n_seeds']} trivial"
                                        for r in records) + f" → {out}")
    return summary


def widths_figure(summary: dict) -> plt.Figure:
    """Against P: the trivial and fit proportions with 95% intervals, and the end points' index fraction."""
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


def widths_cells(summaries: list[Summary]) -> Cells:
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    records = summary["widths"]

    def text(r: dict) -> str:
        p, end = r["p_trivial"], r["p_trivial_end"]
        capped = f", cap {r['max_steps']}: {r['capped']['n']} capped" if r["capped"]["n"] else ""
        return (f"w={r['width']} (P={r['n_params']}): {p['k']}/{p['n']} [{p['ci_low']:.2f}, {p['ci_high']:.2f}], "
                f"{end['k']} at trivial at the end{capped}")

    larger = "; ".join(text(r) for r in records)
    headline = ("trivial (end), P: " + ", ".join(
        f"{r['n_params']}: {r['p_trivial']['k']}/{r['n_seeds']} ({r['p_trivial_end']['k']})" for r in records)
        + "; caps " + "/".join(str(r["max_steps"]) for r in records))
    return Cells(text(records[0]), larger, "extension: the paper does not vary the width", headline)


ROWS = (
    Row("W", "E3 across widths", "damped Newton on E3's problem at hidden widths from 10 up, dense or Krylov "
        "(MINRES on Hessian-vector products) solve, Lanczos spectra above 2 000 parameters, make widths",
        "not studied (width 10 only)", ("widths",), widths_cells,
        (Figure("widths", "widths.png",
                ("p(converged at the trivial point), p(at the trivial point at the end) and p(fit v) against P, "
                 "with 95% intervals, and the end points' index fraction.",
                 "Does the trivial proportion fall as P grows? Caps are lowered at large P: read p(at the end) "
                 "there.")),),
        own_target="make widths"),
)
RUNS: tuple[Run, ...] = ()  # its own target (make widths): hours of CPU, read from docs/results by the report
