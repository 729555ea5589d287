"""Medians and percentiles of timings, in milliseconds."""

import statistics


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(samples: list[float]) -> dict:
    """{"n", "p50", "p99"} of `samples` (seconds) in milliseconds."""
    if not samples:
        return {"n": 0, "p50": None, "p99": None}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50": ms(statistics.median(ordered)), "p99": ms(p99)}
