"""Why quasi-Newton escapes the trivial saddle and the paper's Newton does not: every way of using curvature on E3,
from the same 64 initial points, with the path of each run recorded — did it pass near the trivial point, and did it
then leave?

Besides damped Newton, BFGS and the second-order family (configs/second_order.py), the mechanism variants:
  newton_monotone        the paper's step, halved from η while the loss would rise (descent alone);
  bfgs_hessian_start     BFGS + Wolfe line search from the exact Hessian at θ₀, shifted positive definite;
  bfgs_indefinite_start  BFGS from the paper's indefinite (∇²L + εI)⁻¹ at θ₀, at the fixed step η, every pair used
                         (its first step is damped Newton's);
  bfgs_reset_k           BFGS + Wolfe line search, reset to the shifted exact Hessian every k ∈ {1, 10, 100} steps
                         (k = 1: a positive-definite modified Newton step with a line search).

Run:      make escapes      (python -m jaxnewton run escapes --out results/escapes); resumable per optimiser
Runtime:  see docs/results_scale.md (measured on 2 cores)
Paper:    quasi-Newton avoids the trivial saddle because its curvature condition keeps the model positive definite.
"""

import dataclasses

from jaxnewton.engine.config import load_config
from jaxnewton.studies.mechanism import MechanismConfig

# The mechanism variants (optim.registry), after the second-order comparison's own methods.
VARIANTS = ("newton_monotone", "bfgs_hessian_start", "bfgs_indefinite_start", "bfgs_reset_1", "bfgs_reset_10",
            "bfgs_reset_100")


def get_config(smoke: bool = False) -> MechanismConfig:
    config = MechanismConfig(
        name="escapes",
        base="second_order",  # E3's problem, θ₀, tolerance and the second-order family's settings (Δ₀, σ₀, λ₀ = ε)
        optimizers=load_config("second_order").optimizers + VARIANTS,
        n_seeds=64,  # the first 64 seeds: the same θ₀ as make compare-second-order
        max_steps=1_000,  # the second-order comparison's cap (each exact-eigendecomposition step costs ~20× Newton's)
        stride=10,  # 101 recorded iterates a seed: "visited" is sampled every 10 steps
    )
    if smoke:
        return dataclasses.replace(config, n_seeds=2, max_steps=20)
    return config
