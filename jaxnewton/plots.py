"""Figures of the results folders: E3's histories, fits, basis functions and Hessian spectra;
E1/E2's basins of attraction; the toy saddles' trajectories."""

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
    from jaxnewton.landscapes import Landscape
    from jaxnewton.stationary import Enumeration

OUTCOME_COLOURS = {
    "trivial": "tab:red",
    "non-trivial": "tab:blue",
    "max_steps": "tab:gray",
    "nonfinite": "black",
}
MAX_PANELS = 12
FIGURES = ("histories", "fits", "basis", "spectrum")  # the PNGs write_figures makes in 1-D (2-D: fields, no fits/basis)


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


def _context(arrays: dict, i: int):
    """Seed i's problem context as saved in arrays.npz (B for Fourier features, else ``()``)."""
    return arrays["fourier_B"][i] if "fourier_B" in arrays else ()


def fits(experiment: Experiment, arrays: dict, rows: list[dict]) -> plt.Figure:
    """Final N(x) against the target v (regression) or the exact solution u (PINN), up to MAX_PANELS seeds."""
    pinn = experiment.config.problem != "regression"
    shown = rows[:MAX_PANELS]
    cols = min(4, len(shown))
    nrows = -(-len(shown) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.4 * nrows), squeeze=False, sharey=True)
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for i, (ax, row) in enumerate(zip(axes.flat, shown)):
        problem = experiment.problem_for(_context(arrays, i))
        if pinn:  # the error grid: finer than the collocation nodes
            x = np.linspace(0.0, 1.0, problem.exact.shape[0])
            ax.plot(x, np.asarray(problem.exact), "k--", lw=1, label="exact u")
        else:
            x = np.linspace(0.0, 1.0, experiment.config.n_points)  # the nodes (problem.x holds γ(x) for E5)
            ax.plot(x, np.asarray(problem.target), "k--", lw=1, label="target v")
        ax.plot(x, np.asarray(problem.solution(arrays["theta"][i])), color=OUTCOME_COLOURS[outcome(row)], lw=1.5,
                label="N(x)")
        ax.set_title(f"seed {row['seed']}: {outcome(row)}, {row['label']}\nL/L(0) = {row['loss_ratio']:.3g}, "
                     f"rel. L2 error {row['rel_l2_error']:.2g}", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"final {'solutions' if pinn else 'fits'} ({len(shown)} of {len(rows)} seeds)")
    fig.tight_layout()
    return fig


