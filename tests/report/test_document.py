"""REPORT.md on synthetic summaries: captions, settings, machine, wall times, the quick banner."""

import datetime

from jaxnewton.engine.folders import write_manifest
from jaxnewton.report.document import write_report
from jaxnewton.report.table import results_table
from jaxnewton.studies.registry import ROWS
from summaries import fake_sweep, write

E3 = next(r for r in ROWS if r.id == "E3")


def test_report_has_captions_settings_machine_and_quick_banner(tmp_path):
    machine = {"processor": "x86_64", "cpu_count": 2, "platform": "Linux", "jax": "0.0", "jax_backend": "cpu",
               "devices": ["CpuDevice(id=0)"], "python": "3.11", "numpy": "2.0", "jaxnewton": "0.1.0",
               "git_commit": "abc"}
    for folder, trivial, n in zip(E3.folders, (9, 88), (10, 100)):
        write(tmp_path, folder, fake_sweep(trivial, n, [0.6, 0.98]),
              {"config": {"name": "mlp_tanh", "eta": 0.05}, "config_hash": "h", "machine": machine})
        for figure in E3.figures:
            if figure.folder == folder:
                (tmp_path / folder / figure.file).write_bytes(b"png")
        write_manifest(tmp_path / folder, "h")  # the figures are files of the run too
    now = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)
    text = write_report(tmp_path, ROWS, now=now).read_text()
    assert "Quick run" not in text and "2026-01-02T00:00:00+00:00" in text
    assert results_table(tmp_path, ROWS) in text
    assert text.count("![") == len(E3.figures) == 8
    for figure in E3.figures:  # the figure, then its two caption lines
        assert f"]({figure.folder}/{figure.file})\n\n*Figure E3.{figure.folder}." in text
        assert f"{figure.caption[0]}  \n{figure.caption[1]}\n" in text
    assert "- `mlp_tanh` (config hash h): name = mlp_tanh, eta = 0.05" in text
    assert "x86_64, 2 cores, Linux; JAX 0.0 on cpu" in text and "ran mlp_tanh, mlp_tanh_100" in text
    assert "| **total** | **2** |" in text
    assert "Quick run" in write_report(tmp_path, ROWS, quick=True, now=now).read_text()
