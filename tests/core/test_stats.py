"""The Wilson interval against published values; Fisher's exact test against SciPy's."""

import numpy as np
import pytest

from jaxnewton.core.stats import wilson_interval


@pytest.mark.parametrize("k, n, low, high", [
    # Reference values of the Wilson score interval at 95% (z = 1.95996).
    (9, 10, 0.5958, 0.9821),
    (0, 10, 0.0, 0.2775),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_interval(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_wilson_interval_rejects_bad_counts():
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_fisher_exact_matches_scipy_and_the_verdict_uses_it():
    from scipy.stats import fisher_exact as scipy_fisher

    from jaxnewton.core.stats import fisher_exact, two_sample_verdict
    rng = np.random.default_rng(0)
    for _ in range(200):
        n1, n2 = int(rng.integers(1, 12)), int(rng.integers(1, 150))
        k1, k2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        want = scipy_fisher([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert fisher_exact(k1, n1, k2, n2) == pytest.approx(want, rel=1e-9, abs=1e-15)
    # E4 (paper 4/5): 57/64 and 58/64 read the same (the old interval rule flipped between them); E3 differs.
    assert two_sample_verdict(4, 5, 57, 64).startswith("reproduced")
    assert two_sample_verdict(4, 5, 58, 64).startswith("reproduced")
    assert two_sample_verdict(9, 10, 26, 100) == "differs: paper 9/10, here 26/100, Fisher's exact p = 0.00012"
    with pytest.raises(ValueError, match="fisher_exact"):
        fisher_exact(3, 2, 1, 1)
