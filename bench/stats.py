"""Small statistics helpers for the benchmarks (stdlib ``statistics`` does the maths)."""
import math
import statistics


def summary(values):
    """{n, min, p50, p90, max, mean} of a non-empty list of numbers.

    p50/p90 use ``statistics.quantiles(method="inclusive")``: linear interpolation between
    the closest ranks, so p90 of 20 values lies between the 18th and 19th smallest.
    """
    values = sorted(float(v) for v in values)
    if not values:
        raise ValueError("summary() needs at least one value")
    if len(values) == 1:
        p50 = p90 = values[0]
    else:
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        p50, p90 = statistics.median(values), deciles[8]
    return {"n": len(values), "min": values[0], "p50": p50, "p90": p90, "max": values[-1],
            "mean": statistics.fmean(values)}


def ratio(baseline, ours):
    """baseline / ours (how many times smaller ours is); None when ours is 0 or missing."""
    if ours in (None, 0) or baseline is None:
        return None
    return baseline / ours


def linear_fit(sizes, values):
    """Least-squares fit ``value = intercept + slope * size`` and the log-log exponent.

    The exponent is the slope of log(value) against log(size): 1.0 means linear growth,
    2.0 quadratic. Returns {slope, intercept, r2, exponent}.
    """
    sizes = [float(s) for s in sizes]
    values = [float(v) for v in values]
    fit = statistics.linear_regression(sizes, values)
    r = statistics.correlation(sizes, values) if len(set(values)) > 1 else 1.0
    logs = [(math.log(s), math.log(v)) for s, v in zip(sizes, values) if s > 0 and v > 0]
    exponent = statistics.linear_regression(*zip(*logs)).slope if len(logs) >= 2 else None
    return {"slope": fit.slope, "intercept": fit.intercept, "r2": r * r, "exponent": exponent}


def next_poll_latency(moment, period, first_poll=0.0):
    """Wait from ``moment`` until the next poll of a fixed schedule first_poll + k*period.

    The replaced system's loops poll first and then sleep ``period`` (doctl --wait: 10 s;
    the health loop: 15 s), so a state reached at ``moment`` is seen by the first poll at or
    after it.
    """
    if moment <= first_poll:
        return first_poll - moment
    k = math.ceil((moment - first_poll) / period)
    return first_poll + k * period - moment
