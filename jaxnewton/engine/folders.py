"""Results folders that never lie: one run per folder, one writer at a time, completeness proven by a manifest.

A run writes its folder under an OS lock (``.lock``, which records the holder's PID): a second writer is refused
in one line naming that PID. Before writing, the run claims the folder for its config (``.run.json``: the
config's name and hash). A folder that holds another config's run (its claim, its manifest or its
checkpoints say so), or files of unknown origin, is refused in one line naming both configs and the way
out: ``--force`` (``policy="clear"``), or another ``--out``. Clearing removes ``manifest.json`` first, so from
that instant the folder holds no complete run; then everything else but the lock.

The run writes its results, then ``config.json``, then ``manifest.json`` last: the config hash and the
SHA-256 of every file of the run (checkpoints and hidden files aside). A folder is complete for a config
when its manifest carries that config's hash and every file it lists is present with that checksum
(``load_summary``); a kill at any moment leaves either the old complete run or no complete run, never a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from jaxnewton.engine.io import CHECKPOINTS, Log, Progress, read_json, write_config, write_json

LOCK, CLAIM, MANIFEST = ".lock", ".run.json", "manifest.json"
UNKNOWN = "?"  # the owner of a folder whose files no claim, manifest or checkpoint explains
Policy = Literal["refuse", "replace", "clear"]
POLICIES = ("refuse", "replace", "clear")


def run_files(out: Path) -> list[str]:
    """The files of the run in ``out``, relative and sorted: everything but hidden files, checkpoints and the manifest."""
    out = Path(out)
    found = []
    for path in out.rglob("*"):
        parts = path.relative_to(out).parts
        if path.is_file() and not any(p.startswith(".") or p == CHECKPOINTS for p in parts) and parts != (MANIFEST,):
            found.append(Path(*parts).as_posix())
    return sorted(found)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def owner(out: Path) -> str | None:
    """The config hash the folder's contents belong to: its claim, else its manifest, else its checkpoints;
    None when it is empty (or missing); ``UNKNOWN`` when it holds files none of these explain."""
    out = Path(out)
    for marker in (CLAIM, MANIFEST):
        found = read_json(out / marker)
        if isinstance(found, dict) and isinstance(found.get("config_hash"), str):
            return found["config_hash"]
    checkpoints = sorted(p.name for p in (out / CHECKPOINTS).glob("*") if p.is_dir())
    if len(checkpoints) == 1:
        return checkpoints[0]
    if checkpoints or (out.is_dir() and any(p.name != LOCK for p in out.iterdir())):
        return UNKNOWN
    return None


def _name_of(out: Path) -> str:
    found = read_json(Path(out) / CLAIM) or read_json(Path(out) / "config.json") or {}
    return found.get("name") or (found.get("config") or {}).get("name") or "an unknown config"


def clear(out: Path) -> None:
    """Empty ``out`` but for its lock: the manifest first (no complete run from then on), then the rest, the claim
    last (a clear cut short leaves a folder its owner can still resume or clear)."""
    out = Path(out)
    (out / MANIFEST).unlink(missing_ok=True)
    for entry in out.iterdir():
        if entry.name in (LOCK, CLAIM):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (out / CLAIM).unlink(missing_ok=True)


@contextlib.contextmanager
def locked(out: Path) -> Iterator[Path]:
    """Hold the OS lock of the results folder ``out`` (created if missing) for the block."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a folder: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise ValueError(f"{out} is being written by another run (PID {holder}): wait for it to finish, "
                             "or choose another --out") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield out
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def claim(out: Path, config: Any, policy: Policy, log: Log) -> None:
    """Make ``out`` (locked) this config's: refuse, replace or clear what another config left, per ``policy``.

    ``refuse``: a folder holding another config's run, or files of unknown origin, raises ValueError.
    ``replace``: such a folder is cleared; a run of this config resumes. ``clear``: the folder is cleared
    whatever it holds (``--force``: start over).
    """
    if policy not in POLICIES:
        raise ValueError(f"policy={policy!r}: use one of {list(POLICIES)}")
    mine, found = config.hash(), owner(out)
    if found not in (None, mine) and policy == "refuse":
        held = (f"a run of config {_name_of(out)} (hash {found})" if found != UNKNOWN
                else "files that are not a jaxnewton run of this config")
        raise ValueError(f"{out} holds {held}; this is config {config.name} (hash {mine}): rerun with --force to "
                         "replace it, or choose another --out")
    if found is not None and (policy == "clear" or found != mine):
        log(f"clearing {out} (it held {'this config' if found == mine else f'config hash {found}'})")
        clear(out)
    (Path(out) / MANIFEST).unlink(missing_ok=True)  # about to write: not complete until sealed again
    for stale in sorted(Path(out).rglob(".*.tmp"), reverse=True):  # what a killed writer left (we hold the lock)
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    write_json(Path(out) / CLAIM, {"config_hash": mine, "name": config.name, "pid": os.getpid()})


def seal(out: Path, config: Any) -> None:
    """Write ``config.json``, then ``manifest.json`` last: the config hash and the SHA-256 of every run file."""
    write_config(out, config)
    write_manifest(out, config.hash())


def write_manifest(out: Path, config_hash: str) -> None:
    """``out/manifest.json`` over the files now in ``out`` (``run_files``)."""
    files = {name: _sha256(Path(out) / name) for name in run_files(out)}
    write_json(Path(out) / MANIFEST, {"config_hash": config_hash, "files": files})


def made_by(summary: dict | None) -> str:
    """The commit that made a run, from its ``summary.json``'s ``provenance`` ("unknown": none, or code too old)."""
    return ((summary or {}).get("provenance") or {}).get("git_commit", "unknown")


def load_summary(out: Path, config_hash: str | None = None) -> dict | None:
    """The summary of the complete run in ``out``, or None.

    Complete: a manifest (of ``config_hash`` when given) whose every file is present with its checksum, a
    ``summary.json`` among them, and no other run file beside them.
    """
    out = Path(out)
    manifest = read_json(out / MANIFEST)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    if config_hash is not None and manifest.get("config_hash") != config_hash:
        return None
    files = manifest["files"]
    if "summary.json" not in files or set(run_files(out)) != set(files):
        return None
    if any(_sha256(out / name) != digest for name, digest in files.items()):
        return None
    summary = read_json(out / "summary.json")
    if not isinstance(summary, dict) or summary.get("config_hash", manifest["config_hash"]) != manifest["config_hash"]:
        return None
    return summary


def run_in_folder(run: Callable[..., dict], config: Any, out: Path, log: Log = print,
                  progress: Progress | None = None, policy: Policy = "refuse") -> dict:
    """``run(config, out, log, progress)`` into the folder ``out``: locked, claimed, then sealed with its manifest."""
    with locked(out):
        claim(out, config, policy, log)
        summary = run(config, Path(out), log, progress)
        seal(out, config)
    return summary