def basis_functions(experiment: Experiment, arrays: dict, rows: list[dict]) -> plt.Figure:
    """The basis functions of the first trivial and the first non-trivial converged seed.

    Regression: h_k(x). PINN: L[g h_k](x), each scaled to max 1, what the trivial analysis tests against −v.
    Drawn on a grid 4× finer than the nodes, so SIREN's and Fourier features' high frequencies show.
    """
    import dataclasses

    from jaxnewton.experiment import make_problem_for

    config = experiment.config
    pinn = config.problem != "regression"
    fine = dataclasses.replace(config, n_points=4 * (config.n_points - 1) + 1)
    fine_problem_for = make_problem_for(fine)
    def first(trivial: bool) -> int | None:
        """The first converged seed of the kind, else the first capped one ending at a point of that kind."""
        kind = "trivial" if trivial else "non-trivial"
        return next((i for i, r in enumerate(rows) if outcome(r) == kind),
                    next((i for i, r in enumerate(rows) if r["status"] == "max_steps" and r["trivial"] == trivial),
                         None))

    picks = {"trivial": first(True), "non-trivial": first(False)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, (kind, i) in zip(axes, picks.items()):
        if i is None:
            ax.text(0.5, 0.5, f"no {kind} seed, converged or capped, in this run", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_title(kind)
            continue
        problem = fine_problem_for(_context(arrays, i))
        x = np.linspace(0.0, 1.0, fine.n_points)  # problem.x holds γ(x) for E5
        basis_QxK = np.asarray(problem.basis(arrays["theta"][i]))
        v = np.asarray(problem.target)
        if pinn:
            basis_QxK = basis_QxK / np.maximum(np.max(np.abs(basis_QxK), axis=0), 1e-300)
        ax.plot(x, basis_QxK, lw=1)
        ax.plot(x, v / np.max(np.abs(v)), "k--", lw=1.5, label=("−v" if pinn else "v") + " / max|v|")
        status = "" if rows[i]["status"] == "converged" else f" ({rows[i]['status']})"
        ax.set(xlabel="x", title=f"{kind}{status}: seed {rows[i]['seed']}, max |cos| = "
                                 f"{rows[i]['max_basis_cosine']:.2g}")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("L[g h_k](x) / max|L[g h_k]|" if pinn else "h_k(x)")
    return fig


def _fields_grid(exact_E: np.ndarray, solutions: list[tuple[np.ndarray, str, str]]) -> plt.Figure:
    """The exact u, then a column per (N_E, title of N, title of N − u): N above, its error below.

    Every N is coloured on the exact solution's scale, each error on its own.
    """
    n = round(np.sqrt(exact_E.shape[0]))
    exact = np.asarray(exact_E).reshape(n, n)
    fig, axes = plt.subplots(2, len(solutions) + 1, figsize=(3.4 * (len(solutions) + 1), 6.2), squeeze=False)
    _field(fig, axes[0, 0], exact, "exact u")
    axes[1, 0].axis("off")
    for j, (solution_E, title, error_title) in enumerate(solutions, 1):
        solution = np.asarray(solution_E).reshape(n, n)
        _field(fig, axes[0, j], solution, title, np.max(np.abs(exact)))
        _field(fig, axes[1, j], solution - exact, error_title)
    return fig


def fields(experiment: Experiment, arrays: dict, rows: list[dict]) -> plt.Figure:
    """2-D problems: the exact solution, and N and N − u of up to 3 seeds, on the error grid."""
    problem = experiment.problem
    fig = _fields_grid(problem.exact, [
        (problem.solution(arrays["theta"][i]), f"seed {row['seed']}: N ({outcome(row)}, {row['label']})",
         f"N − u, rel. L2 error {row['rel_l2_error']:.2g}") for i, row in enumerate(rows[:3])])
    fig.tight_layout()
    return fig


def _field(fig: plt.Figure, ax: plt.Axes, values: np.ndarray, title: str, limit: float | None = None) -> None:
    """One 2-D field on [0, 1]², coloured symmetrically about 0 up to ``limit`` (default max|values|)."""
    limit = limit if limit is not None else float(np.max(np.abs(values)))
    image = ax.imshow(values.T, origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=8)
    ax.set(xlabel="x", ylabel="y")


def fields_2d(problems: dict, arrays: dict, summaries: dict) -> plt.Figure:
    """A comparison's 2-D fields: exact u, then each optimiser's N and N − u from one initial point.

    The seed is the first one that no optimiser ended as ``nonfinite`` (seed 0 when there is none).
    """
    n_seeds = len(next(iter(summaries.values()))["outcomes"])
    seed = next((i for i in range(n_seeds) if all(s["outcomes"][i] != "nonfinite" for s in summaries.values())), 0)
    exact = np.asarray(next(iter(problems.values())).exact)
    columns = []
    for optimizer, problem in problems.items():
        solution = np.asarray(problem.solution(arrays[optimizer]["theta"][seed]))
        error = np.linalg.norm(solution - exact) / np.linalg.norm(exact)
        columns.append((solution, f"{optimizer}: N ({summaries[optimizer]['outcomes'][seed]})",
                        f"{optimizer}: N − u (rel. L2 error {error:.2g})"))
    fig = _fields_grid(exact, columns)
    fig.suptitle(f"seed {seed} (the first no optimiser ended non-finite), the same initial point for each optimiser")
    fig.tight_layout()
    return fig


def comparison(rows: list[dict], summaries: dict, arrays: dict) -> plt.Figure:
    """What each optimiser converged to (stacked bars), and every seed's loss history."""
    fig, (ax_bar, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
    kinds = {"trivial": ("trivial", "tab:red")}
    label_colours = {"minimum": "tab:blue", "saddle": "tab:green", "maximum": "tab:purple", "degenerate": "tab:olive"}
    kinds.update({label: (f"non-trivial {label}", colour) for label, colour in label_colours.items()})
    names = [r["optimizer"] for r in rows]
    bottom = np.zeros(len(rows))
    for key, (label, colour) in kinds.items():
        if key == "trivial":
            counts = np.array([r["trivial"] for r in rows], float)
        else:  # non-trivial converged seeds of this Hessian label
            counts = np.array([summaries[n]["labels"][key] - summaries[n]["trivial_labels"][key] for n in names],
                              float)
        ax_bar.bar(names, counts, bottom=bottom, color=colour, label=label)
        bottom += counts
    for key, colour in (("max_steps", "tab:gray"), ("nonfinite", "black")):
        counts = np.array([r[key] for r in rows], float)
        ax_bar.bar(names, counts, bottom=bottom, color=colour, label=key)
        bottom += counts
    ax_bar.set(ylabel="seeds", title="where each optimiser ended")
    ax_bar.legend(fontsize=7)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, row in zip(colours, rows):
        a = arrays[row["optimizer"]]
        ax_loss.semilogy(a["history_step"], a["history_loss"].T, color=colour, lw=0.6, alpha=0.5)
        ax_loss.plot([], [], color=colour, label=row["optimizer"])
    ax_loss.set(xlabel="step", ylabel="loss L(θ)", title="loss histories, every seed")
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
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
        "spectrum": lambda: spectrum(arrays, rows, config.eig_rtol),
    }
    if config.dim == 1:
        figures["fits"] = lambda: fits(experiment, arrays, rows)
        figures["basis"] = lambda: basis_functions(experiment, arrays, rows)
    else:
        figures["fields"] = lambda: fields(experiment, arrays, rows)
    for name, draw in figures.items():
        save(draw(), out / f"{name}.png")


# --- E1 / E2: basins of attraction -------------------------------------------------------------

KIND_COLOURS = {  # one family per label; the points of a label take successive shades
    "minimum": ["#1f77b4", "#6baed6", "#08306b", "#9ecae1"],
    "maximum": ["#d62728", "#fc9272", "#67000d", "#fcbba1"],
    "saddle": ["#2ca02c", "#ff7f0e", "#9467bd", "#bcbd22", "#17becf", "#8c564b"],
    "degenerate": ["#7f7f7f", "#525252"],
}
KIND_MARKERS = {"minimum": "v", "maximum": "^", "saddle": "X", "degenerate": "s"}
NOT_CONVERGED_COLOUR = "#e6e6e6"
METHOD_TITLES = {"newton": "undamped Newton", "damped_newton": "damped Newton", "gradient_descent": "gradient descent"}


def point_colours(enumeration: Enumeration) -> list[str]:
    """A colour per stationary point: its label's family, shades in table order."""
    seen: dict[str, int] = {}
    colours = []
    for p in enumeration.points:
        family = KIND_COLOURS[p.label]
        colours.append(family[seen.get(p.label, 0) % len(family)])
        seen[p.label] = seen.get(p.label, 0) + 1
    return colours


def _destination_colours(enumeration: Enumeration, method: str) -> np.ndarray:
    """RGB per start: the colour of the point it reached, light grey if it did not converge."""
    from matplotlib.colors import to_rgb

    palette = np.array([to_rgb(c) for c in point_colours(enumeration)] + [to_rgb(NOT_CONVERGED_COLOUR)])
    return palette[enumeration.destination[method]]  # NOT_CONVERGED = −1 takes the last entry


def _kind_legend(ax: plt.Axes, enumeration: Enumeration) -> None:
    present = [k for k in KIND_MARKERS if any(p.label == k for p in enumeration.points)]
    handles = [plt.Line2D([], [], ls="", marker=KIND_MARKERS[k], color="k", label=k) for k in present]
    handles.append(plt.Rectangle((0, 0), 1, 1, color=NOT_CONVERGED_COLOUR, label="not converged"))
    ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.9)


def landscape_basins(landscape: Landscape, enumeration: Enumeration, starts: np.ndarray, grid: int,
                     fractions: dict[str, dict[str, float]]) -> plt.Figure:
    """Where each start went, per method, with the stationary points marked by kind (E1: 1-D, E2: 2-D)."""
    from jaxnewton.stationary import fraction_text

    methods = list(enumeration.destination)
    colours = point_colours(enumeration)
    loss = jax.jit(jax.vmap(landscape.loss))
    if landscape.dim == 1:
        fig, (ax_circle, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
        # Left: the circle in the plane, each start coloured by where undamped Newton took it.
        xy = np.asarray(jax.vmap(landscape.approximation)(starts))
        ax_circle.scatter(xy[:, 0], xy[:, 1], c=_destination_colours(enumeration, methods[0]), s=6)
        v = np.asarray(landscape.target)
        ax_circle.plot(*v, "k*", ms=12, label="target v")
        for p, colour in zip(enumeration.points, colours):
            n = np.asarray(landscape.approximation(p.theta))
            ax_circle.plot([v[0], n[0]], [v[1], n[1]], color=colour, lw=1, ls=":")
            ax_circle.plot(*n, KIND_MARKERS[p.label], color=colour, mec="k", ms=11,
                           label=f"{p.label}, θ = {p.theta[0]:.4f}, L = {p.loss:.4f}")
        ax_circle.set(aspect="equal", xlabel="N₁ = cos θ", ylabel="N₂ = sin θ",
                      title=f"starts coloured by where {METHOD_TITLES[methods[0]]} went")
        ax_circle.legend(fontsize=7, loc="lower right")
        # Right: L(θ), with one strip per method below it.
        theta, loss_S = starts[:, 0], np.asarray(loss(starts))
        ax_loss.plot(theta, loss_S, "k", lw=1.2)
        top = float(np.max(loss_S))
        height = 0.12 * top
        for i, method in enumerate(methods):
            y0 = -(i + 1) * height * 1.25
            strip = _destination_colours(enumeration, method)[None, :, :]
            ax_loss.imshow(strip, extent=(landscape.low, landscape.high, y0, y0 + height), aspect="auto",
                           interpolation="nearest")
            ax_loss.text(landscape.high + 0.05, y0 + height / 2, f"{METHOD_TITLES[method]}\n"
                         f"{fraction_text(fractions[method])}", va="center", fontsize=7)
        for p, colour in zip(enumeration.points, colours):
            ax_loss.plot(p.theta[0], p.loss, KIND_MARKERS[p.label], color=colour, mec="k", ms=10)
        ax_loss.set(xlim=(landscape.low, landscape.high), ylim=(-(len(methods) + 0.3) * height * 1.25, top * 1.05),
                    xlabel="θ (start)", ylabel="L(θ)", title="L(θ) and each method's basins (strips below)")
        _kind_legend(ax_loss, enumeration)
        fig.tight_layout()
        return fig

    fig, axes = plt.subplots(1, len(methods) + 1, figsize=(4.4 * (len(methods) + 1), 4.6))
    extent = (landscape.low, landscape.high, landscape.low, landscape.high)
    surface = np.asarray(loss(starts)).reshape(grid, grid)
    contour = axes[0].contourf(starts[:, 0].reshape(grid, grid), starts[:, 1].reshape(grid, grid), surface, 30,
                               cmap="viridis")
    fig.colorbar(contour, ax=axes[0], shrink=0.8, label="L(θ)")
    axes[0].set_title(f"L(θ₁, θ₂), {len(enumeration.points)} stationary points")
    for ax, method in zip(axes[1:], methods):
        image = _destination_colours(enumeration, method).reshape(grid, grid, 3).transpose(1, 0, 2)
        ax.imshow(image, origin="lower", extent=extent, interpolation="nearest")
        ax.set_title(f"{METHOD_TITLES[method]}\n{fraction_text(fractions[method])}", fontsize=9)
    for ax in axes:
        for p, colour in zip(enumeration.points, colours):
            ax.plot(*p.theta, KIND_MARKERS[p.label], color=colour, mec="k", ms=10)
        ax.set(xlabel="θ₁", ylabel="θ₂", xlim=extent[:2], ylim=extent[2:], aspect="equal")
    _kind_legend(axes[-1], enumeration)
    fig.suptitle("basins of attraction: each start coloured by the stationary point its run converged to")
    fig.tight_layout()
    return fig


# --- Toy saddles: trajectories ------------------------------------------------------------------

SADDLE_FORMULAS = {"saddle": "x² − y²", "monkey_saddle": "monkey saddle x³ − 3xy²"}
SADDLE_NEWTON = {"saddle": "Newton lands on it in one step (|θ₁| = 0, off the scale)",
                 "monkey_saddle": "Newton halves |θ| every step (H = 0 at the saddle)"}


def saddle_trajectories(drawn: dict, config) -> plt.Figure:
    """Top: contours of each toy function with GD (solid) and undamped Newton (dashed) paths.
    Bottom: distance to the saddle against step (log scale)."""
    fig, axes = plt.subplots(2, len(drawn), figsize=(6 * len(drawn), 10.5), squeeze=False)
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(config.start_y)))
    for col, (name, (landscape, paths)) in enumerate(drawn.items()):
        ax, ax_dist = axes[0, col], axes[1, col]
        grid = np.linspace(-1.2, 1.2, 241)
        xx, yy = np.meshgrid(grid, grid)
        values = np.asarray(jax.vmap(landscape.loss)(np.stack([xx.ravel(), yy.ravel()], -1))).reshape(xx.shape)
        ax.contourf(xx, yy, values, 30, cmap="RdBu_r", alpha=0.8)
        ax.contour(xx, yy, values, [0.0], colors="k", linewidths=0.6)
        for s, colour in enumerate(shades):
            gd, newton = paths["gradient_descent"][s], paths["newton"][s]
            inside = np.all(np.abs(gd) <= 1.2, axis=-1)
            stop = int(np.argmin(inside)) if not inside.all() else len(gd)
            ax.plot(gd[:stop, 0], gd[:stop, 1], "-", color=colour, lw=1.8, label=f"GD, y₀ = {config.start_y[s]:g}")
            ax.plot(newton[:, 0], newton[:, 1], "--o", color=colour, ms=3, lw=1, mec="k", mew=0.4,
                    label=f"Newton, y₀ = {config.start_y[s]:g}")
            ax_dist.semilogy(np.linalg.norm(gd, axis=-1), "-", color=colour, label=f"GD, y₀ = {config.start_y[s]:g}")
            ax_dist.semilogy(np.maximum(np.linalg.norm(newton, axis=-1), 1e-300), "--o", color=colour, ms=3,
                             label=f"Newton, y₀ = {config.start_y[s]:g}")
        ax.plot(0, 0, "k*", ms=12)
        ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), aspect="equal", xlabel="x", ylabel="y",
               title=f"{SADDLE_FORMULAS.get(name, name)}: GD (α = {config.learning_rate}) and Newton")
        ax.legend(fontsize=6, loc="lower left")
        ax_dist.set(xlabel="step", ylabel="|θ_k| (distance to the saddle)", ylim=(1e-17, 1e3),
                    title=f"GD lingers near the saddle, then escapes.\n{SADDLE_NEWTON.get(name, '')}")
        ax_dist.legend(fontsize=6)
    fig.tight_layout()
    return fig


