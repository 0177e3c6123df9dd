"""Interval estimates for the proportions the studies report (trivial rates, definite matrices)."""

from __future__ import annotations

import math


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n (default 95%).

    Args:
      k: successes, 0 ≤ k ≤ n.
      n: trials, n ≥ 1.
      z: the normal quantile of the two-sided level.

    Returns:
      (low, high).
    """
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"wilson_interval needs 0 ≤ k ≤ n and n ≥ 1, got k={k}, n={n}")
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def proportion(k: int, n: int) -> dict:
    """k of n as the summaries write a rate: ``{"k", "n", "p", "ci95"}`` with the 95% Wilson interval."""
    return {"k": int(k), "n": int(n), "p": k / n, "ci95": list(wilson_interval(k, n))}
