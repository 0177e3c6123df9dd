"""The rounding ensemble (issue 44): one-ulp draws of θ₀, the per-seed agreement, the two-stage bootstrap interval."""

import json

import numpy as np
import pytest
from scipy.stats import binom

from jaxnewton.engine.config import load_config
from jaxnewton.engine.io import load_npz
from jaxnewton.studies import rounding
from jaxnewton.studies.registry import run_config


def test_record_counts_agreement_and_the_interval_covers_seeds_and_draws():
    outcomes = np.array([["trivial"] * 5,                                   # never changes
                         ["trivial", "max_steps", "trivial", "trivial", "trivial"],
                         ["non-trivial saddle"] * 4 + ["trivial"],
                         ["max_steps"] * 5], dtype=object)
    r = rounding.base_record("mlp_tanh", outcomes, [], 1.0)
    assert r["same_as_plain"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 2}
    assert r["decided_by_rounding"] == {"k": 2, "n": 4, "share": 0.5}
    assert r["trivial_per_draw"] == [2, 1, 2, 2, 3]
    pooled = r["pooled_trivial_rate"]
    assert pooled["p"] == pytest.approx(10 / 20) and pooled["ci_low"] < 0.5 < pooled["ci_high"]
    assert r["paper"]["p_at_least_at_pooled_rate"] == pytest.approx(binom.sf(8, 10, 0.5), rel=1e-12)
    assert r["paper"]["first_seeds_trivial_per_draw"] == r["trivial_per_draw"]  # fewer seeds than the paper's 10
    rng = np.random.default_rng(1)
    assert rounding.two_stage_interval(np.ones((7, 3)), rng) == (1.0, 1.0)
    # A seed-level rate alone (every draw alike) gives the seeds' bootstrap; draws that disagree widen it.
    fixed = np.repeat(np.array([[1.0], [0.0]] * 10), 4, axis=1)
    mixed = fixed.copy()
    mixed[:, 0] = 1.0 - mixed[:, 0]
    low_f, high_f = rounding.two_stage_interval(fixed, np.random.default_rng(2))
    low_m, high_m = rounding.two_stage_interval(mixed, np.random.default_rng(2))
    assert low_f <= 0.5 <= high_f and low_m <= 0.5 <= high_m


@pytest.mark.slow
def test_smoke_draws_change_theta0_by_one_ulp_and_resume(tmp_path):
    config = load_config("rounding", smoke=True)
    summary = run_config(config, tmp_path / "rr", log=lambda _: None)
    (record,) = summary["bases"]
    assert record["draws"] == 2 and len(record["folders"]) == 3 and sum(record["same_as_plain"].values()) == 3
    theta = [load_npz(tmp_path / "rr.cells" / f.split("/")[1] / "arrays.npz")["theta0"] for f in record["folders"]]
    plain = load_npz(tmp_path / "rr.cells" / record["folders"][0].split("/")[1] / "arrays.npz")
    assert np.all(theta[1] != theta[0]) and np.all(theta[2] != theta[0]) and not np.array_equal(theta[1], theta[2])
    assert np.max(np.abs(theta[1] / theta[0] - 1.0)) <= 2.0 ** -51  # at most one ulp either way
    assert plain["theta0"].shape == (3, theta[0].shape[1])
    assert len(summary["commits"]) == 1 and summary["commits"][0] != "unknown"  # which code made the draws
    first = record["first_seeds"]  # the first 2 of the 3 seeds on their own (as E9's Newton is E3's first 16)
    assert first["n"] == 2 and sum(first["same_as_plain"].values()) == 2 and first["decided_by_rounding"]["n"] == 2
    assert all(a <= b for a, b in zip(first["trivial_per_draw"], record["trivial_per_draw"]))
    json.dumps(summary)
    lines = []  # one more draw: only it runs
    run_config(rounding.RoundingConfig(**{**config.to_dict(), "draws": 3}), tmp_path / "rr", log=lines.append,
               policy="replace")
    assert [line.split(" (")[0] for line in lines if line.startswith("mlp_tanh draw")] == ["mlp_tanh draw 3"]


def test_first_seeds_must_fit_each_base():
    config = load_config("rounding", smoke=True)
    with pytest.raises(ValueError, match="first_seeds"):
        rounding.RoundingConfig(**{**config.to_dict(), "first_seeds": (4,)})
    with pytest.raises(ValueError, match="first_seeds"):
        rounding.RoundingConfig(**{**config.to_dict(), "first_seeds": (1, 1)})
