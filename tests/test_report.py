import json

from jaxnewton.report import PAPER_ROWS, results_table, write_report


def fake_summary(trivial, n, ci):
    return {"n_seeds": n, "wall_seconds": 1.0, "labels": {}, "counts": {
        "converged": n, "max_steps": 0, "nonfinite": 0, "trivial": trivial},
        "trivial_rate": {"k": trivial, "n": n, "p": trivial / n, "ci95": ci}}


def write(tmp_path, folder, summary):
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "summary.json").write_text(json.dumps(summary))


def test_missing_experiment_says_not_run(tmp_path):
    assert "| not run | — |" in results_table(tmp_path)


def test_reproduced_and_differing_rows(tmp_path):
    paper = PAPER_ROWS[0]
    write(tmp_path, paper.folder, fake_summary(9, 10, [0.6, 0.98]))
    write(tmp_path, paper.large_folder, fake_summary(88, 100, [0.80, 0.93]))
    assert "| reproduced |" in results_table(tmp_path)
    (tmp_path / paper.large_folder / "summary.json").write_text(json.dumps(fake_summary(50, 100, [0.40, 0.60])))
    table = results_table(tmp_path)
    assert "differs: paper 0.90 outside [0.40, 0.60]" in table
    assert "9/10 trivial" in table and "50/100 trivial" in table
    assert (write_report(tmp_path)).read_text().count("![") == 8
