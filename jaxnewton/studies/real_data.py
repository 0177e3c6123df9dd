"""Real data with several outputs: does exact Newton still fall into the trivial saddle outside the 1-D toys?

A ``RealDataConfig`` names networks (a data set of ``core.datasets`` and a hidden width w: a tanh MLP D-w-w-m with
hidden biases and a bias-free read-out) and methods (registered optimisers), each method with its own cap. Every
(network, method) cell is an ordinary seed sweep (``studies.seeds``) of the base config (E3's η = ε = 5e-2, tol,
diagnostics) on the data set's training split, in its own resumable folder ``<out>.cells/<label>-<hash>/``
(``studies.settings.cell_folder``): every method of a network starts from the same θ₀ (the same seed keys), and a
finished cell is never rerun. Damped Newton forms H (the structured multi-output Hessian) and solves by LU up to
``krylov_above`` parameters and by MINRES on Hessian-vector products above; end points above ``lanczos_above``
parameters get Lanczos spectra.

``summary.json`` lists per cell: P, the seeds and cap, p(converged at the trivial point), p(at the trivial point at
the end), p(fit: the training loss at most ``fit_ratio`` of the trivial point's, L ≤ fit_ratio · s||Y||²), each with
its 95% Wilson interval; the median training and test loss ratios L / L(0) (test: the same network on the held-out
split, against its own s||Y||²); the Morse labels of the converged end points; the capped runs and where they stand
(at the trivial point, fit, other); and the wall time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core import datasets
from jaxnewton.core.problems import loss_factor, make_regression, quadrature_weights
from jaxnewton.engine.build import load_data, make_model
from jaxnewton.engine.config import MAX_SEEDS, BasedConfig, Config, Run, base_config, override, require
from jaxnewton.engine import memory
from jaxnewton.engine.folders import load_summary, made_by
from jaxnewton.engine.io import Log, Progress, load_npz, write_summary
from jaxnewton.engine.outcomes import AT_TRIVIAL, TRIVIAL
from jaxnewton.optim import registry
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies.settings import cell_folder, proportion, run_cell


@dataclass(frozen=True)
class RealDataConfig(BasedConfig):
    """Seed sweeps of every method on every network (``studies.real_data``); per-network tuples align with ``data``,
    per-method ones with ``methods``.

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config every cell starts from (η, ε, tol, the trivial rule, the diagnostics).
      data: the data set of each network (``core.datasets.DATASETS``).
      widths: each network's hidden width w (two hidden layers, both w wide).
      n_seeds: each network's seeds (the first n of the same seed stream for every method).
      n_train: each network's training subset (0: the whole training split; ``Config.n_train``).
      curvature_caps: each network's cap for the methods that form a P × P matrix a step (``forms_hessian`` in
        ``optim.registry``: Newton, trust region, LM), whose step cost grows as Q·m·P² to P³.
      methods: registered optimisers run on every network.
      max_steps: each method's cap (for the curvature methods, at most the network's ``curvature_caps``).
      max_params: per method, the largest P it runs at (0: any), e.g. for trust-region Newton, whose step is an
        eigendecomposition (9P³ flops); the skipped cells are listed in ``not_run`` with that reason.
      krylov_above: damped Newton (and saddle-free Newton) solve by MINRES above this many parameters.
      lanczos_above: end points with more parameters than this are diagnosed with ``spectrum = "lanczos"``.
      fit_ratio: a run fits when its training loss is at most this fraction of the trivial point's.
      fixed: ``field=value`` changes made to the base in every cell.
    """

    name: str
    base: str = "mlp_tanh"
    data: tuple[str, ...] = ("diabetes",)
    widths: tuple[int, ...] = (16,)
    n_seeds: tuple[int, ...] = (64,)
    n_train: tuple[int, ...] = (0,)
    curvature_caps: tuple[int, ...] = (1_000,)
    methods: tuple[str, ...] = ("newton", "bfgs")
    max_steps: tuple[int, ...] = (3_000, 3_000)
    max_params: tuple[int, ...] = ()
    krylov_above: int = 2_000
    lanczos_above: int = 2_000
    fit_ratio: float = 0.5
    fixed: tuple[str, ...] = ()

    def validate(self) -> None:
        n = len(self.data)
        require(n >= 1 and set(self.data) <= set(datasets.DATASETS), "data", self.data,
                f"data sets from {list(datasets.DATASETS)}")
        for field in ("widths", "n_seeds", "n_train", "curvature_caps"):
            require(len(getattr(self, field)) == n, field, getattr(self, field), f"one entry per network ({n})")
        require(all(w >= 1 for w in self.widths), "widths", self.widths, "widths ≥ 1")
        require(all(1 <= s <= MAX_SEEDS for s in self.n_seeds), "n_seeds", self.n_seeds, f"1 … {MAX_SEEDS} each")
        require(len(set(zip(self.data, self.widths))) == n, "widths", self.widths, "one network per data set and width")
        require(len(self.methods) >= 1 and set(self.methods) <= set(registry.names())
                and len(set(self.methods)) == len(self.methods), "methods", self.methods,
                f"distinct names from {list(registry.names())}")
        require(len(self.max_steps) == len(self.methods) and all(s >= 1 for s in self.max_steps), "max_steps",
                self.max_steps, f"one cap ≥ 1 per method ({len(self.methods)})")
        require(self.krylov_above >= 1 and self.lanczos_above >= 1, "krylov_above", self.krylov_above,
                "parameter counts ≥ 1 (krylov_above and lanczos_above)")
        require(0.0 < self.fit_ratio < 1.0, "fit_ratio", self.fit_ratio, "a fraction of L(0) in (0, 1)")
        require(all(c >= 1 for c in self.curvature_caps), "curvature_caps", self.curvature_caps, "caps ≥ 1")
        require(len(self.max_params) in (0, len(self.methods)) and all(p >= 0 for p in self.max_params), "max_params",
                self.max_params, f"empty or one bound ≥ 0 per method ({len(self.methods)}; 0: any P)")
        for i in range(n):
            for method in runs_on(self, i):
                self.require_builds("data", f"{self.data[i]} w={self.widths[i]} {method}",
                                    lambda: cell_config(self, i, method))


CONFIG = RealDataConfig


def n_params(config: RealDataConfig, i: int) -> int:
    """P of network i: (D + 1) w + (w + 1) w + w m."""
    _, dim, m = datasets.SIZES[config.data[i]]
    w = config.widths[i]
    return (dim + 1) * w + (w + 1) * w + w * m


def max_params(config: RealDataConfig, method: str) -> int:
    """The largest P ``method`` runs at (0: any)."""
    return config.max_params[config.methods.index(method)] if config.max_params else 0


def runs_on(config: RealDataConfig, i: int) -> list[str]:
    """The methods run on network i (each up to its ``max_params``)."""
    return [m for m in config.methods if not max_params(config, m) or n_params(config, i) <= max_params(config, m)]


def cell_config(config: RealDataConfig, i: int, method: str) -> Config:
    """The seed sweep of network i and ``method``: the base with ``fixed`` and the cell's settings."""
    p = n_params(config, i)
    w = config.widths[i]
    cap = config.max_steps[config.methods.index(method)]
    if registry.get(method).forms_hessian:
        cap = min(cap, config.curvature_caps[i])
    return override(base_config(config), [
        *config.fixed, f"problem={config.data[i]}", f"widths={w},{w}", f"n_train={config.n_train[i]}",
        f"n_seeds={config.n_seeds[i]}", f"solver={method}", f"max_steps={cap}",
        "first_order_max_steps=0", f"linear_solver={'krylov' if p > config.krylov_above else 'dense'}",
        f"spectrum={'lanczos' if p > config.lanczos_above else 'dense'}"])


