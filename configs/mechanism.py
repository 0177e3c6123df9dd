"""The mechanism check: along BFGS, L-BFGS and L-BFGS-GSS runs on E3, did the curvature condition hold,
and what was the smallest eigenvalue of the true Hessian? And does BFGS without its safeguard go trivial?

Run:      make mechanism      (python -m jaxnewton run mechanism --out results/mechanism)
Runtime:  about 2.5 min on a 2-core CPU (float64; docs/experiments.md).
Paper:    quasi-Newton methods avoid the trivial saddle because their curvature condition keeps the
          approximate Hessian positive definite.
"""

from jaxnewton.studies.mechanism import MechanismConfig


def get_config(smoke: bool = False) -> MechanismConfig:
    config = MechanismConfig(
        name="mechanism",
        base="mlp_tanh",  # E3: the same θ₀ and stopping rule as make compare's quasi-Newton sweeps
        # The two ablations run BFGS at damped Newton's fixed step η with and without its curvature safeguard.
        optimizers=("bfgs", "lbfgs", "lbfgs_gss", "bfgs_fixed", "bfgs_fixed_unguarded"),
        n_seeds=16,  # the first 16 seeds, as in make compare
        max_steps=10_000,  # E3's cap
        stride=50,  # 201 recorded iterates a seed at most; each gets a 140 × 140 eigendecomposition
    )
    if smoke:
        return MechanismConfig(name="mechanism", n_seeds=2, max_steps=20, stride=10)
    return config