def random_hessians(summary: dict, rows: list[dict], fit: dict | None, state, edges: np.ndarray, config) -> plt.Figure:
    """E8: pooled eigenvalues against the semicircle, the index fraction, and P(positive definite) at small n."""
    from jaxnewton.random_hessians import ASYMPTOTIC_RATE, semicircle_radius

    n = config.size
    fig, (ax_eig, ax_index, ax_small) = plt.subplots(1, 3, figsize=(17, 4.6))
    radius = semicircle_radius(n, config.ensemble)
    sample = summary.get("eig_sample")
    if sample:
        centres, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        density = state.hist / (state.hist.sum() * width)
        ax_eig.bar(centres, density, width=width, color="tab:gray", alpha=0.6,
                   label=f"{sample['matrices']} matrices × {n} eigenvalues")
        x = np.linspace(-radius, radius, 400)
        ax_eig.plot(x, 2 / (np.pi * radius ** 2) * np.sqrt(np.maximum(radius ** 2 - x ** 2, 0)), "k",
                    label=f"semicircle, R = {radius:.2f}")
        ax_eig.set(xlabel="eigenvalue λ", ylabel="density", title=f"Eigenvalues ({config.ensemble.upper()}, n = {n})")
        ax_eig.legend(fontsize=7)
        fraction = state.n_neg / n
        values = np.arange(fraction.min() * n - 0.5, fraction.max() * n + 1.5) / n
        ax_index.hist(fraction, bins=values, density=True, color="tab:blue", alpha=0.6,
                      label=f"index / n: mean {sample['index_fraction_mean']:.4f}, sd {sample['index_fraction_sd']:.4f}")
        sd = sample["index_fraction_sd_goe_leading_order"]
        x = np.linspace(values[0], values[-1], 400)
        ax_index.plot(x, np.exp(-((x - 0.5) / sd) ** 2 / 2) / (sd * np.sqrt(2 * np.pi)), "k",
                      label=f"N(1/2, sd² = ln n / (π n)²), sd = {sd:.4f}")
        ax_index.axvline(0.5, color="k", ls=":", lw=1, label="semicircle law: 1/2")
        ax_index.set(xlabel="fraction of negative eigenvalues", ylabel="density",
                     title=f"Index of {sample['matrices']} matrices: {int(np.sum((state.n_neg == 0) | (state.n_neg == n)))} "
                           "at 0 or n (definite)")
        ax_index.legend(fontsize=7)
    sizes = np.array([r["n"] for r in rows])
    p = np.array([r["p_positive_definite"] for r in rows])
    low, high = np.array([r["ci_low"] for r in rows]), np.array([r["ci_high"] for r in rows])
    seen = p > 0
    ax_small.errorbar(sizes[seen], p[seen], yerr=[p[seen] - low[seen], high[seen] - p[seen]], fmt="o",
                      color="tab:blue", capsize=3, label="sampled, 95% CI")
    if (~seen).any():
        ax_small.plot(sizes[~seen], high[~seen], "v", color="tab:blue", mfc="none",
                      label="none seen: 95% upper bound")
    grid = np.linspace(1, sizes.max(), 200)
    ax_small.plot(grid, np.exp(-ASYMPTOTIC_RATE * grid ** 2), "k--", label="exp(−(ln 3 / 4) n²)")
    if fit:
        ax_small.plot(grid, np.exp(fit["intercept"] - fit["linear"] * grid - fit["rate"] * grid ** 2),
                      color="tab:red", label=f"fit exp({fit['intercept']:.2f} − {fit['linear']:.2f} n − "
                                             f"{fit['rate']:.3f} n²)")
        quad = fit["quadratic_only"]
        ax_small.plot(grid, np.exp(quad["intercept"] - quad["rate"] * grid ** 2), color="tab:red", ls=":",
                      label=f"fit without the n term: θ = {quad['rate']:.3f}")
    ax_small.set(yscale="log", xlabel="n", ylabel="P(positive definite)",
                 title=f"Small n, {rows[0]['samples']} samples each")
    ax_small.legend(fontsize=7)
    fig.tight_layout()
    return fig


