"""Kernel PCA of a set of solutions (the companion paper's picture of where optimisers land).

RBF kernel k(x, x') = exp(−|x − x'|² / 2σ²) with 2σ² = P, the number of parameters (the companion
paper's choice), on the flattened weight vectors. The projections are those of Schölkopf et al.
(1998): centre the kernel matrix in feature space, K̃ = (I − 1/N) K (I − 1/N), take its top
eigenpairs (λ_c, u_c), and the coordinates of sample i on component c are √λ_c u_c[i].
A few lines of ``numpy``; ``tests/tools/test_kpca.py`` checks them against scikit-learn's
``KernelPCA``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class KernelPCA(NamedTuple):
    """Attributes: ``coords_NxC`` (sample coordinates), ``eigvals_C`` (of K̃, descending), ``two_sigma2``."""

    coords: np.ndarray
    eigvals: np.ndarray
    two_sigma2: float


def rbf_kernel(x_NxP: np.ndarray, two_sigma2: float) -> np.ndarray:
    """K_ij = exp(−|x_i − x_j|² / 2σ²), computed from Gram entries and clipped at distance 0."""
    sq = np.sum(x_NxP * x_NxP, axis=1)
    dist2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x_NxP @ x_NxP.T, 0.0)
    return np.exp(-dist2 / two_sigma2)


def kernel_pca(x_NxP: np.ndarray, n_components: int = 2, two_sigma2: float | None = None) -> KernelPCA:
    """Kernel PCA coordinates of the rows of ``x_NxP`` (module docstring).

    Args:
      x_NxP: N solutions, flattened.
      n_components: C, how many leading components to return (≤ N).
      two_sigma2: 2σ² of the RBF kernel; P (``x_NxP.shape[1]``) when None.

    Returns:
      ``KernelPCA``; a component's sign is arbitrary (fixed here so the largest |coordinate| is positive).
    """
    x_NxP = np.asarray(x_NxP, np.float64)
    n = x_NxP.shape[0]
    if x_NxP.ndim != 2 or n < 2:
        raise ValueError(f"kernel PCA needs an N×P array with N ≥ 2 solutions; got shape {x_NxP.shape}")
    if not 1 <= n_components <= n:
        raise ValueError(f"n_components={n_components}: use 1 … N = {n}")
    two_sigma2 = float(x_NxP.shape[1] if two_sigma2 is None else two_sigma2)
    if two_sigma2 <= 0:
        raise ValueError(f"two_sigma2={two_sigma2}: the kernel width 2σ² must be > 0")
    centring = np.eye(n) - np.full((n, n), 1.0 / n)
    k_centred = centring @ rbf_kernel(x_NxP, two_sigma2) @ centring
    eigvals, eigvecs = np.linalg.eigh(0.5 * (k_centred + k_centred.T))
    eigvals, eigvecs = eigvals[::-1][:n_components], eigvecs[:, ::-1][:, :n_components]
    coords = eigvecs * np.sqrt(np.maximum(eigvals, 0.0))[None, :]
    flip = np.sign(coords[np.argmax(np.abs(coords), axis=0), np.arange(n_components)])
    return KernelPCA(coords * np.where(flip == 0, 1.0, flip)[None, :], eigvals, two_sigma2)
