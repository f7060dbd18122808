"""The baseline comparison, streaming and mergeable: a paired bootstrap over hashed buckets.

Each row goes to one of ``N_BUCKETS`` buckets by a hash of its target row number
and the seed, the same bucket for the candidate and for the baseline. A bucket
keeps sums only: rows, weight, and each model's weighted loss. At the end the
non-empty buckets are resampled with replacement, ``n_bootstrap`` times, and
the 2.5 and 97.5 percentiles of the resampled differences of the weighted mean
losses, ``sum(w l_cand - w l_base) / sum(w)``, form the 95% interval.

This is the method of random groups (K. M. Wolter, "Introduction to Variance
Estimation", 2nd ed., Springer 2007, chapter 2), with a bootstrap over the
groups: rows assigned to buckets at random (here by a hash, so that any worker
puts a row where every other would) give independent, identically distributed
bucket totals, and resampling them estimates the sampling distribution that
resampling rows estimates. Online-experiment platforms compute their
intervals over such hashed buckets for the same reason: the totals stream and
merge (Chamandy et al., "Estimating Uncertainty for Massive Data Streams",
Google, 2012, compare it with the Poisson bootstrap). With fewer rows than buckets
nearly every bucket holds one row, and it is the plain paired bootstrap. Memory
is a few arrays of ``N_BUCKETS`` numbers, whatever the number of rows; two
states of disjoint rows merge by adding them.

Whether both models were evaluated on the same rows is checked by two numbers
each side keeps: the count of rows and a sum of 64-bit hashes of their target
rows.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from lossctl.core.activations import FloatArray
from lossctl.core.compare import BaselineComparison
from lossctl.core.losses import IntArray

#: Buckets of the comparison: enough that the bootstrap over them resolves the
#: interval (its relative precision is about sqrt(2 / N_BUCKETS), 2%), few enough
#: that resampling them stays cheap.
N_BUCKETS = 4096

#: Resampled bucket indices held at once (8 bytes each, and 16 for the values they
#: gather): about 6 MiB. Larger blocks are no faster (4M indices: 0.09 s for 1,000
#: resamples of 4,096 buckets, against 0.016 s for these), and held about 100 MiB.
BOOTSTRAP_BLOCK = 1 << 18

Side = Literal["candidate", "baseline"]

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that spreads every input bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def row_hash(rows: IntArray, seed: int) -> np.ndarray:
    """A 64-bit hash of each row number, keyed by the seed."""
    key = np.uint64((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
    return _mix(rows.astype(np.uint64) ^ key)


def bucket_of(rows: IntArray, seed: int, n_buckets: int = N_BUCKETS) -> IntArray:
    """The bucket of each target row: the same for both models, and for any split of rows."""
    result: IntArray = (row_hash(rows, seed) % np.uint64(n_buckets)).astype(np.intp)
    return result


def _key(hashed: np.ndarray) -> np.uint64:
    # The hash's other bits, summed (mod 2^64): with the rows of each bucket, they tell
    # whether both sides saw the same rows.
    return np.uint64(np.sum(hashed >> np.uint64(16), dtype=np.uint64))


def rows_key(rows: IntArray, seed: int) -> np.uint64:
    """What a side that saw ``rows`` (and no other) holds in ``PairedBuckets.keys``."""
    return _key(row_hash(rows, seed))


class PairedBuckets:
    """Per-bucket totals of both models over the same rows: ``add``, ``merge``, ``result``.

    The candidate adds rows, weights and its weighted losses; the baseline adds its
    weighted losses of the same rows, with the candidate's weights.
    """

    def __init__(self, seed: int = 0, n_buckets: int = N_BUCKETS) -> None:
        self.seed, self.n_buckets = seed, n_buckets
        self.n = np.zeros(n_buckets, dtype=np.int64)
        self.w = np.zeros(n_buckets)
        self.wl = np.zeros(n_buckets)
        self.base_n = np.zeros(n_buckets, dtype=np.int64)
        self.base_wl = np.zeros(n_buckets)
        self.keys = {"candidate": np.uint64(0), "baseline": np.uint64(0)}

    @np.errstate(over="ignore", invalid="ignore")  # infinite losses give NaN sums
    def add(self, side: Side, rows: IntArray, loss: FloatArray, w: FloatArray) -> None:
        """One chunk of one model: ``rows`` are the target rows of its ``loss`` values."""
        if rows.size == 0:
            return
        hashed = row_hash(rows, self.seed)
        bucket = (hashed % np.uint64(self.n_buckets)).astype(np.intp)  # as bucket_of
        k = self.n_buckets
        wl = np.bincount(bucket, weights=w * loss, minlength=k)
        if side == "candidate":
            self.n += np.bincount(bucket, minlength=k)
            self.w += np.bincount(bucket, weights=w, minlength=k)
            self.wl += wl
        else:
            self.base_n += np.bincount(bucket, minlength=k)
            self.base_wl += wl
        key = _key(hashed)
        self.keys[side] = np.uint64((int(self.keys[side]) + int(key)) & 0xFFFFFFFFFFFFFFFF)

    def merge(self, other: PairedBuckets) -> PairedBuckets:
        for name in ("n", "w", "wl", "base_n", "base_wl"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for side in self.keys:
            total = int(self.keys[side]) + int(other.keys[side])
            self.keys[side] = np.uint64(total & 0xFFFFFFFFFFFFFFFF)
        return self

    @property
    def paired(self) -> bool:
        """Whether both models saw the same target rows (by count and hash)."""
        return bool(
            np.array_equal(self.n, self.base_n) and self.keys["candidate"] == self.keys["baseline"]
        )

    @np.errstate(over="ignore", invalid="ignore", divide="ignore")
    def result(self, n_bootstrap: int) -> BaselineComparison:
        """The two means, their difference and its bootstrap 95% interval."""
        total = float(np.sum(self.w))
        mean = float(np.sum(self.wl)) / total
        baseline_mean = float(np.sum(self.base_wl)) / total
        used = np.flatnonzero(self.n)
        w, wd = self.w[used], (self.wl - self.base_wl)[used]
        low, high = _percentile_interval(w, wd, n_bootstrap, self.seed)
        return BaselineComparison(
            n_samples=int(np.sum(self.n)),
            mean_loss=mean,
            baseline_mean_loss=baseline_mean,
            difference=mean - baseline_mean,
            ci_low=low,
            ci_high=high,
            n_bootstrap=n_bootstrap,
            seed=self.seed,
            n_buckets=int(used.size),
        )


@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def _percentile_interval(
    w: FloatArray, wd: FloatArray, n_bootstrap: int, seed: int
) -> tuple[float, float]:
    """The 2.5 and 97.5 percentiles of ``sum(wd) / sum(w)`` over resamples of the units,
    drawn in blocks of about ``BOOTSTRAP_BLOCK`` indices."""
    m = w.size
    if m == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    replicates = np.empty(n_bootstrap)
    per_block = max(1, BOOTSTRAP_BLOCK // m)
    both = wd + 1j * w  # one gather and one sum for both totals: a third faster
    for start in range(0, n_bootstrap, per_block):
        b = min(per_block, n_bootstrap - start)
        sums = np.sum(both[rng.integers(0, m, size=(b, m))], axis=1)
        replicates[start : start + b] = sums.real / sums.imag
    finite = replicates[np.isfinite(replicates)]  # a resample of zero-weight units only
    if not finite.size:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)
