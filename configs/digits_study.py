"""The companion paper's study (Yu & Morozov 2026) offline: L-BFGS-GSS vs mini-batch SGD on scikit-learn's 8×8
digits from the same starts; train / test loss, barriers between solutions, spread, kernel PCA.

Run:      make digits-study      (python -m jaxnewton run digits_study --out results/digits_study)
Runtime:  about 13 min on a 2-core CPU (float64); the barriers are most of it (docs/experiments.md).
Paper:    SGD solutions are separated by lower barriers; quasi-Newton reaches deeper minima, spread wider,
          that generalise worse (MNIST, 784-50-50-10, 75 starts, best 48 kept, 300 pairs per set).
"""

from jaxnewton.studies.digits import DigitsStudyConfig


def get_config(smoke: bool = False) -> DigitsStudyConfig:
    config = DigitsStudyConfig(
        name="digits_study",
        hidden=16,  # 64-16-16-10: 1 440 parameters (MNIST's 784-50-50-10 has 42 200)
        n_starts=75,
        n_keep=48,
        lbfgs_tol=1e-5,
        lbfgs_max_steps=1000,
        sgd_learning_rate=0.1,
        sgd_batch=64,
        sgd_epochs=300,
        # A pair costs ≈ 4.4 s on 2 CPU cores (50 points × 200 ADAM steps × the full 1 347-image loss); the
        # paper's 300 pairs per set would take ≈ 1.5 h here: --set n_pairs=300 on a GPU.
        n_pairs=40,
        pair_batch=20,
        n_points=50,
        lam=1e-4,
        # A 5-pair pilot: 3e-2 lowered H fastest of 1e-2, 3e-2, 1e-1; H still falls between 100 and 300 steps.
        path_learning_rate=3e-2,
        path_steps=200,
    )
    if smoke:
        return DigitsStudyConfig(name="digits_study", hidden=4, n_starts=6, n_keep=4, lbfgs_max_steps=10,
                                 record_every=5, sgd_epochs=2, n_pairs=3, pair_batch=2, n_points=6, path_steps=5)
    return config
