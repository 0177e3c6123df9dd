"""Several optimisers on one experiment, from the same initial points with the same stopping rule.

A ``Config`` with ``optimizers`` set (``python -m jaxnewton compare CONFIG --optimizers newton,adam``)
runs one seed sweep per optimiser, each the config with ``solver`` replaced, into
``<out>/<optimiser>/`` (the full results contract of ``jaxnewton.experiment``). Every sweep
draws θ₀ (and a Fourier-feature B) from the same seed keys, and stops at ||∇L||₂ ≤ tol or
``max_steps`` (ADAM and GD at ``first_order_max_steps`` when that is set). Then ``<out>`` gets
``comparison.csv`` (a row per optimiser), ``comparison.png``
(what each converged to, and the loss histories), ``fields.png`` for 2-D problems, and a
``summary.json`` with each optimiser's summary.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from jaxnewton import __version__
from jaxnewton.config import Config
from jaxnewton.diagnostics import LABELS
from jaxnewton.experiment import build, run_experiment
from jaxnewton.results import Log, Progress, load_npz, write_config, write_csv, write_summary

FIRST_ORDER = ("adam", "gd")  # the optimisers ``first_order_max_steps`` caps
COLUMNS = ["optimizer", "n_seeds", "converged", "trivial", *LABELS, "max_steps", "nonfinite", "solved",
           "median_final_loss", "median_rel_l2_error", "median_steps", "bad_curvature_pairs", "wall_seconds"]


def optimizer_config(config: Config, optimizer: str) -> Config:
    """The single-optimiser sweep of a comparison (ADAM and GD capped at ``first_order_max_steps`` when set)."""
    first_order = optimizer in FIRST_ORDER and config.first_order_max_steps
    return dataclasses.replace(config, name=f"{config.name}_{optimizer}", solver=optimizer, optimizers=(),
                               max_steps=config.first_order_max_steps if first_order else config.max_steps,
                               first_order_max_steps=0)


def comparison_row(optimizer: str, summary: dict) -> dict:
    """A ``comparison.csv`` row from one optimiser's summary (labels count converged seeds)."""
    counts = summary["counts"]
    return {
        "optimizer": optimizer, "n_seeds": summary["n_seeds"], "converged": counts["converged"],
        "trivial": counts["trivial"], **summary["labels"], "max_steps": counts["max_steps"],
        "nonfinite": counts["nonfinite"], "solved": summary["solved"],
        "median_final_loss": summary["median_loss"], "median_rel_l2_error": summary["rel_l2_error"]["median"],
        "median_steps": summary["median_steps"],
        "bad_curvature_pairs": (f"{summary['curvature']['bad_pairs']}/{summary['curvature']['pairs']}"
                                if summary.get("curvature") else ""),
        "wall_seconds": summary["wall_seconds"],
    }


def run_compare(config: Config, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every optimiser of ``config.optimizers`` and write the comparison into ``out_dir``.

    Args:
      config: a validated Config with ``optimizers`` set.
      out_dir: the comparison's folder; each optimiser's sweep goes to a subfolder of its name.
      log: where progress lines go.
      progress: called with the fraction of the comparison done and a short text.

    Returns:
      The summary dict (also written to ``summary.json``).
    """
    from jaxnewton import plots  # matplotlib is only imported when figures are drawn

    out = Path(out_dir)
    write_config(out, config)
    summaries, n = {}, len(config.optimizers)
    for i, optimizer in enumerate(config.optimizers):
        def sub_progress(fraction: float, text: str, i: int = i, optimizer: str = optimizer) -> None:
            progress((i + fraction) / n, f"{optimizer} ({i + 1}/{n}): {text}")

        summaries[optimizer] = run_experiment(optimizer_config(config, optimizer), out / optimizer, log,
                                              sub_progress if progress else None)
    rows = [comparison_row(opt, summaries[opt]) for opt in config.optimizers]
    write_csv(out / "comparison.csv", rows, COLUMNS)
    arrays = {opt: load_npz(out / opt / "arrays.npz") for opt in config.optimizers}
    plots.save(plots.comparison(rows, summaries, arrays), out / "comparison.png")
    if config.dim == 2:
        problems = {opt: build(optimizer_config(config, opt)).problem for opt in config.optimizers}
        plots.save(plots.fields_2d(problems, arrays, summaries), out / "fields.png")
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "n_seeds": config.n_seeds,
        "optimizers": summaries,
        "wall_seconds": float(sum(s["wall_seconds"] for s in summaries.values())),
    }
    write_summary(out, summary)
    log(f"[{config.name}] " + "; ".join(
        f"{r['optimizer']}: {r['trivial']} trivial, {r['solved']} solved, median rel. L2 error "
        f"{r['median_rel_l2_error']:.3g}" for r in rows))
    return summary
