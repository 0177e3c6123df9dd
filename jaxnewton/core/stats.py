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


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test that k1 of n1 and k2 of n2 come from one proportion.

    Conditional on the k1 + k2 successes, k1 is hypergeometric; the p-value sums the probabilities of every table
    no more likely than the observed one (relative tolerance 1e-7, as SciPy's ``fisher_exact``).
    """
    if n1 < 1 or n2 < 1 or not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"fisher_exact needs 0 ≤ k ≤ n and n ≥ 1 for both samples, got {k1}/{n1} and {k2}/{n2}")
    total = k1 + k2
    denominator = math.comb(n1 + n2, total)
    pmf = [math.comb(n1, x) * math.comb(n2, total - x) / denominator
           for x in range(max(0, total - n2), min(n1, total) + 1)]
    observed = math.comb(n1, k1) * math.comb(n2, k2) / denominator
    return min(1.0, sum(p for p in pmf if p <= observed * (1 + 1e-7)))


def two_sample_verdict(k_paper: int, n_paper: int, k: int, n: int, level: float = 0.05) -> str:
    """The report's verdict on a rate: "reproduced" when Fisher's exact test finds no difference between the
    paper's k of n and ours at ``level`` (none its sample size can show), else "differs", with the numbers."""
    p = fisher_exact(k_paper, n_paper, k, n)
    numbers = f"paper {k_paper}/{n_paper}, here {k}/{n}, Fisher's exact p = {p:.2g}"
    return f"reproduced ({numbers})" if p >= level else f"differs: {numbers}"


def mantel_haenszel(tables: list[tuple[int, int, int, int]], correction: bool = True) -> dict:
    """Cochran–Mantel–Haenszel test that two samples share one proportion in every stratum.

    Args:
      tables: one ``(k1, n1, k2, n2)`` per stratum (k1 of n1 against k2 of n2).
      correction: subtract ½ from |Σ (k1 − E k1)| (Mantel and Haenszel's continuity correction).

    Returns:
      ``{"d", "chi2", "p"}``: the Mantel–Haenszel common difference of proportions Σ (k1 n2 − k2 n1) / N over
      Σ n1 n2 / N, the statistic, and its two-sided p-value from χ² with one degree of freedom (1 where no stratum
      varies).
    """
    observed = expected = variance = numerator = weight = 0.0
    for k1, n1, k2, n2 in tables:
        if n1 < 1 or n2 < 1 or not (0 <= k1 <= n1 and 0 <= k2 <= n2):
            raise ValueError(f"mantel_haenszel needs 0 ≤ k ≤ n and n ≥ 1 in every stratum, got {k1}/{n1} and {k2}/{n2}")
        n, m = n1 + n2, k1 + k2
        observed += k1
        expected += n1 * m / n
        variance += n1 * n2 * m * (n - m) / (n * n * (n - 1)) if n > 1 else 0.0
        numerator += (k1 * n2 - k2 * n1) / n
        weight += n1 * n2 / n
    if variance == 0.0:
        return {"d": numerator / weight, "chi2": 0.0, "p": 1.0}
    chi2 = max(0.0, abs(observed - expected) - (0.5 if correction else 0.0)) ** 2 / variance
    return {"d": numerator / weight, "chi2": chi2, "p": math.erfc(math.sqrt(chi2 / 2))}


def trend_test(ks: list[int], ns: list[int], scores: list[float]) -> dict:
    """Cochran–Armitage test for a linear trend of k_i of n_i in ``scores`` (e.g. log₂ of the width).

    Returns:
      ``{"z", "p"}``: z > 0 when the proportion grows with the score; the two-sided p-value from the normal
      distribution (1 where every sample is all successes or all failures).
    """
    if not len(ks) == len(ns) == len(scores) or any(n < 1 or not 0 <= k <= n for k, n in zip(ks, ns)):
        raise ValueError(f"trend_test needs one score per k of n with 0 ≤ k ≤ n and n ≥ 1, got {ks}, {ns}, {scores}")
    total, successes = sum(ns), sum(ks)
    rate = successes / total
    statistic = sum(t * (k - n * rate) for k, n, t in zip(ks, ns, scores))
    spread = sum(n * t * t for n, t in zip(ns, scores)) - sum(n * t for n, t in zip(ns, scores)) ** 2 / total
    variance = rate * (1 - rate) * spread
    if variance <= 0.0:
        return {"z": 0.0, "p": 1.0}
    z = statistic / math.sqrt(variance)
    return {"z": z, "p": math.erfc(abs(z) / math.sqrt(2))}
