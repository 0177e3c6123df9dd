"""Several optimisers on one experiment, from the same initial points with the same stopping rule (E7, E9).

A ``Config`` with ``optimizers`` set (``python -m jaxnewton compare CONFIG --optimizers newton,adam``, or
``--optimizers all`` for every registered optimiser) runs one seed sweep per optimiser (``studies.seeds``),
each the config with ``solver`` replaced, into ``<out>/<optimiser>/`` (the full results contract of a sweep).
Every sweep draws θ₀ (and a Fourier-feature B) from the same seed keys and stops at ||∇L||₂ ≤ tol or at its
cap (``first_order_max_steps`` for the optimisers registered with that cap, when it is set). Then ``<out>``
gets ``comparison.csv`` (a row per optimiser), ``comparison.png`` (what each converged to, and the loss
histories), ``fields.png`` for 2-D problems, and a ``summary.json`` with each optimiser's summary.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core.diagnostics import LABELS
from jaxnewton.core.stats import wilson_interval
from jaxnewton.engine.build import build
from jaxnewton.engine.config import Config, Run
from jaxnewton.engine.folders import run_in_folder
from jaxnewton.engine.io import Log, Progress, load_npz, write_csv, write_summary
from jaxnewton.optim import registry
from jaxnewton.report.figures import fields_grid, save
from jaxnewton.report.table import NOT_RUN, NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies import seeds
from jaxnewton.studies.seeds import counts_text, trivial_total

CONFIG = Config


def selects(config: Config) -> bool:
    """A ``Config`` with ``optimizers`` is a comparison."""
    return bool(config.optimizers)


COLUMNS = ["optimizer", "n_seeds", "converged", "trivial", *LABELS, "max_steps", "nonfinite", "solved",
           "median_final_loss", "median_rel_l2_error", "median_steps", "bad_curvature_pairs", "wall_seconds"]


def optimizer_config(config: Config, optimizer: str) -> Config:
    """The single-optimiser sweep of a comparison, capped by the optimiser's registered ``cap`` field when that
    is set (ADAM and GD: ``first_order_max_steps``), else by ``max_steps``."""
    return dataclasses.replace(config, name=f"{config.name}_{optimizer}", solver=optimizer, optimizers=(),
                               max_steps=getattr(config, registry.get(optimizer).cap) or config.max_steps,
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


def check(config: Config) -> None:
    """Refuse up front an optimiser's sweep that cannot fit (``seeds.check``), not after the optimisers before it ran."""
    for optimizer in config.optimizers:
        seeds.check(optimizer_config(config, optimizer))


