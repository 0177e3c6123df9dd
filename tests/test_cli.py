"""The command line: bad input, a used folder and a file-system error are one line on stderr and exit status 2,
before anything runs; Ctrl-C is exit status 130; --debug shows the traceback instead."""

import pathlib

import pytest

from jaxnewton import cli
from jaxnewton.cli import main
from jaxnewton.engine.config import load_config


def one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_cli_reports_bad_input_without_running(capsys, tmp_path):
    assert main(["run", "mlp_tanh", "--set", "eps=-1", "--out", str(tmp_path / "x")]) == 2
    assert "eps" in one_line(capsys)
    assert not (tmp_path / "x").exists()
    assert main(["run", "mlp_tanh", "--seeds", "0", "--out", str(tmp_path / "x")]) == 2
    assert "n_seeds" in one_line(capsys)


@pytest.mark.parametrize("args, says", [
    (["run", "mlp_tanh", "--set", "eps=1e999"], "not finite"),
    (["run", "mlp_tanh", "--set", "tol=1e999"], "not finite"),
    (["run", "mlp_tanh", "--set", "tol=10"], "below the loss scale"),
    (["run", "mlp_tanh", "--set", "target_amplitude=0"], "non-zero amplitude"),
    (["run", "mlp_tanh", "--set", "target_amplitude=1e200"], "non-zero amplitude"),
    (["run", "siren", "--set", "omega0=1e999"], "not finite"),
    (["run", "mlp_tanh", "--set", "learning_rate=1e999"], "not finite"),
    (["run", "mlp_tanh", "--set", "eps=nan"], "cannot parse"),
    (["run", "mlp_tanh", "--set", "solver=sfn", "--set", "eps=0"], "saddle-free"),
    (["run", "mlp_tanh", "--seeds", str(2 ** 33)], "n_seeds"),
    (["run", "mlp_tanh", "--set", "max_stepz=3"], "Did you mean 'max_steps'"),
    (["run", "circle", "--seeds", "3"], "has no seeds"),
    (["run", "torus", "--set", "grid=100000"], "grid"),
    (["run", "no_such_config"], "not found"),
    (["compare", "mlp_tanh", "--optimizers", ""], "names no optimiser"),
    (["compare", "circle", "--optimizers", "newton"], "compare needs a seed-sweep config"),
    (["compare", "mlp_tanh", "--optimizers", "newton,nope"], "optimizers"),
    (["run", "mlp_tanh", "--set", "segment_seconds=-1"], "segment_seconds"),
    (["run", "mlp_tanh", "--set", "memory_limit=-2"], "memory_limit"),
    (["run", "mlp_tanh", "--set", "parametrisation=mup"], "parametrisation"),
    (["run", "mlp_tanh", "--set", "widths=600,600"], "use linear_solver=krylov"),  # refused before the folder exists
    (["compare", "mlp_tanh", "--set", "widths=300,300", "--set", "linear_solver=krylov", "--set", "spectrum=lanczos",
      "--optimizers", "newton,bfgs"], "quasi-Newton P×P state"),  # BFGS's P × P state: refused before newton ran
])
def test_bad_values_are_one_line_before_anything_runs(args, says, capsys, tmp_path):
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    assert says in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_config_file_that_fails_and_a_path_without_py(capsys, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def get_config(smoke=False):\n    raise RuntimeError('boom')\n")
    assert main(["run", str(broken), "--out", str(tmp_path / "out")]) == 2
    assert "broken.py failed: RuntimeError: boom" in one_line(capsys)
    broken.write_text("def get_config(smoke=False:\n")
    assert main(["run", str(broken), "--out", str(tmp_path / "out")]) == 2
    assert "SyntaxError" in one_line(capsys)
    assert load_config("configs/mlp_tanh").name == "mlp_tanh" == load_config(str(pathlib.Path("configs/mlp_tanh"))).name


def test_file_system_errors_and_interrupts_are_one_line(capsys, tmp_path, monkeypatch):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main(["run", "saddles", "--smoke", "--out", str(a_file)]) == 2
    assert str(a_file) in one_line(capsys)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "mkdir", denied)
    assert main(["run", "saddles", "--smoke", "--out", str(tmp_path / "locked")]) == 2
    assert "Permission denied" in one_line(capsys)
    monkeypatch.undo()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_config", interrupted)
    assert main(["run", "saddles", "--smoke", "--out", str(tmp_path / "s")]) == 130
    assert one_line(capsys) == "interrupted — rerun the same command to resume"
    with pytest.raises(KeyboardInterrupt):
        main(["run", "saddles", "--smoke", "--out", str(tmp_path / "s"), "--debug"])


@pytest.mark.slow
def test_a_folder_of_another_run_is_refused_then_replaced_with_force(capsys, tmp_path):
    out = str(tmp_path / "s")
    assert main(["run", "saddles", "--smoke", "--out", out]) == 0
    capsys.readouterr()
    assert main(["run", "saddles", "--smoke", "--set", "gd_steps=11", "--out", out]) == 2
    err = one_line(capsys)
    assert "holds a run of config saddles" in err and "--force" in err
    assert main(["run", "saddles", "--smoke", "--set", "gd_steps=11", "--out", out, "--force"]) == 0
