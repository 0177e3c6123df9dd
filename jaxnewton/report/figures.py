"""What every study's figures share: the PNG writer, the outcome colours and the 2-D field panels.

matplotlib runs headless (Agg). Each study draws its own figures in its own module.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxnewton.engine.io import atomic_write_bytes  # noqa: E402
from jaxnewton.engine.outcomes import kind  # noqa: E402

KIND_COLOURS = {  # the colour of each outcome kind (engine.outcomes.KIND)
    "trivial": "tab:red",
    "non-trivial": "tab:blue",
    "max_steps": "tab:gray",
    "nonfinite": "black",
}


def save(fig: plt.Figure, path: Path) -> None:
    """Save a figure as PNG atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def outcome_colour(outcome: str) -> str:
    """The colour of a seed's outcome (``engine.outcomes``), by its kind."""
    return KIND_COLOURS[kind(outcome)]


def outcome_legend(ax: plt.Axes, outcomes: list[str]) -> None:
    """A legend of the outcome kinds present, with their counts."""
    kinds = [kind(o) for o in outcomes]
    present = [k for k in KIND_COLOURS if k in kinds]
    handles = [plt.Line2D([], [], color=KIND_COLOURS[k], label=f"{k} ({kinds.count(k)})") for k in present]
    ax.legend(handles=handles, fontsize=8)


def fields_grid(exact_E: np.ndarray, solutions: list[tuple[np.ndarray, str, str]]) -> plt.Figure:
    """The exact u, then a column per (N_E, title of N, title of N − u): N above, its error below.

    Every N is coloured on the exact solution's scale, each error on its own.
    """
    n = round(np.sqrt(exact_E.shape[0]))
    exact = np.asarray(exact_E).reshape(n, n)
    fig, axes = plt.subplots(2, len(solutions) + 1, figsize=(3.4 * (len(solutions) + 1), 6.2), squeeze=False)
    field(fig, axes[0, 0], exact, "exact u")
    axes[1, 0].axis("off")
    for j, (solution_E, title, error_title) in enumerate(solutions, 1):
        solution = np.asarray(solution_E).reshape(n, n)
        field(fig, axes[0, j], solution, title, np.max(np.abs(exact)))
        field(fig, axes[1, j], solution - exact, error_title)
    return fig


def field(fig: plt.Figure, ax: plt.Axes, values: np.ndarray, title: str, limit: float | None = None) -> None:
    """One 2-D field on [0, 1]², coloured symmetrically about 0 up to ``limit`` (default max|values|)."""
    limit = limit if limit is not None else float(np.max(np.abs(values)))
    image = ax.imshow(values.T, origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=8)
    ax.set(xlabel="x", ylabel="y")