def run(config: Config, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every optimiser of ``config.optimizers`` and write the comparison into ``out_dir``.

    Args:
      config: a validated Config with ``optimizers`` set.
      out_dir: the comparison's folder; each optimiser's sweep goes to a subfolder of its name.
      log: where progress lines go.
      progress: called with the fraction of the comparison done and a short text.

    Returns:
      The summary dict (also written to ``summary.json``).
    """
    out = Path(out_dir)
    summaries, n = {}, len(config.optimizers)
    for i, optimizer in enumerate(config.optimizers):
        def sub_progress(fraction: float, text: str, i: int = i, optimizer: str = optimizer) -> None:
            progress((i + fraction) / n, f"{optimizer} ({i + 1}/{n}): {text}")

        summaries[optimizer] = run_in_folder(seeds.run, optimizer_config(config, optimizer), out / optimizer, log,
                                             sub_progress if progress else None, policy="replace")
    rows = [comparison_row(opt, summaries[opt]) for opt in config.optimizers]
    write_csv(out / "comparison.csv", rows, COLUMNS)
    arrays = {opt: load_npz(out / opt / "arrays.npz") for opt in config.optimizers}
    save(comparison(rows, summaries, arrays), out / "comparison.png")
    if config.dim == 2:
        problems = {opt: build(optimizer_config(config, opt)).problem for opt in config.optimizers}
        save(fields_2d(problems, arrays, summaries), out / "fields.png")
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


# ----------------------------------------------------------------------------- figures

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
    fig = fields_grid(exact, columns)
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


# ----------------------------------------------------------------------------- report rows

def pinn2d_cells(summaries: list[Summary]) -> Cells:
    """Cells of E7's comparison. Verdict: "reproduced" when at least half of Newton's seeds end at the trivial
    point (converged or at the cap) and at least half of ADAM's solve the PDE (relative L2 error ≤ 1e-2);
    "partly" when one of the two holds."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    newton, adam = summary["optimizers"]["newton"], summary["optimizers"]["adam"]
    n = summary["n_seeds"]

    def line(name: str, s: dict) -> str:
        return (f"{name}: {counts_text(s)}, {s['solved']}/{n} solved, median rel. L2 error "
                f"{s['rel_l2_error']['median']:.2g}")

    newton_trivial = trivial_total(newton)
    rate = newton["trivial_rate"]
    large = (f"Newton trivial (converged): p = {rate['p']:.2f} [{rate['ci95'][0]:.2f}, {rate['ci95'][1]:.2f}]; "
             f"ADAM relative L2 error {adam['rel_l2_error']['min']:.1g}–{adam['rel_l2_error']['max']:.1g}")
    holds = (2 * newton_trivial >= n, 2 * adam["solved"] >= n)
    verdict = {(True, True): "reproduced", (False, False): "differs"}.get(holds, "partly")
    if verdict != "reproduced":
        verdict += f": Newton {newton_trivial}/{n} at the trivial point, ADAM solved {adam['solved']}/{n}"
    return Cells(f"{line('Newton', newton)}<br>{line('ADAM', adam)}", large, verdict,
                 f"Newton {newton_trivial}/{n} at the trivial point; ADAM solved {adam['solved']}/{n}")


FIELDS_CAPTION = ("One seed (the first that no optimiser ended non-finite), the same initial point for each "
                  "optimiser: the exact u, each N and its error N − u, on a 37 × 37 grid.",
                  "The paper's claim: Newton ends at N ≈ 0 (the trivial solution); ADAM finds u.")


COMPARISON_CAPTION = ("Left: where each optimiser's seeds ended (trivial, non-trivial by Hessian label, capped, "
                      "nonfinite). Right: every seed's loss history.",
                      "ADAM's losses fall by orders of magnitude; Newton's stay at the loss of the zero function.")


QUASI_NEWTON_CLAIMED = ("bfgs", "lbfgs")  # the optimisers E9's claim is about


AVOIDS_SHARE = 0.1  # an optimiser "avoids" the trivial point when at most this share of its seeds end there


def _optimizer_line(name: str, s: dict) -> str:
    labels = {k: v - s["trivial_labels"][k] for k, v in s["labels"].items()}
    found = ", ".join(f"{v} {k}" for k, v in labels.items() if v)
    c = s["counts"]
    return (f"{name}: {trivial_total(s)} trivial ({c['trivial']} converged), "
            f"{found or 'no'} non-trivial converged, {c['max_steps']} capped, {c['nonfinite']} non-finite; "
            f"{s['solved']} solved")


def e9_cells(summaries: list[Summary]) -> Cells:
    """Cells of E9, three tests of the paper's claim.

    * Outcome: BFGS and L-BFGS each end at the trivial point (converged or capped) in at most ``AVOIDS_SHARE`` of
      the seeds while Newton does more often.
    * Record: along the recorded quasi-Newton runs at least half of the seeds met negative curvature of the true
      Hessian, while no pair with yᵀs ≤ 0 entered an approximation (it had none, or it refuses them:
      registered with ``refuses_bad_pairs``) and the approximations recorded stayed positive definite.
    * Ablation (when the registered ``ablation`` pair ran): BFGS at the fixed step η without its safeguard ends at
      the trivial
      point in more than ``AVOIDS_SHARE`` of the seeds while the guarded one does not; if not, the safeguard is
      not what keeps BFGS away from the trivial point.

    "reproduced" when every test run holds, "differs" when the outcome does not, "partly" otherwise.
    """
    compare, mechanism = summaries
    if compare is None:
        return NOT_RUN_CELLS
    optimizers = compare["optimizers"]
    n = compare["n_seeds"]
    setting = "<br>".join(_optimizer_line(name, s) for name, s in optimizers.items())
    newton = trivial_total(optimizers["newton"]) if "newton" in optimizers else n
    claimed = [o for o in QUASI_NEWTON_CLAIMED if o in optimizers]
    avoids = bool(claimed) and all(trivial_total(optimizers[o]) <= AVOIDS_SHARE * n < newton for o in claimed)
    tests = [f"outcome {'holds' if avoids else 'does not hold'} (Newton {newton}/{n} trivial)"]
    parts, record = [], None
    if mechanism is not None:
        record = True
        for name, m in mechanism["optimizers"].items():
            parts.append(f"{name}: {m['seeds_meeting_negative_curvature']}/{m['n_seeds']} seeds met negative "
                         f"curvature (∇²L indefinite at {m['iterates_true_hessian_indefinite']}/{m['iterates']} "
                         f"recorded iterates, λ_min down to {m['most_negative_true_eigenvalue']:.2g}); yᵀs ≤ 0 in "
                         f"{m['bad_curvature_pairs']}/{m['curvature_pairs']} pairs"
                         + (" (refused)" if m["bad_curvature_pairs"] and registry.get(name).refuses_bad_pairs else "")
                         + (f"; approximation not positive definite at "
                            f"{m['iterates_approximation_not_positive_definite']} iterates"
                            if m["approximation_recorded"] else ""))
            if not registry.get(name).ablation:
                record &= (2 * m["seeds_meeting_negative_curvature"] >= m["n_seeds"]
                           and (m["bad_curvature_pairs"] == 0 or registry.get(name).refuses_bad_pairs)
                           and m["iterates_approximation_not_positive_definite"] == 0)
        tests.append(f"safeguard record {'holds' if record else 'does not hold'}")
    ablation, ablation_text = None, ""
    pair = registry.names(ablation=True, refuses_bad_pairs=True) + registry.names(ablation=True,
                                                                                  refuses_bad_pairs=False)
    if len(pair) == 2 and all(a in optimizers for a in pair):
        guarded, unguarded = (trivial_total(optimizers[a]) for a in pair)
        ablation = guarded <= AVOIDS_SHARE * n < unguarded
        ablation_text = f"; ablation: unguarded {unguarded}/{n}, guarded {guarded}/{n}"
        indefinite = ""
        if mechanism is not None and pair[1] in mechanism["optimizers"]:
            m = mechanism["optimizers"][pair[1]]
            indefinite = (f", its matrix indefinite at {m['iterates_approximation_not_positive_definite']}/"
                          f"{m['iterates']} recorded iterates")
        tests.append(f"ablation {'holds' if ablation else 'does not hold'}: without its safeguard BFGS at a "
                     f"fixed step ends at the trivial point in {unguarded}/{n}{indefinite}, with it in {guarded}/{n}")
    large = "<br>".join(parts) if parts else NOT_RUN
    if not avoids:
        verdict = "differs"
    elif record is not False and ablation is not False:
        verdict = "reproduced"
    else:
        verdict = "partly"
    headline = (", ".join(f"{o} {trivial_total(optimizers[o])}/{n}" for o in claimed)
                + f" trivial; newton {newton}/{n}{ablation_text}")
    return Cells(setting, large, verdict if verdict == "reproduced" else f"{verdict}: " + "; ".join(tests), headline)


def second_order_cells(summaries: list[Summary]) -> Cells:
    """Cells of the second-order comparison: per optimiser, seeds ending at the trivial point (converged or capped)
    with a 95% Wilson interval, and seeds that fit v. Verdict "extension" (not in the paper)."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    n = summary["n_seeds"]

    def at_trivial(name: str) -> str:
        k = trivial_total(summary["optimizers"][name])
        low, high = wilson_interval(k, n)
        return f"{k}/{n} [{low:.2f}, {high:.2f}]"

    names = list(summary["optimizers"])
    setting = "<br>".join(_optimizer_line(name, summary["optimizers"][name]) for name in names)
    larger = "; ".join(f"{name} {at_trivial(name)} at the trivial point" for name in names)
    headline = f"trivial/fit of {n}: " + ", ".join(
        f"{name} {trivial_total(summary['optimizers'][name])}/{summary['optimizers'][name]['solved']}" for name in names)
    return Cells(setting, larger, "extension", headline)


SECOND_ORDER_CAPTION = ("Where each optimiser's 64 seeds ended, all from E3's initial points, and every seed's loss "
                        "history.", "Which way of using exact curvature still ends at the trivial saddle.")


E9_CAPTION = ("Left: where each optimiser's 16 seeds ended (trivial, non-trivial by Hessian label, capped, "
              "non-finite), all from E3's initial points; a zero-loss fit of this overparameterised network is "
              "labelled degenerate (≥ 40 zero eigenvalues). Right: every seed's loss history.",
              "The paper's claim: Newton ends at the trivial point; the quasi-Newton methods do not.")


MECHANISM_CAPTION = ("Along each quasi-Newton run, every 50 steps: the smallest eigenvalue of the true Hessian (red) "
                     "and of the quasi-Newton approximation B = H⁻¹ where it is at hand (blue); below, the iterate's "
                     "number of negative eigenvalues.",
                     "Red below zero while blue stays above it: the approximation refuses the negative curvature "
                     "the iterates sit in.")


ROWS = (
    Row("E7", "2-D PINN, Newton vs ADAM",
        "2-D PINN ∇²u + u + v = 0, u = sin(πx) sin(πy), 10 × 10 nodes; Newton vs ADAM",
        "Newton goes trivial; ADAM solves the PDE", ("pinn2d",), pinn2d_cells,
        (Figure("pinn2d", "fields.png", FIELDS_CAPTION), Figure("pinn2d", "comparison.png", COMPARISON_CAPTION))),
    Row("E9", "every optimiser on E3", "every optimiser on E3 from the same 16 initial points; curvature along the "
        "quasi-Newton runs", "BFGS / L-BFGS avoid the trivial saddle (positive-definite curvature)",
        ("compare_mlp_tanh", "mechanism"), e9_cells,
        (Figure("compare_mlp_tanh", "comparison.png", E9_CAPTION), Figure("mechanism", "mechanism.png",
                                                                          MECHANISM_CAPTION))),
    Row("SO", "second-order on E3", "Gauss–Newton, Levenberg–Marquardt, trust-region Newton, cubic "
        "regularisation, SR1, Newton with a line search, against damped Newton and BFGS, from the same 64 initial "
        "points of E3 (make compare-second-order)", "not in the paper", ("compare_second_order",), second_order_cells,
        (Figure("compare_second_order", "comparison.png", SECOND_ORDER_CAPTION),), own_target="make compare-second-order"),
)

RUNS = (
    Run("compare_mlp_tanh", "mlp_tanh", 701, {"optimizers": "all", "n_seeds": 16},
        quick={"max_steps": 300, "first_order_max_steps": 1000}, quick_s=92),
    Run("pinn2d", "pinn2d", 142, quick={"max_steps": 30, "first_order_max_steps": 3000}, quick_s=38),
)