def index_loss(points: list[dict]) -> plt.Figure:
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


PHASE_PANELS = (  # (title, outcome classes summed) of the phase map's heat maps
    ("converged, trivial", ("trivial",)),
    ("converged, non-trivial", ("minimum", "saddle", "other")),
    ("capped at the trivial point", ("capped_trivial",)),
    ("capped elsewhere", ("capped",)),
    ("non-finite", ("nonfinite",)),
)
WIDTH_KINDS = (  # (label, colour, outcome strings of a seed sweep's summary counted) of the width bars
    ("converged trivial", "tab:red", ("trivial",)),
    ("converged non-trivial", "tab:blue", ("non-trivial minimum", "non-trivial saddle", "non-trivial maximum",
                                           "non-trivial degenerate")),
    ("capped at the trivial point", "salmon", ("max_steps at the trivial point",)),
    ("capped elsewhere", "tab:gray", ("max_steps",)),
    ("non-finite", "black", ("nonfinite",)),
)


def phase_map(summary: dict) -> plt.Figure:
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


def mechanism(records: dict, config) -> plt.Figure:
    """Along each quasi-Newton run: the true Hessian's smallest eigenvalue, and the approximation's."""
    from jaxnewton.mechanism import recorded_iterates
    names = list(records)
    fig, axes = plt.subplots(2, len(names), figsize=(4.3 * len(names), 7.5), squeeze=False, sharex=True)
    for col, name in enumerate(names):
        r = records[name]
        live = recorded_iterates(r["steps"])
        ax, ax_neg = axes[0, col], axes[1, col]
        for s in range(r["steps"].shape[0]):
            steps = r["step"][live[s]]
            ax.plot(steps, r["true_min"][s, live[s]], color="tab:red", lw=0.7, alpha=0.6)
            approx = r["approx_min"][s, live[s]]
            if not np.isnan(approx).all():
                ax.plot(steps, approx, color="tab:blue", lw=0.7, alpha=0.6, ls="--")
            ax_neg.plot(steps, r["true_neg"][s, live[s]], color="tab:red", lw=0.7, alpha=0.6)
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.plot([], [], color="tab:red", label="λ_min of the true ∇²L")
        if not np.isnan(r["approx_min"]).all():
            ax.plot([], [], color="tab:blue", ls="--", label="λ_min of the quasi-Newton B = H⁻¹")
        bad, pairs = int(np.sum(r["bad_pairs"][:, -1])), int(np.sum(r["pairs"][:, -1]))
        ax.set(ylabel="smallest eigenvalue", title=f"{name}: yᵀs ≤ 0 in {bad} of {pairs} pairs")
        ax.legend(fontsize=7)
        ax_neg.set(xlabel="step", ylabel="negative eigenvalues of ∇²L", title=f"{name}: index of the iterate")
    fig.suptitle(f"Quasi-Newton on {config.base}: {config.n_seeds} seeds, recorded every {config.stride} steps")
    fig.tight_layout()
    return fig


