"""bench.stats: the numbers make bench reports."""
import pytest

from bench import stats


def test_summary_of_twenty_values():
    s = stats.summary(range(1, 21))
    assert (s["n"], s["min"], s["max"]) == (20, 1.0, 20.0)
    assert s["p50"] == 10.5
    assert s["p90"] == pytest.approx(18.1)
    assert s["mean"] == 10.5


def test_summary_single_value_and_empty():
    assert stats.summary([3])["p90"] == 3.0
    with pytest.raises(ValueError):
        stats.summary([])


def test_ratio():
    assert stats.ratio(10.0, 2.0) == 5.0
    assert stats.ratio(10.0, 0) is None


def test_linear_fit_detects_linear_and_quadratic_growth():
    sizes = [10, 100, 1000]
    linear = stats.linear_fit(sizes, [0.002 + 0.001 * n for n in sizes])
    assert linear["slope"] == pytest.approx(0.001)
    assert linear["exponent"] == pytest.approx(1.0, abs=0.1)
    assert linear["r2"] == pytest.approx(1.0)
    quadratic = stats.linear_fit(sizes, [n * n for n in sizes])
    assert quadratic["exponent"] == pytest.approx(2.0)


@pytest.mark.parametrize("moment,period,expected", [
    (0.0, 15, 0.0), (0.5, 15, 14.5), (15.0, 15, 0.0), (15.1, 15, 14.9), (9.0, 10, 1.0), (23.5, 10, 6.5),
])
def test_next_poll_latency(moment, period, expected):
    assert stats.next_poll_latency(moment, period) == pytest.approx(expected)
