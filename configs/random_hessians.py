"""E8: how often a random symmetric matrix is definite (Rowan 2025, E8; Dean & Majumdar 2006).

Run:      make random-hessians      (python -m jaxnewton run random_hessians --out results/random_hessians)
Runtime:  93 s on a 2-core CPU (float64): 10⁵ matrices of size 140 tested by Cholesky, 10⁴ of
          them with every eigenvalue, and 2·10⁶ samples at each n = 1…8.
Paper:    not one of 10⁵ symmetric 140×140 matrices with standard-normal entries is definite.
"""

from jaxnewton.studies.random_hessians import RandomHessiansConfig


def get_config(smoke: bool = False) -> RandomHessiansConfig:
    config = RandomHessiansConfig(
        name="random_hessians",
        size=140,  # paper: E3's parameter count
        n_matrices=100_000,  # paper
        # Unknown in the paper. The GOE, (A + Aᵀ)/2, is the ensemble of Dean & Majumdar's rate, so the small-n
        # measurements and the theory describe the same matrices ("mirror" is the other reading).
        ensemble="goe",
        eig_sample=10_000,  # every eigenvalue costs ~25× a Cholesky test: a tenth of the matrices get them
        small_sizes=(1, 2, 3, 4, 5, 6, 7, 8),
        # P(n = 6) is about 1e-5, so 2·10⁶ samples see tens; n = 7, 8 stay near or below 1/(2·10⁶).
        small_samples=2_000_000,
        chunk=500,
        small_chunk=200_000,
        seed=0,
    )
    if smoke:
        return RandomHessiansConfig(**{**config.to_dict(), "size": 20, "n_matrices": 300, "eig_sample": 100,
                                       "small_sizes": (1, 2, 3), "small_samples": 20_000, "chunk": 64})
    return config
