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
from pathlib import Path

import numpy as np

from jaxnewton import __version__
from jaxnewton.config import IndexLossConfig
from jaxnewton.results import Log, load_summary, write_config, write_csv, write_summary

COLUMNS = ["folder", "kind", "experiment", "optimiser", "label", "trivial", "loss", "loss_ratio", "n_neg", "n_zero", "n_pos",
           "n_params", "index_fraction", "count"]
LOSS_RESOLUTION = 1e-6  # L / L(0) values are ranked after rounding to this (ties share their mean rank)
METHOD_NAMES = {"newton": "undamped Newton", "damped_newton": "damped Newton", "gradient_descent": "gradient descent"}


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
             "optimiser": METHOD_NAMES.get(m, m),
             "label": p["label"], "trivial": False, "loss": p["loss"], "loss_ratio": p["loss"] / zero_loss,
             "n_neg": p["n_neg"], "n_zero": p["n_zero"], "n_pos": p["n_pos"], "n_params": len(p["theta"]),
             "count": n}
            for p in summary["stationary_points"] for m, n in p["reached_by"].items() if n > 0]


def collect(results: Path, folders: tuple[str, ...]) -> tuple[list[dict], dict[str, str]]:
    """The stationary points of every folder, and ``{folder: why it was skipped}``."""
    points, skipped = [], {}
    for name in folders:
        folder = Path(results) / name
        summary = load_summary(results, name)
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


def run_index_loss(config: IndexLossConfig, out_dir: Path | str, log: Log = print) -> dict:
    """Collect the stationary points of ``config.folders`` (siblings of ``out_dir``); write the results folder.

    Writes ``config.json``, ``index_points.csv`` (one row per point and optimiser), ``summary.json``
    (points per folder, the skipped folders, Spearman's ρ per folder and overall) and ``index_loss.png``.
    ``summary.json``'s ``inputs`` holds each input's ``finished_at``: ``make paper`` reruns this
    collection whenever one of them changed.
    """
    from jaxnewton import plots

    start = time.perf_counter()
    out = Path(out_dir)
    write_config(out, config)
    points, skipped = collect(out.parent, config.folders)
    for name, why in skipped.items():
        log(f"[{config.name}] skipping {name}: {why}")
    write_csv(out / "index_points.csv", points, COLUMNS)
    by_folder = {f: [p for p in points if p["folder"] == f] for f in dict.fromkeys(p["folder"] for p in points)}
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "inputs": {f: load_summary(out.parent, f).get("finished_at") for f in config.folders if f not in skipped},
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
    plots.save(plots.index_loss(points), out / "index_loss.png")
    summary["wall_seconds"] = time.perf_counter() - start
    write_summary(out, summary)
    rho = summary["spearman_all"]
    log(f"[{config.name}] {len(points)} points from {len(by_folder)} folders; Spearman ρ = "
        + (f"{rho['rho']:.2f} (p = {rho['p_value']:.1e})" if rho else "undefined") + f" → {out}")
    return summary
