"""E4's settings grid: damped Newton on the SIREN over the readings of what the paper does not state.

Run:      make settings-siren   (python -m jaxnewton run settings_siren --out results/settings_siren); resumable,
          a finished cell is never rerun. Its summary is committed under docs/results/settings_siren.
Runtime:  176 s on the 2-core Intel Xeon VM (2026-12-06): 3 cells × 64 seeds at E4's 10 000-step cap, 65, 31 and
          81 s (most seeds converge within 600 steps).
Paper:    4 of 5 runs trivial; L = ||N − v||² without ½ or weights, precision not stated.
Design:   one factor at a time from E4's config, which already reproduces the paper (56/64): does a reading
          undo that? The loss as a plain sum (ε/Q and a Q× tighter T), and float32 (PyTorch's default). E3's
          grid measured bias init, Xavier variant and what T bounds to move nothing (E4's init is SIREN's own).
"""

from jaxnewton.studies.settings import SettingsConfig, smoke_grid


def get_config(smoke: bool = False) -> SettingsConfig:
    config = SettingsConfig(
        name="settings_siren",
        base="siren",  # E4: ω₀ = 4, SIREN init, mean loss, η = 5e-2, ε = 1e-1, tol 1e-5 on ||∇L||₂, cap 10 000
        n_seeds=64,
        factors=(
            "loss_reduction=sum",  # L = ||N − v||² as the paper writes it
            "dtype=float32",  # PyTorch's default precision
        ),
        paper_trivial=4,
        paper_seeds=5,
    )
    return smoke_grid(config, "dtype=float32") if smoke else config
