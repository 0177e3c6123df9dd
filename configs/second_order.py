"""Newton done the way practitioners would, on E3: Gauss–Newton, Levenberg–Marquardt, trust-region Newton, adaptive
cubic regularisation, SR1 in a trust region and the paper's step with a line search, against damped Newton and BFGS,
all from the same 64 initial points (the second-order comparison; optim.globalised).

Run:      make compare-second-order
          (python -m jaxnewton compare second_order --optimizers newton,gauss_newton,... --out results/compare_second_order)
Runtime:  see docs/results_scale.md (measured); resumable, one optimiser's sweep at a time.
Paper:    not in the paper, which names Gauss–Newton / Levenberg–Marquardt as the classical least-squares methods.
"""

import dataclasses

from jaxnewton.engine.config import load_config

OPTIMIZERS = ("newton", "gauss_newton", "lm", "trust_region", "cubic", "sr1", "newton_ls", "bfgs")


def get_config(smoke: bool = False):
    e3 = load_config("mlp_tanh")  # E3's problem, network, seeds (θ₀), tolerance and diagnostics
    config = dataclasses.replace(
        e3,
        name="second_order",
        optimizers=OPTIMIZERS,
        n_seeds=64,
        # LM starts at λ₀ = ε = 5e-2 (E3's shift); trust region and SR1 at Δ₀ = 1; cubic at σ₀ = 1: textbook starts,
        # each adapted every step, none tuned on E3.
        trust_radius=1.0,
        cubic_sigma=1.0,
        # Below E3's 10 000: a 16-seed pilot at 300 steps had trust-region Newton converge in a median 230 steps,
        # and each exact-eigendecomposition step costs ~20× a damped Newton step on 2 cores.
        max_steps=1_000,
        seed_batch=64,
    )
    if smoke:
        return dataclasses.replace(config, n_seeds=3, max_steps=20, segment_steps=10, history_stride=5)
    return config
