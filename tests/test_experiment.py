"""Smoke runs of the real E3 config, shrunk: the results contract and resumption."""

import csv
import json

import numpy as np
import pytest

from jaxnewton.config import load_config
from jaxnewton.experiment import RUNS_COLUMNS, run_experiment

CONTRACT = ["config.json", "runs.csv", "arrays.npz", "summary.json",
            "histories.png", "fits.png", "basis.png", "spectrum.png"]


@pytest.fixture(scope="module")
def smoke():
    return load_config("mlp_tanh", smoke=True)


def test_smoke_run_writes_the_contract(smoke, tmp_path):
    logs = []
    summary = run_experiment(smoke, tmp_path, log=logs.append)
    for name in CONTRACT:
        assert (tmp_path / name).stat().st_size > 0, name
    for name in CONTRACT[4:]:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (tmp_path / "runs.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == smoke.n_seeds and list(rows[0]) == RUNS_COLUMNS
    with np.load(tmp_path / "arrays.npz") as arrays:
        for key, width in [("theta0", 140), ("theta", 140), ("eigvals", 140)]:
            assert arrays[key].shape == (smoke.n_seeds, width)
        assert arrays["history_loss"].shape == arrays["history_grad_norm"].shape
        assert arrays["history_loss"].shape[0] == smoke.n_seeds
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    for key in ("experiment", "n_seeds", "n_params", "counts", "labels", "wall_seconds"):
        assert key in on_disk
    assert set(on_disk["counts"]) == {"converged", "max_steps", "nonfinite", "trivial"}
    assert set(on_disk["labels"]) == {"minimum", "maximum", "saddle", "degenerate"}
    assert sum(on_disk["counts"][k] for k in ("converged", "max_steps", "nonfinite")) == smoke.n_seeds
    assert json.loads((tmp_path / "config.json").read_text())["config"]["eta"] == smoke.eta
    assert any(": step " in line for line in logs)  # progress was reported


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_result(smoke, tmp_path):
    reference = tmp_path / "reference"
    run_experiment(smoke, reference, log=lambda _: None)

    interrupted = tmp_path / "interrupted"
    seen = []

    def stop_after_first_segment(line):
        seen.append(line)
        if ": step " in line:  # a segment finished and was checkpointed
            raise Interrupt

    with pytest.raises(Interrupt):
        run_experiment(smoke, interrupted, log=stop_after_first_segment)
    assert not (interrupted / "summary.json").exists()  # nothing half-done looks whole
    logs = []
    run_experiment(smoke, interrupted, log=logs.append)
    assert any("resumed" in line for line in logs)
    with np.load(reference / "arrays.npz") as a, np.load(interrupted / "arrays.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
