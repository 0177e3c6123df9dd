"""The Wilson interval against published values; Fisher's exact test against SciPy's; the Mantel–Haenszel and
Cochran–Armitage tests against Pearson's χ² (their one- and two-group identities) and the hypergeometric moments summed from SciPy's pmf."""

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


def test_mantel_haenszel_against_pearson_and_the_hypergeometric_moments():
    from scipy.stats import chi2 as chi2_dist, chi2_contingency, hypergeom

    from jaxnewton.core.stats import mantel_haenszel
    rng = np.random.default_rng(1)
    for _ in range(50):
        tables = [(int(rng.integers(0, n1 + 1)), n1, int(rng.integers(0, n2 + 1)), n2)
                  for n1, n2 in rng.integers(2, 40, size=(int(rng.integers(1, 7)), 2))]
        got = mantel_haenszel(tables, correction=False)
        # Σ (k1 − E k1) over Σ var k1, k1 hypergeometric given the margins (moments summed from the pmf).
        moments = []
        for k1, n1, k2, n2 in tables:
            x = np.arange(n1 + 1)
            pmf = hypergeom.pmf(x, n1 + n2, k1 + k2, n1)
            moments.append((x @ pmf, x ** 2 @ pmf - (x @ pmf) ** 2))
        shift, variance = sum(k1 - m for (k1, *_), (m, v) in zip(tables, moments)), sum(v for _, v in moments)
        if variance > 1e-12:
            assert got["chi2"] == pytest.approx(shift ** 2 / variance, rel=1e-9)
            assert got["p"] == pytest.approx(chi2_dist.sf(got["chi2"], 1), rel=1e-9)
        if len(tables) == 1 and variance > 1e-12:  # one stratum: (N − 1)/N times Pearson's χ²
            (k1, n1, k2, n2), = tables
            pearson = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False).statistic
            assert got["chi2"] == pytest.approx(pearson * (n1 + n2 - 1) / (n1 + n2), rel=1e-12)
        assert mantel_haenszel(tables)["chi2"] <= got["chi2"]  # the continuity correction only shrinks it
    # Equal arms in every stratum: the common difference is the seed-weighted mean of the strata's differences.
    got = mantel_haenszel([(21, 32, 2, 32), (15, 32, 0, 32), (2, 8, 0, 8)])
    assert got["d"] == pytest.approx((19 + 15 + 2) / 72, rel=1e-14) and got["p"] < 1e-6
    assert mantel_haenszel([(0, 8, 0, 8), (8, 8, 8, 8)]) == {"d": 0.0, "chi2": 0.0, "p": 1.0}
    with pytest.raises(ValueError, match="mantel_haenszel"):
        mantel_haenszel([(3, 2, 1, 1)])


def test_trend_test_is_pearsons_chi2_for_two_groups_and_signs_the_trend():
    from scipy.stats import chi2_contingency, norm

    from jaxnewton.core.stats import trend_test
    rng = np.random.default_rng(2)
    for _ in range(50):
        n1, n2 = (int(n) for n in rng.integers(2, 60, size=2))
        k1, k2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        if k1 + k2 in (0, n1 + n2):
            continue
        got = trend_test([k1, k2], [n1, n2], [0.0, 1.0])
        pearson = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False).statistic
        assert got["z"] ** 2 == pytest.approx(pearson, rel=1e-12)
        assert got["p"] == pytest.approx(2 * norm.sf(abs(got["z"])), rel=1e-9)
        assert np.sign(got["z"]) == np.sign(k2 / n2 - k1 / n1)
    # The scores' affine changes do not matter; a rate that falls with the score gives z < 0.
    falling = trend_test([19, 10, 11, 4], [32, 32, 16, 8], [0, 1, 2, 3])
    assert falling == pytest.approx(trend_test([19, 10, 11, 4], [32, 32, 16, 8], [5, 7, 9, 11]), rel=1e-12)
    assert trend_test([1, 2, 4, 8], [8, 8, 8, 8], [0, 1, 2, 3])["z"] > 2
    assert trend_test([0, 0, 0], [8, 16, 32], [0, 1, 2]) == {"z": 0.0, "p": 1.0}
    with pytest.raises(ValueError, match="trend_test"):
        trend_test([1, 2], [4], [0, 1])
