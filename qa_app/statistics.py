"""Small-sample honest statistics for QA rates: Wilson intervals and a two-proportion z-test.

Pass rates come from a few dozen reviews, where the textbook normal interval misbehaves (it can
leave [0, 1] and is far too narrow near 0 % and 100 %). Wilson's score interval stays sensible,
and the z-test tells whether two prompt versions really differ. No SciPy: the normal quantiles
used here are constants, and the tail probability comes from math.erfc.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054
SMALL_SAMPLE = 30  # below this many trials a rate is flagged as a small sample


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int
    low: float | None
    high: float | None

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def small_sample(self) -> bool:
        return self.trials < SMALL_SAMPLE


def wilson(successes: int, trials: int, z: float = Z_95) -> Rate:
    """The rate with its Wilson score interval (95 % by default); no interval without trials."""
    if trials <= 0:
        return Rate(successes=0, trials=0, low=None, high=None)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Rate(
        successes=successes, trials=trials, low=max(0.0, centre - margin), high=min(1.0, centre + margin)
    )


@dataclass(frozen=True)
class Comparison:
    difference: float | None  # b minus a
    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05


def two_proportion_test(a: Rate, b: Rate) -> Comparison:
    """Pooled two-sided z-test of b's rate against a's. None where either side has no trials."""
    if not a.trials or not b.trials:
        return Comparison(difference=None, z=None, p_value=None)
    difference = b.successes / b.trials - a.successes / a.trials
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
    if standard_error == 0:
        return Comparison(difference=difference, z=0.0, p_value=1.0)
    z = difference / standard_error
    return Comparison(difference=difference, z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))