def paths_toy(landscape, arrays: dict, rows: list[dict]) -> plt.Figure:
    """The 2-D toy landscape with the straight and the optimised paths, and f along each path."""
    fig, (ax, ax_f) = plt.subplots(1, 2, figsize=(12, 5))
    xs, ys = np.linspace(-1.1, 1.0, 220), np.linspace(-1.1, 0.8, 200)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    values = np.asarray(jax.jit(jax.vmap(landscape))(grid)).reshape(len(ys), len(xs))
    filled = ax.contourf(xs, ys, values, levels=30, cmap="viridis")
    fig.colorbar(filled, ax=ax, label="f(x, y)")
    t = np.linspace(0.0, 1.0, arrays["straight"].shape[0])
    f_of = jax.jit(jax.vmap(landscape))
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


SET_STYLES = {"lbfgs_gss_train": ("tab:red", "-"), "lbfgs_gss_test": ("tab:orange", "--"),
              "sgd_train": ("tab:blue", "-"), "sgd_test": ("tab:cyan", "--")}


def _histograms(ax: plt.Axes, arrays: dict, sets: tuple[str, ...], key: str, log_x: bool) -> None:
    values = {name: arrays[f"{name}_{key}"] for name in sets}
    finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
    low, high = max(finite.min(), 1e-12) if log_x else finite.min(), finite.max()
    bins = np.geomspace(low, high, 30) if log_x and high > low else np.linspace(low, high, 30)
    for name, v in values.items():
        colour, style = SET_STYLES[name]
        ax.hist(np.clip(v, low, high), bins=bins, histtype="step", color=colour, ls=style, lw=1.5,
                label=f"{name} (mean {np.mean(v):.3g})")
    if log_x:
        ax.set_xscale("log")
    ax.legend(fontsize=7)


