"""results/REPORT.md and the README's results table, generated from the results folders.

One table, a row per experiment (``ROWS``): the paper's result, this project's at the
paper's setting, this project's over a larger sweep (with a 95% interval where the result
is a proportion), and a verdict computed from the numbers:

* seed sweeps (E3–E6): "reproduced" when the paper's proportion lies inside the larger sweep's
  95% Wilson interval, "differs" (with both numbers) otherwise; for E4–E6 the paper's setting is
  the first seeds of the one sweep (a seed's run does not depend on the others), and seeds that
  reached the cap at a point meeting the trivial rule are counted beside, never as trivial;
* E7's Newton–ADAM comparison: "reproduced" when at least half of Newton's seeds end at the
  trivial point and at least half of ADAM's solve the PDE (relative L2 error ≤ 1e-2), "partly"
  when one of the two holds;
* E9's optimiser comparison on E3, three tests (``e9_cells``): the outcome (BFGS and L-BFGS each
  end at the trivial point in at most a tenth of the seeds, Newton more often), the safeguard
  record (along their runs the true Hessian had negative curvature while no pair with yᵀs ≤ 0
  entered an approximation and the approximations stayed positive definite) and the ablation
  (BFGS at a fixed step without its safeguard goes trivial, with it does not). "reproduced" when
  all hold, "differs" when the outcome does not, "partly" otherwise;
* the (η, ε) phase map and width sweep extend the paper, which reports one setting: no verdict;
* known-answer landscapes (E1, E2): "reproduced" when the stationary points found have the
  paper's labels and undamped Newton reached every kind, "differs" (saying how) otherwise;
* the toy saddles: "reproduced" when undamped Newton lands on the x² − y² saddle in one step
  and every gradient-descent path escapes it;
* random Hessians (E8): "reproduced" when no matrix of the paper's size and count is definite;
* index against loss: "reproduced" when Spearman's ρ between index fraction and L / L(0) is
  positive (p < 0.05) over all points and within the networks alone, "partly" when only over all.

Then each experiment's figures with a two-line caption, the settings of every run, the
machine and package versions, and the wall times. Nothing in the report is typed by hand.
To add an experiment, add its runs to ``jaxnewton.paper.RUNS`` and a ``Row`` here.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Callable, NamedTuple

from jaxnewton.results import atomic_write_bytes, load_summary
from jaxnewton.solvers import ABLATIONS, REFUSES_BAD_PAIRS
from jaxnewton.stationary import SHORT_NAMES, fraction_text

Summary = dict | None  # a run's summary.json, None when the run is missing or incomplete
NOT_RUN = "not run"
NEWTON_ONE_STEP_ATOL = 1e-12  # undamped Newton "lands on" x² − y²'s saddle when ‖θ₁‖ is below this
PLURALS = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles"}


class Figure(NamedTuple):
    """A PNG of a results folder, with a caption: what is drawn, then what to look for."""

    folder: str
    file: str
    caption: tuple[str, str]


class Row(NamedTuple):
    """One experiment of the results table."""

    id: str
    title: str
    paper: str  # the paper's result, in words
    folders: tuple[str, ...]  # results/<folder> of each run the row reads, the paper's setting first
    cells: Callable[[list[Summary]], tuple[str, str, str]]  # summaries → (paper's setting, larger sweep, verdict)
    figures: tuple[Figure, ...]


# ----------------------------------------------------------------------------- seed sweeps (E3)

def _counts(summary: dict) -> str:
    c = summary["counts"]
    extra = ", ".join(f"{c[k]} {k}" for k in ("max_steps", "nonfinite") if c[k])
    at_cap = summary.get("trivial_at_cap", 0)
    extra += f"; {at_cap} of those at the trivial point" if at_cap else ""
    return f"{c['trivial']}/{summary['n_seeds']} trivial" + (f" ({extra})" if extra else "")


def _trivial_total(s: dict) -> int:
    """Seeds ending at the trivial point: converged there, or capped there."""
    return s["counts"]["trivial"] + s.get("trivial_at_cap", 0)


def _outcome_counts(outcomes: list[str]) -> str:
    """"3/5 trivial (1 max_steps, 1 non-trivial saddle)" from a summary's per-seed outcomes."""
    others = {o: outcomes.count(o) for o in dict.fromkeys(outcomes) if o != "trivial"}
    extra = ", ".join(f"{n} {o}" for o, n in others.items())
    return f"{outcomes.count('trivial')}/{len(outcomes)} trivial" + (f" ({extra})" if extra else "")


def sweep_cells(paper_trivial: int, paper_seeds: int) -> Callable[[list[Summary]], tuple[str, str, str]]:
    """Cells of a seed sweep whose result is the number of seeds converging to a trivial point."""
    p_paper = paper_trivial / paper_seeds

    def cells(summaries: list[Summary]) -> tuple[str, str, str]:
        small, large = summaries
        small_text = _counts(small) if small else NOT_RUN
        if large is None:
            return small_text, NOT_RUN, "—"
        rate = large["trivial_rate"]
        low, high = rate["ci95"]
        verdict = "reproduced" if low <= p_paper <= high else (
            f"differs: paper {p_paper:.2f} outside [{low:.2f}, {high:.2f}]")
        return small_text, f"{_counts(large)}: p = {rate['p']:.2f} [{low:.2f}, {high:.2f}]", verdict

    return cells


