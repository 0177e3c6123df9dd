"""Width study: does damped Newton still find E3's trivial saddle as the network widens, and do the second-order
methods practitioners run at scale, in either parametrisation? (issues 24, 43)

Run:      make widths   (python -m jaxnewton run widths --out results/widths); resumable, a finished width is never
          rerun. Its summary is committed under docs/results/widths.
Runtime:  measured on the 2-core CPU VM: see docs/results_scale.md (the widths' wall times are in the summary). The seeds and
          caps shrink with the width to fit the CPU: capped runs are reported as capped, with where they stand. With
          a GPU, raise both (the design below is the CPU's).
Paper:    width 10 only (E3: 9 of 10 runs trivial).
Design:   issue 43: E3's problem, η = ε = 5e-2, tol 1e-5, at hidden widths 10, 20, 40, 80, 160, 320 (P = 140 …
          103 680), in the standard and the NTK parametrisation, with damped Newton solved exactly (dense at widths
          10 and 20, MINRES to 1e-10 at 40 and 80: from P = 26 240 one seed-step costs seconds), truncated damped
          Newton (MINRES ≤ 50 and ≤ 500 products), saddle-free Newton on 50 Lanczos steps, Newton-MR (≤ 500
          products) and BFGS (up to P = 1 760: its P × P inverse Hessian per row did not fit at 6 720). Seeds 32,
          32, 16, 8, 8, 8 and caps 3 000, 3 000, 1 000, 300, 300, 300 (the Krylov methods, one seed at a time: 1 000,
          1 000, 1 000, 300, 300, 300).
          Lanczos spectra above P = 2 000. For the wide-limit question, λ_min(H + εI) at 10 points along the paths
          of the first 2 seeds of truncated damped Newton (k = 500) at every width and parametrisation (their runs
          repeated, traced).
Wide limit: Riedl, Spiliopoulos & Sirignano (arXiv 2605.08352) analyse regularised Newton as the hidden units grow and
          find the network "behaves as a linearization around" its start, with the regularised Hessian positive
          definite during training and a regularisation parameter that "can vanish at a suitable rate" with width
          (their abstract: the only text of theirs available offline, so their exact scaling is not checked here).
          That is the kernel (NTK) regime: "ntk" here is Jacot et al.'s NTK parametrisation (core.models.ntk_scales),
          and ε stays the paper's 5e-2 at every width rather than their width-dependent one.
Cost:     measured on the 2-core Intel Xeon VM (2026-12-05/06): 14 762 s of cells (4.1 h; each cell's in the
          summary: 8 s for BFGS at width 10 … 2 725 s for Lanczos saddle-free Newton at width 320) and 37 minutes for
          the traced paths. Estimated beforehand from docs/bench_matrix_free.json: about 4.7 h.
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
        widths=(10, 20, 40, 80, 160, 320),
        n_seeds=(32, 32, 16, 8, 8, 8),
        max_steps=(3_000, 3_000, 1_000, 300, 300, 300),
        linear_solvers=("dense", "dense", "krylov", "krylov", "krylov", "krylov"),
        lanczos_above=2_000,
        methods=("newton", "truncated50", "truncated500", "sfn_lanczos50", "newton_mr", "bfgs"),
        parametrisations=("standard", "ntk"),
        krylov_max_steps=(1_000, 1_000, 1_000, 300, 300, 300),
        path_seeds=2,
        path_method="truncated500",
        path_points=10,
    )
