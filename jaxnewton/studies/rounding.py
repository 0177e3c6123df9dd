"""How much of an outcome rounding decides: each seed rerun from θ₀ changed by one ulp (issue 44, row RR).

A ``RoundingConfig`` names seed-sweep configs (E3, E4, …) and a number of draws R. Each base runs R + 1 times: the
plain sweep (draw 0) and R sweeps whose every θ₀ entry is multiplied by 1 ± 2⁻⁵², the signs drawn from the seed's key
and the draw (``Config.rounding_draw``, ``engine.build.initial_points``). Everything else is bitwise the plain
run's, so a seed whose outcome changes between draws is one whose outcome rounding decides. Each draw is an ordinary
seed sweep in its own resumable folder ``<out>.cells/<base>-draw<r>-<hash>/``.

``summary.json`` per base: for each seed, how many of the R + 1 draws share the plain run's outcome; the share of
seeds whose outcome differs in at least one draw; the trivial rate of each draw; the pooled rate (the mean over seeds
of each seed's share of trivial draws) with a 95% interval from a two-stage bootstrap (seeds resampled, then draws
within each resampled seed), which carries both the seeds' and the draws' variation; and, for the paper's n seeds,
the chance of seeing the paper's count or more at the pooled rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from jaxnewton.version import __version__
from jaxnewton.engine.config import MAX_SEEDS, Config, ConfigBase, Run, load_config, override, require
from jaxnewton.engine.folders import made_by
from jaxnewton.engine.io import Log, Progress, write_summary
from jaxnewton.engine.outcomes import TRIVIAL
from jaxnewton.report.figures import save
from jaxnewton.report.table import NOT_RUN_CELLS, Cells, Figure, Row, Summary
from jaxnewton.studies.settings import cell_folder, run_cell

BOOTSTRAP = 4000  # two-stage bootstrap resamples
PAPER = {"mlp_tanh": (9, 10), "siren": (4, 5), "fourier": (5, 10), "pinn1d": (5, 5)}  # the paper's trivial k of n


@dataclass(frozen=True)
class RoundingConfig(ConfigBase):
    """R + 1 sweeps of each base, the plain one and R one-ulp draws (``studies.rounding``).

    Attributes:
      name: experiment name; results go to ``results/<name>/`` by default.
      bases: seed-sweep configs (``configs/<base>.py``), each a single-optimiser sweep.
      n_seeds: seeds per base.
      draws: R, the perturbed reruns of every seed.
      fixed: ``field=value`` changes made to every base.
      first_seeds: per base, a count n > 0 reports the first n seeds again on their own (E9's Newton is E3's first
        16 seeds at E3's settings); 0 for none.
    """

    name: str
    bases: tuple[str, ...] = ("mlp_tanh",)
    n_seeds: tuple[int, ...] = (100,)
    draws: int = 8
    fixed: tuple[str, ...] = ()
    first_seeds: tuple[int, ...] = ()

    def validate(self) -> None:
        require(len(self.bases) >= 1 and len(set(self.bases)) == len(self.bases), "bases", self.bases,
                "distinct seed-sweep config names")
        require(len(self.n_seeds) == len(self.bases) and all(1 <= n <= MAX_SEEDS for n in self.n_seeds), "n_seeds",
                self.n_seeds, f"one seed count 1 … {MAX_SEEDS} per base")
        require(1 <= self.draws <= 64, "draws", self.draws, "1 … 64 perturbed draws")
        require(not self.first_seeds or (len(self.first_seeds) == len(self.bases) and all(
            0 <= k <= n for k, n in zip(self.first_seeds, self.n_seeds))), "first_seeds", self.first_seeds,
            "one count per base, each 0 (none) … that base's n_seeds")
        for i, base in enumerate(self.bases):
            try:
                cell = draw_config(self, i, 1)
            except ValueError as error:
                raise ValueError(f"config field bases: {base}: {error}") from None
            require(isinstance(cell, Config) and not cell.optimizers, "bases", self.bases,
                    "single-optimiser seed-sweep configs (a comparison has one sweep per optimiser)")

    def depends_on(self) -> dict:
        return {"base_hashes": [load_config(b).hash() for b in self.bases]}


CONFIG = RoundingConfig


def draw_config(config: RoundingConfig, i: int, draw: int) -> Config:
    """Base i's sweep at draw ``draw`` (0: the plain run)."""
    return override(load_config(config.bases[i]), [*config.fixed, f"n_seeds={config.n_seeds[i]}",
                                                   f"rounding_draw={draw}"])


def two_stage_interval(trivial_SxD: np.ndarray, rng: np.random.Generator, n: int = BOOTSTRAP) -> tuple[float, float]:
    """95% percentile interval of the pooled trivial rate: seeds resampled, then each resampled seed's draws."""
    s, d = trivial_SxD.shape
    seeds = rng.integers(0, s, (n, s))
    draws = rng.integers(0, d, (n, s, d))
    rates = trivial_SxD[seeds[:, :, None], draws].mean(axis=(1, 2))
    low, high = np.quantile(rates, [0.025, 0.975])
    return float(low), float(high)


def at_least(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p)."""
    return float(sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1)))


def base_record(base: str, outcomes_SxD: np.ndarray, folders: list[Path], seconds: float) -> dict:
    """A base's line of ``summary.json`` from its draws' per-seed outcomes (draw 0 first)."""
    n_seeds, n_draws = outcomes_SxD.shape
    same = (outcomes_SxD == outcomes_SxD[:, :1]).sum(axis=1)  # draws sharing the plain run's outcome (itself included)
    trivial = outcomes_SxD == TRIVIAL
    low, high = two_stage_interval(trivial.astype(float), np.random.default_rng(0))
    pooled = float(trivial.mean())
    record = {
        "base": base, "n_seeds": int(n_seeds), "draws": int(n_draws - 1),
        "folders": [f"{f.parent.name}/{f.name}" for f in folders],
        "same_as_plain": {str(k): int((same == k).sum()) for k in range(1, n_draws + 1)},
        "decided_by_rounding": {"k": int((same < n_draws).sum()), "n": int(n_seeds),
                                "share": float((same < n_draws).mean())},
        "trivial_per_draw": [int(t) for t in trivial.sum(axis=0)],
        "pooled_trivial_rate": {"p": pooled, "ci_low": low, "ci_high": high,
                                "method": f"two-stage bootstrap, {BOOTSTRAP} resamples"},
        "wall_seconds": seconds,
    }
    if base in PAPER:
        k, n = PAPER[base]
        record["paper"] = {"k": k, "n": n, "p_at_least_at_pooled_rate": at_least(k, n, pooled),
                           "first_seeds_trivial_per_draw": [int(t) for t in trivial[:n].sum(axis=0)]}
    return record


def run(config: RoundingConfig, out_dir: Path | str, log: Log = print, progress: Progress | None = None) -> dict:
    """Run every draw of every base (skipping finished ones) and write ``summary.json`` and ``rounding.png``."""
    out = Path(out_dir)
    todo = [(i, r) for i in range(len(config.bases)) for r in range(config.draws + 1)]
    outcomes: dict[int, list] = {}
    folders: dict[int, list] = {}
    seconds: dict[int, float] = {}
    commits: set[str] = set()
    for k, (i, draw) in enumerate(todo):
        cell = draw_config(config, i, draw)
        folder = cell_folder(out, f"{config.bases[i]}-draw{draw}", cell)
        summary = run_cell(cell, folder, f"{config.bases[i]} draw {draw} ({k + 1}/{len(todo)}): {cell.n_seeds} seeds",
                           k / len(todo), 1 / len(todo), log, progress)
        outcomes.setdefault(i, []).append(summary["outcomes"])
        commits.add(made_by(summary))
        folders.setdefault(i, []).append(folder)
        seconds[i] = seconds.get(i, 0.0) + summary["wall_seconds"]
    records = []
    for i, base in enumerate(config.bases):
        outcomes_SxD = np.array(outcomes[i], dtype=object).T
        records.append(base_record(base, outcomes_SxD, folders[i], seconds[i]))
        first = config.first_seeds[i] if config.first_seeds else 0
        if first:
            records[-1]["first_seeds"] = {"n": first, **{k: v for k, v in base_record(
                base, outcomes_SxD[:first], [], 0.0).items() if k not in ("base", "folders", "wall_seconds")}}
    summary = {
        "experiment": config.name, "config_hash": config.hash(), "version": __version__, "bases": records,
        "commits": sorted(commits),
        "wall_seconds": sum(seconds.values()),
        "definitions": {
            "same_as_plain": "seeds by how many of the R + 1 draws (the plain run included) end with the plain run's "
                             "outcome (engine.outcomes: trivial, non-trivial <label>, capped …)",
            "decided_by_rounding": "seeds whose outcome differs in at least one one-ulp draw",
            "pooled_trivial_rate": "mean over seeds of the share of draws that converged to the trivial point, with a "
                                   "95% two-stage bootstrap interval (seeds, then draws within a seed)",
            "paper": "the paper's k of n; the chance of k or more of n at the pooled rate; the trivial count of the "
                     "first n seeds in each draw",
            "first_seeds": "the same record for the base's first n seeds alone (mlp_tanh's first 16: E9's Newton)",
        },
    }
    save(rounding_figure(summary), out / "rounding.png")
    write_summary(out, summary)
    log(f"[{config.name}] " + "; ".join(
        f"{r['base']}: {r['decided_by_rounding']['k']}/{r['n_seeds']} decided by rounding, pooled p = "
        f"{r['pooled_trivial_rate']['p']:.2f}" for r in records) + f" → {out}")
    return summary


def rounding_figure(summary: dict) -> plt.Figure:
    """Per base: seeds by how many draws share the plain run's outcome, and each draw's trivial count."""
    records = summary["bases"]
    fig, axes = plt.subplots(2, len(records), figsize=(5 * len(records), 7), squeeze=False)
    for col, r in enumerate(records):
        same = r["same_as_plain"]
        axes[0, col].bar([int(k) for k in same], list(same.values()), color="tab:blue")
        axes[0, col].set(xlabel=f"draws (of {r['draws'] + 1}) with the plain run's outcome", ylabel="seeds",
                         title=f"{r['base']}: {r['decided_by_rounding']['k']} of {r['n_seeds']} seeds decided by "
                               "rounding")
        per_draw = r["trivial_per_draw"]
        axes[1, col].plot(range(len(per_draw)), per_draw, "o-")
        pooled = r["pooled_trivial_rate"]
        axes[1, col].axhspan(pooled["ci_low"] * r["n_seeds"], pooled["ci_high"] * r["n_seeds"], alpha=0.2,
                             label="pooled rate, 95% two-stage bootstrap")
        axes[1, col].set(xlabel="draw (0: plain)", ylabel="seeds converged to the trivial point", ylim=(0, r["n_seeds"]))
        axes[1, col].legend(fontsize=7)
    fig.suptitle("Outcomes under one-ulp changes of θ₀", fontsize=10)
    fig.tight_layout()
    return fig


def rounding_cells(summaries: list[Summary]) -> Cells:
    (summary,) = summaries
    if summary is None:
        return NOT_RUN_CELLS

    def text(r: dict) -> str:
        p = r["pooled_trivial_rate"]
        return (f"{r['base']}: {r['decided_by_rounding']['k']}/{r['n_seeds']} seeds decided by rounding; trivial per "
                f"draw {min(r['trivial_per_draw'])}–{max(r['trivial_per_draw'])}, pooled p = {p['p']:.2f} "
                f"[{p['ci_low']:.2f}, {p['ci_high']:.2f}]")

    first = summary["bases"][0]
    paper = first.get("paper")
    setting = (f"{first['base']} seeds 0–{paper['n'] - 1}: trivial in draws "
               + ", ".join(map(str, paper["first_seeds_trivial_per_draw"])) if paper else text(first))
    verdict = "extension (no paper number)"
    if paper:
        verdict += (f"; the paper's {paper['k']}/{paper['n']} or more has chance "
                    f"{paper['p_at_least_at_pooled_rate']:.2g} at the pooled rate")
    larger = "; ".join(text(r) + (f" (its first {r['first_seeds']['n']} seeds: "
                                  f"{r['first_seeds']['decided_by_rounding']['k']} decided by rounding, pooled p = "
                                  f"{r['first_seeds']['pooled_trivial_rate']['p']:.2f})" if "first_seeds" in r else "")
                       for r in summary["bases"])
    return Cells(setting, larger, verdict, text(first))


ROWS = (
    Row("RR", "rounding ensemble", "each seed rerun from θ₀ changed by one ulp (R draws): how many outcomes rounding "
        "decides, and the trivial rate with an interval over seeds and draws, make rounding", "not studied",
        ("rounding",), rounding_cells,
        (Figure("rounding", "rounding.png",
                ("Seeds by how many one-ulp draws end with the plain run's outcome; each draw's trivial count with "
                 "the pooled rate's interval.",
                 "A seed whose outcome changes under one ulp is decided by rounding, not by the method.")),),
        own_target="make rounding"),
)
RUNS: tuple[Run, ...] = ()  # its own target (make rounding): 30 minutes on 2 cores (configs/rounding.py)
