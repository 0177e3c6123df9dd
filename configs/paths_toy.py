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
        # The companion paper's published code for the toy: 15 sine modes, 101 points, Adam at 0.01 for 300 steps
        # on Σ f² + λ Σ |Δθ|², unit Gaussian noise on the gradient each step, the path of lowest objective kept.
        n_modes=15,
        n_points=101,
        path_learning_rate=1e-2,
        path_steps=300,
        path_objective="f2",  # the row's; Σ f (this project's earlier reading) runs too, into the summary
        path_noise=1.0,
        path_keep_best=1,
        newton_steps=50,
    )
    if smoke:
        return PathsToyConfig(name="paths_toy", lams=(10.0,), n_points=20, path_steps=50, path_objective="f2",
                              path_noise=1.0, path_keep_best=1)
    return config