def digits_study(summary: dict, arrays: dict, sets: tuple[str, ...]) -> plt.Figure:
    """Barrier and spread histograms, kernel-PCA maps (raw and canonical weights) and the training curves."""
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    _histograms(axes[0, 0], arrays, sets, "height", log_x=True)
    axes[0, 0].set(xlabel="barrier H = max_m L_train on the optimised path", ylabel="pairs",
                   title=f"barriers ({summary['table'][sets[0]]['n_pairs']} pairs per set)")
    _histograms(axes[0, 1], arrays, sets, "straight", log_x=True)
    axes[0, 1].set(xlabel="max L_train on the straight line", ylabel="pairs", title="straight-line barriers")
    _histograms(axes[0, 2], arrays, sets, "spread", log_x=False)
    axes[0, 2].set(xlabel="|θ − centroid of its set|", ylabel="solutions", title="spread in parameter space")
    for ax, key, title in ((axes[1, 0], "kpca_raw", "raw weights"), (axes[1, 1], "kpca_canonical",
                                                                     "canonical weights (symmetries removed)")):
        coords = arrays[key]
        for i, name in enumerate(sets):
            colour, style = SET_STYLES[name]
            mine = arrays["kpca_set"] == i
            ax.scatter(coords[mine, 0], coords[mine, 1], s=14, color=colour,
                       marker="o" if style == "-" else "^", label=name, alpha=0.8)
        ax.set(xlabel="kPCA 1", ylabel="kPCA 2", title=f"kernel PCA (RBF, 2σ² = P = {summary['n_params']}), {title}")
        ax.legend(fontsize=7)
    ax = axes[1, 2]
    for name, colour in (("lbfgs_gss", "tab:red"), ("sgd", "tab:blue")):
        steps = arrays[f"{name}_record_step"]
        for key, style in (("train", "-"), ("test", "--")):
            history = arrays[f"{name}_{key}_history"]
            finite = np.isfinite(history)
            seen = finite.any(axis=0)  # records after every run had stopped hold no value
            median = np.nanmedian(np.where(finite, history, np.nan)[:, seen], axis=0)
            ax.plot(np.maximum(steps[seen], 1), median, color=colour, ls=style, label=f"{name}, {key} loss (median)")
    ax.set(xscale="log", yscale="log", xlabel="optimiser step (L-BFGS-GSS iteration / SGD mini-batch step)",
           ylabel="cross-entropy", title="training curves")
    ax.legend(fontsize=7)
    fig.suptitle(f"Digits 8×8, MLP 64-h-h-10 without biases ({summary['n_params']} parameters): L-BFGS-GSS vs "
                 "mini-batch SGD from the same starts")
    fig.tight_layout()
    return fig


