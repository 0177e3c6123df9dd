"""``make paper``: every experiment in sequence, then ``REPORT.md``.

A run is skipped when its folder already holds a complete result of the same config: a manifest
(``engine.folders``) of the config's hash (a hash of the config and the package version) whose files are
all present with their checksums, and, for a run built from other runs, whose inputs are unchanged.
So an interrupted ``make paper`` resumes where it stopped (the unfinished run also resumes
from its own checkpoints), a finished run is never redone, and a changed config reruns only
that run (and the runs built from it). ``force=True`` (``make paper FORCE=1``) reruns all.

The runs are every study's ``RUNS`` (``studies.registry``), in the registry's order. Progress is one
overall line (at most every ``progress_every_s`` within a run): run k of n, what that run has done,
elapsed time and an estimate of the time left (the current run's pace, and for the runs still to come
their measured 2-core CPU times scaled by how fast this machine has been so far).

``quick=True`` (``make paper-quick``) applies each run's ``quick`` changes, a shrunk first
look written to its own results folder, and marks the report as quick.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from jaxnewton.engine.config import ConfigBase, Run
from jaxnewton.engine.folders import load_summary
from jaxnewton.engine.io import Log, write_json
from jaxnewton.report.document import write_report
from jaxnewton.studies.registry import ROWS, RUNS, run_config


def is_complete(out: Path, config: ConfigBase) -> bool:
    """Whether ``out`` holds a complete run of ``config``.

    Its summary.json must carry the config's hash and, for a run made from other runs (``inputs``:
    ``{folder: finished_at}``, e.g. the index–loss collection), the inputs must be the same runs.
    """
    summary = load_summary(out, config.hash())
    if summary is None:
        return False
    inputs = {f: (load_summary(out.parent / f) or {}).get("finished_at") for f in summary.get("inputs", {})}
    return inputs == summary.get("inputs", {})


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Progress:
    """The overall progress line: run k of n, the run's own progress, elapsed and estimated time left."""

    def __init__(self, pending: list[tuple[Run, ConfigBase]], quick: bool, log: Log, clock: Callable[[], float],
                 every_s: float):
        self.pending, self.quick, self.log, self.clock, self.every_s = pending, quick, log, clock, every_s
        self.start = self.last = clock()
        self.done_actual = self.done_expected = 0.0
        self.k, self.run_start, self.run_expected = 0, self.start, 0.0

    def begin(self, k: int, run: Run) -> None:
        self.k, self.run_start, self.run_expected = k, self.clock(), run.prior_s(self.quick)

    def end(self) -> None:
        self.done_actual += self.clock() - self.run_start
        self.done_expected += self.run_expected

    def left(self, fraction: float) -> float:
        pace = self.done_actual / self.done_expected if self.done_expected else 1.0
        in_run = self.clock() - self.run_start
        run_left = (in_run / fraction - in_run if fraction >= 0.05
                    else max(self.run_expected * pace - in_run, 0.0))
        return run_left + pace * sum(r.prior_s(self.quick) for r, _ in self.pending[self.k:])

    def __call__(self, fraction: float, text: str, always: bool = False) -> None:
        if not always and self.clock() - self.last < self.every_s:
            return
        self.last = self.clock()
        run = self.pending[self.k - 1][0]
        self.log(f"[paper] run {self.k}/{len(self.pending)} {run.folder}: {text} · "
                 f"elapsed {_clock(self.clock() - self.start)} · left ≈ {_clock(self.left(fraction))}")


def run_paper(results: Path, runs: tuple[Run, ...] = RUNS, quick: bool = False, force: bool = False,
              log: Log = print, clock: Callable[[], float] = time.perf_counter,
              progress_every_s: float = 10.0) -> dict[str, str]:
    """Run every run not already complete, then write ``results/REPORT.md``.

    Args:
      results: the folder of results folders (``results``, or ``results/quick`` for quick runs).
      runs: what to run, in order.
      quick: apply each run's quick changes and mark the report as quick.
      force: rerun complete runs too, each into a cleared folder (``engine.folders``, policy ``clear``); without it
        a folder that holds another config's run is cleared and replaced, and an unfinished run of the same config
        resumes (policy ``replace``).
      log: where progress lines go.
      clock: seconds, for the elapsed and estimated times.
      progress_every_s: the overall progress line is printed at most this often within a run.

    Returns:
      ``{folder: "ran" | "skipped"}``.
    """
    results = Path(results)
    configs = [(run, run.config_of(quick)) for run in runs]  # every config is validated before anything runs
    actions = {run.folder: "skipped" for run, config in configs
               if not force and is_complete(results / run.folder, config)}
    folders = [run.folder for run in runs]
    for run in runs:  # a run made from other runs reruns when one of those will
        inputs = (load_summary(results / run.folder) or {}).get("inputs", {})
        if run.folder in actions and any(f in folders and f not in actions for f in inputs):
            del actions[run.folder]
    for folder in actions:
        log(f"[paper] {folder}: complete for this config, skipped (make paper FORCE=1 reruns it)")
    pending = [(run, config) for run, config in configs if run.folder not in actions]
    progress = _Progress(pending, quick, log, clock, progress_every_s)
    seconds = {}
    for k, (run, config) in enumerate(pending, 1):
        progress.begin(k, run)
        progress(0.0, "starting", always=True)
        run_config(config, results / run.folder, log, progress, policy="clear" if force else "replace")
        progress.end()
        seconds[run.folder] = clock() - progress.run_start
        actions[run.folder] = "ran"
        progress(1.0, "done", always=True)
    write_json(results / "paper_run.json", {
        "quick": quick, "force": force, "seconds": clock() - progress.start,
        "runs": {run.folder: {"action": actions[run.folder], "seconds": seconds.get(run.folder)} for run in runs}})
    log(f"[paper] wrote {write_report(results, ROWS, quick=quick)} ({_clock(clock() - progress.start)})")
    return {run.folder: actions[run.folder] for run in runs}
