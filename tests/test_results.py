import numpy as np
import pytest

from jaxnewton.results import load_npz, wilson_interval, write_csv, write_json, write_npz


@pytest.mark.parametrize("k, n, low, high", [
    # Reference values of the Wilson score interval at 95% (z = 1.95996).
    (9, 10, 0.5958, 0.9821),
    (0, 10, 0.0, 0.2775),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_interval(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_wilson_interval_rejects_bad_counts():
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_writers_leave_no_temporary_files(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    write_csv(tmp_path / "b.csv", [{"p": 0.5, "ok": True}], ["p", "ok"])
    write_npz(tmp_path / "c.npz", {"x_S": np.arange(3.0)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv", "c.npz"]
    assert (tmp_path / "b.csv").read_text() == "p,ok\n0.5,true\n"
    np.testing.assert_array_equal(load_npz(tmp_path / "c.npz")["x_S"], np.arange(3.0))