def first_seeds_cells(paper_trivial: int, paper_seeds: int) -> Callable[[list[Summary]], tuple[str, str, str]]:
    """Cells of one sweep whose first ``paper_seeds`` seeds are the paper's setting (seeds are independent of
    the sweep they run in, bit for bit on CPU: ``jaxnewton.sweep``), the whole sweep the larger one."""
    p_paper = paper_trivial / paper_seeds

    def cells(summaries: list[Summary]) -> tuple[str, str, str]:
        (summary,) = summaries
        if summary is None:
            return NOT_RUN, NOT_RUN, "—"
        small = f"seeds 0–{paper_seeds - 1}: {_outcome_counts(summary['outcomes'][:paper_seeds])}"
        rate = summary["trivial_rate"]
        low, high = rate["ci95"]
        verdict = "reproduced" if low <= p_paper <= high else (
            f"differs: paper {p_paper:.2f} outside [{low:.2f}, {high:.2f}]")
        at_cap = summary.get("trivial_at_cap", 0)
        if at_cap:
            verdict += f"; {at_cap} more seeds ended at the trivial point without meeting the tolerance"
        return small, f"{_counts(summary)}: p = {rate['p']:.2f} [{low:.2f}, {high:.2f}]", verdict

    return cells


def pinn2d_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of E7's comparison. Verdict: "reproduced" when at least half of Newton's seeds end at the trivial
    point (converged or at the cap) and at least half of ADAM's solve the PDE (relative L2 error ≤ 1e-2);
    "partly" when one of the two holds."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
    newton, adam = summary["optimizers"]["newton"], summary["optimizers"]["adam"]
    n = summary["n_seeds"]

    def line(name: str, s: dict) -> str:
        return (f"{name}: {_counts(s)}, {s['solved']}/{n} solved, median rel. L2 error "
                f"{s['rel_l2_error']['median']:.2g}")

    newton_trivial = _trivial_total(newton)
    rate = newton["trivial_rate"]
    large = (f"Newton trivial (converged): p = {rate['p']:.2f} [{rate['ci95'][0]:.2f}, {rate['ci95'][1]:.2f}]; "
             f"ADAM relative L2 error {adam['rel_l2_error']['min']:.1g}–{adam['rel_l2_error']['max']:.1g}")
    holds = (2 * newton_trivial >= n, 2 * adam["solved"] >= n)
    verdict = {(True, True): "reproduced", (False, False): "differs"}.get(holds, "partly")
    if verdict != "reproduced":
        verdict += f": Newton {newton_trivial}/{n} at the trivial point, ADAM solved {adam['solved']}/{n}"
    return f"{line('Newton', newton)}<br>{line('ADAM', adam)}", large, verdict


E3_FIGURES = (
    ("histories.png", ("Loss and ||∇L||₂ against step for every seed, coloured by outcome (trivial, non-trivial, "
                       "capped at max_steps, nonfinite).",
                       "A trivial run's loss plateaus at the loss of the zero function while ||∇L|| falls below "
                       "the tolerance.")),
    ("fits.png", ("The final N(x) against the target v for up to 12 seeds.",
                  "At a trivial point N is close to zero everywhere.")),
    ("basis.png", ("The last hidden layer's basis functions h_k(x) of the first trivial and the first non-trivial "
                   "converged seed.",
                   "The paper finds them mostly constants and sin(πx) + c at the trivial point.")),
    ("spectrum.png", ("Hessian eigenvalues at the final iterate of every seed (symlog scale).",
                      "Negative and positive eigenvalues together mark a saddle; the paper's Hessians confirm one.")),
)


PINN_FIGURES = (
    E3_FIGURES[0],
    ("fits.png", ("The final N(x) against the exact solution u for up to 12 seeds, on a grid 4× finer than the "
                  "collocation nodes.", "At a trivial point N is close to zero everywhere.")),
    ("basis.png", ("L[g h_k] = (g h_k)'' of the first trivial and the first non-trivial converged seed, each scaled "
                   "to max 1, with −v.", "The paper finds them orthogonal to the source at the trivial point.")),
    E3_FIGURES[3],
)
FIELDS_CAPTION = ("One seed (the first that no optimiser ended non-finite), the same initial point for each "
                  "optimiser: the exact u, each N and its error N − u, on a 37 × 37 grid.",
                  "The paper's claim: Newton ends at N ≈ 0 (the trivial solution); ADAM finds u.")
COMPARISON_CAPTION = ("Left: where each optimiser's seeds ended (trivial, non-trivial by Hessian label, capped, "
                      "nonfinite). Right: every seed's loss history.",
                      "ADAM's losses fall by orders of magnitude; Newton's stay at the loss of the zero function.")


# ----------------------------------------------------------------------------- optimisers (E9) and phase map

