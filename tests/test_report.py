"""The report generator on synthetic summaries, and the README's table against docs/results."""

import datetime
import json
from pathlib import Path

from jaxnewton.report import ROWS, readme_table, results_table, update_readme, write_report

ROOT = Path(__file__).resolve().parents[1]
E1, E2, E3, SADDLES, E8, IL = (next(r for r in ROWS if r.id == i) for i in ("E1", "E2", "E3", "S", "E8", "IL"))


def fake_sweep(trivial, n, ci):
    return {"n_seeds": n, "wall_seconds": 1.0, "labels": {}, "config_hash": "h",
            "counts": {"converged": n, "max_steps": 0, "nonfinite": 0, "trivial": trivial},
            "trivial_rate": {"k": trivial, "n": n, "p": trivial / n, "ci95": ci}}


def fake_landscape(labels, newton):
    fractions = {"minimum": 0.0, "maximum": 0.0, "saddle": 0.0, "degenerate": 0.0, "not_converged": 0.0}
    return {"n_starts": 10, "wall_seconds": 1.0,
            "stationary_points": [{"theta": [float(i)], "loss": 1.0, "label": k} for i, k in enumerate(labels)],
            "basin_fractions": {"newton": {**fractions, **newton}, "gradient_descent": {**fractions, "minimum": 1.0}}}


def write(results, folder, summary, config=None):
    (results / folder).mkdir(parents=True, exist_ok=True)
    (results / folder / "summary.json").write_text(json.dumps(summary))
    if config is not None:
        (results / folder / "config.json").write_text(json.dumps(config))


def line(table, row_id):
    return next(r for r in table.splitlines() if r.startswith(f"| {row_id} |"))


def test_missing_experiments_say_not_run(tmp_path):
    table = results_table(tmp_path)
    assert len(table.splitlines()) == 2 + len(ROWS)
    for row in ROWS:
        assert line(table, row.id).endswith("| not run | not run | — |")


def test_reproduced_and_differing_sweep_rows(tmp_path):
    write(tmp_path, E3.folders[0], fake_sweep(9, 10, [0.6, 0.98]))
    write(tmp_path, E3.folders[1], fake_sweep(88, 100, [0.80, 0.93]))
    assert line(results_table(tmp_path), "E3").endswith("| reproduced |")
    write(tmp_path, E3.folders[1], fake_sweep(50, 100, [0.40, 0.60]))
    row = line(results_table(tmp_path), "E3")
    assert row.endswith("| differs: paper 0.90 outside [0.40, 0.60] |")
    assert "| 9/10 trivial |" in row and "50/100 trivial: p = 0.50 [0.40, 0.60]" in row


def test_landscape_rows(tmp_path):
    write(tmp_path, E1.folders[0], fake_landscape(["minimum", "maximum"], {"minimum": 0.5, "maximum": 0.5}))
    row = line(results_table(tmp_path), "E1")
    assert row.endswith("| reproduced |") and "undamped Newton: min 50%, max 50%" in row and "GD: min 100%" in row
    write(tmp_path, E1.folders[0], fake_landscape(["minimum", "maximum"], {"minimum": 1.0}))
    assert line(results_table(tmp_path), "E1").endswith("| differs: undamped Newton never reached a maximum |")
    write(tmp_path, E1.folders[0], fake_landscape(["minimum", "maximum", "saddle"], {"minimum": 0.5, "maximum": 0.5}))
    assert "| differs: found {" in line(results_table(tmp_path), "E1")


def fake_saddles(newton_one_step, gd_escape):
    def runs(escape):
        return ([{"method": "gradient_descent", "start": [1.0, 1e-4], "escape_step": escape, "final_distance": 10.0,
                  "distance_after_1_step": 0.9}]
                + [{"method": "newton", "start": [1.0, 1e-4], "escape_step": None, "final_distance": newton_one_step,
                    "distance_after_1_step": newton_one_step}])
    return {"wall_seconds": 1.0, "landscapes": {"saddle": {"origin_label": "saddle", "runs": runs(gd_escape)},
                                                 "monkey_saddle": {"origin_label": "degenerate", "runs": runs(264)}}}


