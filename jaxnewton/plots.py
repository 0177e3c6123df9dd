"""Figures of a results folder: histories, fits, basis functions and Hessian spectra."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxnewton.results import atomic_write_bytes  # noqa: E402

if TYPE_CHECKING:
    from jaxnewton.experiment import Experiment

OUTCOME_COLOURS = {
    "trivial": "tab:red",
    "non-trivial": "tab:blue",
    "max_steps": "tab:gray",
    "nonfinite": "black",
}
MAX_PANELS = 12
FIGURES = ("histories", "fits", "basis", "spectrum")  # the PNGs write_figures makes


def outcome(row: dict) -> str:
    """The colour class of a run: its status unless converged, then trivial or not."""
    if row["status"] != "converged":
        return row["status"]
    return "trivial" if row["trivial"] else "non-trivial"


def save(fig: plt.Figure, path: Path) -> None:
    """Save a figure as PNG atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _legend(ax: plt.Axes, rows: list[dict]) -> None:
    present = sorted({outcome(r) for r in rows}, key=list(OUTCOME_COLOURS).index)
    counts = {k: sum(outcome(r) == k for r in rows) for k in present}
    handles = [plt.Line2D([], [], color=OUTCOME_COLOURS[k], label=f"{k} ({counts[k]})") for k in present]
    ax.legend(handles=handles, fontsize=8)


def histories(arrays: dict, rows: list[dict], tol: float) -> plt.Figure:
    """Loss and ||∇L|| against step for every seed, coloured by outcome."""
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4))
    step = arrays["history_step"]
    for i, row in enumerate(rows):
        colour = OUTCOME_COLOURS[outcome(row)]
        ax_loss.semilogy(step, arrays["history_loss"][i], color=colour, lw=0.8, alpha=0.7)
        ax_grad.semilogy(step, arrays["history_grad_norm"][i], color=colour, lw=0.8, alpha=0.7)
    ax_grad.axhline(tol, color="k", ls=":", lw=1, label=f"tol = {tol:g}")
    ax_loss.set(xlabel="Newton step", ylabel="loss L(θ)", title="loss")
    ax_grad.set(xlabel="Newton step", ylabel="||∇L||₂", title="gradient norm")
    _legend(ax_loss, rows)
    return fig


def fits(experiment: Experiment, arrays: dict, rows: list[dict]) -> plt.Figure:
    """Final approximation N(x) against the target v for up to MAX_PANELS seeds."""
    problem = experiment.problem
    x = np.asarray(problem.x[:, 0])
    shown = rows[:MAX_PANELS]
    outputs = np.asarray(jax.vmap(problem.output)(arrays["theta"][: len(shown)]))
    cols = min(4, len(shown))
    nrows = -(-len(shown) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.4 * nrows), squeeze=False, sharey=True)
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for ax, row, out in zip(axes.flat, shown, outputs):
        ax.plot(x, np.asarray(problem.target), "k--", lw=1, label="target v")
        ax.plot(x, out, color=OUTCOME_COLOURS[outcome(row)], lw=1.5, label="N(x)")
        ax.set_title(f"seed {row['seed']}: {outcome(row)}, {row['label']}\nL/||v||² = {row['loss_ratio']:.3g}",
                     fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"final fits ({len(shown)} of {len(rows)} seeds)")
    fig.tight_layout()
    return fig


def basis_functions(experiment: Experiment, arrays: dict, rows: list[dict]) -> plt.Figure:
    """The basis functions h_k of the first trivial and the first non-trivial converged seed."""
    problem = experiment.problem
    x = np.asarray(problem.x[:, 0])
    picks = {
        "trivial": next((i for i, r in enumerate(rows) if outcome(r) == "trivial"), None),
        "non-trivial": next((i for i, r in enumerate(rows) if outcome(r) == "non-trivial"), None),
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, (kind, i) in zip(axes, picks.items()):
        if i is None:
            ax.text(0.5, 0.5, f"no converged {kind} seed in this run", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_title(kind)
            continue
        h_QxK = np.asarray(problem.basis(arrays["theta"][i]))
        ax.plot(x, h_QxK, lw=1)
        v = np.asarray(problem.target)
        ax.plot(x, v / np.max(np.abs(v)), "k--", lw=1.5, label="v / max|v|")
        ax.set(xlabel="x", title=f"{kind}: seed {rows[i]['seed']}, max |cos(h_k, v)| = "
                                 f"{rows[i]['max_basis_cosine']:.2g}")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("h_k(x)")
    return fig


def spectrum(arrays: dict, rows: list[dict], eig_rtol: float) -> plt.Figure:
    """Hessian eigenvalues at the final iterate of every seed (symlog scale)."""
    eigvals = arrays["eigvals"]
    fig, ax = plt.subplots(figsize=(max(6, 0.12 * len(rows) + 4), 4))
    for i, row in enumerate(rows):
        lam = eigvals[i]
        threshold = eig_rtol * np.max(np.abs(lam))
        colours = np.where(lam < -threshold, "tab:red", np.where(lam > threshold, "tab:blue", "tab:gray"))
        ax.scatter(np.full(lam.shape, i), lam, c=colours, s=6)
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{r['seed']}\n{r['label'][:3]}" for r in rows], fontsize=6)
    ax.set(xlabel="seed / label", ylabel="eigenvalue of ∇²L",
           title=f"Hessian spectrum at the final iterate (red < 0, grey near zero: |λ| ≤ {eig_rtol:g}·max|λ|, blue > 0)")
    return fig


def write_figures(experiment: Experiment, arrays: dict, rows: list[dict], out: Path) -> None:
    """Write the ``FIGURES`` as PNGs into ``out``."""
    config = experiment.config
    figures = {
        "histories": lambda: histories(arrays, rows, config.tol),
        "fits": lambda: fits(experiment, arrays, rows),
        "basis": lambda: basis_functions(experiment, arrays, rows),
        "spectrum": lambda: spectrum(arrays, rows, config.eig_rtol),
    }
    for name in FIGURES:
        save(figures[name](), out / f"{name}.png")
