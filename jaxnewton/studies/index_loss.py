"""Index against loss for every stationary point this project's runs found (Dauphin et al. 2014; Bray & Dean 2007).

Reads the finished results folders, reruns nothing. A seed sweep (``runs.csv``) contributes
each seed that converged (‖∇L‖₂ ≤ tol), a known-answer landscape (``summary.json``'s
``stationary_points``) each stationary point once per method that reached it (weighted by
how many starts did). Each point gets its index fraction (negative Hessian eigenvalues / P)
and its loss relative to the loss of the zero function, L / L(0) = L / ||v||² (E3's
``loss_ratio``), so landscapes and networks share one axis. The claim to compare with: saddles
of higher loss have higher index; the Spearman correlation between the two is reported per
folder and over all points.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.engine.config import ConfigBase, Run, require
from jaxnewton.engine.folders import load_summary
from jaxnewton.engine.io import Log, Progress, write_csv, write_summary
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies.basins import METHODS


@dataclass(frozen=True)
class IndexLossConfig(ConfigBase):
    """Index against loss for every stationary point the other runs found (``studies.index_loss``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      folders: the results folders to read, siblings of this run's folder (a missing one is skipped
        and named in the summary). Seed sweeps contribute their converged seeds, landscapes their
        stationary points, once per method that reached each.
    """

    name: str
    folders: tuple[str, ...] = ("circle", "torus", "mlp_tanh_100")

    def reads(self) -> tuple[str, ...]:
        return tuple(self.folders)

    def validate(self) -> None:
        require(len(self.folders) >= 1 and all(f and "/" not in f for f in self.folders), "folders",
                 self.folders, "folder names under results/, e.g. folders=circle,torus,mlp_tanh_100")


CONFIG = IndexLossConfig


COLUMNS = ["folder", "kind", "experiment", "optimiser", "label", "trivial", "loss", "loss_ratio", "n_neg", "n_zero", "n_pos",
           "n_params", "index_fraction", "count"]
LOSS_RESOLUTION = 1e-6  # L / L(0) values are ranked after rounding to this (ties share their mean rank)


def _sweep_points(folder: Path, summary: dict, config: dict) -> list[dict]:
    optimiser = {"newton": f"damped Newton η={config['eta']:g} ε={config['eps']:g}"}.get(config["solver"],
                                                                                         config["solver"])
    with (folder / "runs.csv").open() as f:
        runs = [r for r in csv.DictReader(f) if r["status"] == "converged"]
    return [{"folder": folder.name, "kind": "sweep", "experiment": summary["experiment"], "optimiser": optimiser,
             "label": r["label"],
             "trivial": r["trivial"] == "true", "loss": float(r["loss"]), "loss_ratio": float(r["loss_ratio"]),
             "n_neg": int(r["n_neg"]), "n_zero": int(r["n_zero"]), "n_pos": int(r["n_pos"]),
             "n_params": summary["n_params"], "count": 1} for r in runs]


def _landscape_points(folder: Path, summary: dict, config: dict) -> list[dict]:
    zero_loss = float(np.sum(np.square(config["target"])))  # L(0) = ||v||²: the loss of the zero function
    return [{"folder": folder.name, "kind": "landscape", "experiment": summary["experiment"],
             "optimiser": METHODS.get(m, m),
             "label": p["label"], "trivial": False, "loss": p["loss"], "loss_ratio": p["loss"] / zero_loss,
             "n_neg": p["n_neg"], "n_zero": p["n_zero"], "n_pos": p["n_pos"], "n_params": len(p["theta"]),
             "count": n}
            for p in summary["stationary_points"] for m, n in p["reached_by"].items() if n > 0]


def collect(results: Path, folders: tuple[str, ...]) -> tuple[list[dict], dict[str, str]]:
    """The stationary points of every folder, and ``{folder: why it was skipped}``."""
    points, skipped = [], {}
    for name in folders:
        folder = Path(results) / name
        summary = load_summary(folder)
        if summary is None or not (folder / "config.json").exists():
            skipped[name] = "no complete run"
            continue
        config = json.loads((folder / "config.json").read_text())["config"]
        if "stationary_points" in summary:
            found = _landscape_points(folder, summary, config)
        elif (folder / "runs.csv").exists() and "n_params" in summary:
            found = _sweep_points(folder, summary, config)
        else:
            skipped[name] = "neither a seed sweep nor a landscape"
            continue
        for p in found:
            p["index_fraction"] = p["n_neg"] / p["n_params"]
        points += found
    return points, skipped


def spearman(points: list[dict]) -> dict | None:
    """Spearman's ρ (and its p-value) between index fraction and L / L(0); each point counted once."""
    from scipy.stats import spearmanr

    if len(points) < 3:
        return None
    x = np.array([p["index_fraction"] for p in points])
    # Losses within LOSS_RESOLUTION of each other are ties: the trivial points of E3–E6 all have
    # L / L(0) = 1 to 1e-8, and ranking them by the rounding left in the last digits is noise.
    y = np.round(np.array([p["loss_ratio"] for p in points]) / LOSS_RESOLUTION) * LOSS_RESOLUTION
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    result = spearmanr(x, y)
    return {"rho": float(result.statistic), "p_value": float(result.pvalue), "n_points": len(points)}