def test_saddles_row(tmp_path):
    write(tmp_path, SADDLES.folders[0], fake_saddles(0.0, 97))
    row = line(results_table(tmp_path), "S")
    assert row.endswith("| reproduced |") and "y₀ = 0.0001: 97" in row and "origin degenerate" in row
    write(tmp_path, SADDLES.folders[0], fake_saddles(1e-3, None))
    assert line(results_table(tmp_path), "S").endswith(
        "| differs: Newton ‖θ₁‖ = 1.0e-03 after one step; a GD path never escaped |")


def fake_random_hessians(n_pd, fit=True):
    small = [{"n": n, "p_positive_definite": p, "ci_low": p / 2, "ci_high": 2 * p, "samples": 1000, "count": 1}
             for n, p in ((1, 0.5), (2, 0.15))]
    return {"wall_seconds": 1.0, "n_matrices": 100, "size": 140, "ensemble": "goe", "n_positive_definite": n_pd,
            "n_negative_definite": 0, "definite_ci95": [0.0, 0.037], "small_n": small, "asymptotic_rate": 0.2747,
            "fit": {"rate": 0.276, "quadratic_only": {"rate": 0.38}} if fit else None,
            "eig_sample": {"matrices": 10, "index_fraction_mean": 0.5, "index_fraction_sd": 0.006}}


def test_random_hessians_row(tmp_path):
    write(tmp_path, E8.folders[0], fake_random_hessians(0))
    row = line(results_table(tmp_path), "E8")
    assert row.endswith("| reproduced |") and "0 positive, 0 negative definite of 100 (GOE, n = 140)" in row
    assert "fitted rate θ = 0.276" in row and "0.380 without the n term" in row and "1: 0.5, 2: 0.15" in row
    write(tmp_path, E8.folders[0], fake_random_hessians(2, fit=False))
    row = line(results_table(tmp_path), "E8")
    assert row.endswith("| differs: 2 definite matrices |") and "too few definite samples to fit" in row


def test_index_loss_row(tmp_path):
    def fake(rho_sweeps, p_sweeps):
        return {"wall_seconds": 1.0, "spearman": {"torus": {"rho": 0.9, "p_value": 1e-9, "n_points": 18}},
                "spearman_all": {"rho": 0.6, "p_value": 2e-6, "n_points": 52},
                "spearman_sweeps": {"rho": rho_sweeps, "p_value": p_sweeps, "n_points": 29}}
    write(tmp_path, IL.folders[0], fake(0.5, 0.01))
    assert line(results_table(tmp_path), "IL").endswith("| reproduced |")
    write(tmp_path, IL.folders[0], fake(0.23, 0.24))
    assert line(results_table(tmp_path), "IL").endswith(
        "| partly: all points ρ = 0.60 (p = 2e-06, 52 points), but within the networks ρ = 0.23 (p = 0.2, 29 points) |")


def test_report_has_captions_settings_machine_and_quick_banner(tmp_path):
    machine = {"processor": "x86_64", "cpu_count": 2, "platform": "Linux", "jax": "0.0", "jax_backend": "cpu",
               "devices": ["CpuDevice(id=0)"], "python": "3.11", "numpy": "2.0", "jaxnewton": "0.1.0",
               "git_commit": "abc"}
    for folder, trivial in zip(E3.folders, (9, 88)):
        write(tmp_path, folder, fake_sweep(trivial, 10, [0.6, 0.98]),
              {"config": {"name": "mlp_tanh", "eta": 0.05}, "config_hash": "h", "machine": machine})
        for figure in E3.figures:
            if figure.folder == folder:
                (tmp_path / folder / figure.file).write_bytes(b"png")
    now = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)
    text = write_report(tmp_path, now=now).read_text()
    assert "Quick run" not in text and "2026-01-02T00:00:00+00:00" in text
    assert results_table(tmp_path) in text
    assert text.count("![") == len(E3.figures) == 8
    for figure in E3.figures:  # the figure, then its two caption lines
        assert f"]({figure.folder}/{figure.file})\n\n*Figure E3.{figure.folder}." in text
        assert f"{figure.caption[0]}  \n{figure.caption[1]}\n" in text
    assert "- `mlp_tanh` (config hash h): name = mlp_tanh, eta = 0.05" in text
    assert "x86_64, 2 cores, Linux; JAX 0.0 on cpu" in text and "ran mlp_tanh, mlp_tanh_100" in text
    assert "| **total** | **2** |" in text
    assert "Quick run" in write_report(tmp_path, quick=True, now=now).read_text()


