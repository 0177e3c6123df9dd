"""E3: damped Newton on a 1-10-10-1 tanh MLP fitting v(x) = 2 sin(4πx) (Rowan 2025, Sec. E3).

Run:      make mlp            (python -m jaxnewton run mlp_tanh --out results/mlp_tanh)
Runtime:  33 s for the paper's 10 seeds, 154 s for 100 (make mlp-100): one core each in make paper (float64, the
          2-core AMD VM of 2026-11-30; docs/experiments.md).
Paper:    9 of 10 runs converge to the trivial solution; Hessian eigenvalues show a saddle.
"""

from jaxnewton.engine.config import Config


def get_config(smoke: bool = False) -> Config:
    config = Config(
        name="mlp_tanh",
        # Paper: 100 uniform points in [0, 1]; quadrature is the mean (w = 1/100), see problems.py.
        n_points=100,
        target_amplitude=2.0,
        target_wavenumber=4.0,
        # Paper: 1 input, 2 hidden layers of 10 tanh units, hidden biases, no output bias: 140 parameters.
        widths=(10, 10),
        activation="tanh",
        # Unknown in the paper: PyTorch's default bias init is what stays when only weights get Xavier.
        bias_init="torch_default",
        solver="newton",
        eta=5e-2,  # paper (saddle-free Newton uses the same η, ε in comparisons)
        eps=5e-2,  # paper
        # For comparisons (make compare), not in the paper: ADAM at Kingma & Ba's default step; gradient
        # descent at α = 0.05 < 1/λ_max(∇²L(θ₀)) for each of the first 16 seeds (λ_max 9.7–19.2).
        learning_rate=1e-3,
        gd_learning_rate=5e-2,
        first_order_max_steps=50_000,  # ADAM and GD: a gradient step is ~5× cheaper than a Newton step here
        tol=1e-5,  # paper's T, applied to ||∇L||₂ (the trivial solution has L = ||v||² ≠ 0)
        # Unknown in the paper. A 10-seed pilot at 20 000 steps: 5 of the 6 runs that converged did so
        # within 10 000 steps, and the 4 that did not had ||∇L|| stalled at 1e-4–1e-2.
        max_steps=10_000,
        n_seeds=10,  # paper
        seed=0,
    )
    if smoke:
        return Config(**{**config.to_dict(), "n_seeds": 3, "max_steps": 40, "first_order_max_steps": 40,
                         "segment_steps": 20, "history_stride": 5})
    return config
