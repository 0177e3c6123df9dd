"""Width study: does damped Newton still find E3's trivial saddle as the network widens? (issue 24)

Run:      make widths   (python -m jaxnewton run widths --out results/widths); resumable, a finished width is never
          rerun. Its summary is committed under docs/results/widths.
Runtime:  measured on the 2-core CPU VM: see docs/results_scale.md (the widths' wall times are in the summary). The seeds and
          caps shrink with the width to fit the CPU: capped runs are reported as capped, with where they stand. With
          a GPU, raise both (the design below is the CPU's).
Paper:    width 10 only (E3: 9 of 10 runs trivial).
Design:   E3's problem and its η = ε = 5e-2, tol 1e-5, at hidden widths 10, 20, 40, 80, 160 (P = 140 … 26 240):
          32 seeds and 3 000 steps at widths 10, 20 and 40, 32 seeds and 300 steps at width 80, 8 seeds and 100
          steps at width 160. The dense solve at widths 10 and 20, where it is the cheaper; the Krylov solve above,
          each seed in its own loop (engine.sweep, uneven). On the 2-core AMD VM of 2026-11-29 the widths took 20,
          500, 579, 1 292 and 1 507 s (7 ms, 135 ms and 1.9 s a seed-step at widths 40, 80 and 160; the dense step
          costs 75 ms and 2.2 s at widths 40 and 80, docs/bench_widths.json). Width 320 does not fit on 2 cores:
          2 seeds did not finish 5 steps in 7 minutes, and MINRES to 1e-10 may take up to its cap of 2P = 207 360
          products a step there, as one of 8 seeds at width 160 averaged 30 734 of its 52 480 (H + εI nearly
          singular). Lanczos spectra above P = 2 000 (widths 80, 160).
"""

from jaxnewton.studies.widths import WidthsConfig


def get_config(smoke: bool = False) -> WidthsConfig:
    if smoke:
        return WidthsConfig(name="widths", widths=(3, 5), n_seeds=(2, 2), max_steps=(10, 4),
                            linear_solvers=("dense", "krylov"), lanczos_above=40,
                            fixed=("segment_steps=5", "history_stride=2", "n_points=20"))
    return WidthsConfig(
        name="widths",
        base="mlp_tanh",
        widths=(10, 20, 40, 80, 160),
        n_seeds=(32, 32, 32, 32, 8),
        max_steps=(3_000, 3_000, 3_000, 300, 100),
        linear_solvers=("dense", "dense", "krylov", "krylov", "krylov"),
        lanczos_above=2_000,
    )
