"""Stop a long run cleanly when a scheduler preempts it: SIGTERM, SIGINT or SIGHUP ends it at its next checkpoint.

Slurm and Kubernetes preempt a job with SIGTERM and kill it (SIGKILL) a grace period later (30 s by default in
both). Inside ``stop_at_checkpoints()`` (the CLI holds it around every run) such a signal only records that a stop
was asked for; the run goes on to the end of its current segment (engine.sweep sizes segments to last at most
``segment_seconds``), writes its checkpoint, and ``checkpoint_reached`` then raises ``Stopped``: the CLI prints one
line and exits with ``Stopped.status`` (75, ``EX_TEMPFAIL``, for SIGTERM and SIGHUP: "try again"; 130 for Ctrl-C).
The rerun of the same command resumes from that checkpoint. A second signal stops at once (``KeyboardInterrupt``),
losing at most the segment under way. Outside the block (library use) nothing is installed and nothing changes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, the command may be retried (a batch system requeues on it)


class Stopped(Exception):
    """A stop signal arrived and the run stopped at a checkpoint; ``status`` is the process's exit status."""

    def __init__(self, signum: int, where: str):
        self.signum, self.where = signum, where
        self.status = 128 + signum if signum == signal.SIGINT else EX_TEMPFAIL
        super().__init__(f"stopped by {signal.Signals(signum).name} at {where}, checkpoint saved: rerun the same "
                         "command to resume")


_received: list[int] = []


def _record(signum: int, frame) -> None:
    if _received:  # the second signal: stop now
        raise KeyboardInterrupt
    _received.append(signum)


@contextlib.contextmanager
def stop_at_checkpoints() -> Iterator[None]:
    """While the block runs, a stop signal is recorded and honoured at the next ``checkpoint_reached``."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread only
        yield
        return
    previous = {s: signal.signal(s, _record) for s in SIGNALS}
    _received.clear()
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _received.clear()


def stop_requested() -> int | None:
    """The stop signal received inside ``stop_at_checkpoints``, or None."""
    return _received[0] if _received else None


def checkpoint_reached(where: str) -> None:
    """Call right after a checkpoint is written: raises ``Stopped`` if a stop signal has arrived."""
    if _received:
        raise Stopped(_received[0], where)
