"""Atomic file writers and run metadata for the results contract.

Every file is written to a temporary name in the same folder and renamed into place,
so an interrupted run never leaves a half-written file that looks whole.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import jax
import numpy as np

from jaxnewton import __version__

Log = Callable[[str], None]  # where a runner's progress lines go
Progress = Callable[[float, str], None]  # (fraction of the run done, what is done in words), after each segment


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_bytes(Path(path), (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def write_summary(out: Path, summary: dict) -> None:
    """``out/summary.json``, stamped with ``finished_at`` (UTC). Written last: its presence marks a complete run."""
    summary["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    write_json(Path(out) / "summary.json", summary)


def load_summary(results: Path, folder: str) -> dict | None:
    """``results/<folder>/summary.json``, or None when the run is missing or unfinished (the summary is written last)."""
    path = Path(results) / folder / "summary.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], columns: list[str]) -> None:
    """Write rows (dicts) with a header of ``columns``, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row[k]) for k in columns})
    atomic_write_bytes(Path(path), buffer.getvalue().encode())


def _csv_value(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    return value


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write named arrays as an uncompressed .npz (no pickles), atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Load every array of an .npz written by ``write_npz``."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def write_config(out: Path, config: Any) -> None:
    """``out/config.json``: every field of ``config``, its hash, and the machine and versions that ran it."""
    write_json(Path(out) / "config.json", {"config": config.to_dict(), "config_hash": config.hash(),
                                           "machine": machine_info()})


def checkpoint_dir(out: Path, config_hash: str, log: Callable[[str], None]) -> Path:
    """``out/checkpoints/<config_hash>/``, created; checkpoints of any other config hash are deleted (logged).

    A checkpoint is only ever resumed by the config that wrote it: a changed setting starts over.
    """
    checkpoints = Path(out) / "checkpoints"
    current = checkpoints / config_hash
    if checkpoints.exists():
        for stale in checkpoints.iterdir():
            if stale.name != config_hash:
                log(f"removing checkpoints of a different config: {stale}")
                shutil.rmtree(stale)
    current.mkdir(parents=True, exist_ok=True)
    return current


def git_commit() -> str:
    """The repository's HEAD commit (``+dirty`` when tracked files differ from it), or ``"unknown"``."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).resolve().parent)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return "unknown"
        return head.stdout.strip() + ("+dirty" if git("diff", "--quiet", "HEAD").returncode else "")
    except OSError:
        return "unknown"


def machine_info() -> dict[str, Any]:
    """What ran this: platform, cores, JAX backend and devices, package versions."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "jax_backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "jaxnewton": __version__,
        "git_commit": git_commit(),
    }
