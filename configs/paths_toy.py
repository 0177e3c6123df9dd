"""FourierPathFinder on the companion paper's 2-D toy landscape: straight and optimised barrier heights for
several λ, and Newton from each path's top to the saddle it crosses.

Run:      make paths-toy      (python -m jaxnewton run paths_toy --out results/paths_toy)
Runtime:  about 15 s (2-core CPU, float64).
Paper:    straight-line height 1.102; optimised ≈ 0.64–0.65 for λ = 10 … 1000 (Yu & Morozov 2026).
"""

from jaxnewton.studies.paths_toy import PathsToyConfig


def get_config(smoke: bool = False) -> PathsToyConfig:
    config = PathsToyConfig(
        name="paths_toy",
        lams=(1e-4, 10.0, 100.0, 1000.0),  # 1e-4 is the paper's λ for its networks; 10 … 1000 its toy check
        n_modes=10,
        n_points=100,
        path_learning_rate=1e-2,
        path_steps=2000,  # J stops changing in its 9th digit by then (checked against 5000 steps at 3e-3)
        newton_steps=50,
    )
    if smoke:
        return PathsToyConfig(name="paths_toy", lams=(10.0,), n_points=20, path_steps=50)
    return config
