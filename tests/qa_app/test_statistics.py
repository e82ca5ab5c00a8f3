"""Wilson intervals and the two-proportion test against published reference values."""

import pytest

from qa_app.statistics import two_proportion_test, wilson


def test_wilson_matches_reference_values():
    # Reference: Newcombe (1998), 81 of 263 -> 0.2553 .. 0.3662 (Wilson, 95 %).
    rate = wilson(81, 263)
    assert rate.low == pytest.approx(0.2553, abs=1e-4)
    assert rate.high == pytest.approx(0.3662, abs=1e-4)


@pytest.mark.parametrize(("successes", "trials"), [(0, 10), (10, 10), (1, 1)])
def test_wilson_stays_inside_zero_one_at_the_edges(successes, trials):
    rate = wilson(successes, trials)
    assert 0.0 <= rate.low < rate.high <= 1.0
    assert rate.small_sample


def test_wilson_without_trials_has_no_interval():
    rate = wilson(0, 0)
    assert (rate.value, rate.low, rate.high) == (None, None, None)


def test_two_proportion_test_reference():
    # 45/100 vs 60/100: z = 2.1243, two-sided p = 0.0336.
    comparison = two_proportion_test(wilson(45, 100), wilson(60, 100))
    assert comparison.difference == pytest.approx(0.15)
    assert comparison.z == pytest.approx(2.1243, abs=1e-3)
    assert comparison.p_value == pytest.approx(0.0336, abs=1e-3)
    assert comparison.significant


def test_equal_rates_are_not_significant_and_empty_sides_give_nothing():
    assert not two_proportion_test(wilson(5, 10), wilson(50, 100)).significant
    assert two_proportion_test(wilson(0, 0), wilson(3, 4)).p_value is None
    assert two_proportion_test(wilson(10, 10), wilson(20, 20)).p_value == 1.0
