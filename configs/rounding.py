"""The rounding ensemble (issue 44, row RR): E3 at 100 seeds and E4 at 64, each rerun 8 times from θ₀ changed by one
ulp (studies.rounding).

Run:      make rounding   (python -m jaxnewton run rounding --out results/rounding); resumable draw by draw, a
          finished draw is never rerun. Its summary is committed under docs/results/rounding.
Paper:    9/10 (E3) and 4/5 (E4) trivial, one draw each.
Design:   R = 8 draws besides the plain run, as issue 44 asks. E9's Newton (16 seeds of E3's problem at E3's settings)
          is E3's first 16 seeds here, reported on their own too (first_seeds): a seed's run does not depend on the
          sweep it is in (bitwise, engine.sweep).
Cost:     1 806 s on the 2-core Intel Xeon VM (2026-12-06): E3's nine sweeps 1 195 s (129–140 s each), E4's 612 s.
"""

from jaxnewton.studies.rounding import RoundingConfig


def get_config(smoke: bool = False) -> RoundingConfig:
    if smoke:
        return RoundingConfig(name="rounding", bases=("mlp_tanh",), n_seeds=(3,), draws=2,
                              fixed=("max_steps=30", "segment_steps=10", "history_stride=5", "n_points=20",
                                     "widths=4,4"), first_seeds=(2,))
    return RoundingConfig(name="rounding", bases=("mlp_tanh", "siren"), n_seeds=(100, 64), draws=8, first_seeds=(16, 0))