def test_loss_ratios(cell: Config, data: datasets.RealData, theta_SxP: np.ndarray) -> np.ndarray:
    """L_test / L_test(0) of each end point: the cell's network on the held-out split of ``data`` (its split)."""
    weights = quadrature_weights(len(data.x_test), cell.loss_reduction)
    problem = make_regression(make_model(cell, cell.dim, "float64"), jnp.asarray(data.x_test),
                              jnp.asarray(data.y_test), weights, "autodiff", loss_factor(cell.loss_reduction))
    zero = problem.scale * float(problem.norm2(problem.target))  # L(0) = s ||Y||² on the test split
    return np.asarray(jax.jit(jax.vmap(problem.loss))(jnp.asarray(theta_SxP))) / zero


def _median(values) -> float | None:
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else None


def cell_record(config: RealDataConfig, i: int, method: str, cell: Config, summary: dict, folder: Path,
                data: datasets.RealData) -> dict:
    """A cell's line of ``summary.json`` from its seed sweep's summary, runs.csv and arrays.npz (``data``: its split)."""
    n = summary["n_seeds"]
    outcomes = summary["outcomes"]
    with open(folder / "runs.csv", newline="") as f:
        runs = list(csv.DictReader(f))
    ratio = np.array([float(r["loss_ratio"]) for r in runs])
    fit = ratio <= config.fit_ratio
    at_trivial = np.array([o in AT_TRIVIAL for o in outcomes])
    capped = np.array([r["status"] == "max_steps" for r in runs])
    test = test_loss_ratios(cell, data, load_npz(folder / "arrays.npz")["theta"])
    return {
        "data": config.data[i], "width": config.widths[i], "method": method,
        "folder": f"{folder.parent.name}/{folder.name}", "config_hash": cell.hash(), "commit": made_by(summary),
        "n_params": summary["n_params"], "n_train": len(data.x_train),
        "n_seeds": n, "max_steps": cell.max_steps, "linear_solver": cell.linear_solver, "spectrum": cell.spectrum,
        "p_trivial": proportion(outcomes.count(TRIVIAL), n),
        "p_trivial_end": proportion(int(at_trivial.sum()), n),
        "p_fit": proportion(int(fit.sum()), n),
        "median_train_loss_ratio": _median(ratio), "median_test_loss_ratio": _median(test),
        "median_test_loss_ratio_fit": _median(test[fit]),
        "counts": summary["counts"], "labels": summary["labels"],
        "uncertain_labels": summary.get("uncertain_labels", 0),
        "median_steps": summary["median_steps"],
        "capped": {"n": int(capped.sum()), "at_trivial": int((capped & at_trivial).sum()),
                   "fit": int((capped & fit & ~at_trivial).sum()), "other": int((capped & ~fit & ~at_trivial).sum())},
        "wall_seconds": summary["wall_seconds"],
    }


