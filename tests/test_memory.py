"""A sweep of 10⁹ seeds starts, reports progress and holds steady memory: seeds are drawn a batch at a time and
every finished batch goes to disk (``studies.seeds``)."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

RSS_BOUND_MB = 1500  # measured: 545–640 MB on the 2-core CPU VM (JAX, XLA's compiled E3 step, one batch)
GROWTH_BOUND_MB = 60  # peak over batches 8–15 against the peak over batches 3–7 (measured: no growth in 150)
BATCHES = 16


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_a_billion_seeds_start_and_hold_steady_memory(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "jaxnewton", "run", "mlp_tanh", "--smoke", "--seeds", str(10 ** 9),
                                "--set", "max_steps=10", "--set", "segment_steps=10", "--set", "seed_batch=16",
                                "--out", str(tmp_path / "out")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, by_batch = [], {}

    def read():
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    samples, deadline = [], time.monotonic() + 240
    try:
        while time.monotonic() < deadline and process.poll() is None:
            samples.append(rss_mb(process.pid))
            batches = sum(line.startswith("batch ") for line in lines)
            by_batch.setdefault(batches, []).append(samples[-1])
            if batches >= BATCHES:
                break
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait()
        reader.join(timeout=10)
        process.stdout.close()
    text = "".join(lines)
    assert "1000000000 seeds" in text and "batch 1/62500000" in text, text[-2000:]
    assert f"batch {BATCHES}/62500000" in text, text[-2000:]  # progress: a line per batch, a line per segment
    assert max(samples) < RSS_BOUND_MB, max(samples)

    def peak(first, last):
        return max(rss for batch, values in by_batch.items() if first <= batch < last for rss in values)

    assert peak(8, BATCHES) - peak(3, 8) < GROWTH_BOUND_MB, (peak(3, 8), peak(8, BATCHES))
