"""`make paper`'s runner: skips complete runs, reruns only a changed one, reports progress."""

import json
import signal
import subprocess
from pathlib import Path

import pytest

from jaxnewton.engine.config import Run
from jaxnewton.paper import LANES, _side_by_side, is_complete, run_one, run_paper, runs_beside
from jaxnewton.studies.registry import RUNS, run_config

SMALL = (
    Run("circle", "circle", 1, {"grid": 16, "max_steps": 1000}),
    Run("saddles", "saddles", 1, {"gd_steps": 20, "newton_steps": 5}),
    Run("mlp_tanh", "mlp_tanh", 1, {"n_seeds": 2, "max_steps": 40, "segment_steps": 20, "history_stride": 5}),
    Run("index_loss", "index_loss", 1, {"folders": ("circle", "mlp_tanh")}),  # made from two runs above
)


def finished(results):
    return {r.folder: json.loads((results / r.folder / "summary.json").read_text())["finished_at"]
            + str((results / r.folder / "summary.json").stat().st_mtime_ns) for r in SMALL}


@pytest.mark.slow
def test_second_run_reruns_nothing_and_a_changed_config_reruns_only_itself(tmp_path):
    logs = []
    assert run_paper(tmp_path, SMALL, log=logs.append, progress_every_s=0) == {r.folder: "ran" for r in SMALL}
    assert (tmp_path / "REPORT.md").exists()
    progress = [line for line in logs if line.startswith("[paper] run ")]
    assert any("run 3/4 mlp_tanh: 2/2 seeds done" in line for line in progress)
    assert any("run 1/4 circle: " in line and "starts done" in line for line in progress)
    assert all(" · elapsed " in line and " · left ≈ " in line for line in progress)
    first = finished(tmp_path)

    assert run_paper(tmp_path, SMALL, log=logs.append, progress_every_s=0) == {r.folder: "skipped" for r in SMALL}
    assert finished(tmp_path) == first

    changed = SMALL[:2] + (SMALL[2]._replace(changes={**SMALL[2].changes, "max_steps": 60}),) + SMALL[3:]
    assert not is_complete(tmp_path / "mlp_tanh", changed[2].config_of())
    # The changed run reruns, and so does the collection made from it; nothing else.
    assert run_paper(tmp_path, changed, log=logs.append) == {"circle": "skipped", "saddles": "skipped",
                                                             "mlp_tanh": "ran", "index_loss": "ran"}
    second = finished(tmp_path)
    assert {f: second[f] == first[f] for f in first} == {"circle": True, "saddles": True, "mlp_tanh": False,
                                                         "index_loss": False}
    record = json.loads((tmp_path / "paper_run.json").read_text())
    assert record["runs"]["circle"] == {"action": "skipped", "seconds": None, "side_by_side": False}

    assert run_paper(tmp_path, SMALL[1:2], force=True, log=logs.append) == {"saddles": "ran"}
    assert finished(tmp_path)["saddles"] != first["saddles"]

    # Another checkout's commit: every complete run is stale, reused and marked by default, rerun with stale="rerun".
    other = "f" * 40
    lines = []
    assert run_paper(tmp_path, SMALL[:2], log=lines.append, commit=other) == {"circle": "skipped", "saddles": "skipped"}
    assert sum("reused and marked stale" in line for line in lines) == 2
    assert "**stale**: made by another commit than this checkout's ffffffffffff" in (tmp_path / "REPORT.md").read_text()
    assert run_paper(tmp_path, SMALL[:1], log=lines.append, commit=other, stale="rerun") == {"circle": "ran"}
    assert finished(tmp_path)["circle"] != second["circle"]
    with pytest.raises(ValueError, match="stale="):
        run_paper(tmp_path, SMALL[:1], stale="sometimes")


def test_every_paper_run_has_a_valid_config_and_quick_variant():
    for quick in (False, True):
        configs = [run.config_of(quick) for run in RUNS]
        assert len({r.folder for r in RUNS}) == len(RUNS)
        assert all(c.hash() for c in configs)
    mlp_100 = next(r for r in RUNS if r.folder == "mlp_tanh_100")
    assert mlp_100.config_of().n_seeds == 100 and mlp_100.config_of(quick=True).n_seeds < 100


def test_a_bad_change_fails_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="max_stepz"):
        run_paper(tmp_path, (SMALL[0], Run("mlp_tanh", "mlp_tanh", 1, {"max_stepz": 3})))
    assert not (tmp_path / "circle").exists()


