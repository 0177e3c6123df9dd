"""Results folders: one run per folder, one writer at a time, completeness only through the manifest."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from jaxnewton.engine import folders
from jaxnewton.engine.folders import CLAIM, MANIFEST, load_summary, locked, run_in_folder
from jaxnewton.engine.io import RowWriter, load_npz, write_csv, write_json, write_npz
from jaxnewton.studies.saddles import SaddlesConfig

A, B = SaddlesConfig(name="a"), SaddlesConfig(name="b", gd_steps=12)


def fake_run(config, out, log, progress):
    """What a study does: results files, then its summary (``run_in_folder`` seals it)."""
    (out / "table.csv").write_text(f"config,{config.name}\n")
    (out / "sub").mkdir(exist_ok=True)
    (out / "sub" / "part.txt").write_text(config.name)
    summary = {"experiment": config.name, "config_hash": config.hash()}
    write_json(out / "summary.json", summary)
    return summary


def test_a_complete_run_is_refused_to_another_config_and_replaced_with_force(tmp_path):
    run_in_folder(fake_run, A, tmp_path, log=lambda _: None)
    assert load_summary(tmp_path, A.hash())["experiment"] == "a" and load_summary(tmp_path, B.hash()) is None
    assert json.loads((tmp_path / "config.json").read_text())["config_hash"] == A.hash()
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert set(manifest["files"]) == {"table.csv", "sub/part.txt", "summary.json", "config.json"}
    with pytest.raises(ValueError) as refused:
        run_in_folder(fake_run, B, tmp_path, log=lambda _: None)
    message = str(refused.value)
    assert "\n" not in message and A.hash() in message and B.hash() in message and "--force" in message
    assert load_summary(tmp_path, A.hash()) is not None  # the old run is untouched
    logs = []
    run_in_folder(fake_run, B, tmp_path, log=logs.append, policy="clear")
    assert load_summary(tmp_path, B.hash())["experiment"] == "b" and load_summary(tmp_path, A.hash()) is None
    assert any("clearing" in line for line in logs)
    run_in_folder(fake_run, A, tmp_path, log=lambda _: None, policy="replace")  # make paper's policy
    assert load_summary(tmp_path, A.hash()) is not None


def test_a_folder_is_complete_only_while_every_listed_file_is_there_unchanged(tmp_path):
    run_in_folder(fake_run, A, tmp_path, log=lambda _: None)
    assert load_summary(tmp_path) is not None
    (tmp_path / "sub" / "part.txt").write_text("another run's part")
    assert load_summary(tmp_path) is None
    run_in_folder(fake_run, A, tmp_path, log=lambda _: None)  # the same config rewrites and reseals
    (tmp_path / "extra.png").write_bytes(b"x")  # a file no manifest lists
    assert load_summary(tmp_path) is None
    (tmp_path / "extra.png").unlink()
    (tmp_path / "table.csv").unlink()
    assert load_summary(tmp_path) is None


def test_an_unfinished_run_of_another_config_is_refused_and_its_checkpoints_kept(tmp_path):
    checkpoint = tmp_path / "checkpoints" / A.hash() / "batch_0000.npz"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"state")
    with pytest.raises(ValueError, match=f"hash {A.hash()}"):
        run_in_folder(fake_run, B, tmp_path, log=lambda _: None)
    assert checkpoint.read_bytes() == b"state"
    (tmp_path / "stray.txt").write_text("x")
    (tmp_path / "checkpoints").rename(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="not a jaxnewton run"):  # files of unknown origin
        run_in_folder(fake_run, A, tmp_path, log=lambda _: None)


def test_a_kill_while_clearing_leaves_no_complete_run(tmp_path, monkeypatch):
    run_in_folder(fake_run, A, tmp_path, log=lambda _: None)

    def killed(path, *args, **kwargs):
        raise KeyboardInterrupt  # stands for a kill after the manifest went and before the rest did

    monkeypatch.setattr(folders.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        run_in_folder(fake_run, B, tmp_path, log=lambda _: None, policy="clear")
    monkeypatch.undo()
    assert load_summary(tmp_path, A.hash()) is None and load_summary(tmp_path, B.hash()) is None
    assert (tmp_path / "sub" / "part.txt").exists()  # some of A's files are still there: no longer a complete run
    run_in_folder(fake_run, A, tmp_path, log=lambda _: None)  # its claim says A: A resumes and reseals
    assert load_summary(tmp_path, A.hash()) is not None


def test_a_second_writer_is_refused_naming_the_pid_that_holds_the_folder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from jaxnewton.engine.folders import locked
        with locked({str(tmp_path)!r}):
            print("locked", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ValueError, match=f"being written by another run \\(PID {holder.pid}\\)"):
            run_in_folder(fake_run, B, tmp_path, log=lambda _: None)
        assert not (tmp_path / CLAIM).exists()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with locked(tmp_path):  # released by the holder's death, even a SIGKILL
        assert (tmp_path / ".lock").read_text() == str(os.getpid())


def test_summary_json_is_strict_and_says_what_was_not_finite(tmp_path):
    write_json(tmp_path / "s.json", {"p": float("nan"), "q": [1.0, float("inf")], "ok": 2.0})

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads((tmp_path / "s.json").read_text(), parse_constant=refuse)
    assert data["p"] is None and data["q"] == [1.0, None] and data["ok"] == 2.0
    assert "nan" in data["nonfinite"]["p"]


def test_row_writer_writes_what_one_call_writes(tmp_path):
    rng = np.random.default_rng(0)
    blocks = [{"theta": rng.standard_normal((n, 3)), "seed": np.arange(k, k + n)} for k, n in ((0, 4), (4, 1), (5, 3))]
    rows = [[{"seed": int(s), "x": float(t[0])} for s, t in zip(b["seed"], b["theta"])] for b in blocks]
    writer = RowWriter(tmp_path / "runs.csv", tmp_path / "arrays.npz", ["seed", "x"])
    for block_rows, block in zip(rows, blocks):
        writer.add(block_rows, block)
    writer.close({"step": np.arange(5)})
    write_csv(tmp_path / "one.csv", [r for block in rows for r in block], ["seed", "x"])
    write_npz(tmp_path / "one.npz", {"theta": np.concatenate([b["theta"] for b in blocks]), "seed": np.arange(8),
                                     "step": np.arange(5)})
    assert (tmp_path / "runs.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    streamed, whole = load_npz(tmp_path / "arrays.npz"), load_npz(tmp_path / "one.npz")
    assert set(streamed) == set(whole)
    for key in whole:
        assert streamed[key].dtype == whole[key].dtype
        np.testing.assert_array_equal(streamed[key], whole[key])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "one.csv", "one.npz", "runs.csv"]
