"""Width study: does damped Newton still find E3's trivial saddle as the network widens? (issue 24)

Run:      make widths   (python -m jaxnewton run widths --out results/widths); resumable, a finished width is never
          rerun. Its summary is committed under docs/results/widths.
Runtime:  measured on the 2-core CPU VM: see docs/results.md (about 40 min in all; the widths' wall times are in
          the summary). A dense step costs about 0.5 / 6 / 100 / 2 600 ms at P = 140 / 480 / 1 760 / 6 720
          (docs/bench_widths.json), so the seeds and caps shrink with the width to fit the CPU: capped runs are
          reported as capped, with where they stand. With a GPU, raise both (the design below is the CPU's).
Paper:    width 10 only (E3: 9 of 10 runs trivial).
Design:   E3's problem and its η = ε = 5e-2, tol 1e-5, at hidden widths 10, 20, 40, 80 (P = 140 … 6 720). Widths 10
          and 20 at the same cap (3 000 steps) and 32 seeds, so they compare directly; 40 at 8 seeds and 1 000 steps;
          80 at 4 seeds and 30 steps (a start, not an outcome). The dense solve throughout: on these trajectories
          MINRES needs 300–2 100 products a step at width 40 (H + εI is nearly singular near the trivial saddle,
          where H has eigenvalues near −ε), 1.45 s a seed-step against the dense 0.1 s. Lanczos spectra above
          P = 2 000 (width 80).
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
        widths=(10, 20, 40, 80),
        n_seeds=(32, 32, 8, 4),
        max_steps=(3_000, 3_000, 1_000, 30),
        linear_solvers=("dense", "dense", "dense", "dense"),
        lanczos_above=2_000,
    )
