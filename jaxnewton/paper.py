"""``make paper``: every experiment in sequence, then ``REPORT.md``.

A run is skipped when its folder already holds a complete result of the same config: a manifest
(``engine.folders``) of the config's hash (a hash of the config and the package version) whose files are
all present with their checksums, and, for a run built from other runs, whose inputs are unchanged.
So an interrupted ``make paper`` resumes where it stopped (the unfinished run also resumes
from its own checkpoints), a finished run is never redone, and a changed config reruns only
that run (and the runs built from it). ``force=True`` (``make paper FORCE=1``) reruns all. A complete run made by
another commit than this checkout's (``summary.json``'s ``provenance``) is *stale*: by default it is reused, said so
in one line, and ``REPORT.md`` marks it; ``stale="rerun"`` (``make paper STALE=rerun``) reruns those alone.

The runs are every study's ``RUNS`` (``studies.registry``), in the registry's order. Progress is one
overall line (at most every ``progress_every_s`` within a run): run k of n, what that run has done,
elapsed time and an estimate of the time left (the current run's pace, and for the runs still to come
their measured 2-core CPU times scaled by how fast this machine has been so far).

``quick=True`` (``make paper-quick``) applies each run's ``quick`` changes, a shrunk first
look written to its own results folder, and marks the report as quick.

Side by side (``launch``, which ``scripts/paper.py`` passes for ``make paper``): a run gains less than 2× from a
second core (E3's step 1.5×; a sweep of ≤ 16 seeds, one chunk, none), so every run that reads no other run's results
(``runs_beside``) goes first, side by side, each in its own process pinned to a core of its own (``launch``; one lane
a core), longest first; the runs built from others follow one after another in this process. A process's output goes to
``results/logs/<folder>.log``, and the progress line shows each one's last line. Pinned, a run computes the same bits
as unpinned: one JAX device instead of two runs the same chunks (``engine.sweep``), and the CPU LAPACK runs on one
thread either way (``core.linalg.use_one_lapack_thread``); compared file by file in docs/performance.md. Unpinned,
before that pin, two such processes slowed each other down: E5's first 250 steps took 183 s beside E9's comparison
against 12.8 s alone.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Protocol

from jaxnewton.engine import preempt
from jaxnewton.engine.config import ConfigBase, Run
from jaxnewton.engine.folders import load_summary, made_by
from jaxnewton.engine.io import Log, git_commit, write_json
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
                 every_s: float, start: float):
        self.pending, self.quick, self.log, self.clock, self.every_s = pending, quick, log, clock, every_s
        self.start, self.last = start, clock()
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


def runs_beside(config: ConfigBase) -> bool:
    """Whether ``make paper`` runs it side by side, in a process pinned to one core: every run that reads no other run's
    results (``ConfigBase.reads``; the E3 landscape and the index–loss collection do, and run afterwards)."""
    return not config.reads()


class Process(Protocol):
    """What ``launch`` returns: a started process (``subprocess.Popen``)."""

    def poll(self) -> int | None: ...

    def send_signal(self, signal: int) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


# (folder, log file, lane, force) -> the process running that run of the registry (force: into a cleared folder)
Launch = Callable[[str, Path, int, bool], Process]
STALE = ("reuse", "rerun")
LANES = 2  # runs side by side by default: one per core of the 2-core machine make paper is sized for


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _side_by_side(pending: list[tuple[Run, ConfigBase]], results: Path, launch: Launch, log: Log,
                  clock: Callable[[], float], every_s: float, sleep: Callable[[float], None],
                  lanes: int = LANES, forced: frozenset[str] = frozenset()) -> dict[str, float]:
    """Run ``pending`` ``lanes`` at a time through ``launch``, the longest (by prior) first, each into the next free
    lane (``launch`` gets the lane's number: ``scripts/paper.py`` pins lane k to core k); returns each run's seconds.
    A failed run stops none of the others; it is raised once all have ended. When this process is interrupted, the
    others get Ctrl-C too (their checkpoints resume them)."""
    queue = sorted(pending, key=lambda item: -item[0].expected_s)
    (results / "logs").mkdir(parents=True, exist_ok=True)
    running: dict[str, tuple[Process, float, Path, int]] = {}
    seconds, failed, free = {}, [], list(range(lanes))
    start = last = clock()
    try:
        while queue or running:
            while queue and free:
                run, _ = queue.pop(0)
                path, lane = results / "logs" / f"{run.folder}.log", free.pop(0)
                running[run.folder] = (launch(run.folder, path, lane, run.folder in forced), clock(), path, lane)
                log(f"[paper] {run.folder}: started in its own process (output: {path})")
            for folder, (process, began, path, lane) in list(running.items()):
                code = process.poll()
                if code is None:
                    continue
                del running[folder]
                free.append(lane)
                seconds[folder] = clock() - began
                if code:
                    failed.append(f"{folder} (exit {code}: {_last_line(path)}; see {path})")
                log(f"[paper] {folder}: {'failed' if code else 'done'} in {_clock(seconds[folder])} · "
                    f"elapsed {_clock(clock() - start)}")
            if running and clock() - last >= every_s:
                last = clock()
                log("[paper] side by side: " + " | ".join(f"{folder} {_clock(clock() - began)}: {_last_line(path)}"
                                                         for folder, (_, began, path, _) in running.items()))
            if running:
                sleep(0.5)
            stop = preempt.stop_requested()
            if stop is not None and running:  # preempted: each run stops at its own next checkpoint, then so do we
                log(f"[paper] {signal.Signals(stop).name}: stopping the runs side by side at their next checkpoints")
                for process, *_ in running.values():
                    process.send_signal(stop)
                for process, *_ in running.values():
                    process.wait()
                preempt.checkpoint_reached("make paper's runs side by side")
    except BaseException:  # Ctrl-C reaches a process between its steps' compiled calls; kill it if that is long
        for process, *_ in running.values():
            process.send_signal(signal.SIGINT)
        for process, *_ in running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()  # its lock goes with it; its checkpoints resume it
        raise
    if failed:
        raise RuntimeError("make paper: " + "; ".join(failed) + " (rerun make paper to resume)")
    return seconds


def run_one(folder: str, results: Path, quick: bool = False, force: bool = False, log: Log = print) -> dict:
    """The run ``folder`` of the registry, as ``run_paper`` runs it (a ``launch``ed process calls this); its summary.

    Its progress goes to ``log`` as "NN% what is done" lines, which the parent's progress line shows."""
    run = next((r for r in RUNS if r.folder == folder), None)
    if run is None:
        raise ValueError(f"no make paper run writes results/{folder}: use one of {[r.folder for r in RUNS]}")
    last = [0.0]

    def progress(fraction: float, text: str) -> None:
        if time.perf_counter() - last[0] >= 5.0:
            last[0] = time.perf_counter()
            log(f"{100 * fraction:.0f}% {text}")

    return run_config(run.config_of(quick), Path(results) / folder, log, progress,
                      policy="clear" if force else "replace")


def run_paper(results: Path, runs: tuple[Run, ...] = RUNS, quick: bool = False, force: bool = False,
              log: Log = print, clock: Callable[[], float] = time.perf_counter,
              progress_every_s: float = 10.0, launch: Launch | None = None,
              sleep: Callable[[float], None] = time.sleep, lanes: int = LANES, stale: str = "reuse",
              commit: str | None = None) -> dict[str, str]:
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
      launch: start the run of the registry that writes a folder in a process of its own, its output into a file;
        given, the runs that read no other run (``runs_beside``) go first, side by side (module docstring).
      sleep: waits between looks at the processes side by side.
      lanes: how many run side by side (``scripts/paper.py``: one per usable core).
      stale: what becomes of a complete run made by another commit (``STALE``: reused and marked, or rerun).
      commit: this checkout's commit (default: ``engine.io.git_commit()``).

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
    if stale not in STALE:
        raise ValueError(f"stale={stale!r}: use one of {list(STALE)}")
    commit = commit or git_commit()
    commits = {f: made_by(load_summary(results / f)) for f in actions}
    stale_folders = {f for f, c in commits.items() if c != commit}
    for folder in actions:
        if folder not in stale_folders:
            log(f"[paper] {folder}: complete for this config, skipped (make paper FORCE=1 reruns it)")
        elif stale == "reuse":
            log(f"[paper] {folder}: complete, made by commit {commits[folder][:12]}, not this checkout's "
                f"{commit[:12]}: reused and marked stale in the report (make paper STALE=rerun reruns it)")
        else:
            log(f"[paper] {folder}: made by commit {commits[folder][:12]}, not {commit[:12]}: rerun (STALE=rerun)")
    if stale == "rerun":
        actions = {f: a for f, a in actions.items() if f not in stale_folders}
    forced = frozenset(run.folder for run in runs) if force else frozenset(stale_folders)
    pending = [(run, config) for run, config in configs if run.folder not in actions]
    beside = [(run, config) for run, config in pending if launch is not None and runs_beside(config)]
    start = clock()
    seconds = (_side_by_side(beside, results, launch, log, clock, progress_every_s, sleep, lanes, forced)
               if beside else {})
    actions |= {folder: "ran" for folder in seconds}
    pending = [item for item in pending if item not in beside]
    progress = _Progress(pending, quick, log, clock, progress_every_s, start)
    for k, (run, config) in enumerate(pending, 1):
        progress.begin(k, run)
        progress(0.0, "starting", always=True)
        run_config(config, results / run.folder, log, progress, policy="clear" if run.folder in forced else "replace")
        progress.end()
        seconds[run.folder] = clock() - progress.run_start
        actions[run.folder] = "ran"
        progress(1.0, "done", always=True)
    write_json(results / "paper_run.json", {
        "quick": quick, "force": force, "seconds": clock() - progress.start,
        "runs": {run.folder: {"action": actions[run.folder], "seconds": seconds.get(run.folder),
                              "side_by_side": any(run is r for r, _ in beside)} for run in runs}})
    log(f"[paper] wrote {write_report(results, ROWS, quick=quick, commit=commit)} ({_clock(clock() - progress.start)})")
    return {run.folder: actions[run.folder] for run in runs}