def run(config: IndexLossConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Collect the stationary points of ``config.folders`` (siblings of ``out_dir``); write the results folder.

    Writes ``index_points.csv`` (one row per point and optimiser), ``summary.json``
    (points per folder, the skipped folders, Spearman's ρ per folder and overall) and ``index_loss.png``.
    ``summary.json``'s ``inputs`` holds each input's ``finished_at``: ``make paper`` reruns this
    collection whenever one of them changed.
    """
    start = time.perf_counter()
    out = Path(out_dir)
    points, skipped = collect(out.parent, config.folders)
    for name, why in skipped.items():
        log(f"[{config.name}] skipping {name}: {why}")
    write_csv(out / "index_points.csv", points, COLUMNS)
    by_folder = {f: [p for p in points if p["folder"] == f] for f in dict.fromkeys(p["folder"] for p in points)}
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "inputs": {f: load_summary(out.parent / f).get("finished_at") for f in config.folders if f not in skipped},
        "skipped": skipped,
        "n_points": {f: len(p) for f, p in by_folder.items()},
        "spearman": {f: spearman(p) for f, p in by_folder.items()},
        "spearman_all": spearman(points),
        "spearman_sweeps": spearman([p for p in points if p["kind"] == "sweep"]),
        "by_label": {f: {label: sum(q["label"] == label for q in p) for label in dict.fromkeys(q["label"] for q in p)}
                     for f, p in by_folder.items()},
        "definitions": {
            "index_fraction": "negative Hessian eigenvalues / number of parameters",
            "loss_ratio": "L / L(0), L(0) = ||v||² the loss of the zero function",
            "spearman": "Spearman's rank correlation of index_fraction and loss_ratio, each point once "
                        "(a landscape point once per method that reached it), loss ratios rounded to "
                        f"{LOSS_RESOLUTION:g} first (ties share a rank); spearman_sweeps: the networks' "
                        "converged seeds only",
        },
    }
    save(index_loss_figure(points), out / "index_loss.png")
    summary["wall_seconds"] = time.perf_counter() - start
    write_summary(out, summary)
    rho = summary["spearman_all"]
    log(f"[{config.name}] {len(points)} points from {len(by_folder)} folders; Spearman ρ = "
        + (f"{rho['rho']:.2f} (p = {rho['p_value']:.1e})" if rho else "undefined") + f" → {out}")
    return summary


# ----------------------------------------------------------------------------- figures

def index_loss_figure(points: list[dict]) -> plt.Figure:
    """Index fraction against L / L(0) for every stationary point (left: all, coloured by folder, marker by
    optimiser); right: the seed sweeps' points alone, coloured by Hessian label."""
    fig, (ax, ax_net) = plt.subplots(1, 2, figsize=(15, 5.5))
    folders = list(dict.fromkeys(p["folder"] for p in points))
    optimisers = list(dict.fromkeys(p["optimiser"] for p in points))
    colours = dict(zip(folders, plt.cm.tab10(np.arange(len(folders)) % 10)))
    markers = dict(zip(optimisers, "osD^vP*X"))
    for f in folders:
        for o in optimisers:
            group = [p for p in points if p["folder"] == f and p["optimiser"] == o]
            if not group:
                continue
            counts = np.array([p["count"] for p in group], float)
            ax.scatter([p["index_fraction"] for p in group], [max(p["loss_ratio"], 1e-12) for p in group],
                       s=18 + 60 * np.sqrt(counts / counts.max()), color=colours[f], marker=markers[o],
                       alpha=0.6, edgecolors="k", linewidths=0.3, label=f"{f}: {o} ({int(counts.sum())})")
    ax.axhline(1.0, color="k", ls=":", lw=1, label="L = L(0), the zero function")
    ax.set(yscale="log", xlabel="index fraction: negative Hessian eigenvalues / P", ylabel="L / L(0)",
           title="Every stationary point found (marker area ~ √starts reaching it)")
    ax.legend(fontsize=7, loc="upper left")
    network = [p for p in points if p["kind"] == "sweep"]
    label_colours = {"minimum": "tab:blue", "saddle": "tab:red", "maximum": "tab:green", "degenerate": "tab:gray"}
    for label, colour in label_colours.items():
        group = [p for p in network if p["label"] == label]
        if group:
            ax_net.scatter([p["index_fraction"] for p in group], [p["loss_ratio"] for p in group], color=colour,
                           alpha=0.7, edgecolors="k", linewidths=0.3,
                           label=f"{label} ({len(group)})")
    ax_net.axhline(1.0, color="k", ls=":", lw=1)
    ax_net.set(xlabel="index fraction", ylabel="L / L(0)",
               title="Seed sweeps' converged runs, by Hessian label")
    if network:
        ax_net.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- report rows

def _rho(result: dict | None) -> str:
    return (f"ρ = {result['rho']:.2f} (p = {result['p_value']:.1g}, {result['n_points']} points)" if result
            else "ρ undefined")


def index_loss_cells(summaries: list[Summary]) -> Cells:
    """Cells of the index–loss picture: Spearman's ρ per folder, overall, and for the networks alone.

    Verdict: "reproduced" when Spearman's ρ between index fraction and L / L(0) is positive (p < 0.05) over
    all points and within the networks alone, "partly" when only over all points.
    """
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    per_folder = "; ".join(f"{f}: {_rho(r)}" for f, r in summary["spearman"].items())
    overall, sweeps = summary["spearman_all"], summary["spearman_sweeps"]
    large = f"all points: {_rho(overall)}; networks' converged seeds: {_rho(sweeps)}"

    def positive(r: dict | None) -> bool:
        return r is not None and r["rho"] > 0 and r["p_value"] < 0.05

    if positive(overall) and positive(sweeps):
        verdict = "reproduced"
    elif positive(overall):
        verdict = f"partly: all points {_rho(overall)}, but within the networks {_rho(sweeps)}"
    else:
        verdict = f"differs: {_rho(overall)}"
    headline = (f"ρ = {overall['rho']:.2f} over all points, " if overall else "ρ undefined over all points, ") + (
        f"{sweeps['rho']:.2f} within the networks" if sweeps else "undefined within the networks")
    return Cells(per_folder, large, verdict, headline)


INDEX_LOSS_CAPTION = (
    "Index fraction (negative Hessian eigenvalues / P) against L / L(0) for every stationary point the runs found; "
    "right: the network sweeps' converged seeds alone, by Hessian label.",
    "The claim (Dauphin et al. 2014; Bray & Dean 2007): saddles of higher loss have higher index.")


ROWS = (
    Row("IL", "index against loss", "index against loss over every stationary point found (E1–E6)",
        "saddles of higher loss have higher index", ("index_loss",), index_loss_cells,
        (Figure("index_loss", "index_loss.png", INDEX_LOSS_CAPTION),)),
)

RUNS = (Run("index_loss", "index_loss", 1, quick_s=1),)  # reads the runs of the studies before it
