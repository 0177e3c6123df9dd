"""The curvature record along quasi-Newton runs."""

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
def test_mechanism_smoke_records_curvature_and_a_positive_definite_bfgs_matrix(tmp_path):
    (tmp_path / "small.py").write_text(SMALL_BASE)
    config = MechanismConfig(name="m", base=str(tmp_path / "small.py"), n_seeds=2, max_steps=30, stride=10)
    summary = run_config(config, tmp_path / "out", log=lambda _: None)
    for name in config.optimizers:
        s = summary["optimizers"][name]
        assert s["curvature_pairs"] > 0 and 0 <= s["bad_curvature_pairs"] <= s["curvature_pairs"]
        with np.load(tmp_path / "out" / f"{name}.npz") as a:
            assert a["true_min"].shape == a["steps"].shape == (2, len(a["step"]))
            assert list(a["step"][:2]) == [0, 10]
            if name == "lbfgs":
                assert np.all(np.isnan(a["approx_min"]))
            else:  # BFGS keeps H positive definite by refusing bad pairs, and so does L-BFGS-GSS's reset
                assert np.all(a["approx_min"] > 0)
                assert s["iterates_approximation_not_positive_definite"] == 0
    assert (tmp_path / "out" / "mechanism.png").stat().st_size > 0
