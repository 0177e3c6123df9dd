"""Real data with several outputs (issue 42): damped Newton, trust-region Newton, Levenberg–Marquardt, BFGS and ADAM
from the same starts on scikit-learn's bundled digits and diabetes sets (studies.real_data).

Run:      make real-data   (python -m jaxnewton run real_data --out results/real_data); resumable cell by cell, a
          finished cell is never rerun. Its summary is committed under docs/results/real_data.
Paper:    not studied (every Newton result of the paper is a 1-D toy).
Design:   tanh MLPs D-w-w-m with two hidden layers, E3's η = ε = 5e-2 and tol 1e-5, the mean squared error over
          the training samples (N ≡ 0 has L = 1 on both sets). digits at w = 8, 16, 32 (P = 672, 1 472, 3 456) on a
          stratified subset of 300 of its 1 347 training samples (the Hessian costs about Q·m·P² a seed-step: with
          m = 10 the whole set would cost 4.5× as much per step); diabetes at w = 16, 32, 64 (P = 464, 1 440, 4 928; the issue says 4 864)
          on its whole training split (331 samples). 64 seeds at the smallest width, 32 at the middle, 16 at the
          largest. Caps: see CAPS (each with its reason); every capped run is reported where it stands.
Runtime:  see COSTS below (measured one cell at a time on the 2-core Intel VM, 2026-12-05).
"""

from jaxnewton.studies.real_data import RealDataConfig

METHODS = ("newton", "trust_region", "lm", "bfgs", "adam")
# Caps per method. Newton, trust region and LM: E3's second-order comparison's 1 000 (trust-region Newton converged
# in a median 230 steps there). BFGS: 3 000 (its step is cheap; E9's BFGS needs hundreds to thousands of steps).
# ADAM: 20 000 gradient steps (a step costs about a gradient: ~1 000× less than a Newton step at these sizes).
CAPS = (1_000, 1_000, 1_000, 3_000, 20_000)


def get_config(smoke: bool = False) -> RealDataConfig:
    if smoke:
        return RealDataConfig(name="real_data", data=("diabetes", "digits"), widths=(3, 2), n_seeds=(2, 2),
                              n_train=(40, 40), methods=("newton", "adam"), max_steps=(6, 6),
                              fixed=("segment_steps=3", "history_stride=2"))
    return RealDataConfig(
        name="real_data",
        data=("diabetes", "diabetes", "diabetes", "digits", "digits", "digits"),
        widths=(16, 32, 64, 8, 16, 32),
        n_seeds=(64, 32, 16, 64, 32, 16),
        n_train=(0, 0, 0, 300, 300, 300),
        methods=METHODS,
        max_steps=CAPS,
        krylov_above=2_000,
        lanczos_above=2_000,
        fit_ratio=0.5,
    )
