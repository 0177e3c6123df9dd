"""E5's settings grid: damped Newton on Fourier features over the readings of what the paper does not state.

Run:      make settings-fourier   (python -m jaxnewton run settings_fourier --out results/settings_fourier); resumable,
          a finished cell is never rerun. Its summary is committed under docs/results/settings_fourier.
Runtime:  271 s on the 2-core Intel Xeon VM (2026-12-06): 3 cells × 64 seeds at E5's 2 000-step cap, 89–92 s
          each (P = 330), most seeds running to the cap.
Paper:    "about half" the runs trivial, most others fail to converge; γ(x) = [sin 2πBx, cos 2πBx] with σ² = 1.5
          and f = 10, B's shape and distribution not stated.
Design:   one factor at a time from E5's config (B is f × 1, f = 10 rows, entries N(0, σ²)): σ² read as the
          standard deviation σ = 1.5 (variance 2.25), and γ without its 2π: the readings of B the paper leaves
          open. E3's grid measured loss reduction, bias init, Xavier variant, precision and what T bounds to
          move nothing, and the plain sum moved nothing on E6 either, so they are not repeated here (the sum
          cell was pruned for time; a cell added here later runs alone, the others are reused).
"""

from jaxnewton.studies.settings import SMOKE_FIXED, SettingsConfig, smoke_grid


def get_config(smoke: bool = False) -> SettingsConfig:
    config = SettingsConfig(
        name="settings_fourier",
        base="fourier",  # E5: B 10 × 1 ~ N(0, 1.5), γ with 2π, mean loss, η = ε = 5e-2, tol 1e-5 on ||∇L||₂, cap 2 000
        n_seeds=64,
        factors=(
            "fourier_sigma2=2.25",  # "σ² = 1.5" read as σ = 1.5
            "fourier_scale=1",  # γ(x) = [sin Bx, cos Bx]
        ),
        paper_trivial=5,  # "about half"
        paper_seeds=10,
    )
    return smoke_grid(config, "fourier_scale=1", (*SMOKE_FIXED, "fourier_features=3")) if smoke else config