LANDSCAPE_KINDS = ("trivial", "minimum", "saddle", "degenerate", "maximum", "capped at the trivial point",
                   "capped elsewhere")
LANDSCAPE_KIND_COLOURS = ("tab:red", "tab:green", "tab:purple", "tab:olive", "black", "tab:orange", "tab:gray")


def landscape_study(summary: dict, arrays: dict, optimizers: tuple[str, ...]) -> plt.Figure:
    """E3's end points: barrier histograms per group (raw and canonical), the symmetry line, and kPCA maps."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 10))
    ax = axes[0, 0]
    styles = {"trivial": "tab:red", "non_trivial": "tab:blue"}
    values = [arrays[f"{g}_{f}_above"] for g in styles for f in ("raw", "canonical") if f"{g}_{f}_above" in arrays]
    if values:
        every = np.concatenate(values)
        bins = np.geomspace(max(every[every > 0].min(initial=1e-8), 1e-8), max(every.max(), 1e-7), 30)
        for group, colour in styles.items():
            for form, style in (("raw", "-"), ("canonical", "--")):
                key = f"{group}_{form}_above"
                if key in arrays:
                    ax.hist(np.clip(arrays[key], bins[0], bins[-1]), bins=bins, histtype="step", color=colour,
                            ls=style, lw=1.5, label=f"{group}, {form} ends (median {np.median(arrays[key]):.2g})")
        ax.set_xscale("log")
        ax.legend(fontsize=7)
    ax.set(xlabel="barrier above the higher end, H − max(L(θᵃ), L(θᵇ)) (0 drawn at the left edge)", ylabel="pairs",
           title="FourierPathFinder between E3's end points")
    ax = axes[0, 1]
    symmetry = summary["symmetry"]
    if symmetry.get("available"):
        t = arrays["symmetry_t"]
        ax.plot(t, arrays["symmetry_straight"], color="black", label="straight line")
        ax.plot(t, arrays["symmetry_optimised"], color="tab:blue", label="optimised path")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set(title=f"{symmetry['endpoint']} and a permuted, sign-flipped copy: L(midpoint) = "
                     f"{symmetry['loss_midpoint']:.3g} vs {symmetry['loss_endpoint']:.1e} at the ends")
    ax.set(xlabel="t", ylabel="L(θ(t))")
    ax.title.set_fontsize(9)
    for ax, key, colour_by in ((axes[1, 0], "kpca_raw", "optimizer"), (axes[1, 1], "kpca_canonical", "kind")):
        coords = arrays[key]
        if colour_by == "optimizer":
            cmap = plt.get_cmap("tab10")
            for i, name in enumerate(optimizers):
                mine = arrays["kpca_optimizer"] == i
                if mine.any():
                    ax.scatter(coords[mine, 0], coords[mine, 1], s=16, color=cmap(i % 10), label=name, alpha=0.8)
            ax.set_title(f"kernel PCA of every end point, raw weights (2σ² = P = {summary['n_params']}), by optimiser")
        else:
            for i, (kind, colour) in enumerate(zip(LANDSCAPE_KINDS, LANDSCAPE_KIND_COLOURS)):
                mine = arrays["kpca_kind"] == i
                if mine.any():
                    ax.scatter(coords[mine, 0], coords[mine, 1], s=16, color=colour, label=kind, alpha=0.8)
            ax.set_title("kernel PCA, canonical weights, by what the end point is")
        ax.title.set_fontsize(9)
        ax.set(xlabel="kPCA 1", ylabel="kPCA 2")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
