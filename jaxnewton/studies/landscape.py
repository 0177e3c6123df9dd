"""The path, saddle, symmetry and kernel-PCA tools applied to E3's own solutions (``make landscape``).

Reads a finished comparison folder (``make compare``: every optimiser from the same E3 starts) and reruns
nothing of it. Two groups of end points:

- ``trivial``: every seed, of any optimiser, that ended at a point meeting the trivial rule (converged
  or capped there);
- ``non_trivial``: the converged, non-trivial points of the chosen optimisers (Newton's are rare).

Within each group, FourierPathFinder runs between up to ``max_pairs`` random pairs, once between the raw
weight vectors and once between their canonical forms (``tools.symmetry``: hidden-unit permutations
and tanh sign flips removed), and Newton on ∇L from each optimised path's top reports the Hessian index
of the point it reaches. The symmetry panel takes the lowest-loss non-trivial point θ*, a copy θ' of it
under a random permutation and sign flip (the same function), and draws L along the straight line
between them (the non-convexity argument) and along the optimised path. Kernel PCA maps every end point
of the comparison, raw and canonical.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton.version import __version__
from jaxnewton.engine.build import build
from jaxnewton.engine.config import ConfigBase, Run, require, sweep_config_from_json
from jaxnewton.engine.folders import load_summary
from jaxnewton.engine.io import (Log, Progress, load_npz, write_csv, write_npz,
                                 write_summary)
from jaxnewton.engine.outcomes import CAPPED_TRIVIAL, TRIVIAL, outcome
from jaxnewton.engine.sweep import map_rows
from jaxnewton.optim import registry
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN, NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.tools.kpca import kernel_pca
from jaxnewton.tools.paths import (make_path_finder, make_saddle_check, random_pairs, require_path_settings,
                                   sample_times, settings_of)
from jaxnewton.tools.symmetry import canonical_flat, random_symmetry, transform


@dataclass(frozen=True)
class LandscapeStudyConfig(ConfigBase):
    """Barriers, saddle checks, symmetry and kernel PCA of E3's solutions (``studies.landscape``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      source: the comparison folder under results/ whose end points are read (``make compare``'s).
      path_optimizers: whose converged non-trivial points form the ``non_trivial`` group.
      max_pairs: pairs per group at most (all pairs when there are fewer).
      seed: the pair draws' and the symmetry copy's seed.
      n_modes, n_points, lam, path_learning_rate, path_steps, path_objective, path_noise, path_keep_best:
        FourierPathFinder (``tools.paths``).
      newton_steps: the cap of the Newton refinement from each path's top.
    """

    name: str
    source: str = "compare_mlp_tanh"
    path_optimizers: tuple[str, ...] = ("newton", "bfgs", "adam")
    max_pairs: int = 40
    seed: int = 0
    n_modes: int = 10
    n_points: int = 50
    lam: float = 1e-4
    path_learning_rate: float = 1e-2
    path_steps: int = 1000
    path_objective: str = "f"
    path_noise: float = 0.0
    path_keep_best: int = 0
    newton_steps: int = 200

    def reads(self) -> tuple[str, ...]:
        return (self.source,)

    def validate(self) -> None:
        require(bool(self.source) and "/" not in self.source, "source", self.source,
                 "a comparison folder name under results/, e.g. source=compare_mlp_tanh")
        require(len(self.path_optimizers) >= 1 and all(o in registry.names() for o in self.path_optimizers),
                "path_optimizers", self.path_optimizers, f"names from {list(registry.names())}")
        require(self.max_pairs >= 1, "max_pairs", self.max_pairs, "an integer ≥ 1")
        require(self.lam >= 0.0, "lam", self.lam, "a penalty weight ≥ 0 (the companion paper: 1e-4)")
        require_path_settings(self)
        require(self.newton_steps >= 1, "newton_steps", self.newton_steps, "an integer ≥ 1")


CONFIG = LandscapeStudyConfig


GROUPS = ("trivial", "non_trivial")
KINDS = {  # how the kPCA map colours an end point, from its outcome (engine.outcomes)
    TRIVIAL: "trivial", **{f"non-trivial {label}": label for label in ("minimum", "saddle", "degenerate", "maximum")},
    CAPPED_TRIVIAL: "capped at the trivial point", "max_steps": "capped elsewhere",
}


def read_endpoints(folder: Path, optimizers: tuple[str, ...]) -> list[dict]:
    """Every seed of every optimiser of a comparison folder: its θ and its ``runs.csv`` row."""
    points = []
    for optimizer in optimizers:
        sub = folder / optimizer
        if not (sub / "runs.csv").exists():
            raise ValueError(f"{sub} has no finished sweep: run `make compare` first (or set source= to a "
                             "comparison folder that holds these optimisers)")
        theta = load_npz(sub / "arrays.npz")["theta"]
        with (sub / "runs.csv").open() as f:
            for row, th in zip(csv.DictReader(f), theta):
                trivial = row["trivial"] == "true"
                points.append({"optimizer": optimizer, "seed": int(row["seed"]), "status": row["status"],
                               "trivial": trivial, "label": row["label"],
                               "outcome": outcome(row["status"], trivial, row["label"]),
                               "loss": float(row["loss"]), "rel_l2_error": float(row["rel_l2_error"]),
                               "theta": th})
    return points


def group_of(point: dict, path_optimizers: tuple[str, ...]) -> str | None:
    """``trivial``, ``non_trivial`` (converged elsewhere, by one of ``path_optimizers``) or None."""
    if point["status"] == "nonfinite":
        return None
    if point["trivial"]:
        return "trivial"
    if point["status"] == "converged" and point["optimizer"] in path_optimizers:
        return "non_trivial"
    return None


def run(config: LandscapeStudyConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Barriers, saddle checks, the symmetry line and kPCA of a comparison's E3 end points.

    Writes ``pairs.csv`` (one row per pair and form), ``arrays.npz``, ``summary.json`` and
    ``landscape.png``.
    """
    out = Path(out_dir)
    start_time = time.perf_counter()
    source = out.parent / config.source
    source_summary = load_summary(source)
    if source_summary is None or not (source / "config.json").exists():
        raise ValueError(f"{source} is not a finished comparison: run `make compare` first")
    sweep = sweep_config_from_json(source / "config.json")
    optimizers = sweep.optimizers or (sweep.solver,)
    missing = [o for o in config.path_optimizers if o not in optimizers]
    if missing:
        raise ValueError(f"path_optimizers {missing} are not in {source}'s optimizers {list(optimizers)}")
    problem = build(sweep).problem
    canon = jax.jit(jax.vmap(canonical_flat(problem.unravel, odd=sweep.activation in ("tanh", "sine"))))
    points = read_endpoints(source, optimizers)
    find = map_rows(make_path_finder(problem.loss, settings_of(config)))
    # E3's Hessians have > 100 of 140 eigenvalues near zero: H⁻¹∇L throws Newton far off (a 5-pair pilot:
    # losses of 7–68 after 2–4 steps), so the refinement steps with the pseudo-inverse at the diagnostics' rtol.
    check = jax.jit(jax.vmap(make_saddle_check(problem.loss, tol=sweep.tol, max_steps=config.newton_steps,
                                               eig_rtol=sweep.eig_rtol, hessian=problem.hessian,
                                               pseudo_inverse_rtol=sweep.eig_rtol)))
    arrays, rows, summary_groups = {}, [], {}
    for g, group in enumerate(GROUPS):
        members = [p for p in points if group_of(p, config.path_optimizers) == group]
        if len(members) < 2:
            summary_groups[group] = {"n_points": len(members), "n_pairs": 0}
            log(f"[{config.name}] {group}: {len(members)} point(s), no pairs")
            continue
        thetas = np.stack([p["theta"] for p in members])
        pairs = random_pairs(jax.random.fold_in(jax.random.key(config.seed), g), len(members), config.max_pairs)
        forms = {"raw": thetas, "canonical": np.asarray(canon(jnp.asarray(thetas)))}
        entry = {"n_points": len(members), "n_pairs": int(len(pairs)),
                 "optimizers": {o: sum(p["optimizer"] == o for p in members) for o in optimizers
                                if any(p["optimizer"] == o for p in members)}}
        for form, x in forms.items():
            t0 = time.perf_counter()
            result = find(jnp.asarray(x[pairs[:, 0]]), jnp.asarray(x[pairs[:, 1]]))
            saddle = check(result.top_theta)
            distance = np.linalg.norm(x[pairs[:, 0]] - x[pairs[:, 1]], axis=1)
            index = np.asarray(saddle.index)
            converged = np.asarray(saddle.converged)
            entry[form] = {
                "median_distance": float(np.median(distance)),
                "median_straight": float(np.median(result.straight.height)),
                "median_barrier": float(np.median(result.optimised.height)),
                "median_barrier_above": float(np.median(result.optimised.above)),
                "max_barrier_above": float(np.max(result.optimised.above)),
                "saddle_checks_converged": int(np.sum(converged)),
                "saddle_index": {str(k): int(np.sum(converged & (index == k))) for k in np.unique(index[converged])},
                "top_to_saddle_loss_median": float(np.median(np.abs(np.asarray(saddle.loss)
                                                                    - np.asarray(result.optimised.height))[converged]))
                if converged.any() else None,
            }
            key = f"{group}_{form}"
            arrays.update({f"{key}_pairs": pairs, f"{key}_straight": np.asarray(result.straight.height),
                           f"{key}_height": np.asarray(result.optimised.height),
                           f"{key}_above": np.asarray(result.optimised.above), f"{key}_distance": distance,
                           f"{key}_losses": np.asarray(result.optimised.losses), f"{key}_saddle_index": index,
                           f"{key}_saddle_converged": converged, f"{key}_saddle_loss": np.asarray(saddle.loss)})
            for p, (i, j) in enumerate(pairs):
                rows.append({"group": group, "form": form, "a": f"{members[i]['optimizer']}/{members[i]['seed']}",
                             "b": f"{members[j]['optimizer']}/{members[j]['seed']}", "distance": distance[p],
                             "loss_a": members[i]["loss"], "loss_b": members[j]["loss"],
                             "straight": float(result.straight.height[p]), "barrier": float(result.optimised.height[p]),
                             "barrier_above": float(result.optimised.above[p]),
                             "saddle_converged": bool(converged[p]), "saddle_index": int(index[p]),
                             "saddle_loss": float(saddle.loss[p])})
            log(f"[{config.name}] {group} ({len(members)} points, {len(pairs)} pairs), {form}: median distance "
                f"{entry[form]['median_distance']:.3g}, straight {entry[form]['median_straight']:.3g}, optimised "
                f"{entry[form]['median_barrier']:.3g} (above the higher end {entry[form]['median_barrier_above']:.3g});"
                f" Newton from the tops: indices {entry[form]['saddle_index']} "
                f"({entry[form]['saddle_checks_converged']}/{len(pairs)} converged), {time.perf_counter() - t0:.1f} s")
        summary_groups[group] = entry

    symmetry = symmetry_line(config, problem, points, find, sweep.activation in ("tanh", "sine"))
    arrays.update(symmetry.pop("arrays"))
    usable = [p for p in points if p["status"] != "nonfinite"]
    raw = np.stack([p["theta"] for p in usable])
    arrays["kpca_raw"] = kernel_pca(raw, 2).coords
    arrays["kpca_canonical"] = kernel_pca(np.asarray(canon(jnp.asarray(raw))), 2).coords
    arrays["kpca_optimizer"] = np.array([optimizers.index(p["optimizer"]) for p in usable])
    arrays["kpca_kind"] = np.array([LANDSCAPE_KINDS.index(KINDS[p["outcome"]]) for p in usable])
    write_npz(out / "arrays.npz", arrays)
    write_csv(out / "pairs.csv", rows, list(rows[0]) if rows else ["group"])
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__, "source": config.source,
        "inputs": {config.source: source_summary.get("finished_at")},
        "n_params": problem.n_params, "optimizers": list(optimizers), "groups": summary_groups, "symmetry": symmetry,
        "definitions": {
            "trivial": "end points (any optimiser, converged or capped) that meet the trivial rule",
            "non_trivial": "converged end points of path_optimizers that do not",
            "canonical": "both ends replaced by their canonical forms (hidden units sorted, tanh signs fixed)",
            "saddle_index": "over the pairs whose Newton refinement from the path's top converged: the Hessian "
                            "index of the point reached (index 1: the path crossed at a pass)",
        },
    }
    save(landscape_figure(summary, arrays, optimizers), out / "landscape.png")
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    return summary


