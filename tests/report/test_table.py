"""The results tables on synthetic summaries, and the README's table against docs/results."""

import json
from pathlib import Path

import pytest

from jaxnewton.report.table import readme_table, readme_table_text, results_table, update_readme, verdict_word
from jaxnewton.studies.registry import ROWS
from summaries import fake_sweep, write

ROOT = Path(__file__).resolve().parents[2]


def test_missing_experiments_say_not_run(tmp_path):
    table = results_table(tmp_path, ROWS, committed=None)
    assert len(table.splitlines()) == 2 + len(ROWS)
    for line in table.splitlines()[2:]:
        assert line.endswith("| not run | not run | — |")
    short = readme_table_text(tmp_path, ROWS).splitlines()
    assert len(short) == 2 + len(ROWS) and all(line.endswith("| not run | — |") for line in short[2:])


def test_verdict_word_is_the_leading_verdict():
    assert verdict_word("differs: paper 9/10, here 26/100, Fisher's exact p = 0.00012") == "differs"
    assert verdict_word("reproduced; 3 more seeds ended at the trivial point") == "reproduced"
    assert verdict_word("extension (no paper number)") == "extension"
    assert verdict_word("—") == "—"


def test_every_row_id_is_unique_and_every_readme_line_is_short():
    assert len({row.id for row in ROWS}) == len(ROWS)
    for line in readme_table_text(ROOT / "docs" / "results", ROWS).splitlines():
        assert len(line) <= 200, line


COMMIT = {"provenance": {"git_commit": "a" * 40}}


def paper_run(results, commit=COMMIT):
    """``results`` holding a complete run of every ``make paper`` row (the committed summaries), made by ``commit``."""
    for row in ROWS:
        for folder in row.folders:
            if not row.own_target:
                summary = json.loads((ROOT / "docs" / "results" / folder / "summary.json").read_text())
                write(results, folder, {**summary, **commit})


def test_update_readme_copies_the_summaries_and_rewrites_only_the_table(tmp_path):
    results, record, readme = tmp_path / "results", tmp_path / "record", tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    readme.write_text(text)
    paper_run(results)
    write(results, "mlp_tanh_100", {**fake_sweep(50, 100, [0.40, 0.60]), **COMMIT})
    update_readme(readme, results, record, ROWS)
    new = readme.read_text()
    assert readme_table(new) == readme_table_text(record, ROWS) != readme_table(text)
    assert "50/100 at 100" in readme_table(new)
    assert new.replace(readme_table(new), "") == text.replace(readme_table(text), "")


def test_publish_refuses_runs_of_two_commits_or_a_dirty_tree_and_writes_nothing(tmp_path):
    results, record, readme = tmp_path / "results", tmp_path / "record", tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    paper_run(results)
    for other, shown in (({"provenance": {"git_commit": "b" * 40}}, "bbbbbbbbbbbb (1 runs)"),
                         ({"provenance": {"git_commit": "a" * 40 + "+dirty"}}, "aaaaaaaaaaaa+dirty (1 runs)"),
                         ({}, "unknown (1 runs)")):
        summary = json.loads((results / "mlp_tanh_100" / "summary.json").read_text())
        summary.pop("provenance")
        write(results, "mlp_tanh_100", {**summary, **other})
        with pytest.raises(ValueError, match="make paper FORCE=1") as refused:
            update_readme(readme, results, record, ROWS)
        assert shown in str(refused.value) and "\n" not in str(refused.value)
        assert not record.exists() and readme.read_text() == (ROOT / "README.md").read_text()
    paper_run(results)  # one clean commit again, but a make paper-quick run: refused too
    (results / "paper_run.json").write_text(json.dumps({"quick": True}))
    with pytest.raises(ValueError, match="make paper-quick run"):
        update_readme(readme, results, record, ROWS)
    assert not record.exists()


def test_readme_results_table_is_the_generated_one():
    """README.md's table must be what `make readme-table` writes from the committed docs/results summaries."""
    assert readme_table((ROOT / "README.md").read_text()) == readme_table_text(ROOT / "docs" / "results", ROWS)


def test_large_studies_are_read_from_their_committed_summary_until_run_here(tmp_path):
    """A row with its own target (make settings): the report falls back to docs/results; update_readme neither
    needs it in results/ nor overwrites the committed one."""
    large = [row for row in ROWS if row.own_target]
    assert {row.id for row in large} == {"ST", "S4", "S5", "S6", "SO", "QE", "W", "RD", "RR"}
    results, record = tmp_path / "results", tmp_path / "record"
    for row in ROWS:
        for folder in row.folders:
            committed = ROOT / "docs" / "results" / folder / "summary.json"
            if not committed.exists():
                continue
            if not row.own_target:
                write(results, folder, {**json.loads(committed.read_text()), **COMMIT})
            else:
                (record / folder).mkdir(parents=True, exist_ok=True)
                (record / folder / "summary.json").write_text(committed.read_text())
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    update_readme(readme, results, record, ROWS)
    assert readme_table(readme.read_text()) == readme_table_text(ROOT / "docs" / "results", ROWS)
    full = results_table(results, ROWS)
    assert all(f"| {row.id} |" in full and ("not run | not run" not in full.split(f"| {row.id} |")[1].split("\n")[0])
               == all((ROOT / "docs" / "results" / f).exists() for f in row.folders) for row in large)
