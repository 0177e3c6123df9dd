"""Atomic file writers and run metadata for the results contract.

Every file is written to a temporary name in the same folder (hidden: ``.<name>.<random>.tmp``) and
renamed into place, so an interrupted run never leaves a half-written file that looks whole. JSON is
strict (no NaN or Infinity): a non-finite number is written as null, and the dictionary it sits in says
which and why under ``nonfinite``. Large per-seed tables and arrays can be written row block by row block
(``RowWriter``), so writing them needs no more memory than one block.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import importlib.metadata
import io
import json
import math
import os
import platform
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping

import jax
import numpy as np

from jaxnewton.version import __version__

Log = Callable[[str], None]  # where a runner's progress lines go
Progress = Callable[[float, str], None]  # (fraction of the run done, what is done in words), after each segment


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[IO]:
    """A file object on a hidden temporary name, renamed to ``path`` when the block ends without an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (``atomic_file``)."""
    with atomic_file(path) as f:
        f.write(data)


def strict_json(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None; each dict that held one says which under ``nonfinite``."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        out = {k: strict_json(v) for k, v in obj.items()}
        bad = {k: f"{v} (not a finite number: written as null)" for k, v in obj.items()
               if isinstance(v, float) and not math.isfinite(v)}
        return {**out, "nonfinite": bad} if bad else out
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented strict JSON (``strict_json``), atomically."""
    text = json.dumps(strict_json(obj), indent=2, sort_keys=False, allow_nan=False)
    atomic_write_bytes(Path(path), (text + "\n").encode())


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing or not JSON (a file cut short by a kill is never renamed in,
    but a folder may hold anything)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def write_summary(out: Path, summary: dict) -> None:
    """``out/summary.json``, stamped with ``finished_at`` (UTC) and its ``provenance`` (``machine_info``: which commit
    and machine made it, so a summary copied elsewhere still says). A run is complete only once ``engine.folders``
    seals it with its manifest, after this."""
    summary["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    summary["provenance"] = machine_info()
    write_json(Path(out) / "summary.json", summary)


def read_summary(folder: Path) -> dict | None:
    """``folder/summary.json`` as it is, or None: for a record of summaries (``docs/results``), not for results
    folders (``engine.folders.load_summary`` checks that a run is complete)."""
    return read_json(Path(folder) / "summary.json")


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


class RowWriter:
    """``runs.csv`` and ``arrays.npz`` written a block of rows at a time, atomically, in bounded memory.

    ``add(rows, arrays)`` appends a block: ``rows`` (dicts with the ``columns``) go to the CSV at once; ``arrays``
    (each with a leading row axis) are kept on disk as one temporary ``.npy`` per key and block; ``close(extra)``
    writes the ``.npz`` (the blocks' arrays concatenated, plus ``extra`` arrays), reading one block at a time,
    and renames both files into place. Until then neither exists under its name.
    """

    def __init__(self, csv_path: Path, npz_path: Path, columns: list[str]):
        self.npz_path, self.blocks, self.columns = Path(npz_path), [], columns
        self._csv = atomic_file(csv_path, "w")
        self._file = self._csv.__enter__()
        self._writer = csv.DictWriter(self._file, fieldnames=columns, lineterminator="\n")
        self._writer.writeheader()
        self._parts = tempfile.TemporaryDirectory(dir=self.npz_path.parent, prefix=f".{self.npz_path.name}.",
                                                  suffix=".tmp")

    def add(self, rows: Iterable[Mapping[str, Any]], arrays: Mapping[str, np.ndarray]) -> None:
        for row in rows:
            self._writer.writerow({k: _csv_value(row[k]) for k in self.columns})
        block = len(self.blocks)
        for key, value in arrays.items():
            np.save(Path(self._parts.name) / f"{block}_{key}.npy", np.asarray(value), allow_pickle=False)
        self.blocks.append(list(arrays))

    def close(self, extra: Mapping[str, np.ndarray] | None = None) -> None:
        try:
            with atomic_file(self.npz_path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
                for key in self.blocks[0] if self.blocks else []:
                    parts = [np.load(Path(self._parts.name) / f"{b}_{key}.npy", mmap_mode="r")
                             for b in range(len(self.blocks))]
                    header = {"descr": np.lib.format.dtype_to_descr(parts[0].dtype), "fortran_order": False,
                              "shape": (sum(len(p) for p in parts), *parts[0].shape[1:])}
                    with z.open(f"{key}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array_header_1_0(member, header)
                        for part in parts:
                            member.write(np.ascontiguousarray(part).tobytes())
                for key, value in (extra or {}).items():
                    with z.open(f"{key}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            self._csv.__exit__(None, None, None)
        except BaseException as error:
            self._csv.__exit__(type(error), error, error.__traceback__)
            raise
        finally:
            self._parts.cleanup()


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write named arrays as an uncompressed .npz (no pickles), atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Load every array of an .npz written by ``write_npz``."""
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:  # the file closes even when np.load fails
        return {k: data[k] for k in data.files}


CHECKSUM = "__sha256__"  # the key under which a checked .npz stores its digest


def _digest(arrays: Mapping[str, np.ndarray], identity: str) -> str:
    """SHA-256 over ``identity`` and every array's name, dtype, shape and bytes (keys sorted)."""
    digest = hashlib.sha256(identity.encode())
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        digest.update(f"\0{key}\0{value.dtype.str}\0{value.shape}\0".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def file_identity(path: Path) -> str:
    """What a checked file is by default: its folder's name and its own (``<config hash>/result_0003.npz``), so a
    file swapped for another batch's, or copied from another config's checkpoints, fails its check."""
    return f"{Path(path).parent.name}/{Path(path).name}"


def _identity(path: Path, identity: str | None) -> str:
    return identity if identity is not None else file_identity(path)


def write_checked_npz(path: Path, arrays: Mapping[str, np.ndarray], identity: str | None = None) -> None:
    """``write_npz`` plus the SHA-256 of the arrays and of what the file is (``identity``): for every file a run
    reads back (checkpoints, finished batches, records), which ``read_checked_npz`` verifies."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    write_npz(path, {**arrays, CHECKSUM: np.asarray(_digest(arrays, _identity(path, identity)))})


def read_checked_npz(path: Path, log: Log, identity: str | None = None) -> dict[str, np.ndarray] | None:
    """The arrays ``write_checked_npz`` wrote to ``path``, or None when there is no file or it fails its check.

    A file that does not load (cut short, zeroed, not an .npz), has no digest, or whose digest does not match
    its arrays and ``identity`` (damaged, or another file's) is set aside (``set_aside``: renamed, never deleted)
    with one line on ``log``; the caller recomputes its work from the last good state.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        arrays = load_npz(path)
        stored = str(arrays.pop(CHECKSUM)) if CHECKSUM in arrays else None
        problem = ("it has no checksum" if stored is None
                   else None if stored == _digest(arrays, _identity(path, identity))
                   else "its checksum does not match (damaged, or another file's)")
    except Exception as error:  # noqa: BLE001 - whatever a damaged file raises, it is a damaged file
        problem = f"it does not load ({type(error).__name__}: {' '.join(str(error).split())[:80]})"
    if problem is None:
        return arrays
    aside = set_aside(path)
    log(f"warning: {path} failed its check ({problem}): set aside as {aside.name}; recomputing its work from the "
        "last good state")
    return None


def set_aside(path: Path) -> Path:
    """Rename ``path`` to ``.<name>.bad-<k>`` beside it (the first free k; hidden, so never part of a run's files
    or manifest) and return the new path."""
    path = Path(path)
    k = 1
    while path.with_name(f".{path.name}.bad-{k}").exists():
        k += 1
    aside = path.with_name(f".{path.name}.bad-{k}")
    os.replace(path, aside)
    return aside


def write_config(out: Path, config: Any) -> None:
    """``out/config.json``: every field of ``config``, its hash, and the machine and versions that ran it."""
    write_json(Path(out) / "config.json", {"config": config.to_dict(), "config_hash": config.hash(),
                                           "machine": machine_info()})


CHECKPOINTS = "checkpoints"


def checkpoint_dir(out: Path, config_hash: str) -> Path:
    """``out/checkpoints/<config_hash>/``, created. A checkpoint is only ever resumed by the config that wrote it:
    ``engine.folders`` refuses (or clears) a folder that holds another config's run before anything is written."""
    current = Path(out) / CHECKPOINTS / config_hash
    current.mkdir(parents=True, exist_ok=True)
    return current


def git_state() -> tuple[str, str]:
    """(HEAD commit, ``"clean"`` or ``"dirty"``) of the checkout this package runs from, as it was when this process
    imported it (the code that runs: a commit made during a long run does not change it; it once stamped a study's
    later cells with commits made while they ran); ``("unknown", "not a git checkout")`` for an installed copy or a
    machine without git. Dirty: a tracked file that can change a result differed from HEAD; the published results
    and prose (``docs/``, ``*.md``) do not count, since a study's own target writes them and the next one run from
    the same checkout would otherwise be stamped dirty."""
    return _STATE_AT_IMPORT


NOT_CODE = (":(top,exclude)docs", ":(top,exclude)*.md")  # what git_state's dirty test leaves out


def _read_git_state(where: Path | None = None) -> tuple[str, str]:
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=where or Path(__file__).resolve().parent)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return "unknown", "not a git checkout"
        changed = git("diff", "--quiet", "HEAD", "--", ":(top)", *NOT_CODE).returncode
        return head.stdout.strip(), "dirty" if changed else "clean"
    except OSError:
        return "unknown", "not a git checkout"


_STATE_AT_IMPORT = _read_git_state()


def git_commit(state: tuple[str, str] | None = None) -> str:
    """The repository's HEAD commit (``+dirty`` when tracked files differ from it), or ``"unknown"``; from ``state``
    (``git_state()``'s answer) when given."""
    commit, tree = state or git_state()
    return commit + ("+dirty" if tree == "dirty" else "")


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _lapack_threads() -> list[str]:
    """The BLAS/LAPACK libraries loaded in this process and their thread counts (threadpoolctl)."""
    import threadpoolctl

    return sorted(f"{p.get('internal_api')} {p.get('version')}: {p.get('num_threads')} thread(s)"
                  for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas")  # in load order otherwise


def machine_info() -> dict[str, Any]:
    """Which code and machine made a result: the commit and whether the tree was dirty, package versions, the CPU
    (or accelerator), JAX's devices, the LAPACK thread setting and XLA's flags. Written into every ``config.json``
    and ``summary.json``."""
    state = git_state()
    devices = jax.devices()
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "jax_backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "accelerator": sorted({d.device_kind for d in devices if d.platform != "cpu"}) or None,
        "python": platform.python_version(),
        **{package: _version(package) for package in ("jax", "jaxlib", "numpy", "scipy", "optax", "flax")},
        "jaxnewton": __version__,
        "git_commit": git_commit(state),
        "git_tree": state[1],
        "lapack": _lapack_threads(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cpu_devices_env": os.environ.get("JAXNEWTON_CPU_DEVICES"),
    }
