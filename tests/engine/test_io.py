"""Atomic writers."""

import numpy as np

from jaxnewton.engine.io import load_npz, write_csv, write_json, write_npz


def test_writers_leave_no_temporary_files(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    write_csv(tmp_path / "b.csv", [{"p": 0.5, "ok": True}], ["p", "ok"])
    write_npz(tmp_path / "c.npz", {"x_S": np.arange(3.0)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv", "c.npz"]
    assert (tmp_path / "b.csv").read_text() == "p,ok\n0.5,true\n"
    np.testing.assert_array_equal(load_npz(tmp_path / "c.npz")["x_S"], np.arange(3.0))
