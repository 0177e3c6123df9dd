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


def test_a_tree_is_dirty_when_code_changes_not_when_published_results_do(tmp_path):
    """A study's own target copies its summary into docs/results and rewrites README.md's table: the next study run
    from that checkout runs the same code, so it must not be stamped dirty; a changed code or config file must."""
    import subprocess

    from jaxnewton.engine import io

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "pkg").mkdir()
    (tmp_path / "docs" / "results").mkdir(parents=True)
    (tmp_path / "pkg" / "step.py").write_text("ETA = 0.05\n")
    (tmp_path / "docs" / "results" / "summary.json").write_text("{}\n")
    (tmp_path / "README.md").write_text("table\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "x")
    where = tmp_path / "pkg"  # asked from inside the package, as the installed module does
    assert io._read_git_state(where)[1] == "clean"
    (tmp_path / "docs" / "results" / "summary.json").write_text('{"k": 1}\n')
    (tmp_path / "README.md").write_text("another table\n")
    assert io._read_git_state(where)[1] == "clean"
    (tmp_path / "pkg" / "step.py").write_text("ETA = 0.1\n")
    assert io._read_git_state(where)[1] == "dirty"
    assert io._read_git_state(tmp_path / "pkg")[0] != "unknown"
