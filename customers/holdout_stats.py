"""What an offer or an automation adds: the offer group against its holdout, in numbers.

Pure arithmetic (no database): the performance page, the nightly verdict that pauses a
dilutive offer, and the simulation test (tests/clienteling/test_holdout_simulation.py)
all call `holdout_difference` on the same sums, so what the simulation measures is what
managers read.

Per eligible client, a value (purchases after they became eligible, or revenue); per
group, four sums: clients, the values' sum, squares and cubes, which is all
a mean, a variance and a skewness need (and what one grouped SQL query can return). The difference
of the two means (offer group minus holdout) gets a 95% interval by the normal
approximation with each group's own variance (Welch's standard error):

    difference ± 1.96 · sqrt(s²_offer / n_offer + s²_holdout / n_holdout)

moved, both ends alike, by a correction for the values' skewness (hence the sum of
cubes too; without it the interval is the plain normal one).

The verdict reads the interval: generative when all of it is above zero, dilutive when
all of it is below, not yet known otherwise, and not yet known when either group has
fewer than MIN_CLIENTS_PER_GROUP clients (the approximation needs a few dozen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# z for a two-sided 95% interval.
Z_95 = 1.959963984540054
# Below this many clients in either group, no verdict: the normal approximation of a
# mean of skewed values (most clients buy nothing) is not to be trusted yet.
MIN_CLIENTS_PER_GROUP = 30

GENERATIVE = "generative"
DILUTIVE = "dilutive"
NOT_YET_KNOWN = "not yet known"


@dataclass(frozen=True)
class GroupSums:
    """One group's eligible clients and the sum and sum of squares of their values."""

    clients: int = 0
    total: float = 0.0
    total_squares: float = 0.0
    total_cubes: float = 0.0

    @classmethod
    def of(cls, values) -> GroupSums:
        values = [float(value) for value in values]
        return cls(
            len(values),
            sum(values),
            sum(value * value for value in values),
            sum(value**3 for value in values),
        )

    @property
    def mean(self) -> float | None:
        return self.total / self.clients if self.clients else None

    @property
    def variance(self) -> float:
        """The sample variance (n - 1); 0 below two clients. Never negative, whatever
        rounding the database's sums carry."""
        if self.clients < 2:
            return 0.0
        spread = self.total_squares - self.total * self.total / self.clients
        return max(spread, 0.0) / (self.clients - 1)

    @property
    def third_moment(self) -> float:
        """The third central moment (divided by n): how lopsided the values are."""
        if self.clients < 3:
            return 0.0
        n, mean = self.clients, self.total / self.clients
        return (
            self.total_cubes - 3 * mean * self.total_squares + 3 * mean * mean * self.total
        ) / n - mean**3


@dataclass(frozen=True)
class Difference:
    """Offer group minus holdout: the means, their difference, its 95% interval, the verdict."""

    offer_mean: float | None
    holdout_mean: float | None
    difference: float | None
    low: float | None
    high: float | None
    verdict: str

    @property
    def known(self) -> bool:
        return self.verdict != NOT_YET_KNOWN


def holdout_difference(
    offer: GroupSums,
    holdout: GroupSums,
    *,
    z: float = Z_95,
    min_clients: int = MIN_CLIENTS_PER_GROUP,
) -> Difference:
    """The difference of the means (offer group minus holdout) with its interval and verdict.

    Without a client in one group there is no difference at all (None); with fewer than
    `min_clients` in either, the figures are given but the verdict is "not yet known".
    """
    if not offer.clients or not holdout.clients:
        return Difference(offer.mean, holdout.mean, None, None, None, NOT_YET_KNOWN)
    difference = offer.mean - holdout.mean
    error = math.sqrt(offer.variance / offer.clients + holdout.variance / holdout.clients)
    shift = 0.0
    if error > 0:
        # Skewness of the difference: most clients buy nothing and a few buy a lot, so a
        # small holdout's mean is more often a little below its expectation than above,
        # and its variance is smaller then too. Left alone, the interval would call a
        # null effect "generative" about twice as often as it should (the simulation
        # measured ~4% instead of 2.5%). The first Edgeworth term of the studentized
        # difference (Hall 1992, §3.5) moves both ends by the same amount.
        skewness = (
            offer.third_moment / offer.clients**2 - holdout.third_moment / holdout.clients**2
        ) / error**3
        shift = skewness / 6 * (2 * z * z + 1) * error
    low, high = difference - z * error + shift, difference + z * error + shift
    if min(offer.clients, holdout.clients) < min_clients:
        verdict = NOT_YET_KNOWN
    elif low > 0:
        verdict = GENERATIVE
    elif high < 0:
        verdict = DILUTIVE
    else:
        verdict = NOT_YET_KNOWN
    return Difference(offer.mean, holdout.mean, difference, low, high, verdict)