def run(config: RealDataConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every cell (skipping finished ones) and write ``summary.json`` and ``real_data.png``."""
    out = Path(out_dir)
    todo = [(i, method) for i in range(len(config.data)) for method in runs_on(config, i)]
    not_run = [{"data": config.data[i], "width": config.widths[i], "method": method,
                "reason": f"P = {n_params(config, i)} > its max_params {max_params(config, method)}"}
               for i in range(len(config.data)) for method in config.methods if method not in runs_on(config, i)]
    log(f"[{config.name}] {len(todo)} cells: " + ", ".join(f"{d} w={w}" for d, w in zip(config.data, config.widths))
        + f" × {', '.join(config.methods)}")
    records, splits = [], {}
    for k, (i, method) in enumerate(todo):
        cell = cell_config(config, i, method)
        label = f"{config.data[i]}-w{config.widths[i]}-{method}"
        folder = cell_folder(out, label, cell)
        if load_summary(folder, cell.hash()) is None:
            try:  # a cell this machine cannot hold is reported as not run, with the memory check's line
                memory.check(cell, n_params(config, i))
            except ValueError as error:
                log(f"{label}: not run: {error}")
                not_run.append({"data": config.data[i], "width": config.widths[i], "method": method,
                                "reason": str(error)})
                continue
        summary = run_cell(cell, folder, f"{label} ({k + 1}/{len(todo)}): P={n_params(config, i)}, "
                           f"{cell.n_seeds} seeds, cap {cell.max_steps}", k / len(todo), 1 / len(todo), log, progress)
        data = load_data(cell)  # the split, loaded once a cell
        records.append(cell_record(config, i, method, cell, summary, folder, data))
        splits.setdefault(f"{config.data[i]} n_train={config.n_train[i]}", data.description)
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__, "base": config.base,
        "fit_ratio": config.fit_ratio, "splits": splits, "cells": records, "not_run": not_run,
        "commits": sorted({r["commit"] for r in records}),
        "wall_seconds": sum(r["wall_seconds"] for r in records),
        "definitions": {
            "p_trivial": "seeds that met the tolerance at a point meeting the trivial rule (L / L(0) ≥ 0.99 and "
                         "||N|| / ||Y|| ≤ 0.1, L(0) = s||Y||² the loss of N ≡ 0), with a 95% Wilson interval",
            "p_trivial_end": "seeds whose end point meets the trivial rule, converged or capped",
            "p_fit": f"seeds whose training loss ends at most {config.fit_ratio:g} of L(0)",
            "median_test_loss_ratio": "median over seeds of the test split's L / L(0) at the end point "
                                      "(_fit: over the seeds that fit)",
            "labels": "Morse labels of the converged end points (dense spectrum, or Lanczos above lanczos_above)",
            "capped": "runs that reached their cap: at the trivial point, fit (not trivial), other",
            "not_run": "cells above their method's max_params, or refused by the memory check on this machine",
            "commits": "the commits that made the cells (each cell's summary provenance): one, unless the study was "
                       "resumed across code changes",
        },
    }
    save(real_data_figure(summary, out), out / "real_data.png")
    write_summary(out, summary)
    log(f"[{config.name}] " + "; ".join(f"{r['data']} w={r['width']} {r['method']}: {r['p_trivial_end']['k']}/"
                                        f"{r['n_seeds']} trivial at the end" for r in records) + f" → {out}")
    return summary


SHARES = (("p_trivial_end", "at the trivial point", "tab:red"), ("p_fit", "fit", "tab:green"))


def real_data_figure(summary: dict, out: Path | None = None) -> plt.Figure:
    """Per data set: the share at the trivial point at the end and the share that fit, per method and width (95%
    intervals); below, each method's median loss history at the data set's smallest width (where ``out`` holds
    the cells)."""
    records = summary["cells"]
    data = list(dict.fromkeys(r["data"] for r in records))
    methods = list(dict.fromkeys(r["method"] for r in records))
    fig, axes = plt.subplots(2, len(data), figsize=(6 * len(data), 7.5), squeeze=False)
    for col, name in enumerate(data):
        ax = axes[0, col]
        mine = [r for r in records if r["data"] == name]
        widths = sorted({r["width"] for r in mine})
        slot = 0.8 / (len(methods) * len(SHARES))
        for m, method in enumerate(methods):
            for s, (key, what, colour) in enumerate(SHARES):
                rows = [next((r for r in mine if r["width"] == w and r["method"] == method), None) for w in widths]
                x = np.arange(len(widths)) - 0.4 + slot * (m * len(SHARES) + s + 0.5)
                p = np.array([r[key]["p"] if r else np.nan for r in rows])
                err = np.array([[r[key]["p"] - r[key]["ci_low"], r[key]["ci_high"] - r[key]["p"]] if r else [0, 0]
                                for r in rows]).T
                ax.bar(x, p, slot, yerr=err, color=colour, alpha=0.35 + 0.65 * (m + 1) / len(methods),
                       label=what if m == 0 else None, capsize=1.5, error_kw={"lw": 0.6})
                for xi in x:
                    ax.text(xi, -0.03, method[:4], rotation=90, fontsize=5, ha="center", va="top")
        p_of = {r["width"]: r["n_params"] for r in mine}
        ax.set_xticks(np.arange(len(widths)), [f"w={w} (P={p_of[w]})" for w in widths])
        ax.tick_params(axis="x", pad=22)
        ax.set(ylim=(0, 1), ylabel="share of seeds (95% Wilson interval)", title=f"{name}: per width and method")
        ax.legend(fontsize=7)
        ax_h = axes[1, col]
        smallest = min(mine, key=lambda r: r["width"])["width"]
        for r in (r for r in mine if r["width"] == smallest and out is not None):
            folder = out.parent / r["folder"]
            if not (folder / "arrays.npz").exists():
                continue
            arrays = load_npz(folder / "arrays.npz")
            ax_h.semilogy(arrays["history_step"], np.nanmedian(np.asarray(arrays["history_loss"], float), axis=0),
                          label=r["method"])
        ax_h.axhline(1.0, color="k", lw=0.6, ls=":")
        ax_h.set(xlabel="step", ylabel="median training loss over seeds (N ≡ 0: 1)", xscale="symlog",
                 title=f"{name}, w={smallest}: loss histories")
        ax_h.set_xlim(left=0)
        ax_h.legend(fontsize=7)
    fig.suptitle("Real data (scikit-learn's bundled sets): where each method ends, from the same starts", fontsize=10)
    fig.tight_layout()
    return fig


def real_data_cells(summaries: list[Summary]) -> Cells:
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    records = summary["cells"]

    def text(r: dict) -> str:
        p = r["p_trivial_end"]
        return (f"{r['data']} w={r['width']} {r['method']}: {p['k']}/{p['n']} trivial at the end "
                f"[{p['ci_low']:.2f}, {p['ci_high']:.2f}], {r['p_fit']['k']} fit")

    newton = [r for r in records if r["method"] == "newton"]
    others = [r for r in records if r["method"] != "newton"]
    by_data = {d: [r for r in newton if r["data"] == d] for d in dict.fromkeys(r["data"] for r in newton)}
    headline = ("Newton at the trivial point, P rising: " + "; ".join(
        f"{d} " + ", ".join(f"{r['p_trivial_end']['k']}/{r['n_seeds']}" for r in rs) for d, rs in by_data.items())
        + f"; other methods fit {sum(r['p_fit']['k'] for r in others)}/{sum(r['n_seeds'] for r in others)}")
    return Cells(text(newton[0] if newton else records[0]), "; ".join(text(r) for r in records),
                 "extension: the paper has no real data", headline)


ROWS = (
    Row("RD", "real data, several outputs", "damped Newton (η = ε = 5e-2), trust-region Newton, Levenberg–Marquardt, "
        "BFGS and ADAM from the same starts on scikit-learn's digits (m = 10, one-hot) and diabetes (m = 1), tanh "
        "MLPs with two hidden layers at three widths each, make real-data", "not studied (1-D toys only)",
        ("real_data",), real_data_cells,
        (Figure("real_data", "real_data.png",
                ("the share of seeds at the trivial point at the end and the share that fit, per method and width, "
                 "with 95% intervals; each method's median loss history at the smallest width.",
                 "Does Newton's trivial saddle survive on real inputs with several outputs?")),),
        own_target="make real-data"),
)
RUNS: tuple[Run, ...] = ()  # its own target (make real-data): hours of CPU, read from docs/results by the report
