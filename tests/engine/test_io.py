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


def test_provenance_is_the_code_this_process_imported(monkeypatch):
    """The commit and tree state are read once, at import: a commit made while a long study runs (its code already
    loaded) must not stamp its later results. With git unreachable now, the provenance still names the import's."""
    from jaxnewton.engine import io

    run = io.subprocess.run

    def no_git(command, *args, **kwargs):
        assert command[0] != "git", "git was asked again after import"
        return run(command, *args, **kwargs)

    at_import = io.git_state()
    monkeypatch.setattr(io.subprocess, "run", no_git)
    info = io.machine_info()
    assert (info["git_commit"].removesuffix("+dirty"), info["git_tree"]) == at_import
    assert at_import[1] in ("clean", "dirty", "not a git checkout")
