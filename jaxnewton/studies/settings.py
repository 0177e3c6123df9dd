"""Which reading of the paper's unstated settings reproduces it: one seed sweep per cell of a settings grid.

The paper leaves several settings of its experiments unstated (``docs/choices.md``): how the loss is
reduced over the nodes, the bias initialisation, Xavier uniform or normal, float32 or float64, the cap, and
what its tolerance T bounds. Each is a ``Config`` field. A ``SettingsConfig`` names a base experiment and
its *factors*, each a field with the values to try besides the base's. The cells are

- the base itself;
- every factor's values alone (one factor at a time, the rest at the base), which measures each factor;
- the full cross of the factors named in ``cross`` (those measured to move the result), where given;
- the ``pairs``: single cells of two factor values together, where one factor moves the result and the full
  cross of it with the others would cost more than asking whether each other factor changes its effect.

Each cell is an ordinary seed sweep (``studies.seeds``) of the base config with the cell's changes, into its
own results folder ``<out>.cells/<cell>-<config hash>/`` beside the study's folder: a cell is exactly the plain
run of its config, checkpointed and resumable like one, and a finished cell is never rerun, even by a grid
that adds factors or crosses them later (the study's own folder is cleared when its config changes; the
cells, each one config's run, are kept). ``summary.json`` lists every cell with its factor values, p(converged at the
trivial point), p(at the trivial point at the end, converged or capped), p(fit v), each with a 95% Wilson
interval, the median steps, and its difference from the base (a 95% Newcombe interval: a factor "moves"
the result when that interval excludes 0).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.core import stats
from jaxnewton.engine.config import MAX_SEEDS, Config, BasedConfig, Run, base_config, override, require
from jaxnewton.engine.folders import load_summary, run_in_folder
from jaxnewton.engine.io import Log, Progress, write_summary
from jaxnewton.engine.outcomes import AT_TRIVIAL, TRIVIAL
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies import seeds

BASE_CELL = "base"


@dataclass(frozen=True)
class SettingsConfig(BasedConfig):
    """A grid of readings of the paper's unstated settings, one seed sweep per cell (``studies.settings``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      base: the seed-sweep config every cell starts from (its ``optimizers`` must be empty).
      n_seeds: seeds per cell (the same seeds, hence the same θ₀ where the initialisation is not a factor).
      fixed: ``field=value`` changes made to the base in every cell (e.g. a lower cap for a pilot).
      factors: one entry per factor, ``field=value|value…``: the values tried besides the base's.
      cross: factor fields whose values are crossed in full (every combination, base values included), after
        one-factor-at-a-time cells have shown that they move the result; empty: no cross.
      pairs: extra cells, each ``field=value field=value`` of two (or more) factor values together, in the order
        they run (e.g. the one factor that moves the result with each other factor's values); empty: none.
      paper_trivial, paper_seeds: the paper's count of seeds converged at the trivial point, of how many.
    """

    name: str
    base: str = "mlp_tanh"
    n_seeds: int = 100
    fixed: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    cross: tuple[str, ...] = ()
    pairs: tuple[str, ...] = ()
    paper_trivial: int = 9
    paper_seeds: int = 10

    def validate(self) -> None:
        base = base_config(self)
        require(not base.optimizers, "base", self.base, "a single-optimiser sweep config (no optimizers field)")
        require(1 <= self.n_seeds <= MAX_SEEDS, "n_seeds", self.n_seeds, f"1 … {MAX_SEEDS} seeds per cell")
        factors = factor_values(self)  # checks the syntax
        require(len(factors) == len(self.factors), "factors", self.factors, "each field at most once")
        require(len(self.cross) != 1 and set(self.cross) <= set(factors), "cross", self.cross,
                f"two or more of the factor fields {list(factors)}, or nothing")
        for entry in self.pairs:
            require(pair_changes(self, entry) is not None, "pairs", entry,
                    "entries 'field=value field=value' of two or more different factors, each value one of the "
                    "factor's, e.g. pairs=max_steps=50000 dtype=float32")
        require(0 <= self.paper_trivial <= self.paper_seeds and self.paper_seeds >= 1, "paper_trivial",
                self.paper_trivial, "a count between 0 and paper_seeds")
        grid = cells(self)
        distinct = {frozenset(changes.items()) for _, changes in grid}
        require(len(distinct) == len(grid), "pairs", self.pairs, "cells not already in the grid (once each)")
        for label, changes in grid:
            self.require_builds("factors", f"cell {label}", lambda: cell_config(self, changes))


CONFIG = SettingsConfig


SMOKE_FIXED = ("max_steps=10", "segment_steps=5", "history_stride=5", "widths=4", "n_points=20")


def smoke_grid(config: SettingsConfig, factor: str, fixed: tuple[str, ...] = SMOKE_FIXED) -> SettingsConfig:
    """A grid's shrunk-down variant (``--smoke``, the tests): 2 seeds, the base and one factor, tiny runs."""
    return dataclasses.replace(config, n_seeds=2, factors=(factor,), cross=(), pairs=(), fixed=fixed)


def factor_values(config: SettingsConfig) -> dict[str, list[str]]:
    """``{field: [value text, …]}`` of the factors, in their order (a ValueError for a malformed entry)."""
    fields = {f.name for f in dataclasses.fields(Config)} - {"name", "n_seeds", "optimizers"}
    out: dict[str, list[str]] = {}
    for entry in config.factors:
        field, _, values = entry.partition("=")
        require(field.strip() in fields and values.strip() != "", "factors", entry,
                "entries field=value|value… over Config fields, e.g. factors=loss_reduction=sum|half_mean,dtype=float32")
        out[field.strip()] = [v.strip() for v in values.split("|") if v.strip()]
    return out


def pair_changes(config: SettingsConfig, entry: str) -> dict[str, str] | None:
    """A ``pairs`` entry as ``{field: value text}``, or None where it is not two or more factors' values."""
    factors = factor_values(config)
    changes: dict[str, str] = {}
    for item in entry.split():
        field, _, value = item.partition("=")
        if field not in factors or value not in factors[field] or field in changes:
            return None
        changes[field] = value
    return changes if len(changes) >= 2 else None


def cells(config: SettingsConfig) -> list[tuple[str, dict[str, str]]]:
    """Every cell as ``(label, {field: value text})``: the base, each factor value alone, the cross, the pairs."""
    factors = factor_values(config)
    out: list[tuple[str, dict[str, str]]] = [(BASE_CELL, {})]
    for field, values in factors.items():
        out += [(f"{field}={v}", {field: v}) for v in values]
    if config.cross:
        axes = [[None, *factors[f]] for f in config.cross]  # None: the base's value
        for combo in itertools.product(*axes):
            changes = {f: v for f, v in zip(config.cross, combo) if v is not None}
            if len(changes) >= 2:
                out.append((_label(changes), changes))
    out += [(_label(changes), changes) for changes in (pair_changes(config, entry) for entry in config.pairs)]
    return out


def _label(changes: dict[str, str]) -> str:
    """A cell's label from its changes, e.g. ``max_steps=50000 dtype=float32``."""
    return " ".join(f"{f}={v}" for f, v in changes.items())


def cell_config(config: SettingsConfig, changes: dict[str, str]) -> Config:
    """The seed-sweep config of a cell: the base with ``fixed``, ``n_seeds`` and the cell's changes."""
    assignments = [*config.fixed, f"n_seeds={config.n_seeds}", *(f"{k}={v}" for k, v in changes.items())]
    return override(base_config(config), assignments)


def cell_folder(out: Path, label: str, config: Config) -> Path:
    """A cell's results folder: ``<out>.cells/<label>-<config hash>`` (``=`` → ``-``, spaces → ``__``)."""
    out = Path(out)
    return out.parent / f"{out.name}.cells" / f"{label.replace('=', '-').replace(' ', '__')}-{config.hash()}"


def run_cell(cell: Config, folder: Path, what: str, start: float, share: float, log: Log,
             progress: Progress | None) -> dict:
    """A cell's seed-sweep summary: read back where ``folder`` holds its finished run, else run it there (resumable).

    ``what`` names the cell in the log; its progress fills [start, start + share) of the study's.
    """
    summary = load_summary(folder, cell.hash())
    if summary is not None:
        return summary
    log(what)

    def sub(fraction: float, text: str) -> None:
        progress(start + share * fraction, f"{what}: {text}")

    return run_in_folder(seeds.run, cell, folder, log, sub if progress else None, policy="replace")


def proportion(k: int, n: int) -> dict[str, float]:
    """``core.stats.proportion`` with its interval as the issue's ``ci_low`` / ``ci_high`` fields."""
    rate = stats.proportion(k, n)
    low, high = rate.pop("ci95")
    return {**rate, "ci_low": low, "ci_high": high}


def difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """p_a − p_b with Newcombe's hybrid score 95% interval (from the two Wilson intervals; unpaired, so
    conservative for cells that share their seeds)."""
    d = a["p"] - b["p"]
    low = d - math.sqrt((a["p"] - a["ci_low"]) ** 2 + (b["ci_high"] - b["p"]) ** 2)
    high = d + math.sqrt((a["ci_high"] - a["p"]) ** 2 + (b["p"] - b["ci_low"]) ** 2)
    return {"d": d, "ci_low": low, "ci_high": high, "moves": not low <= 0.0 <= high}


def cell_record(label: str, changes: dict[str, str], config: Config, summary: dict, factors: list[str],
                folder: Path) -> dict:
    """A cell's line of ``summary.json`` from its seed sweep's summary."""
    n = summary["n_seeds"]
    outcomes = summary["outcomes"]
    return {
        "cell": label,
        "folder": f"{folder.parent.name}/{folder.name}",
        "config_hash": config.hash(),
        "changes": changes,
        **{field: getattr(config, field) for field in factors},
        "n_seeds": n,
        "p_trivial_converged": proportion(outcomes.count(TRIVIAL), n),
        "p_trivial_end": proportion(sum(o in AT_TRIVIAL for o in outcomes), n),
        "p_fit": proportion(summary["solved"], n),
        "counts": summary["counts"],
        "median_steps": summary["median_steps"],
        "wall_seconds": summary["wall_seconds"],
    }


def run(config: SettingsConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every cell (skipping finished ones) and write ``summary.json`` and ``settings.png``."""
    out = Path(out_dir)
    grid = cells(config)
    factors = list(factor_values(config))
    log(f"[{config.name}] {len(grid)} cells × {config.n_seeds} seeds of {config.base}: "
        + ", ".join(label for label, _ in grid))
    records = []
    for i, (label, changes) in enumerate(grid):
        cell = cell_config(config, changes)
        folder = cell_folder(out, label, cell)
        summary = run_cell(cell, folder, f"cell {i + 1}/{len(grid)}: {label}", i / len(grid), 1 / len(grid), log,
                           progress)
        records.append(cell_record(label, changes, cell, summary, factors, folder))
    base = records[0]
    for record in records:
        record["vs_base"] = {k: difference(record[k], base[k]) for k in ("p_trivial_converged", "p_trivial_end", "p_fit")}
    paper = proportion(config.paper_trivial, config.paper_seeds)
    nearest = min(records, key=lambda r: abs(r["p_trivial_converged"]["p"] - paper["p"]))
    summary = {
        "experiment": config.name,
        "config_hash": config.hash(),
        "version": __version__,
        "base": config.base,
        "n_seeds": config.n_seeds,
        "factors": {f: [str(getattr(base_config(config), f)), *v] for f, v in factor_values(config).items()},
        "fixed": list(config.fixed),
        "cross": list(config.cross),
        "pairs": list(config.pairs),
        "paper": paper,
        "cells": records,
        "moving_factors": sorted({f for r in records[1:] if len(r["changes"]) == 1
                                  and r["vs_base"]["p_trivial_converged"]["moves"] for f in r["changes"]}),
        "reproducing_cells": [r["cell"] for r in records
                              if r["p_trivial_converged"]["ci_low"] <= paper["p"] <= r["p_trivial_converged"]["ci_high"]],
        "nearest_cell": nearest["cell"],
        "wall_seconds": sum(r["wall_seconds"] for r in records),
        "definitions": {
            "p_trivial_converged": "seeds that met the tolerance at a point meeting the trivial rule, with a 95% "
                                   "Wilson interval",
            "p_trivial_end": "seeds whose end point meets the trivial rule, converged or capped",
            "p_fit": f"seeds whose relative L2 error against v is ≤ {seeds.SOLVED_L2:g}",
            "vs_base": "the cell's p minus the base cell's, with a 95% Newcombe interval; moves: it excludes 0",
            "moving_factors": "factors with a one-factor cell whose p_trivial_converged moves",
            "reproducing_cells": "cells whose 95% interval of p_trivial_converged holds the paper's proportion",
            "nearest_cell": "the cell whose p_trivial_converged is nearest the paper's proportion",
        },
    }
    save(settings_figure(summary), out / "settings.png")
    write_summary(out, summary)
    log(f"[{config.name}] nearest the paper's {config.paper_trivial}/{config.paper_seeds}: {nearest['cell']} "
        f"({nearest['p_trivial_converged']['k']}/{nearest['n_seeds']}); moving factors: "
        f"{summary['moving_factors'] or 'none'} → {out}")
    return summary


def settings_figure(summary: dict) -> plt.Figure:
    """Per cell: p(converged trivial), p(trivial at the end) and p(fit v) with 95% intervals, against the paper."""
    records = summary["cells"]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(records) + 2.0))
    y = np.arange(len(records))[::-1]
    paper = summary["paper"]
    ax.axvspan(paper["ci_low"], paper["ci_high"], color="0.9", label=f"paper {paper['k']}/{paper['n']} (95% CI)")
    ax.axvline(paper["p"], color="0.5", lw=1)
    for key, offset, style, name in (("p_trivial_converged", 0.2, "o", "converged at the trivial point"),
                                     ("p_trivial_end", 0.0, "s", "at the trivial point at the end"),
                                     ("p_fit", -0.2, "^", "fit v (relative L2 error ≤ 1e-2)")):
        p = np.array([r[key]["p"] for r in records])
        err = np.array([[r[key]["p"] - r[key]["ci_low"], r[key]["ci_high"] - r[key]["p"]] for r in records]).T
        ax.errorbar(p, y + offset, xerr=err, fmt=style, ms=5, capsize=2, label=name,
                    mfc="white" if style != "o" else None)
    ax.set_yticks(y, [r["cell"] for r in records], fontsize=8)
    ax.set(xlim=(0, 1), xlabel="proportion of seeds (95% Wilson interval)",
           title=f"{summary['base']}: {summary['n_seeds']} seeds per cell")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def settings_cells(summaries: list[Summary]) -> Cells:
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS
    paper, records = summary["paper"], summary["cells"]
    base = records[0]

    def text(r: dict) -> str:
        p = r["p_trivial_converged"]
        return f"{r['cell']}: {p['k']}/{p['n']} [{p['ci_low']:.2f}, {p['ci_high']:.2f}]"

    nearest = next(r for r in records if r["cell"] == summary["nearest_cell"])
    reproducing = summary["reproducing_cells"]
    moving = summary["moving_factors"]
    verdict = (f"reproduced by {', '.join(reproducing)}" if reproducing else
               f"differs: no reading holds the paper's {paper['p']:.2f}; nearest {text(nearest)}")
    larger = "; ".join(text(r) for r in records)
    headline = (f"{len(records)} readings × {summary['n_seeds']} seeds: base {base['p_trivial_converged']['k']}/"
                f"{base['n_seeds']}; nearest {text(nearest)}; moved by: {', '.join(moving) or 'none'}")
    return Cells(text(base), larger, verdict, headline)


def settings_row(id: str, experiment: str, folder: str, what: str, paper: str) -> Row:
    """The results-table row of a settings grid whose summary is ``docs/results/<folder>`` (its own make target)."""
    target = f"make {folder.replace('_', '-')}"
    return Row(id, f"{experiment} settings grid", f"damped Newton on {experiment} over the readings of the paper's "
               f"unstated settings ({what}), {target}", paper, (folder,), settings_cells,
               (Figure(folder, "settings.png",
                       ("p(converged at the trivial point), p(at the trivial point at the end) and p(fit v) per "
                        "reading, with 95% intervals; the band is the paper's count with its interval.",
                        "A reading reproduces the paper where its interval reaches the band's centre line.")),),
               own_target=target)


ROWS = (
    settings_row("ST", "E3", "settings", "loss reduction, bias and weight init, precision, cap, what T bounds",
                 "9/10 trivial (settings unstated)"),
    settings_row("S4", "E4", "settings_siren", "mean or sum, float64 or float32", "4/5 trivial"),
    settings_row("S5", "E5", "settings_fourier", "σ² as variance or standard deviation, 2π or not, mean or sum",
                 "about half trivial (B unstated)"),
    settings_row("S6", "E6", "settings_pinn1d", "½ or not, mean or sum, v's amplitude", "5/5 trivial (v unstated)"),
)
RUNS: tuple[Run, ...] = ()  # its own target (make settings): hours of CPU, read from docs/results by the report
