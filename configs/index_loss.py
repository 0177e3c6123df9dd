"""Index against loss for every stationary point the other runs found (Dauphin et al. 2014; Bray & Dean 2007).

Run:      make index-loss       (python -m jaxnewton run index_loss --out results/index_loss)
Runtime:  a few seconds: it reads results/<folder>/ of the runs below (run them first; make paper does)
          and reruns nothing.
Claim:    saddles of higher loss have higher index (fraction of negative Hessian eigenvalues).
"""

from jaxnewton.studies.index_loss import IndexLossConfig


def get_config(smoke: bool = False) -> IndexLossConfig:
    # E1 and E2's stationary points (once per method reaching each), E3's converged seeds at the larger sweep
    # (its 10-seed run is seeds 0–9 of it, so adding it would count those twice), and E4–E6's converged seeds.
    # E7's Newton–ADAM comparison is left out: ADAM's runs end capped, not at stationary points.
    return IndexLossConfig(name="index_loss",
                           folders=("circle", "torus", "mlp_tanh_100", "siren", "fourier", "pinn1d"))