def symmetry_line(config: LandscapeStudyConfig, problem, points: list[dict], find, odd: bool) -> dict:
    """L along the straight line, and along the optimised path, from the lowest-loss non-trivial end point of
    ``path_optimizers`` to a symmetric copy of it."""
    fits = [p for p in points if p["status"] == "converged" and not p["trivial"]
            and p["optimizer"] in config.path_optimizers]
    if not fits:
        return {"arrays": {}, "available": False}
    best = min(fits, key=lambda p: p["loss"])
    theta = jnp.asarray(best["theta"])
    params = problem.unravel(theta)
    copy = ravel_pytree(transform(params, *random_symmetry(jax.random.key(config.seed), params, odd)))[0]
    t_M = sample_times(config.n_points)
    line = np.asarray(jax.vmap(problem.loss)((1.0 - t_M)[:, None] * theta[None] + t_M[:, None] * copy[None]))
    path = find(theta[None], copy[None])
    return {
        "available": True, "endpoint": f"{best['optimizer']}/{best['seed']}", "loss_endpoint": float(best["loss"]),
        "loss_copy": float(problem.loss(copy)), "loss_midpoint": float(problem.loss(0.5 * (theta + copy))),
        "max_straight": float(line.max()), "optimised_barrier": float(path.optimised.height[0]),
        "distance": float(jnp.linalg.norm(copy - theta)),
        "arrays": {"symmetry_t": np.asarray(t_M), "symmetry_straight": line,
                   "symmetry_optimised": np.asarray(path.optimised.losses[0])},
    }


