"""The record along optimiser runs: curvature pairs, the true spectrum, visits to the trivial point."""

import numpy as np
import pytest

from jaxnewton.studies.mechanism import MechanismConfig
from jaxnewton.studies.registry import run_config

SMALL_BASE = """
from jaxnewton.engine.config import Config

def get_config(smoke=False):  # E3's problem on a 1-4-1 network: the record, not the network, is under test
    return Config(name="small", widths=(4,), n_points=20)
"""


@pytest.mark.slow
def test_mechanism_smoke_records_curvature_visits_and_resumes(tmp_path):
    """BFGS and L-BFGS (quasi-Newton: curvature pairs) beside damped Newton (none): every record, the visits to the
    trivial point, comparison.csv and the figures; a rerun reads each optimiser's record back."""
    (tmp_path / "small.py").write_text(SMALL_BASE)
    config = MechanismConfig(name="m", base=str(tmp_path / "small.py"), optimizers=("bfgs", "lbfgs", "newton"),
                             n_seeds=2, max_steps=30, stride=10)
    summary = run_config(config, tmp_path / "out", log=lambda _: None)
    for name in config.optimizers:
        s = summary["optimizers"][name]
        with np.load(tmp_path / "out" / f"{name}.npz") as a:
            assert a["true_min"].shape == a["steps"].shape == a["path_rel_output_norm"].shape == (2, len(a["step"]))
            assert list(a["step"][:2]) == [0, 10]
            assert np.all(a["path_loss_ratio"] > 0) and np.all(a["path_rel_output_norm"] >= 0)
            # The trivial rule along the path is the diagnostics' own at the end.
            last = a["steps"].shape[1] - 1
            assert list(a["path_trivial"][:, last]) == list(a["final_trivial"])
            if name == "newton":
                assert s["curvature_pairs"] == 0 and s["min_step_curvature"] is None
            else:
                assert s["curvature_pairs"] > 0 and 0 <= s["bad_curvature_pairs"] <= s["curvature_pairs"]
            if name == "bfgs":  # BFGS keeps H positive definite by refusing bad pairs
                assert np.all(a["approx_min"] > 0) and s["iterates_approximation_not_positive_definite"] == 0
            else:
                assert np.all(np.isnan(a["approx_min"]))
        v = s["visits"]
        assert v["visited"] + v["never_near"] == 2 and 0 <= v["visited_then_left"] <= v["visited"]
        assert s["trivial_rate"]["n"] == 2 and s["fit_rate"]["k"] <= 2
    rows = (tmp_path / "out" / "comparison.csv").read_text().splitlines()
    assert rows[0].startswith("optimizer,") and [r.split(",")[0] for r in rows[1:]] == list(config.optimizers)
    for figure in ("mechanism.png", "paths.png"):
        assert (tmp_path / "out" / figure).stat().st_size > 0
    lines = []
    again = run_config(config, tmp_path / "out", log=lines.append)
    assert sum("read back" in line for line in lines) == 3
    assert again["optimizers"] == summary["optimizers"]
