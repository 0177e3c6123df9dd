"""Real data with several outputs (issue 42): damped Newton, trust-region Newton, Levenberg–Marquardt, BFGS and ADAM
from the same starts on scikit-learn's bundled digits and diabetes sets (studies.real_data).

Run:      make real-data   (python -m jaxnewton run real_data --out results/real_data); resumable cell by cell, a
          finished cell is never rerun. Its summary is committed under docs/results/real_data.
Paper:    not studied (every Newton result of the paper is a 1-D toy).
Design:   tanh MLPs D-w-w-m with two hidden layers, E3's η = ε = 5e-2 and tol 1e-5, the mean squared error over
          the training samples (N ≡ 0 has L = 1 on both sets). digits at w = 8, 16, 32 (P = 672, 1 472, 3 456) on a
          stratified subset of 300 of its 1 347 training samples (the Hessian costs about Q·m·P² a seed-step: with
          m = 10 the whole set would cost 4.5× as much per step); diabetes at w = 16, 32, 64 (P = 464, 1 440, 4 928; the issue says 4 864)
          on its whole training split (331 samples). 64 seeds at the smallest width, 32 at the middle (diabetes) or
          16 (digits), 16 at the largest. Every capped run is reported where it stands.
Costs:    one seed-step measured on the 2-core Intel VM (2026-12-05, 8 seeds vmapped, float64): the structured
          Hessian + the LU solve of damped Newton take 3.3 + 4.2 ms (diabetes w=16), 43 + 8 ms (digits w=8),
          21 + 34 ms (diabetes w=32), 297 + 64 ms (digits w=16), 254 + 1 069 ms (diabetes w=64), 2 032 + 625 ms
          (digits w=32), before the multi-output Hessian summed V_q over the outputs (digits' Hessian then 36 and
          160 ms at w = 8 and 16, docs/bench_multi_output.json); a gradient 0.06–0.5 ms; trust-region Newton's eigendecomposition 18 ms (P = 464), 41 ms
          (P = 672), 425 ms (P = 1 440). LM's step (Gauss–Newton matrix + solve) costs about Newton's. So the curvature
          methods' caps fall with P (CURVATURE_CAPS), trust-region Newton runs at the two smallest networks
          only and LM up to P = 2 000 (max_params). Estimated from those: diabetes w=16 1 400 s, digits w=8
          2 600 s, diabetes w=32 900 s, digits
          w=16 1 400 s, diabetes w=64 1 500 s, digits w=32 2 700 s: about 3 h in all (capped runs at the cap; the
          summary's wall_seconds are the measured ones: 9 353 s in all on the 2-core Intel Xeon VM, 2026-12-05; 23
          cells run, 7 not run, the summary's not_run says why). At η = 5e-2 a Newton run needs hundreds of steps to go
          anywhere, so at the two largest networks (cap 30) the curvature methods' runs are reported where they
          stand after 30 steps: the larger grid is a GPU run.
"""

from jaxnewton.studies.real_data import RealDataConfig

METHODS = ("newton", "trust_region", "lm", "bfgs", "adam")
# Caps per method: the curvature methods (Newton, trust region, LM) at most E3's second-order comparison's 1 000
# (trust-region Newton converged in a median 230 steps there), and at most their network's CURVATURE_CAPS. BFGS:
# 3 000 (its step is cheap; E9's BFGS needs hundreds to thousands of steps). ADAM: 20 000 gradient steps.
CAPS = (1_000, 1_000, 1_000, 3_000, 20_000)
# Per network (the order of data / widths below): what the 3-hour budget allows at the measured step costs.
CURVATURE_CAPS = (500, 200, 30, 200, 100, 30)


def get_config(smoke: bool = False) -> RealDataConfig:
    if smoke:
        return RealDataConfig(name="real_data", data=("diabetes", "digits"), widths=(3, 2), n_seeds=(2, 2),
                              n_train=(40, 40), curvature_caps=(6, 4), methods=("newton", "adam"), max_steps=(6, 6),
                              max_params=(0, 100), fixed=("segment_steps=3", "history_stride=2"))
    return RealDataConfig(
        name="real_data",
        data=("diabetes", "diabetes", "diabetes", "digits", "digits", "digits"),
        widths=(16, 32, 64, 8, 16, 32),
        n_seeds=(64, 32, 16, 64, 16, 16),
        n_train=(0, 0, 0, 300, 300, 300),
        curvature_caps=CURVATURE_CAPS,
        methods=METHODS,
        max_steps=CAPS,
        # Trust-region Newton's step is an eigendecomposition (425 ms a seed-step at P = 1 440): up to P = 1 000. LM's
        # Gauss–Newton matrix is jacfwd of the outputs, P tangents through every sample: 41 GB at P = 4 928 (it ran
        # out of memory there), so up to P = 2 000. BFGS: 16 seeds' P × P matrices and their update's outer products
        # held 17.7 GB at P = 4 928 and were killed (the memory estimate counts 9.3 GB), so up to P = 4 000.
        max_params=(0, 1_000, 2_000, 4_000, 0),
        krylov_above=5_000,  # dense everywhere: its cost is the measured one (MINRES near the saddle is not)
        # The end points' dense spectrum (jax.hessian, an independent check of the structured H) would hold 10 GB at
        # P = 1 440 and 47 GB at digits' 1 472 (engine.memory): Lanczos from w = 32 (diabetes) and 16 (digits).
        lanczos_above=1_000,
        fit_ratio=0.5,
    )
