"""The results table: a row per experiment, generated from the runs' ``summary.json`` files.

Each study declares its rows (``Row``): the paper's result, the results folders it reads, and a
``cells`` function that turns their summaries into ``Cells``: this project at the paper's setting, over
the larger sweep (with a 95% interval where the result is a proportion), a verdict computed from the
numbers (reproduced / partly / differs, or extension where the paper reports nothing to compare), and
a one-line headline. ``results_table`` is the full table of ``results/REPORT.md``; ``readme_table_text``
the short one (headline and verdict word) that ``make paper`` copies into the README between its markers,
and that ``make test`` regenerates from ``docs/results`` to check the copy. Nothing is typed by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from jaxnewton.engine.folders import load_summary, made_by
from jaxnewton.engine.io import atomic_write_bytes, read_json, read_summary

Summary = dict | None  # a run's summary.json, None when the run is missing or incomplete
NOT_RUN = "not run"
VERDICTS = ("reproduced", "partly", "differs", "extension")


class Figure(NamedTuple):
    """A PNG of a results folder, with a caption: what is drawn, then what to look for."""

    folder: str
    file: str
    caption: tuple[str, str]


class Cells(NamedTuple):
    """What a row says about its runs.

    Attributes:
      setting: this project at the paper's setting.
      larger: this project over the larger sweep (95% interval where the result is a proportion).
      verdict: one of ``VERDICTS`` first, then why (``"differs: paper 9/10, here 26/100, Fisher's exact p = 0.00012"``).
      headline: the result in one short line, for the README.
    """

    setting: str
    larger: str
    verdict: str
    headline: str


NOT_RUN_CELLS = Cells(NOT_RUN, NOT_RUN, "—", NOT_RUN)


class Row(NamedTuple):
    """One experiment of the results table (declared by the study that runs it).

    Attributes:
      id: E1 … E9, or a short tag for what extends the papers.
      name: the experiment in a few words (the README's table).
      title: the experiment with its settings (the report's table and headings).
      paper: the paper's result, short.
      folders: ``results/<folder>`` of each run the row reads, the paper's setting first.
      cells: summaries (None where missing) → ``Cells``.
      figures: the figures the report shows under the row.
      own_target: for a large study that ``make paper`` does not run (``make settings``): its target. The
        report then reads its committed summary (``RECORD``) where ``results/`` has no run of it.
    """

    id: str
    name: str
    title: str
    paper: str
    folders: tuple[str, ...]
    cells: Callable[[list[Summary]], Cells]
    figures: tuple[Figure, ...]
    own_target: str = ""


def verdict_word(verdict: str) -> str:
    """The leading word of a verdict (``VERDICTS``), or the verdict itself when it has none."""
    return next((word for word in VERDICTS if verdict.startswith(word)), verdict)


RECORD = Path(__file__).resolve().parents[2] / "docs" / "results"  # the committed summaries


def row_summary(results: Path, row: Row, folder: str, record: bool = False, committed: Path | None = RECORD) -> Summary:
    """The summary of ``results/folder`` (``record``: a bare summary), or for an ``own_target`` row where ``results``
    has no complete run of it, the ``committed`` one (None: none)."""
    summary = (read_summary if record else load_summary)(Path(results) / folder)
    if summary is None and row.own_target and committed is not None:
        summary = read_summary(Path(committed) / folder)
    return summary


def row_cells(results: Path, row: Row, record: bool = False, committed: Path | None = RECORD) -> Cells:
    """The row's cells from the complete runs under ``results`` (``record``: from a folder of bare summaries)."""
    return row.cells([row_summary(results, row, f, record, committed) for f in row.folders])


HEADER = ("| # | experiment | paper | this project, paper's setting | this project, larger sweep (95% CI) | verdict |\n"
          "|---|---|---|---|---|---|")
SHORT_HEADER = "| # | experiment | paper | this project | verdict |\n|---|---|---|---|---|"


def results_table(results: Path, rows: tuple[Row, ...], committed: Path | None = RECORD) -> str:
    """The full results table of ``REPORT.md``: header and one row per experiment (``committed``: where the rows of
    large studies with their own target are read from when ``results`` lacks them)."""
    lines = [HEADER]
    for row in rows:
        cells = row_cells(results, row, committed=committed)
        lines.append(f"| {row.id} | {row.title} | {row.paper} | {cells.setting} | {cells.larger} | {cells.verdict} |")
    return "\n".join(lines)


def readme_table_text(record: Path, rows: tuple[Row, ...]) -> str:
    """The README's short table from the record of summaries (``docs/results``): a line per experiment."""
    lines = [SHORT_HEADER]
    for row in rows:
        cells = row_cells(record, row, record=True, committed=None)
        lines.append(f"| {row.id} | {row.name} | {row.paper} | {cells.headline} | {verdict_word(cells.verdict)} |")
    return "\n".join(lines)


README_START = "<!-- results-table: generated by `make publish` from docs/results; `make test` checks it -->"
README_END = "<!-- end results-table -->"


def readme_table(readme_text: str) -> str:
    """The results table between the README's markers."""
    if README_START not in readme_text or README_END not in readme_text:
        raise ValueError(f"README.md lacks the results-table markers {README_START!r} … {README_END!r}")
    return readme_text.split(README_START, 1)[1].split(README_END, 1)[0].strip()


def update_readme(readme: Path, results: Path, record: Path, rows: tuple[Row, ...]) -> None:
    """``make publish``: copy every ``make paper`` row's ``summary.json`` from ``results`` into ``record`` and rewrite
    the README's table from it (the large studies' rows keep their committed summaries: their own targets publish).

    ``record`` (``docs/results``) is committed, so ``make test`` can regenerate the table and compare. Refused in one
    line (ValueError, nothing written) unless every run is complete, none is a quick run, and all were made by one
    commit from a clean tree (``summary.json``'s ``provenance``): a published table is one code's full results.
    """
    if (read_json(Path(results) / "paper_run.json") or {}).get("quick"):
        raise ValueError(f"{results} holds a make paper-quick run (shrunk settings): publish a full make paper run")
    folders = [f for row in rows if not row.own_target for f in row.folders]
    missing = [f for f in folders if load_summary(Path(results) / f) is None]
    if missing:
        raise ValueError(f"no complete run in {', '.join(str(Path(results) / f) for f in missing)}: "
                         "run `make paper` before `make publish`")
    commits = {f: made_by(load_summary(Path(results) / f)) for f in folders}
    runs_of = {c: sum(1 for v in commits.values() if v == c) for c in dict.fromkeys(commits.values())}
    if len(runs_of) > 1 or any(c == "unknown" or c.endswith("+dirty") for c in runs_of):
        raise ValueError("the runs in " + str(results) + " come from " + ", ".join(
            f"{c[:12] + ('+dirty' if c.endswith('+dirty') else '')} ({n} runs)" for c, n in runs_of.items())
            + ": commit your changes and rerun `make paper FORCE=1` on that one clean commit before `make publish`")
    for folder in folders:
        atomic_write_bytes(Path(record) / folder / "summary.json",
                           (Path(results) / folder / "summary.json").read_bytes())
    write_readme_table(readme, record, rows)


def write_readme_table(readme: Path, record: Path, rows: tuple[Row, ...]) -> None:
    """Rewrite the README's table from ``record`` (``docs/results``) alone: what a large study's own target does
    after copying its summary there."""
    text = Path(readme).read_text()
    readme_table(text)  # checks the markers
    before, rest = text.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    table = readme_table_text(record, rows)
    atomic_write_bytes(Path(readme), f"{before}{README_START}\n{table}\n{README_END}{after}".encode())