def test_update_readme_copies_the_summaries_and_rewrites_only_the_table(tmp_path):
    results, record, readme = tmp_path / "results", tmp_path / "record", tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    readme.write_text(text)
    for row in ROWS:
        for folder in row.folders:
            write(results, folder, json.loads((ROOT / "docs" / "results" / folder / "summary.json").read_text()))
    write(results, E3.folders[1], fake_sweep(50, 100, [0.40, 0.60]))
    update_readme(readme, results, record)
    new = readme.read_text()
    assert readme_table(new) == results_table(record) != readme_table(text)
    assert "50/100 trivial" in readme_table(new)
    assert new.replace(readme_table(new), "") == text.replace(readme_table(text), "")


def test_readme_results_table_is_the_generated_one():
    """README.md's table must be what `make readme-table` writes from the committed docs/results summaries."""
    assert readme_table((ROOT / "README.md").read_text()) == results_table(ROOT / "docs" / "results")


def test_network_rows_read_the_paper_setting_from_the_first_seeds(tmp_path):
    e4, e6, e7 = (next(r for r in ROWS if r.id == i) for i in ("E4", "E6", "E7"))
    outcomes = ["trivial", "trivial", "max_steps at the trivial point", "trivial", "trivial"] + ["trivial"] * 11
    write(tmp_path, e4.folders[0], {**fake_sweep(15, 16, [0.72, 0.99]), "outcomes": outcomes, "trivial_at_cap": 1})
    row = line(results_table(tmp_path), "E4")
    assert "| seeds 0–4: 4/5 trivial (1 max_steps at the trivial point) |" in row
    assert row.endswith("| reproduced; 1 more seeds ended at the trivial point without meeting the tolerance |")
    write(tmp_path, e6.folders[0], {**fake_sweep(2, 16, [0.03, 0.36]), "outcomes": ["max_steps"] * 16})
    assert line(results_table(tmp_path), "E6").endswith("| differs: paper 1.00 outside [0.03, 0.36] |")

    def optimiser(trivial, at_cap, solved):
        return {**fake_sweep(trivial, 16, [0.0, 1.0]), "trivial_at_cap": at_cap, "solved": solved,
                "rel_l2_error": {"median": 0.5, "min": 1e-4, "max": 1.0}}

    write(tmp_path, e7.folders[0], {"n_seeds": 16, "wall_seconds": 1.0, "config_hash": "h",
                                    "optimizers": {"newton": optimiser(3, 6, 0), "adam": optimiser(0, 0, 16)}})
    row = line(results_table(tmp_path), "E7")
    assert row.endswith("| reproduced |") and "ADAM: 0/16 trivial, 16/16 solved" in row
    write(tmp_path, e7.folders[0], {"n_seeds": 16, "wall_seconds": 1.0, "config_hash": "h",
                                    "optimizers": {"newton": optimiser(3, 4, 0), "adam": optimiser(0, 0, 16)}})
    assert line(results_table(tmp_path), "E7").endswith(
        "| partly: Newton 7/16 at the trivial point, ADAM solved 16/16 |")


def fake_optimizer(trivial, at_cap=0, minima=0, n=16):
    labels = {"minimum": minima, "maximum": 0, "saddle": trivial, "degenerate": 0}
    return {"n_seeds": n, "labels": labels, "trivial_labels": {**labels, "minimum": 0}, "trivial_at_cap": at_cap,
            "counts": {"converged": trivial + minima, "max_steps": n - trivial - minima, "nonfinite": 0,
                       "trivial": trivial}, "solved": minima}


def fake_mechanism(seeds_negative, bad, not_pd=0):
    one = {"n_seeds": 16, "iterates": 100, "iterates_true_hessian_indefinite": 30,
           "seeds_meeting_negative_curvature": seeds_negative, "most_negative_true_eigenvalue": -2.0,
           "curvature_pairs": 500, "bad_curvature_pairs": bad, "approximation_recorded": True,
           "iterates_approximation_not_positive_definite": not_pd}
    return {"n_seeds": 16, "wall_seconds": 1.0, "optimizers": {"bfgs": one, "lbfgs": {**one,
                                                                                       "approximation_recorded": False}}}