QUASI_NEWTON_CLAIMED = ("bfgs", "lbfgs")  # the optimisers E9's claim is about
AVOIDS_SHARE = 0.1  # an optimiser "avoids" the trivial point when at most this share of its seeds end there


def _optimizer_line(name: str, s: dict) -> str:
    labels = {k: v - s["trivial_labels"][k] for k, v in s["labels"].items()}
    found = ", ".join(f"{v} {k}" for k, v in labels.items() if v)
    c = s["counts"]
    return (f"{name}: {_trivial_total(s)} trivial ({c['trivial']} converged), "
            f"{found or 'no'} non-trivial converged, {c['max_steps']} capped, {c['nonfinite']} non-finite; "
            f"{s['solved']} solved")


def e9_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of E9, three tests of the paper's claim.

    * Outcome: BFGS and L-BFGS each end at the trivial point (converged or capped) in at most ``AVOIDS_SHARE`` of
      the seeds while Newton does more often.
    * Record: along the recorded quasi-Newton runs at least half of the seeds met negative curvature of the true
      Hessian, while no pair with yᵀs ≤ 0 entered an approximation (it had none, or it refuses them:
      ``solvers.REFUSES_BAD_PAIRS``) and the approximations recorded stayed positive definite.
    * Ablation (when ``solvers.ABLATIONS`` ran): BFGS at the fixed step η without its safeguard ends at the trivial
      point in more than ``AVOIDS_SHARE`` of the seeds while the guarded one does not; if not, the safeguard is
      not what keeps BFGS away from the trivial point.

    "reproduced" when every test run holds, "differs" when the outcome does not, "partly" otherwise.
    """
    compare, mechanism = summaries
    if compare is None:
        return NOT_RUN, NOT_RUN, "—"
    optimizers = compare["optimizers"]
    n = compare["n_seeds"]
    setting = "<br>".join(_optimizer_line(name, s) for name, s in optimizers.items())
    newton = _trivial_total(optimizers["newton"]) if "newton" in optimizers else n
    claimed = [o for o in QUASI_NEWTON_CLAIMED if o in optimizers]
    avoids = bool(claimed) and all(_trivial_total(optimizers[o]) <= AVOIDS_SHARE * n < newton for o in claimed)
    tests = [f"outcome {'holds' if avoids else 'does not hold'} (Newton {newton}/{n} trivial)"]
    parts, record = [], None
    if mechanism is not None:
        record = True
        for name, m in mechanism["optimizers"].items():
            parts.append(f"{name}: {m['seeds_meeting_negative_curvature']}/{m['n_seeds']} seeds met negative "
                         f"curvature (∇²L indefinite at {m['iterates_true_hessian_indefinite']}/{m['iterates']} "
                         f"recorded iterates, λ_min down to {m['most_negative_true_eigenvalue']:.2g}); yᵀs ≤ 0 in "
                         f"{m['bad_curvature_pairs']}/{m['curvature_pairs']} pairs"
                         + (" (refused)" if m["bad_curvature_pairs"] and name in REFUSES_BAD_PAIRS else "")
                         + (f"; approximation not positive definite at "
                            f"{m['iterates_approximation_not_positive_definite']} iterates"
                            if m["approximation_recorded"] else ""))
            if name not in ABLATIONS:
                record &= (2 * m["seeds_meeting_negative_curvature"] >= m["n_seeds"]
                           and (m["bad_curvature_pairs"] == 0 or name in REFUSES_BAD_PAIRS)
                           and m["iterates_approximation_not_positive_definite"] == 0)
        tests.append(f"safeguard record {'holds' if record else 'does not hold'}")
    ablation = None
    if all(a in optimizers for a in ABLATIONS):
        guarded, unguarded = (_trivial_total(optimizers[a]) for a in ABLATIONS)
        ablation = guarded <= AVOIDS_SHARE * n < unguarded
        indefinite = ""
        if mechanism is not None and ABLATIONS[1] in mechanism["optimizers"]:
            m = mechanism["optimizers"][ABLATIONS[1]]
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
    return setting, large, verdict if verdict == "reproduced" else f"{verdict}: " + "; ".join(tests)


def phase_map_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of the phase map: the paper's cell (η, ε of the base config), the grid and the widths.
    No verdict: the paper reports no other setting."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
    counts = summary["grid"]["counts"]
    etas, epss, n = summary["etas"], summary["epss"], summary["n_seeds"]

    def trivial(i: int, j: int) -> int:
        return counts["trivial"][i][j] + counts["capped_trivial"][i][j]

    setting = NOT_RUN
    if summary["base_eta"] in etas and summary["base_eps"] in epss:
        i, j = etas.index(summary["base_eta"]), epss.index(summary["base_eps"])
        setting = (f"η = {etas[i]:g}, ε = {epss[j]:g}, {summary['max_steps']} steps: {trivial(i, j)}/{n} at the "
                   f"trivial point ({counts['trivial'][i][j]} converged)")
    cells = [(trivial(i, j), etas[i], epss[j]) for i in range(len(etas)) for j in range(len(epss))]
    most = max(cells)
    fewest = min(cells)
    nontrivial = sum(counts[k][i][j] for k in ("minimum", "saddle", "other") for i in range(len(etas))
                     for j in range(len(epss)))
    minima = sum(counts["minimum"][i][j] for i in range(len(etas)) for j in range(len(epss)))
    widths = "; ".join(f"width {w} ({r['n_params']} p.): {r['counts']['trivial'] + r['trivial_at_cap']}/"
                       f"{r['n_seeds']} trivial" for w, r in summary["widths"].items())
    large = (f"{len(cells)} cells × {n} seeds: trivial in {fewest[0]}–{most[0]} per cell (most at η = {most[1]:g}, "
             f"ε = {most[2]:g}; fewest at η = {fewest[1]:g}, ε = {fewest[2]:g}); {nontrivial} non-trivial converged "
             f"runs of {len(cells) * n}, {minima} of them minima" + (f"<br>{widths}" if widths else ""))
    return setting, large, "extension (no paper number)"


E9_CAPTION = ("Left: where each optimiser's 16 seeds ended (trivial, non-trivial by Hessian label, capped, "
              "non-finite), all from E3's initial points; a zero-loss fit of this overparameterised network is "
              "labelled degenerate (≥ 40 zero eigenvalues). Right: every seed's loss history.",
              "The paper's claim: Newton ends at the trivial point; the quasi-Newton methods do not.")
MECHANISM_CAPTION = ("Along each quasi-Newton run, every 50 steps: the smallest eigenvalue of the true Hessian (red) "
                     "and of the quasi-Newton approximation B = H⁻¹ where it is at hand (blue); below, the iterate's "
                     "number of negative eigenvalues.",
                     "Red below zero while blue stays above it: the approximation refuses the negative curvature "
                     "the iterates sit in.")
PHASE_MAP_CAPTION = ("Damped Newton's endpoints over the (η, ε) grid, as counts of 16 seeds per cell (red box: the "
                     "paper's η = ε = 5e-2), and over hidden width at the paper's η, ε.",
                     "Where the trivial panels are bright, damped Newton still finds the trivial saddle.")


# ----------------------------------------------------------------------------- landscapes (E1, E2)

METHOD_NAMES = {"newton": "undamped Newton", "damped_newton": "damped Newton", "gradient_descent": "GD"}


def landscape_cells(paper_labels: dict[str, int]) -> Callable[[list[Summary]], tuple[str, str, str]]:
    """Cells of a known-answer landscape: the points found, the starts reaching each kind, the verdict."""

    def cells(summaries: list[Summary]) -> tuple[str, str, str]:
        (summary,) = summaries
        if summary is None:
            return NOT_RUN, NOT_RUN, "—"
        points = summary["stationary_points"]
        found = {label: sum(p["label"] == label for p in points)
                 for label in dict.fromkeys(p["label"] for p in points)}
        found_text = f"{len(points)} points: " + ", ".join(f"{n} {PLURALS.get(label, label) if n > 1 else label}" for label, n in found.items()) + "<br>" + \
            "; ".join(f"θ = ({', '.join(f'{t:.4f}' for t in p['theta'])}) {SHORT_NAMES[p['label']]} "
                      f"L = {p['loss']:.4f}" for p in points)
        fractions = summary["basin_fractions"]
        reach_text = f"{summary['n_starts']} starts:<br>" + "<br>".join(
            f"{METHOD_NAMES[m]}: {fraction_text(f)}" for m, f in fractions.items())
        missed = [k for k in paper_labels if fractions["newton"][k] == 0]
        if found != paper_labels:
            verdict = f"differs: found {found}, paper {paper_labels}"
        elif missed:
            verdict = f"differs: undamped Newton never reached a {', '.join(missed)}"
        else:
            verdict = "reproduced"
        return found_text, reach_text, verdict

    return cells


BASINS_CAPTION = ("Where each start converged, per method (undamped Newton, damped Newton, GD), coloured by the "
                  "stationary point reached; markers show the points by kind.",
                  "The paper's claim: Newton's basins cover every kind of point, gradient descent's only the minima.")


# ----------------------------------------------------------------------------- toy saddles

def saddles_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of the toy saddles: Newton's distance after one step, GD's escape steps, the verdict."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"

    def runs(function: str, method: str) -> list[dict]:
        return [r for r in summary["landscapes"][function]["runs"] if r["method"] == method]

    def escapes(function: str) -> str:
        return ", ".join(f"y₀ = {r['start'][1]:g}: {r['escape_step']}" for r in runs(function, "gradient_descent"))

    newton_one_step = max(r["distance_after_1_step"] for r in runs("saddle", "newton"))
    gd_escaped = all(r["escape_step"] is not None for r in runs("saddle", "gradient_descent"))
    monkey = summary["landscapes"]["monkey_saddle"]
    monkey_newton = max(r["final_distance"] for r in runs("monkey_saddle", "newton"))
    small = (f"x² − y²: undamped Newton ‖θ₁‖ ≤ {newton_one_step:.1e} after one step; "
             f"GD escape step {escapes('saddle')}")
    large = (f"x³ − 3xy² (origin {monkey['origin_label']}): Newton ends at ‖θ‖ ≤ {monkey_newton:.1e}; "
             f"GD escape step {escapes('monkey_saddle')}")
    if newton_one_step <= NEWTON_ONE_STEP_ATOL and gd_escaped:
        verdict = "reproduced"
    else:
        verdict = (f"differs: Newton ‖θ₁‖ = {newton_one_step:.1e} after one step"
                   + ("" if gd_escaped else "; a GD path never escaped"))
    return small, large, verdict


SADDLES_CAPTION = ("Top: gradient descent (solid) and undamped Newton (dashed) paths on x² − y² and x³ − 3xy². "
                   "Bottom: distance to the origin against step.",
                   "The teaching text's claim: Newton lands on the saddle in one step; GD slides toward it along x "
                   "and escapes along y, later the closer it starts to the x axis.")


# ----------------------------------------------------------------------------- random Hessians (E8)

def random_hessians_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of E8: definite matrices at the paper's size; small-n probabilities, fitted rate and index spread."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
    n_definite = summary["n_positive_definite"] + summary["n_negative_definite"]
    small = (f"{summary['n_positive_definite']} positive, {summary['n_negative_definite']} negative definite of "
             f"{summary['n_matrices']} ({summary['ensemble'].upper()}, n = {summary['size']}): P(definite) ≤ "
             f"{summary['definite_ci95'][1]:.1e}")
    probabilities = ", ".join(f"{r['n']}: {r['p_positive_definite']:.2g}" for r in summary["small_n"])
    fit = summary.get("fit")
    rate = (f"fitted rate θ = {fit['rate']:.3f} (ln p = c − b n − θ n²; {fit['quadratic_only']['rate']:.3f} without "
            f"the n term) vs ln 3 / 4 = {summary['asymptotic_rate']:.3f}" if fit else "too few definite samples to fit")
    large = f"P(positive definite) at n = {probabilities} ({summary['small_n'][0]['samples']} samples each); {rate}"
    sample = summary.get("eig_sample")
    if sample:
        large += (f"; index / n of {sample['matrices']}: {sample['index_fraction_mean']:.4f} ± "
                  f"{sample['index_fraction_sd']:.4f} (semicircle: 1/2)")
    verdict = "reproduced" if n_definite == 0 else f"differs: {n_definite} definite matrices"
    return small, large, verdict


RANDOM_HESSIANS_CAPTION = (
    "Left: the eigenvalues of the matrices that got every eigenvalue, against the semicircle law. Middle: their "
    "fraction of negative eigenvalues, against 1/2 and the GOE's leading-order spread. Right: P(positive definite) "
    "at small n by sampling (95% intervals), against exp(−(ln 3 / 4) n²) and the fits.",
    "The paper's argument: in high dimension almost no symmetric matrix is definite, so almost every stationary "
    "point is a saddle.")


# ----------------------------------------------------------------------------- index against loss

def _rho(result: dict | None) -> str:
    return (f"ρ = {result['rho']:.2f} (p = {result['p_value']:.1g}, {result['n_points']} points)" if result
            else "ρ undefined")


def index_loss_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of the index–loss picture: Spearman's ρ per folder, overall, and for the networks alone."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
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
    return per_folder, large, verdict


INDEX_LOSS_CAPTION = (
    "Index fraction (negative Hessian eigenvalues / P) against L / L(0) for every stationary point the runs found; "
    "right: the network sweeps' converged seeds alone, by Hessian label.",
    "The claim (Dauphin et al. 2014; Bray & Dean 2007): saddles of higher loss have higher index.")


# ----------------------------------------------------------------------------- the landscape between solutions

PAPER_TOY_RANGE = (0.64, 0.65)


def paths_toy_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of the companion paper's 2-D toy: straight and optimised heights, and the saddle Newton found."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
    heights = {float(lam): h for lam, h in summary["optimised_height"].items()}
    checked = {lam: h for lam, h in heights.items() if 10.0 <= lam <= 1000.0}
    saddles = summary["saddles"].values()
    indices = sorted({s["index"] for s in saddles if s["converged"]})
    setting = (f"straight {summary['straight_height']:.3f}; optimised "
               + ", ".join(f"{h:.3f} (λ = {lam:g})" for lam, h in checked.items()))
    large = (", ".join(f"λ = {lam:g}: {h:.3f}" for lam, h in heights.items() if lam not in checked)
             + f"; Newton from every path's top: index {indices} at f = "
             + ", ".join(sorted({f"{s['loss']:.4f}" for s in saddles if s["converged"]})))
    straight_ok = abs(summary["straight_height"] - 1.102) <= 5e-4
    low, high = PAPER_TOY_RANGE
    optimised_ok = bool(checked) and all(low - 5e-3 <= h <= high + 5e-3 for h in checked.values())
    if straight_ok and optimised_ok:
        return setting, large, "reproduced"
    if straight_ok:
        return setting, large, (f"partly: straight line reproduced; optimised {min(checked.values()):.2f}–"
                                f"{max(checked.values()):.2f}, not {low}–{high} (README)")
    return setting, large, "differs"


def digits_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of the digits study: the Table I analogue, and each of the companion paper's claims."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
    table = summary["table"]

    def line(name: str) -> str:
        r = table[name]
        return (f"{name}: train {r['mean_train_loss']:.2g}, test {r['mean_test_loss']:.2g}, barrier "
                f"{r['mean_barrier']:.2g} ({r['mean_barrier_above']:.2g} above the ends), spread {r['spread']:.3g}")

    setting = "<br>".join(line(n) for n in table if n.endswith("_train"))
    large = "early-stopped sets:<br>" + "<br>".join(line(n) for n in table if n.endswith("_test"))
    findings = summary["findings"]
    # The verdict uses the paper's barrier H = max L; the barrier above the ends is shown beside it.
    holds = {k: all(v["holds"] for v in f.values()) for k, f in findings.items() if k != "sgd_barriers_lower_above"}
    words = {"sgd_barriers_lower": "SGD barriers lower", "sgd_barriers_lower_above": "SGD barriers above the ends "
             "lower", "quasi_newton_deeper": "QN deeper",
             "quasi_newton_wider": "QN wider", "quasi_newton_generalises_worse": "QN generalises worse"}
    ratios = "; ".join(f"{words[k]} ×{f['train']['ratio']:.2g}" for k, f in findings.items())
    if all(holds.values()):
        return setting, large, f"reproduced (8×8 digits, not MNIST; QN / SGD, end-of-run sets: {ratios})"
    kinds = {"train": "end-of-run sets", "test": "early-stopped sets"}
    failed = "; ".join(f"{words[k]} fails for the " + " and ".join(kinds[kind] for kind, v in findings[k].items()
                                                                  if not v["holds"])
                       for k, ok in holds.items() if not ok)
    verdict = "partly" if any(holds.values()) else "differs"
    return setting, large, f"{verdict}: {failed} (QN / SGD, end-of-run sets: {ratios})"


def landscape_study_cells(summaries: list[Summary]) -> tuple[str, str, str]:
    """Cells of the E3 landscape: barriers within each group of end points, raw and canonical."""
    (summary,) = summaries
    if summary is None:
        return NOT_RUN, NOT_RUN, "—"
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
    return "<br>".join(parts), large, "extension (no paper number)"


PATHS_TOY_CAPTION = ("The companion paper's 2-D toy landscape with the straight path and the FourierPathFinder "
                     "paths for each λ (left), and f along each path (right); the cross is where Newton on ∇f went "
                     "from the optimised paths' highest samples.",
                     "An index-1 saddle below every path's top confirms that the paths cross the ridge at its pass.")
DIGITS_CAPTION = ("L-BFGS-GSS and mini-batch SGD on the 8×8 digits from the same 75 starts, the best 48 of each "
                  "set: barrier histograms (optimised and straight), spread about each set's centroid, kernel PCA "
                  "of the raw and canonical weights, and the median training curves.",
                  "The companion paper's claims: quasi-Newton barriers higher, its minima deeper, spread wider and "
                  "generalising worse.")
LANDSCAPE_CAPTION = ("E3's end points (make compare): barriers between trivial points and between non-trivial "
                     "points, raw and after removing the symmetries; the loss between a fit and its permuted, "
                     "sign-flipped copy; kernel PCA of every end point.",
                     "A midpoint far above two equal-loss ends is the non-convexity argument of the teaching text.")


# ----------------------------------------------------------------------------- the table

ROWS = (
    Row("E1", "unit circle, v = [2, 2]", "π/4 minimum, 5π/4 maximum; Newton finds both", ("circle",),
        landscape_cells({"minimum": 1, "maximum": 1}), (Figure("circle", "basins.png", BASINS_CAPTION),)),
    Row("E2", "elliptic torus R = 2, r = 1, e = 0.6, v = (0, 0, 0.5)",
        "8 points: 2 minima, 2 maxima, 4 saddles; Newton converges to every kind", ("torus",),
        landscape_cells({"minimum": 2, "maximum": 2, "saddle": 4}), (Figure("torus", "basins.png", BASINS_CAPTION),)),
    Row("E3", "tanh MLP 1-10-10-1, v = 2 sin(4πx), η = ε = 5e-2", "9/10 trivial", ("mlp_tanh", "mlp_tanh_100"),
        sweep_cells(9, 10), tuple(Figure(folder, file, caption) for folder in ("mlp_tanh", "mlp_tanh_100")
                                  for file, caption in E3_FIGURES)),
    Row("E4", "SIREN 1-10-10-1, sin(ω₀ ·), ω₀ = 4, v = 2 sin(4πx), η = 5e-2, ε = 1e-1", "4/5 trivial",
        ("siren",), first_seeds_cells(4, 5), tuple(Figure("siren", file, caption) for file, caption in E3_FIGURES)),
    Row("E5", "Fourier features (f = 10 rows of B, σ² = 1.5) into a tanh 20-10-10-1 MLP, v = 2 sin(4πx)",
        "about half trivial, most others do not converge", ("fourier",), first_seeds_cells(5, 10),
        tuple(Figure("fourier", file, caption) for file, caption in E3_FIGURES)),
    Row("E6", "1-D PINN u'' + v = 0, u = sin(2πx), N = x(1 − x)·MLP 1-10-10-1, η = ε = 5e-2", "5/5 trivial",
        ("pinn1d",), first_seeds_cells(5, 5), tuple(Figure("pinn1d", file, caption) for file, caption in PINN_FIGURES)),
    Row("E7", "2-D PINN ∇²u + u + v = 0, u = sin(πx) sin(πy), 10 × 10 nodes; Newton vs ADAM",
        "Newton goes trivial; ADAM solves the PDE", ("pinn2d",), pinn2d_cells,
        (Figure("pinn2d", "fields.png", FIELDS_CAPTION), Figure("pinn2d", "comparison.png", COMPARISON_CAPTION))),
    Row("E9", "every optimiser on E3 from the same 16 initial points; curvature along the quasi-Newton runs",
        "BFGS / L-BFGS avoid the trivial saddle: their curvature condition keeps the approximation positive definite",
        ("compare_mlp_tanh", "mechanism"), e9_cells,
        (Figure("compare_mlp_tanh", "comparison.png", E9_CAPTION), Figure("mechanism", "mechanism.png",
                                                                          MECHANISM_CAPTION))),
    Row("PM", "damped Newton on E3 over a grid of (η, ε), and over hidden width",
        "η = ε = 5e-2 only", ("phase_map",), phase_map_cells,
        (Figure("phase_map", "phase_map.png", PHASE_MAP_CAPTION),)),
    Row("PT", "FourierPathFinder on the companion paper's 2-D toy landscape, M = 100",
        "straight line 1.102; optimised ≈ 0.64–0.65 for λ = 10 … 1000", ("paths_toy",), paths_toy_cells,
        (Figure("paths_toy", "paths_toy.png", PATHS_TOY_CAPTION),)),
    Row("DS", "companion study offline: 8×8 digits, MLP 64-16-16-10 without biases, L-BFGS-GSS vs mini-batch SGD "
        "(batch 64), 75 starts, best 48",
        "SGD barriers lower; quasi-Newton deeper, spread wider, generalises worse (MNIST)", ("digits_study",),
        digits_cells, (Figure("digits_study", "digits_study.png", DIGITS_CAPTION),)),
    Row("LS", "paths, saddle checks, symmetry and kPCA on E3's end points (make compare)",
        "not in either paper", ("landscape",), landscape_study_cells,
        (Figure("landscape", "landscape.png", LANDSCAPE_CAPTION),)),
    Row("S", "toy saddles x² − y², x³ − 3xy² (teaching text)",
        "Newton lands on the saddle in one step; GD approaches, then escapes slowly", ("saddles",),
        saddles_cells, (Figure("saddles", "saddles.png", SADDLES_CAPTION),)),
    Row("E8", "random symmetric 140×140 matrices, standard-normal entries",
        "not one of 10⁵ definite", ("random_hessians",), random_hessians_cells,
        (Figure("random_hessians", "random_hessians.png", RANDOM_HESSIANS_CAPTION),)),
    Row("IL", "index against loss over every stationary point found (E1–E6)",
        "saddles of higher loss have higher index (Dauphin et al. 2014; Bray & Dean 2007)", ("index_loss",),
        index_loss_cells, (Figure("index_loss", "index_loss.png", INDEX_LOSS_CAPTION),)),
)

HEADER = ("| # | experiment | paper | this project, paper's setting | this project, larger sweep (95% CI) | verdict |\n"
          "|---|---|---|---|---|---|")


def table_row(results: Path, row: Row) -> str:
    """The markdown table row of one experiment."""
    small, large, verdict = row.cells([load_summary(results, f) for f in row.folders])
    return f"| {row.id} | {row.title} | {row.paper} | {small} | {large} | {verdict} |"


def results_table(results: Path, rows: tuple[Row, ...] = ROWS) -> str:
    """The results table: header and one row per experiment. The README holds a copy (``make readme-table``)."""
    return "\n".join([HEADER, *(table_row(results, r) for r in rows)])


README_START = "<!-- results-table: generated by `make readme-table` from docs/results; `make test` checks it -->"
README_END = "<!-- end results-table -->"


def readme_table(readme_text: str) -> str:
    """The results table between the README's markers."""
    if README_START not in readme_text or README_END not in readme_text:
        raise ValueError(f"README.md lacks the results-table markers {README_START!r} … {README_END!r}")
    return readme_text.split(README_START, 1)[1].split(README_END, 1)[0].strip()


