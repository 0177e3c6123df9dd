"""Every experiment at the paper's settings, then results/REPORT.md.

Run:      make paper
Runtime:  see the README's experiment table (E3 at 100 seeds dominates).

Each experiment resumes from its checkpoints, so an interrupted `make paper` picks up
where it stopped and a finished experiment only has its outputs rewritten.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from jaxnewton.config import load_config
from jaxnewton.experiment import run_experiment
from jaxnewton.report import PAPER_ROWS, write_report

LARGE_SWEEP_SEEDS = 100


def main() -> None:
    results = Path("results")
    jobs = []
    for paper in PAPER_ROWS:
        config = load_config(paper.folder)
        jobs.append((config, results / paper.folder))
        jobs.append((dataclasses.replace(config, n_seeds=LARGE_SWEEP_SEEDS), results / paper.large_folder))
    for k, (config, out) in enumerate(jobs, 1):
        print(f"=== experiment {k}/{len(jobs)}: {config.name}, {config.n_seeds} seeds → {out}")
        run_experiment(config, out)
    print(f"wrote {write_report(results)}")


if __name__ == "__main__":
    main()
