"""Kernel PCA against scikit-learn."""

import numpy as np
import pytest

from jaxnewton.tools.kpca import kernel_pca, rbf_kernel


def test_kernel_pca_matches_scikit_learn_and_the_kernel_formula():
    from sklearn.decomposition import KernelPCA

    x = np.random.default_rng(0).normal(size=(12, 30))
    ours = kernel_pca(x, n_components=3)
    assert ours.two_sigma2 == 30.0
    theirs = KernelPCA(n_components=3, kernel="rbf", gamma=1.0 / 30.0).fit(x)
    coords = theirs.transform(x)
    for c in range(3):  # a component's sign is arbitrary
        sign = np.sign(coords[:, c] @ ours.coords[:, c])
        np.testing.assert_allclose(sign * coords[:, c], ours.coords[:, c], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(theirs.eigenvalues_, ours.eigvals, rtol=1e-10)
    i, j = 2, 7
    assert rbf_kernel(x, 30.0)[i, j] == pytest.approx(np.exp(-np.sum((x[i] - x[j]) ** 2) / 30.0), rel=1e-12)
    with pytest.raises(ValueError, match="n_components"):
        kernel_pca(x, n_components=13)
