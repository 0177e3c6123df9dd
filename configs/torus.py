"""E2: Newton and gradient descent on an elliptic torus with exactly 8 stationary points (Rowan 2025, E2).

N(θ₁, θ₂) = [(R + r cos θ₂) cos θ₁, (R + r cos θ₂) e sin θ₁, r sin θ₂], L = ||N − v||².

Run:      make torus       (python -m jaxnewton run torus --out results/torus)
Runtime:  about 13 s on a 2-core CPU (200 × 200 starts × 3 methods, float64; 10 s after compiling).
Paper:    8 stationary points (2 minima, 2 maxima, 4 saddles); Newton converges to every kind, no bias
          toward minima. R, r, e and v are not given in the paper.
"""

from jaxnewton.studies.basins import LandscapeConfig


def get_config(smoke: bool = False) -> LandscapeConfig:
    config = LandscapeConfig(
        name="torus",
        problem="torus",
        # Chosen, not in the paper. A target on the axis, v = (0, 0, h), makes ∂L/∂θ₁ = c'(θ₁)(R + r cos θ₂)²,
        # so θ₁ ∈ {0, π/2, π, 3π/2}, and with 0 < e < 1 and (0, h) outside the meridian ellipse's evolute
        # each θ₁ has exactly 2 critical θ₂: 8 points, 2 minima, 2 maxima, 4 saddles (proof in
        # jaxnewton/landscapes.py; landscapes.check_torus rejects choices where it fails). h = 0.5 ≠ 0
        # breaks the up–down mirror, so the θ₂ of the points are not 0 and π and the enumerator cannot
        # find them by symmetry; R = 2, r = 1, e = 0.6 keep the evolute margin wide (1.43 vs 0.74).
        R=2.0,
        r=1.0,
        e=0.6,
        target=(0.0, 0.0, 0.5),
        # 200 × 200 starts at cell centres of [0, 2π)²: no start sits on θ₁ ∈ {0, π/2, π, 3π/2}.
        grid=200,
        eta=5e-2,  # the paper's damped Newton (E3's η = ε)
        eps=5e-2,
        # max |λ(∇²L)| over the torus is 11.5, so α = 0.05 is stable everywhere (α < 2/11.5).
        learning_rate=0.05,
        tol=1e-11,
        max_steps=5000,
    )
    if smoke:
        return LandscapeConfig(**{**config.to_dict(), "grid": 24, "max_steps": 2000})
    return config
