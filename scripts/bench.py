"""Benchmark: Newton seed-iterations per second on E3, batched runner vs a per-seed loop.

Run:      make bench            (python scripts/bench.py --out results/bench.json)
Runtime:  about 1–2 minutes on a 2-core CPU.

Both implementations run the same damped Newton step of the E3 config (140 parameters,
100 nodes, float64) for a fixed number of steps with the stopping test disabled, so
every seed does the same work. Timed in the same process, after compiling:

- ``jaxnewton``: the batched runner (``jaxnewton.sweep``: jit(vmap(while_loop)),
  batches padded to at least MIN_BATCH seeds);
- ``jax_loop``: a Python loop over seeds, each running the same loop jitted unbatched.

Each time is the best of ``--repeats``; the output says which machine it ran on.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxnewton.config import load_config
from jaxnewton.experiment import build, initial_points
from jaxnewton.results import machine_info, write_json
from jaxnewton.runner import make_loop
from jaxnewton.solvers import damped_newton
from jaxnewton.sweep import advance_running, init_batch, make_batch_fns


def best_time(fn, repeats: int) -> float:
    fn()  # compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="Newton steps per seed")
    parser.add_argument("--seeds", default="1,16,64", help="comma-separated seed counts")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/bench.json"))
    args = parser.parse_args()

    experiment = build(load_config("mlp_tanh"))
    config, problem = experiment.config, experiment.problem
    # tol = 0 never stops early: every seed runs exactly --steps steps.
    loop = make_loop(problem.loss, damped_newton(problem.loss, config.eta, config.eps), 0.0, args.steps,
                     config.history_stride, config.divergence_factor)
    fns = make_batch_fns(loop, experiment.diagnose)
    single = jax.jit(lambda theta0: loop.advance(loop.init(theta0), jnp.asarray(args.steps, jnp.int32)))

    rows = []
    for n_seeds in [int(s) for s in args.seeds.split(",")]:
        theta0 = initial_points(experiment, np.arange(n_seeds))

        def batched():
            jax.block_until_ready(advance_running(fns, init_batch(fns, theta0), args.steps).theta)

        def per_seed():
            for t in theta0:
                jax.block_until_ready(single(t).theta)

        for impl, fn in (("jaxnewton", batched), ("jax_loop", per_seed)):
            seconds = best_time(fn, args.repeats)
            rate = n_seeds * args.steps / seconds
            rows.append({"impl": impl, "seeds": n_seeds, "seconds": seconds, "seed_iters_per_s": rate,
                         "ms_per_seed_iter": 1e3 / rate})
            print(f"{impl:>10} {n_seeds:>4} seeds: {rate:8.1f} seed-iter/s ({1e3 / rate:.2f} ms per seed-iteration)")

    by = {(r["impl"], r["seeds"]): r["seed_iters_per_s"] for r in rows}
    ratios = {str(s): by[("jaxnewton", s)] / by[("jax_loop", s)] for (_, s) in by if ("jax_loop", s) in by}
    for s, ratio in ratios.items():
        print(f"batched / per-seed loop at {s} seeds: {ratio:.2f}×")
    write_json(args.out, {
        "machine": machine_info(),
        "problem": f"{config.name}: {problem.n_params} parameters, {config.n_points} nodes, float64",
        "steps": args.steps,
        "repeats": args.repeats,
        "rows": rows,
        "batched_over_loop": ratios,
    })
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
