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


# --- how many more reviews ---------------------------------------------------------------------


def wilson_margin(p: float, trials: int, z: float = Z_95) -> float:
    """Half the width of the Wilson interval around a rate ``p`` seen in ``trials`` (unclipped)."""
    return z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)


def trials_for_margin(p: float, margin: float = 0.05, z: float = Z_95) -> int:
    """The fewest trials for which a rate of ``p`` has a Wilson interval of at most ±``margin``.

    The margin shrinks as trials grow, so a binary search finds it (p = 0.5, ±5 points: 381).
    """
    low, high = 1, 1
    while wilson_margin(p, high, z) > margin:
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        if wilson_margin(p, middle, z) <= margin:
            high = middle
        else:
            low = middle + 1
    return high


@dataclass(frozen=True)
class ReviewsNeeded:
    successes: int
    trials: int
    margin: float | None  # the interval's half-width now; None without trials
    target: int  # trials for ±margin at the rate seen (at 50 % before any)
    more: int


def reviews_needed(successes: int, trials: int, margin: float = 0.05) -> ReviewsNeeded:
    """How many more reviews until the pass rate is known within ±``margin`` (Wilson, 95 %), taking
    the rate seen so far as the rate (50 %, the worst case, before any review)."""
    p = successes / trials if trials else 0.5
    target = trials_for_margin(p, margin)
    return ReviewsNeeded(
        successes=successes,
        trials=trials,
        margin=wilson_margin(p, trials) if trials else None,
        target=target,
        more=max(0, target - trials),
    )


# --- agreement -----------------------------------------------------------------------------------


BANDS = ((0.8, "almost perfect"), (0.6, "substantial"), (0.4, "moderate"), (0.2, "fair"), (0.0, "slight"))


@dataclass(frozen=True)
class Agreement:
    """Cohen's kappa of two raters over the same items, with the confusion matrix it came from."""

    categories: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # rows: the first rater's category; columns: the second's
    n: int
    observed: float | None
    expected: float | None
    kappa: float | None  # None without items, or when chance agreement is certain

    @property
    def band(self) -> str:
        """Landis and Koch's words for the kappa."""
        if self.kappa is None:
            return "—"
        for floor, word in BANDS:
            if self.kappa > floor:
                return word
        return "poor"


def cohen_kappa(pairs: list[tuple[str, str]], categories: tuple[str, ...]) -> Agreement:
    """Kappa = (observed - expected) / (1 - expected) for (first rater, second rater) labels."""
    index = {category: i for i, category in enumerate(categories)}
    size = len(categories)
    matrix = [[0] * size for _ in range(size)]
    for a, b in pairs:
        matrix[index[a]][index[b]] += 1
    n = len(pairs)
    frozen = tuple(tuple(row) for row in matrix)
    if not n:
        return Agreement(categories, frozen, 0, None, None, None)
    observed = sum(matrix[i][i] for i in range(size)) / n
    rows = [sum(matrix[i]) / n for i in range(size)]
    columns = [sum(matrix[i][j] for i in range(size)) / n for j in range(size)]
    expected = sum(rows[i] * columns[i] for i in range(size))
    kappa = None if expected >= 1 else (observed - expected) / (1 - expected)
    return Agreement(categories, frozen, n, observed, expected, kappa)
