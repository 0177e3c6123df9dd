"""results/REPORT.md, generated from the results folders' summary.json files.

Seed sweeps (E3): each row sets the paper's count against this project's count at the
paper's seed count and at the larger seed count with its 95% Wilson interval. The verdict
is "reproduced" when the paper's proportion lies inside that interval, "differs" otherwise.

Known-answer landscapes (E1, E2): each row lists the stationary points found with their
labels and the fraction of grid starts each method took to each kind. The verdict is
"reproduced" when the label counts are the paper's and undamped Newton reached every
kind of point the paper says it finds, "differs" (saying how) otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from jaxnewton.plots import FIGURES
from jaxnewton.results import atomic_write_bytes
from jaxnewton.stationary import SHORT_NAMES, fraction_text


class PaperRow(NamedTuple):
    """One experiment of the paper: where its results live and what the paper found."""

    id: str
    title: str
    folder: str  # results/<folder>: the paper's seed count
    large_folder: str  # results/<large_folder>: the larger sweep
    paper_trivial: int
    paper_seeds: int


PAPER_ROWS = (
    PaperRow("E3", "tanh MLP 1-10-10-1, v = 2 sin(4πx), η = ε = 5e-2", "mlp_tanh", "mlp_tanh_100", 9, 10),
)

class LandscapeRow(NamedTuple):
    """One known-answer landscape of the paper."""

    id: str
    title: str
    folder: str
    paper_text: str
    paper_labels: dict[str, int]  # the paper's stationary points by label; Newton should reach each kind


LANDSCAPE_ROWS = (
    LandscapeRow("E1", "unit circle, v = [2, 2]", "circle",
                 "π/4 minimum, 5π/4 maximum; Newton finds both", {"minimum": 1, "maximum": 1}),
    LandscapeRow("E2", "elliptic torus R = 2, r = 1, e = 0.6, v = (0, 0, 0.5)", "torus",
                 "8 points: 2 minima, 2 maxima, 4 saddles; Newton converges to every kind",
                 {"minimum": 2, "maximum": 2, "saddle": 4}),
)
EXTRA_FIGURES = (("saddles", "saddles.png", "Toy saddles x² − y² and x³ − 3xy²: gradient descent vs undamped Newton"),)
METHOD_NAMES = {"newton": "undamped Newton", "damped_newton": "damped Newton", "gradient_descent": "GD"}

HEADER = ("| # | experiment | paper | this project, paper's seeds | this project, larger sweep (95% CI) | verdict |\n"
          "|---|---|---|---|---|---|")


def _load(results: Path, folder: str) -> dict | None:
    path = results / folder / "summary.json"
    return json.loads(path.read_text()) if path.exists() else None


def _counts(summary: dict) -> str:
    c = summary["counts"]
    n = summary["n_seeds"]
    extra = ", ".join(f"{c[k]} {k}" for k in ("max_steps", "nonfinite") if c[k])
    return f"{c['trivial']}/{n} trivial" + (f" ({extra})" if extra else "")


def row(results: Path, paper: PaperRow) -> str:
    """The markdown table row of one experiment."""
    small, large = _load(results, paper.folder), _load(results, paper.large_folder)
    paper_text = f"{paper.paper_trivial}/{paper.paper_seeds} trivial"
    small_text = _counts(small) if small else "not run"
    if large is None:
        return f"| {paper.id} | {paper.title} | {paper_text} | {small_text} | not run | — |"
    rate = large["trivial_rate"]
    low, high = rate["ci95"]
    p_paper = paper.paper_trivial / paper.paper_seeds
    verdict = "reproduced" if low <= p_paper <= high else (
        f"differs: paper {p_paper:.2f} outside [{low:.2f}, {high:.2f}]")
    large_text = f"{_counts(large)}: p = {rate['p']:.2f} [{low:.2f}, {high:.2f}]"
    return f"| {paper.id} | {paper.title} | {paper_text} | {small_text} | {large_text} | {verdict} |"


def results_table(results: Path) -> str:
    """The results table (header and one row per experiment of ``PAPER_ROWS``)."""
    return "\n".join([HEADER, *(row(results, p) for p in PAPER_ROWS)])


LANDSCAPE_HEADER = ("| # | landscape | paper | stationary points found | starts reaching each kind | verdict |\n"
                    "|---|---|---|---|---|---|")
def landscape_row(results: Path, paper: LandscapeRow) -> str:
    """The markdown row of one known-answer landscape."""
    summary = _load(results, paper.folder)
    if summary is None:
        return f"| {paper.id} | {paper.title} | {paper.paper_text} | not run | | — |"
    points = summary["stationary_points"]
    found = {label: sum(p["label"] == label for p in points) for label in dict.fromkeys(p["label"] for p in points)}
    found_text = f"{len(points)}: " + ", ".join(f"{n} {label}" for label, n in found.items()) + "<br>" + "; ".join(
        f"θ = ({', '.join(f'{t:.4f}' for t in p['theta'])}) {SHORT_NAMES[p['label']]} L = {p['loss']:.4f}" for p in points)
    fractions = summary["basin_fractions"]
    reach_text = "<br>".join(
        f"{METHOD_NAMES[m]}: {fraction_text(f)}"
        for m, f in fractions.items())
    missed = [k for k in paper.paper_labels if fractions["newton"][k] == 0]
    if found != paper.paper_labels:
        verdict = f"differs: found {found}, paper {paper.paper_labels}"
    elif missed:
        verdict = f"differs: undamped Newton never reached a {', '.join(missed)}"
    else:
        verdict = "reproduced"
    return f"| {paper.id} | {paper.title} | {paper.paper_text} | {found_text} | {reach_text} | {verdict} |"


def landscape_table(results: Path) -> str:
    """The known-answer landscape table (header and one row per ``LANDSCAPE_ROWS`` entry)."""
    return "\n".join([LANDSCAPE_HEADER, *(landscape_row(results, p) for p in LANDSCAPE_ROWS)])


def write_report(results: Path) -> Path:
    """Write ``results/REPORT.md`` and return its path."""
    lines = ["# jaxnewton results report", "", "Generated by `make paper` from the results folders; do not edit.",
             "", results_table(results), "", landscape_table(results), ""]
    for paper in PAPER_ROWS:
        for folder in (paper.folder, paper.large_folder):
            summary = _load(results, folder)
            if summary is None:
                continue
            lines += [f"## {paper.id}: `results/{folder}` ({summary['n_seeds']} seeds, "
                      f"{summary['wall_seconds']:.0f} s)", "",
                      f"Statuses {summary['counts']}; Hessian labels of converged seeds {summary['labels']}.", ""]
            lines += [f"![{name}]({folder}/{name}.png)" for name in FIGURES]
            lines.append("")
    for paper in LANDSCAPE_ROWS:
        summary = _load(results, paper.folder)
        if summary is not None:
            lines += [f"## {paper.id}: `results/{paper.folder}` ({summary['n_starts']} starts, "
                      f"{summary['wall_seconds']:.0f} s)", "", f"![basins]({paper.folder}/basins.png)", ""]
    for folder, figure, title in EXTRA_FIGURES:
        if (results / folder / figure).exists():
            lines += [f"## {title}: `results/{folder}`", "", f"![{folder}]({folder}/{figure})", ""]
    path = results / "REPORT.md"
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path