def update_readme(readme: Path, results: Path, record: Path, rows: tuple[Row, ...] = ROWS) -> None:
    """Copy every row's ``summary.json`` from ``results`` into ``record`` and rewrite the README's table from it.

    ``record`` (``docs/results``) is committed, so ``make test`` can regenerate the table and compare.
    """
    missing = [f for row in rows for f in row.folders if load_summary(results, f) is None]
    if missing:
        raise ValueError(f"no complete run in {', '.join(str(Path(results) / f) for f in missing)}: "
                         "run `make paper` before `make readme-table`")
    for row in rows:
        for folder in row.folders:
            atomic_write_bytes(Path(record) / folder / "summary.json",
                               (Path(results) / folder / "summary.json").read_bytes())
    text = Path(readme).read_text()
    readme_table(text)  # checks the markers
    before, rest = text.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    table = results_table(record, rows)
    atomic_write_bytes(Path(readme), f"{before}{README_START}\n{table}\n{README_END}{after}".encode())


# ----------------------------------------------------------------------------- the report

def _run_heading(folder: str, summary: dict) -> str:
    size = (f"{summary['n_seeds']} seeds" if "n_seeds" in summary
            else f"{summary['n_starts']} starts" if "n_starts" in summary
            else f"{summary['n_matrices']} matrices of size {summary['size']}" if "n_matrices" in summary else "")
    parts = [p for p in (size, f"{summary['wall_seconds']:.0f} s", summary.get("finished_at")) if p]
    return f"`results/{folder}`: " + ", ".join(parts)


