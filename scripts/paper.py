"""Every experiment at the paper's settings, then results/REPORT.md.

Run:      make paper
Runtime:  see the README's experiment table (E3 at 100 seeds dominates; E1, E2 and the saddles
          take about half a minute together and run first).

Each experiment resumes from its checkpoints, so an interrupted `make paper` picks up
where it stopped and a finished experiment only has its outputs rewritten.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from jaxnewton.cli import run_config
from jaxnewton.config import Config, load_config
from jaxnewton.report import EXTRA_FIGURES, LANDSCAPE_ROWS, PAPER_ROWS, write_report

LARGE_SWEEP_SEEDS = 100


def main() -> None:
    results = Path("results")
    jobs = [(load_config(name), results / name)
            for name in [p.folder for p in LANDSCAPE_ROWS] + [folder for folder, _, _ in EXTRA_FIGURES]]
    for paper in PAPER_ROWS:
        config = load_config(paper.folder)
        jobs.append((config, results / paper.folder))
        jobs.append((dataclasses.replace(config, n_seeds=LARGE_SWEEP_SEEDS), results / paper.large_folder))
    for k, (config, out) in enumerate(jobs, 1):
        size = f"{config.n_seeds} seeds" if isinstance(config, Config) else type(config).__name__
        print(f"=== experiment {k}/{len(jobs)}: {config.name}, {size} → {out}")
        run_config(config, out)
    print(f"wrote {write_report(results)}")


if __name__ == "__main__":
    main()
