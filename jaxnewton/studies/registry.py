"""Every study, in the order ``make paper`` runs them and the results table lists their rows.

A new study is one module in this package (``CONFIG``, ``run``, ``ROWS``, ``RUNS``: the package docstring),
its entry in ``MODULES``, a config file under ``configs/`` and a Makefile line. The CLI runs a config
with ``study_of(config).run``; ``make paper`` runs ``RUNS`` and reports ``ROWS``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable, NamedTuple

from jaxnewton.engine import distributed
from jaxnewton.engine.config import ConfigBase, Run
from jaxnewton.engine.folders import Policy, run_in_folder
from jaxnewton.engine.io import Log, Progress
from jaxnewton.report.table import Row
from jaxnewton.studies import (basins, compare, digits, index_loss, landscape, mechanism, paths_toy, phase_map,
                               random_hessians, real_data, rounding, saddles, seeds, settings, widths)


class Study(NamedTuple):
    """One study module's entry points."""

    name: str
    config_type: type
    run: Callable[[Any, Path, Log, Progress | None], dict]
    runs: tuple[Run, ...]
    rows: tuple[Row, ...]
    selects: Callable[[Any], bool] | None  # where two studies share a config type: which configs are this one's
    check: Callable[[Any], None] | None  # refuses (ValueError) what cannot run, before its folder is touched

    @classmethod
    def of(cls, module: ModuleType) -> Study:
        return cls(module.__name__.rsplit(".", 1)[1], module.CONFIG, module.run, module.RUNS, module.ROWS,
                   getattr(module, "selects", None), getattr(module, "check", None))


# index_loss reads the runs before it, and landscape reads compare's: order matters.
MODULES = (basins, seeds, settings, widths, real_data, rounding, compare, mechanism, phase_map, paths_toy, digits, landscape, saddles,
           random_hessians, index_loss)
STUDIES = tuple(Study.of(module) for module in MODULES)
ROWS = tuple(row for study in STUDIES for row in study.rows)
RUNS = tuple(run for study in STUDIES for run in study.runs)


def study_of(config: ConfigBase) -> Study:
    """The study that runs ``config`` (its config type, and its ``selects`` where a type has two studies)."""
    for study in STUDIES:
        if isinstance(config, study.config_type) and (study.selects is None or study.selects(config)):
            return study
    raise ValueError(f"no study runs a {type(config).__name__}: register its module in jaxnewton.studies.registry")


def run_config(config: ConfigBase, out: Path, log: Log = print, progress: Progress | None = None,
               policy: Policy = "refuse") -> dict:
    """Run a validated config with its study into the results folder ``out``; returns its summary.

    The study's ``check`` (if any) runs first; then the folder is locked, claimed and sealed by
    ``engine.folders.run_in_folder``: ``policy`` says what happens to a
    folder that holds another config's run (``refuse``, ``replace``) or to any previous content (``clear``).
    Across processes (``engine.distributed``) only a seed sweep runs, and only process 0 locks, claims and seals;
    the others run their batches and return an empty summary.
    """
    study = study_of(config)
    if study.check is not None:  # a run that cannot fit is refused before it claims the folder (a rerun with other
        study.check(config)      # settings into the same --out is then not refused as another config's run)
    if distributed.count() > 1:
        if study.name != "seeds":
            raise ValueError(f"{config.name} is a {study.name} study: only seed sweeps (run CONFIG) spread over "
                             "processes; run it without --distributed")
        if distributed.index() != 0:
            return study.run(config, Path(out), log, progress)
    return run_in_folder(study.run, config, Path(out), log, progress, policy)