def test_every_run_that_reads_no_other_run_goes_side_by_side():
    # make paper runs these first, side by side: none may need another run's results. A config field naming other
    # results folders (source, folders) must be declared by ConfigBase.reads.
    after = {run.folder: run.config_of().reads() for run in RUNS if not runs_beside(run.config_of())}
    assert after == {"landscape": ("compare_mlp_tanh",),
                     "index_loss": ("circle", "torus", "mlp_tanh_100", "siren", "fourier", "pinn1d")}
    for run in RUNS:
        if run.folder not in after:
            assert not {"source", "folders"} & set(run.config_of().to_dict())


class FakeProcess:
    """Ends with ``code`` after ``polls`` looks."""

    def __init__(self, polls: int, code: int = 0):
        self.polls, self.code = polls, code

    def poll(self):
        self.polls -= 1
        return self.code if self.polls < 0 else None


def test_side_by_side_runs_two_at_a_time_longest_first_and_raises_a_failure_after_the_others(tmp_path):
    runs = [(Run(f"r{i}", "mlp_tanh", prior), None) for i, prior in enumerate((10, 50, 30, 40))]
    started, lanes, most = [], {}, [0]  # lanes: the running runs' lanes
    polls = {"r0": 1, "r1": 6, "r2": 2, "r3": 3}

    class Tracked(FakeProcess):
        def __init__(self, folder):
            super().__init__(polls[folder], code=3 if folder == "r2" else 0)
            self.folder = folder

        def poll(self):
            code = super().poll()
            if code is not None:
                lanes.pop(self.folder)
            return code

    def launch(folder, log, lane, force=False):
        assert lane not in lanes.values()  # a free lane
        started.append(folder)
        lanes[folder] = lane
        most[0] = max(most[0], len(lanes))
        log.write_text("50% 8/16 seeds done\n")
        return Tracked(folder)

    logs = []
    with pytest.raises(RuntimeError, match=r"r2 \(exit 3: 50% 8/16 seeds done; see .*r2.log\)"):
        _side_by_side(runs, tmp_path, launch, logs.append, iter(range(1000)).__next__, 0, lambda s: None)
    assert started == ["r1", "r3", "r2", "r0"]  # longest prior first, each into the next free lane
    assert most[0] == LANES
    assert any(line.startswith("[paper] side by side: r1 ") and "50% 8/16 seeds done" in line for line in logs)
    assert any(line.startswith("[paper] r0: done in ") for line in logs)  # run after the failure started


def test_run_one_names_the_folders_it_knows():
    with pytest.raises(ValueError, match="no make paper run writes results/nope: use one of .*'mlp_tanh'"):
        run_one("nope", Path("results"))


@pytest.mark.slow
def test_make_paper_runs_the_runs_that_read_no_other_through_launch_first(tmp_path):
    # A launch that runs the run here: the wiring, not the processes (scripts/paper.py launches this script).
    launched = []

    def launch(folder, log, lane, force=False):
        launched.append(folder)
        run = next(r for r in SMALL if r.folder == folder)
        run_config(run.config_of(), tmp_path / folder, log=lambda line: None, policy="replace")
        return FakeProcess(0)

    assert run_paper(tmp_path, SMALL, log=lambda line: None, launch=launch) == {r.folder: "ran" for r in SMALL}
    assert sorted(launched) == ["circle", "mlp_tanh", "saddles"]  # index_loss, made from two of them, ran after here
    record = json.loads((tmp_path / "paper_run.json").read_text())
    assert record["runs"]["mlp_tanh"]["side_by_side"] and not record["runs"]["index_loss"]["side_by_side"]


def test_an_interrupted_make_paper_passes_ctrl_c_to_the_runs_beside_it(tmp_path):
    signals = []

    class Running(FakeProcess):
        def send_signal(self, sig):
            signals.append(sig)

        def wait(self, timeout=None):
            if self.slow:
                raise subprocess.TimeoutExpired("paper.py", timeout)
            return 130

        def kill(self):
            signals.append("kill")

    def sleep(seconds):
        raise KeyboardInterrupt

    def launch(folder, log, lane, force=False):
        process = Running(10)
        process.slow = lane == 1  # still inside a long compiled call after the wait: killed
        return process

    runs = [(Run(f"r{i}", "mlp_tanh", 1), None) for i in range(3)]
    with pytest.raises(KeyboardInterrupt):
        _side_by_side(runs, tmp_path, launch, lambda line: None, iter(range(99)).__next__, 0, sleep)
    assert signals == [signal.SIGINT] * LANES + ["kill"]  # the two running (the third never started)
