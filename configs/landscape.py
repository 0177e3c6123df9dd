"""FourierPathFinder, saddle checks, symmetry and kernel PCA on E3's own solutions: barriers between the
trivial saddles, and between the non-trivial points Newton, BFGS and ADAM found (from make compare's folder).

Run:      make landscape      (python -m jaxnewton run landscape --out results/landscape); needs make compare
Runtime:  about 260 s on a 2-core CPU (float64; docs/experiments.md).
Paper:    not in either paper: the companion paper's tools pointed at the main paper's experiment.
"""

from jaxnewton.studies.landscape import LandscapeStudyConfig


def get_config(smoke: bool = False) -> LandscapeStudyConfig:
    config = LandscapeStudyConfig(
        name="landscape",
        source="compare_mlp_tanh",
        path_optimizers=("newton", "bfgs", "adam"),
        max_pairs=40,
        n_points=50,
        lam=1e-4,  # the companion paper's λ for networks
        path_steps=1000,
        newton_steps=200,
    )
    if smoke:
        return LandscapeStudyConfig(name="landscape", max_pairs=3, n_points=8, path_steps=10, newton_steps=5)
    return config
