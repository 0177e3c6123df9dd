import json

from jaxnewton.report import LANDSCAPE_ROWS, PAPER_ROWS, landscape_table, results_table, write_report


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


def fake_landscape(labels, newton):
    fractions = {"minimum": 0.0, "maximum": 0.0, "saddle": 0.0, "degenerate": 0.0, "not_converged": 0.0}
    return {"n_starts": 10, "wall_seconds": 1.0,
            "stationary_points": [{"theta": [float(i)], "loss": 1.0, "label": k} for i, k in enumerate(labels)],
            "basin_fractions": {"newton": {**fractions, **newton}, "gradient_descent": {**fractions, "minimum": 1.0}}}


def test_landscape_rows(tmp_path):
    e1 = LANDSCAPE_ROWS[0]
    assert "| not run |" in landscape_table(tmp_path)
    write(tmp_path, e1.folder, fake_landscape(["minimum", "maximum"], {"minimum": 0.5, "maximum": 0.5}))
    line = next(r for r in landscape_table(tmp_path).splitlines() if r.startswith("| E1"))
    assert line.endswith("| reproduced |") and "undamped Newton: min 50%, max 50%" in line and "GD: min 100%" in line
    (tmp_path / e1.folder / "summary.json").write_text(json.dumps(
        fake_landscape(["minimum", "maximum"], {"minimum": 1.0})))
    assert "differs: undamped Newton never reached a maximum" in landscape_table(tmp_path)
    (tmp_path / e1.folder / "summary.json").write_text(json.dumps(
        fake_landscape(["minimum", "maximum", "saddle"], {"minimum": 0.5, "maximum": 0.5})))
    assert "differs: found" in landscape_table(tmp_path)