def test_e9_row_verdicts(tmp_path):
    compare = {"n_seeds": 16, "wall_seconds": 1.0, "optimizers": {
        "newton": fake_optimizer(4, at_cap=8), "bfgs": fake_optimizer(0, minima=10), "lbfgs": fake_optimizer(1)}}
    write(tmp_path, "compare_mlp_tanh", compare)
    assert line(results_table(tmp_path), "E9").endswith("| reproduced |")  # only the outcome was run
    write(tmp_path, "mechanism", fake_mechanism(16, 0))
    row = line(results_table(tmp_path), "E9")
    assert row.endswith("| reproduced |")
    assert "newton: 12 trivial (4 converged)" in row and "bfgs: 0 trivial (0 converged), 10 minimum" in row
    assert "yᵀs ≤ 0 in 0/500 pairs" in row
    write(tmp_path, "mechanism", fake_mechanism(16, 3))  # BFGS refuses bad pairs, optax's L-BFGS stores them
    row = line(results_table(tmp_path), "E9")
    assert ("bfgs: 16/16 seeds met negative curvature (∇²L indefinite at 30/100 recorded iterates, λ_min down to -2);"
            " yᵀs ≤ 0 in 3/500 pairs (refused)") in row
    assert row.endswith("| partly: outcome holds (Newton 12/16 trivial); safeguard record does not hold |")
    write(tmp_path, "mechanism", fake_mechanism(7, 0))  # fewer than half the seeds met negative curvature
    assert line(results_table(tmp_path), "E9").endswith(
        "| partly: outcome holds (Newton 12/16 trivial); safeguard record does not hold |")
    write(tmp_path, "mechanism", fake_mechanism(16, 0))
    compare["optimizers"].update(bfgs_fixed=fake_optimizer(0, minima=14), bfgs_fixed_unguarded=fake_optimizer(1))
    write(tmp_path, "compare_mlp_tanh", compare)
    assert line(results_table(tmp_path), "E9").endswith(
        "| partly: outcome holds (Newton 12/16 trivial); safeguard record holds; ablation does not hold: without its "
        "safeguard BFGS at a fixed step ends at the trivial point in 1/16, with it in 0/16 |")
    compare["optimizers"]["bfgs_fixed_unguarded"] = fake_optimizer(9)
    write(tmp_path, "compare_mlp_tanh", compare)
    assert line(results_table(tmp_path), "E9").endswith("| reproduced |")
    compare["optimizers"]["lbfgs"] = fake_optimizer(2, at_cap=1)  # 3/16 > a tenth
    write(tmp_path, "compare_mlp_tanh", compare)
    assert line(results_table(tmp_path), "E9").endswith(
        "| differs: outcome does not hold (Newton 12/16 trivial); safeguard record holds; ablation holds: without "
        "its safeguard BFGS at a fixed step ends at the trivial point in 9/16, with it in 0/16 |")


def test_phase_map_row(tmp_path):
    grid = {k: [[0, 0], [0, 0]] for k in ("trivial", "minimum", "saddle", "other", "capped_trivial", "capped",
                                          "nonfinite")}
    grid["trivial"] = [[3, 1], [0, 2]]
    grid["capped_trivial"] = [[1, 0], [0, 0]]
    grid["minimum"] = [[0, 1], [2, 0]]
    summary = {"n_seeds": 4, "wall_seconds": 1.0, "etas": [0.05, 0.5], "epss": [0.05, 1.0], "base_eta": 0.05,
               "base_eps": 0.05, "max_steps": 100, "grid": {"counts": grid},
               "widths": {"5": {"n_params": 45, "n_seeds": 4, "counts": {"trivial": 1}, "trivial_at_cap": 1}}}
    write(tmp_path, "phase_map", summary)
    row = line(results_table(tmp_path), "PM")
    assert "η = 0.05, ε = 0.05, 100 steps: 4/4 at the trivial point (3 converged)" in row
    assert "trivial in 0–4 per cell (most at η = 0.05, ε = 0.05; fewest at η = 0.5, ε = 0.05)" in row
    assert "3 non-trivial converged runs of 16, 3 of them minima" in row and "width 5 (45 p.): 2/4 trivial" in row
    assert row.endswith("| extension (no paper number) |")


