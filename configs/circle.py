"""E1: Newton and gradient descent on the unit circle N(θ) = [cos θ, sin θ], v = [2, 2] (Rowan 2025, E1).

Run:      make circle      (python -m jaxnewton run circle --out results/circle)
Runtime:  about 4 s on a 2-core CPU (1000 starts × 3 methods, float64; 1.3 s after compiling).
Paper:    stationary at π/4 (minimum, L = 9 − 4√2) and 5π/4 (maximum, L = 9 + 4√2); Newton finds both.
"""

from jaxnewton.studies.basins import LandscapeConfig


def get_config(smoke: bool = False) -> LandscapeConfig:
    config = LandscapeConfig(
        name="circle",
        problem="circle",
        target=(2.0, 2.0),  # paper
        # 1000 starts at cell centres of [0, 2π): a start never sits on π/4 or 5π/4 exactly.
        grid=1000,
        eta=5e-2,  # the paper's damped Newton (E3's η = ε)
        eps=5e-2,
        # L'' = 4√2 cos(θ − π/4) ≤ 5.66, so α = 0.05 is stable (α < 2/5.66) and contracts by 0.72 per step at π/4.
        learning_rate=0.05,
        # Tight enough that a converged θ is within 2e-12 of the stationary point (|L''| = 5.66 there).
        tol=1e-11,
        # Damped Newton contracts by 1 − η = 0.95 per step: ~600 steps from ||∇L|| ≈ 5 to 1e-11.
        max_steps=5000,
    )
    if smoke:
        return LandscapeConfig(**{**config.to_dict(), "grid": 64, "max_steps": 2000})
    return config