def _settings(config: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in config.items())


def _short(commit: str) -> str:
    head, dirty, _ = commit.partition("+dirty")
    return head[:12] + dirty


def _machine_text(machine: dict) -> str:
    return (f"{machine['processor']}, {machine['cpu_count']} cores, {machine['platform']}; JAX {machine['jax']} on "
            f"{machine['jax_backend']} ({', '.join(machine['devices'])}); Python {machine['python']}, "
            f"NumPy {machine['numpy']}, jaxnewton {machine['jaxnewton']} at {_short(machine['git_commit'])}")


def write_report(results: Path, rows: tuple[Row, ...] = ROWS, quick: bool = False,
                 now: datetime.datetime | None = None) -> Path:
    """Write ``results/REPORT.md`` from the results folders and return its path.

    Args:
      results: the folder holding one results folder per run.
      rows: the experiments to report.
      quick: mark the report as a quick (shrunk) run, not the reproduction.
      now: the time stamped on the report (default: now, UTC).
    """
    results = Path(results)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    lines = ["# jaxnewton results report", ""]
    if quick:
        lines += ["> **Quick run** (`make paper-quick`): every experiment shrunk to a first look (settings below). "
                  "These are not the paper's settings; `make paper` runs the reproduction.", ""]
    lines += [f"Generated by `make paper{'-quick' if quick else ''}` from `{results}/*/summary.json` on "
              f"{now.isoformat(timespec='seconds')}; do not edit.", "", "## Results", "", results_table(results, rows),
              ""]
    summaries = {f: load_summary(results, f) for row in rows for f in row.folders}
    for row in rows:
        if not any(summaries[f] for f in row.folders):
            continue
        lines += [f"## {row.id}: {row.title}", ""]
        for folder in row.folders:
            summary = summaries[folder]
            if summary is None:
                lines += [f"`results/{folder}`: {NOT_RUN}", ""]
                continue
            lines += [_run_heading(folder, summary), ""]
            if "counts" in summary and "n_seeds" in summary:
                lines += [f"Statuses {summary['counts']}; Hessian labels of the converged seeds "
                          f"{summary['labels']}.", ""]
            for n, figure in enumerate(f for f in row.figures if f.folder == folder):
                if (results / folder / figure.file).exists():
                    lines += [f"![{row.id} {folder} {figure.file}]({folder}/{figure.file})", "",
                              f"*Figure {row.id}.{folder}.{n + 1}.* {figure.caption[0]}  ",
                              figure.caption[1], ""]

    configs = {f: json.loads((results / f / "config.json").read_text()) for f, summary in summaries.items()
               if summary is not None and (results / f / "config.json").exists()}
    lines += ["## Settings of each run", ""]
    lines += [f"- `{folder}` (config hash {c['config_hash']}): {_settings(c['config'])}" for folder, c in configs.items()]
    lines += ["", "## Machine, versions and wall time", ""]
    machines: dict[str, list[str]] = {}
    for folder, c in configs.items():
        machines.setdefault(_machine_text(c["machine"]), []).append(folder)
    lines += [f"- {text} — ran {', '.join(folders)}" for text, folders in machines.items()]
    walls = {f: summaries[f]["wall_seconds"] for f in configs}
    lines += ["", "| run | wall time (s) |", "|---|---|", *(f"| {f} | {s:.0f} |" for f, s in walls.items()),
              f"| **total** | **{sum(walls.values()):.0f}** |", ""]
    paper_run = results / "paper_run.json"
    if paper_run.exists():
        last = json.loads(paper_run.read_text())
        ran = [f for f, r in last["runs"].items() if r["action"] == "ran"]
        skipped = [f for f, r in last["runs"].items() if r["action"] == "skipped"]
        lines += [f"The last `make paper{'-quick' if last['quick'] else ''}` took {last['seconds']:.0f} s from start "
                  f"to report (set-up excluded): ran {', '.join(ran) or 'nothing'}"
                  + (f"; skipped {', '.join(skipped)} (complete for the same config)" if skipped else "") + ".", ""]
    path = results / "REPORT.md"
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path
