"""The Wilson interval against published values."""

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
