"""`make paper`'s runner: skips complete runs, reruns only a changed one, reports progress."""

import json

import pytest

from jaxnewton.engine.config import Run
from jaxnewton.paper import is_complete, run_paper
from jaxnewton.studies.registry import RUNS

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
    assert record["runs"]["circle"] == {"action": "skipped", "seconds": None}

    assert run_paper(tmp_path, SMALL[1:2], force=True, log=logs.append) == {"saddles": "ran"}
    assert finished(tmp_path)["saddles"] != first["saddles"]


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
