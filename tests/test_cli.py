"""The command line: bad input is one line on stderr and exit status 2, before anything runs."""

from jaxnewton.cli import main


def test_cli_reports_bad_input_without_running(capsys, tmp_path):
    assert main(["run", "mlp_tanh", "--set", "eps=-1", "--out", str(tmp_path / "x")]) == 2
    assert "eps" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["run", "mlp_tanh", "--seeds", "0", "--out", str(tmp_path / "x")]) == 2
    assert "n_seeds" in capsys.readouterr().err
