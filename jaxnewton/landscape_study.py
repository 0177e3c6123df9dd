"""The path, saddle, symmetry and kernel-PCA tools applied to E3's own solutions (``make landscape``).

Reads a finished comparison folder (``make compare``: every optimiser from the same E3 starts) and reruns
nothing of it. Two groups of end points:

- ``trivial``: every seed, of any optimiser, that ended at a point meeting the trivial rule (converged
  or capped there);
- ``non_trivial``: the converged, non-trivial points of the chosen optimisers (Newton's are rare).

Within each group, FourierPathFinder runs between up to ``max_pairs`` random pairs, once between the raw
weight vectors and once between their canonical forms (``jaxnewton.symmetry``: hidden-unit permutations
and tanh sign flips removed), and Newton on ∇L from each optimised path's top reports the Hessian index
of the point it reaches. The symmetry panel takes the lowest-loss non-trivial point θ*, a copy θ' of it
under a random permutation and sign flip (the same function), and draws L along the straight line
between them (the non-convexity argument) and along the optimised path. Kernel PCA maps every end point
of the comparison, raw and canonical.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from jaxnewton import __version__
from jaxnewton.config import LandscapeStudyConfig, sweep_config_from_json
from jaxnewton.experiment import build
from jaxnewton.kpca import kernel_pca
from jaxnewton.paths import make_path_finder, make_saddle_check, random_pairs, sample_times, settings_of
from jaxnewton.results import Log, load_npz, load_summary, write_config, write_csv, write_npz, write_summary
from jaxnewton.symmetry import canonical_flat, random_symmetry, transform

GROUPS = ("trivial", "non_trivial")
FORMS = ("raw", "canonical")


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
                points.append({"optimizer": optimizer, "seed": int(row["seed"]), "status": row["status"],
                               "trivial": row["trivial"] == "true", "label": row["label"],
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


def run_landscape_study(config: LandscapeStudyConfig, out_dir: Path | str, log: Log = print) -> dict:
    """Barriers, saddle checks, the symmetry line and kPCA of a comparison's E3 end points.

    Writes ``config.json``, ``pairs.csv`` (one row per pair and form), ``arrays.npz``, ``summary.json`` and
    ``landscape.png``.
    """
    from jaxnewton import plots

    out = Path(out_dir)
    start_time = time.perf_counter()
    source = out.parent / config.source
    if not (source / "config.json").exists():
        raise ValueError(f"{source} is not a finished comparison: run `make compare` first")
    sweep = sweep_config_from_json(source / "config.json")
    optimizers = sweep.optimizers or (sweep.solver,)
    missing = [o for o in config.path_optimizers if o not in optimizers]
    if missing:
        raise ValueError(f"path_optimizers {missing} are not in {source}'s optimizers {list(optimizers)}")
    write_config(out, config)
    problem = build(sweep).problem
    canon = jax.jit(jax.vmap(canonical_flat(problem.unravel, odd=sweep.activation in ("tanh", "sine"))))
    points = read_endpoints(source, optimizers)
    find = jax.jit(jax.vmap(make_path_finder(problem.loss, settings_of(config))))
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
    arrays["kpca_kind"] = np.array([plots.LANDSCAPE_KINDS.index(endpoint_kind(p)) for p in usable])
    write_npz(out / "arrays.npz", arrays)
    write_csv(out / "pairs.csv", rows, list(rows[0]) if rows else ["group"])
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__, "source": config.source,
        "inputs": {config.source: (load_summary(out.parent, config.source) or {}).get("finished_at")},
        "n_params": problem.n_params, "optimizers": list(optimizers), "groups": summary_groups, "symmetry": symmetry,
        "definitions": {
            "trivial": "end points (any optimiser, converged or capped) that meet the trivial rule",
            "non_trivial": "converged end points of path_optimizers that do not",
            "canonical": "both ends replaced by their canonical forms (hidden units sorted, tanh signs fixed)",
            "saddle_index": "over the pairs whose Newton refinement from the path's top converged: the Hessian "
                            "index of the point reached (index 1: the path crossed at a pass)",
        },
    }
    plots.save(plots.landscape_study(summary, arrays, optimizers), out / "landscape.png")
    summary["wall_seconds"] = time.perf_counter() - start_time
    write_summary(out, summary)
    return summary


def endpoint_kind(point: dict) -> str:
    """How a comparison's end point is coloured in the kPCA map (``plots.LANDSCAPE_KINDS``)."""
    if point["status"] == "converged":
        return "trivial" if point["trivial"] else point["label"]
    return "capped at the trivial point" if point["trivial"] else "capped elsewhere"


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
