"""Every count the docs quote with a tag matches the committed summary it comes from (issue 44).

A quoted count carries a tag right after it, ``<!-- count FOLDER: key.path=value ... -->``: each value must equal
``docs/results/FOLDER/summary.json``'s entry at that dotted path (a list's entries by index), and must also be written in the prose just before the
tag (digits grouped by spaces count as one number). So rerunning a study and publishing its summary fails this test
until the page's numbers are rewritten from it.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"<!-- count ([\w.-]+): ([^>]*?) -->")
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def tags():
    for page in PAGES:
        text = page.read_text()
        for match in TAG.finditer(text):
            yield page, text, match


def entry(summary: dict, path: str):
    for key in path.split("."):  # a list's entries by their index ("cells.0.n_seeds")
        summary = summary[int(key)] if isinstance(summary, list) else summary[key]
    return summary


def numbers(text: str) -> set[str]:
    """The numbers written in ``text``, thin- or plain-space digit groups joined ("13 240" → "13240")."""
    return set(re.findall(r"\d+(?:\.\d+)?", re.sub(r"(?<=\d)[ \u202f\u2009](?=\d{3}\b)", "", text)))


def test_the_docs_tag_their_quoted_counts():
    assert sum(1 for _ in tags()) >= 5  # (the tags themselves must not silently vanish)


@pytest.mark.parametrize("page, text, match", list(tags()), ids=lambda x: getattr(x, "name", None))
def test_each_tagged_count_matches_its_committed_summary_and_its_prose(page, text, match):
    folder, pairs = match.group(1), match.group(2).split()
    summary = json.loads((ROOT / "docs" / "results" / folder / "summary.json").read_text())
    before = text[max(0, match.start() - 400):match.start()]
    before = before[before.rfind("-->") + 3 if "-->" in before else 0:]  # back to the previous tag at most
    written = numbers(before)
    for pair in pairs:
        path, value = pair.split("=")
        assert entry(summary, path) == json.loads(value), f"{page.name}: {folder} {path}"
        assert value in written, f"{page.name}: {folder} {path}={value} is not written before its tag"
