"""A seed sweep end to end: the results contract, resume, each network config."""

import csv
import json

import numpy as np
import pytest

from jaxnewton.engine.build import build
from jaxnewton.engine.config import load_config
from jaxnewton.studies.registry import run_config
from jaxnewton.studies.seeds import RUNS_COLUMNS
from summaries import fake_sweep, table_line, write

CONTRACT = ["config.json", "runs.csv", "arrays.npz", "summary.json",
            "histories.png", "fits.png", "basis.png", "spectrum.png"]


@pytest.fixture(scope="module")
def smoke():
    return load_config("mlp_tanh", smoke=True)


@pytest.mark.slow
def test_smoke_run_writes_the_contract(smoke, tmp_path):
    logs = []
    summary = run_config(smoke, tmp_path, log=logs.append)
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


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_result(smoke, tmp_path):
    reference = tmp_path / "reference"
    run_config(smoke, reference, log=lambda _: None)

    interrupted = tmp_path / "interrupted"
    seen = []

    def stop_after_first_segment(line):
        seen.append(line)
        if ": step " in line:  # a segment finished and was checkpointed
            raise Interrupt

    with pytest.raises(Interrupt):
        run_config(smoke, interrupted, log=stop_after_first_segment)
    assert not (interrupted / "summary.json").exists()  # nothing half-done looks whole
    logs = []
    run_config(smoke, interrupted, log=logs.append)
    assert any("resumed" in line for line in logs)
    with np.load(reference / "arrays.npz") as a, np.load(interrupted / "arrays.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["siren", "fourier", "pinn1d"])
def test_smoke_run_of_each_network_config(name, tmp_path):
    config = load_config(name, smoke=True)
    summary = run_config(config, tmp_path, log=lambda _: None)
    for file in ("config.json", "runs.csv", "arrays.npz", "summary.json", "fits.png", "basis.png"):
        assert (tmp_path / file).stat().st_size > 0, file
    with np.load(tmp_path / "arrays.npz") as arrays:
        if name == "fourier":
            np.testing.assert_array_equal(arrays["fourier_B"], build(config).contexts(np.arange(config.n_seeds)))
        else:
            assert "fourier_B" not in arrays
    with (tmp_path / "runs.csv").open() as f:
        errors = [float(r["rel_l2_error"]) for r in csv.DictReader(f)]
    assert len(errors) == config.n_seeds and all(np.isfinite(errors))
    assert summary["rel_l2_error"]["median"] == pytest.approx(float(np.median(errors)), rel=1e-12)


def test_reproduced_and_differing_sweep_rows(tmp_path):
    write(tmp_path, "mlp_tanh", fake_sweep(9, 10, [0.6, 0.98]))
    write(tmp_path, "mlp_tanh_100", fake_sweep(88, 100, [0.80, 0.93]))
    # Fisher's exact test of the paper's 9/10 against ours (core.stats.two_sample_verdict).
    assert table_line(tmp_path, "E3").endswith("| reproduced (paper 9/10, here 88/100, Fisher's exact p = 1) |")
    write(tmp_path, "mlp_tanh_100", fake_sweep(50, 100, [0.40, 0.60]))
    row = table_line(tmp_path, "E3")
    assert row.endswith("| differs: paper 9/10, here 50/100, Fisher's exact p = 0.019 |")
    assert "| 9/10 trivial |" in row and "50/100 trivial: p = 0.50 [0.40, 0.60]" in row


def test_network_rows_read_the_paper_setting_from_the_first_seeds(tmp_path):
    outcomes = ["trivial", "trivial", "max_steps at the trivial point", "trivial", "trivial"] + ["trivial"] * 11
    write(tmp_path, "siren", {**fake_sweep(15, 16, [0.72, 0.99]), "outcomes": outcomes, "trivial_at_cap": 1})
    row = table_line(tmp_path, "E4")
    assert "| seeds 0–4: 4/5 trivial (1 max_steps at the trivial point) |" in row
    assert row.endswith("| reproduced (paper 4/5, here 15/16, Fisher's exact p = 0.43); 1 more seeds ended at the "
                        "trivial point without meeting the tolerance |")
    write(tmp_path, "pinn1d", {**fake_sweep(2, 16, [0.03, 0.36]), "outcomes": ["max_steps"] * 16})
    assert table_line(tmp_path, "E6").endswith("| differs: paper 5/5, here 2/16, Fisher's exact p = 0.001 |")
