"""Toy saddles x² − y² and x³ − 3xy²: gradient descent lingers and escapes, undamped Newton lands on them.

Run:      make saddles     (python -m jaxnewton run saddles --out results/saddles)
Runtime:  about 4 s on a 2-core CPU.
Teaching text (PAPER.md §3): GD started near the saddle slides along x toward it and escapes slowly
along y; undamped Newton lands on it in one step.
"""

from jaxnewton.studies.saddles import SaddlesConfig


def get_config(smoke: bool = False) -> SaddlesConfig:
    config = SaddlesConfig(
        name="saddles",
        # Starts at x = 1 with y₀ ever closer to the attracting direction y = 0: GD's time near the saddle
        # grows like log(1/|y₀|) / log(1 + 2α).
        start_x=1.0,
        start_y=(0.3, 1e-2, 1e-4),
        learning_rate=0.05,  # x shrinks by 0.9 and y grows by 1.1 per step on x² − y²
        # On x² − y², y₀ = 1e-4 leaves the unit box after ~97 steps (1e-4 · 1.1^97 ≈ 1); on the monkey saddle
        # the escape is slower (x decays like 1/(3αk), y grows polynomially) and takes 264 steps.
        gd_steps=300,
        newton_steps=30,  # the monkey saddle's halving reaches 1e-9 after 30 steps
    )
    if smoke:
        return SaddlesConfig(**{**config.to_dict(), "gd_steps": 20, "newton_steps": 5})
    return config