def test_paths_toy_row(tmp_path):
    saddle = {"index": 1, "loss": 0.62439, "converged": True, "point": [-0.16, -0.07]}
    summary = {"wall_seconds": 1.0, "straight_height": 1.1018, "optimised_height": {"0.0001": 0.69, "10": 0.645,
                                                                                     "100": 0.65, "1000": 0.641},
               "saddles": {"10": saddle, "100": saddle}}
    write(tmp_path, "paths_toy", summary)
    row = line(results_table(tmp_path), "PT")
    assert row.endswith("| reproduced |") and "straight 1.102; optimised 0.645 (λ = 10)" in row
    assert "λ = 0.0001: 0.690; Newton from every path's top: index [1] at f = 0.6244" in row
    summary["optimised_height"]["100"] = 0.73
    write(tmp_path, "paths_toy", summary)
    assert line(results_table(tmp_path), "PT").endswith(
        "| partly: straight line reproduced; optimised 0.64–0.73, not 0.64–0.65 (README) |")
    summary["straight_height"] = 1.2
    write(tmp_path, "paths_toy", summary)
    assert line(results_table(tmp_path), "PT").endswith("| differs |")


def test_digits_row_verdicts(tmp_path):
    def entry(train, test, barrier, above, spread):
        return {"mean_train_loss": train, "mean_test_loss": test, "mean_barrier": barrier,
                "mean_barrier_above": above, "spread": spread}

    from jaxnewton.digits import findings
    table = {"lbfgs_gss_train": entry(1e-6, 0.5, 0.02, 0.02, 60.0), "lbfgs_gss_test": entry(0.005, 0.2, 0.04, 0.01, 27.0),
             "sgd_train": entry(7e-3, 0.1, 0.01, 0.003, 17.0), "sgd_test": entry(0.01, 0.1, 0.012, 0.002, 17.0)}
    write(tmp_path, "digits_study", {"wall_seconds": 1.0, "table": table, "findings": findings(table)})
    row = line(results_table(tmp_path), "DS")
    assert "lbfgs_gss_train: train 1e-06, test 0.5, barrier 0.02 (0.02 above the ends), spread 60" in row
    assert "early-stopped sets:<br>lbfgs_gss_test:" in row
    assert "| reproduced (8×8 digits, not MNIST; QN / SGD, end-of-run sets: SGD barriers lower ×2;" in row
    table["lbfgs_gss_train"] = entry(1e-6, 0.5, 0.005, 0.004, 60.0)  # QN barriers lower than SGD's
    write(tmp_path, "digits_study", {"wall_seconds": 1.0, "table": table, "findings": findings(table)})
    assert "| partly: SGD barriers lower fails for the end-of-run sets (QN / SGD" in line(results_table(tmp_path), "DS")


def test_landscape_study_row(tmp_path):
    form = {"median_barrier_above": 0.05, "saddle_index": {"1": 2, "3": 1}}
    summary = {"wall_seconds": 1.0, "groups": {"trivial": {"n_points": 1, "n_pairs": 0},
                                               "non_trivial": {"n_points": 4, "n_pairs": 6, "raw": form,
                                                               "canonical": {**form, "median_barrier_above": 0.07}}},
               "symmetry": {"available": True, "endpoint": "bfgs/3", "loss_endpoint": 2e-8, "loss_midpoint": 99.0,
                            "optimised_barrier": 1.5}}
    write(tmp_path, "landscape", summary)
    row = line(results_table(tmp_path), "LS")
    assert "trivial: 1 point(s), no pairs<br>non_trivial (4 points, 6 pairs): median barrier above the ends 0.05 " \
           "raw, 0.07 canonical; Newton from the tops: indices {'1': 2, '3': 1}" in row
    assert "bfgs/3 and a symmetric copy: L 2.0e-08 at both ends, 99 at the midpoint (optimised path: 1.5)" in row
    assert row.endswith("| extension (no paper number) |")
