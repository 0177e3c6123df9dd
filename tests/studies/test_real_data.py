"""The real-data study (issue 42): a data-set config builds the multi-output problem; the smoke study runs end to end
and reports every cell with its test loss."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from jaxnewton.engine.build import build
from jaxnewton.engine.config import load_config
from jaxnewton.studies import real_data


def test_config_builds_the_issue_sizes():
    base = load_config("mlp_tanh")
    for data, widths, p in (("digits", (8, 8), 672), ("digits", (32, 32), 3456), ("diabetes", (16, 16), 464),
                            ("diabetes", (64, 64), 4928)):  # (the issue says 4 864: 4 928 − 64)
        config = dataclasses.replace(base, problem=data, widths=widths, n_train=300 if data == "digits" else 0)
        study = dataclasses.replace(load_config("real_data"), data=(data,), widths=(widths[0],), n_seeds=(1,),
                                    n_train=(0,), curvature_caps=(1,))
        assert real_data.n_params(study, 0) == p
        problem = build(config).problem
        assert problem.n_params == p
        theta = problem.init(jax.random.key(0))
        assert float(problem.loss(jax.numpy.where(problem.outer_mask, 0.0, theta))) == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ValueError, match="n_train"):
        dataclasses.replace(base, problem="digits", n_train=5000)


@pytest.mark.slow
def test_smoke_study_end_to_end(tmp_path):
    config = load_config("real_data", smoke=True)
    summary = real_data.run(config, tmp_path / "rd", log=lambda _: None)
    cells = summary["cells"]
    assert [(c["data"], c["method"]) for c in cells] == [("diabetes", "newton"), ("diabetes", "adam"),
                                                         ("digits", "newton")]
    assert summary["not_run"] == [{"data": "digits", "width": 2, "method": "adam",
                                   "reason": "P = 156 > its max_params 100"}]
    for cell in cells:
        assert cell["n_seeds"] == 2 and cell["capped"]["n"] + cell["counts"]["converged"] == 2
        assert cell["median_test_loss_ratio"] > 0 and np.isfinite(cell["median_train_loss_ratio"])
    assert cells[0]["max_steps"] == 6 and cells[2]["max_steps"] == 4  # the network's curvature cap
    assert summary["splits"]["digits n_train=40"]["n_train"] == 40 and cells[2]["n_params"] == 156
    # the same starts for every method of a network
    t0 = [np.load(tmp_path / "rd.cells" / c["folder"].split("/")[1] / "arrays.npz")["theta0"] for c in cells[:2]]
    np.testing.assert_array_equal(*t0)
    assert summary["commits"] == sorted({c["commit"] for c in cells}) and len(summary["commits"]) == 1
    assert (tmp_path / "rd" / "real_data.png").exists()
    json.dumps(summary)


@pytest.mark.slow
def test_a_cell_this_machine_cannot_hold_is_listed_not_run_and_the_rest_run(tmp_path, monkeypatch):
    def check(cell, n_params, *_):
        if cell.problem == "digits":
            raise ValueError(f"mlp_tanh (P = {n_params}) needs about 99 GiB: use spectrum=lanczos")

    monkeypatch.setattr(real_data.memory, "check", check)
    summary = real_data.run(load_config("real_data", smoke=True), tmp_path / "rd", log=lambda _: None)
    assert [(c["data"], c["method"]) for c in summary["cells"]] == [("diabetes", "newton"), ("diabetes", "adam")]
    assert summary["not_run"][-1] == {"data": "digits", "width": 2, "method": "newton",
                                      "reason": "mlp_tanh (P = 156) needs about 99 GiB: use spectrum=lanczos"}
