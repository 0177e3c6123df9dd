"""The memory check's estimate (``engine.memory``) against the measured peak of real runs, one process a run.

Run:      python scripts/memory_check.py [--out docs/memory_check.json]
Runtime:  about 4 minutes on a 2-core CPU VM (E3-shaped networks of width 30, 45 and 60, one seed, 3 steps each; BFGS
          at width 45 with 32 seeds).
Each run goes in a fresh process on one CPU device; the estimate is taken just before the run starts (so it
counts what the process already holds), the peak is the process's maximum resident set (``ru_maxrss``) at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from jaxnewton.engine.io import machine_info

RUNS = (  # (label, --set overrides): the dense spectrum dominates the first three, the dense step the fourth, BFGS's
    # P × P state the last
    ("width 30 (P = 1 080)", ["widths=30,30"]),
    ("width 45 (P = 2 205)", ["widths=45,45"]),
    ("width 60 (P = 3 840)", ["widths=60,60"]),
    ("width 60, spectrum=lanczos", ["widths=60,60", "spectrum=lanczos"]),
    ("width 45, BFGS, 32 seeds", ["widths=45,45", "spectrum=lanczos", "solver=bfgs", "n_seeds=32"]),
)

ONE = """
import json, resource, sys
from pathlib import Path
from jaxnewton.engine import memory
from jaxnewton.engine.build import build
from jaxnewton.engine.config import load_config, override
from jaxnewton.studies.registry import run_config
config = override(load_config("mlp_tanh"), ["n_seeds=1", "max_steps=3", *sys.argv[2:]])
estimate = memory.estimate(config, build(config).problem.n_params)
run_config(config, Path(sys.argv[1]), log=lambda _: None)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"estimate": estimate.total, "parts": estimate.parts, "peak": peak}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/memory_check.json"))
    args = parser.parse_args()
    machine, rows = machine_info(), []  # at the start: the commit and tree the runs were made from
    env = {**os.environ, "JAXNEWTON_CPU_DEVICES": "1", "JAXNEWTON_XLA_CACHE": "off"}
    for label, sets in RUNS:
        with tempfile.TemporaryDirectory() as folder:
            done = subprocess.run([sys.executable, "-c", ONE, folder, *sets], env=env, capture_output=True, text=True,
                                  check=True)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        got["ratio"] = got["estimate"] / got["peak"]
        rows.append({"run": label, "settings": sets, **got})
        print(f"{label:<28} estimate {got['estimate'] / 2**30:6.2f} GiB, measured peak {got['peak'] / 2**30:6.2f} GiB, "
              f"ratio {got['ratio']:.2f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