# ----------------------------------------------------------------------------- figures

LANDSCAPE_KINDS = ("trivial", "minimum", "saddle", "degenerate", "maximum", "capped at the trivial point",
                   "capped elsewhere")


LANDSCAPE_KIND_COLOURS = ("tab:red", "tab:green", "tab:purple", "tab:olive", "black", "tab:orange", "tab:gray")


def landscape_figure(summary: dict, arrays: dict, optimizers: tuple[str, ...]) -> plt.Figure:
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


# ----------------------------------------------------------------------------- report rows

def landscape_study_cells(summaries: list[Summary]) -> Cells:
    """Cells of the E3 landscape: barriers within each group of end points, raw and canonical (no verdict:
    neither paper measures this)."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    parts = []
    for group, entry in summary["groups"].items():
        if not entry.get("n_pairs"):
            parts.append(f"{group}: {entry['n_points']} point(s), no pairs")
            continue
        raw, canon = entry["raw"], entry["canonical"]
        parts.append(f"{group} ({entry['n_points']} points, {entry['n_pairs']} pairs): median barrier above the "
                     f"ends {raw['median_barrier_above']:.2g} raw, {canon['median_barrier_above']:.2g} canonical; "
                     f"Newton from the tops: indices {raw['saddle_index']}")
    symmetry = summary["symmetry"]
    large = (f"{symmetry['endpoint']} and a symmetric copy: L {symmetry['loss_endpoint']:.1e} at both ends, "
             f"{symmetry['loss_midpoint']:.3g} at the midpoint (optimised path: {symmetry['optimised_barrier']:.2g})"
             if symmetry.get("available") else NOT_RUN)
    medians = ", ".join(f"{group.replace('_', '-')} {entry['raw']['median_barrier_above']:.2g}"
                        for group, entry in summary["groups"].items() if entry.get("n_pairs"))
    headline = f"barrier above the ends (median): {medians or 'no pairs'}" + (
        f"; symmetric copy's midpoint L = {symmetry['loss_midpoint']:.3g}" if symmetry.get("available") else "")
    return Cells("<br>".join(parts), large, "extension (no paper number)", headline)


LANDSCAPE_CAPTION = ("E3's end points (make compare): barriers between trivial points and between non-trivial "
                     "points, raw and after removing the symmetries; the loss between a fit and its permuted, "
                     "sign-flipped copy; kernel PCA of every end point.",
                     "A midpoint far above two equal-loss ends is the non-convexity argument of the teaching text.")


ROWS = (
    Row("LS", "E3 landscape", "paths, saddle checks, symmetry and kPCA on E3's end points (make compare)",
        "not in either paper", ("landscape",), landscape_study_cells,
        (Figure("landscape", "landscape.png", LANDSCAPE_CAPTION),)),
)

RUNS = (Run("landscape", "landscape", 124, quick={"max_pairs": 5, "path_steps": 200, "newton_steps": 20}, quick_s=10),)
