"""Mergeable window profiles: the summaries that drift statistics are computed from.

A profile summarises one feature over one window (an hour of predictions, a
reference snapshot, ...). Profiles of the same feature merge associatively and
commutatively, so hourly profiles can be rolled up into days and a batch can be
applied to a window in any order. Everything is plain NumPy and JSON: no Django.

* ``NumericBins`` (defined in ``monitoring.statistics.binning``, re-exported
  here) — bin edges fixed once from the reference sample: ``n_bins``
  reference-quantile bins over ``[reference min, reference max]`` plus
  ``tail_bins`` geometrically growing bins on each side, so values outside the
  reference range keep their position instead of piling up in an open edge bin.
* ``NumericProfile`` — per-cell counts and per-cell sums of offsets on those
  bins, count, missing count, min, max, mean and M2 (Chan's parallel update).
* ``CategoricalProfile`` — counts per category of a vocabulary fixed from the
  reference (at most ``max_categories``), an ``__other__`` bucket and a missing
  count.

See docs/drift.md for the choice of bins and the error bounds they give.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitoring.statistics.binning import (
    DEFAULT_EDGE_SAMPLE_SIZE,
    DEFAULT_NUMERIC_BINS,
    DEFAULT_TAIL_BINS,
    BinsMismatchError,
    NumericBins,
    finite_float,
    split_missing,
)
from monitoring.statistics.categorical import OTHER_CATEGORY

__all__ = [
    "OTHER_CATEGORY",
    "BinsMismatchError",
    "CategoricalProfile",
    "NumericBins",
    "NumericProfile",
    "Profile",
    "merge_profiles",
    "profile_from_dict",
]

PROFILE_FORMAT_VERSION = 1
DEFAULT_MAX_CATEGORIES = 100

_CHUNK_SIZE = 1 << 16


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(eq=False)
class NumericProfile:
    """Summary of one numeric feature over one window, on fixed ``NumericBins``.

    ``counts[j]`` is the number of values in cell j and ``offsets[j]`` the sum of
    ``value - bins.anchors[j]`` over them; with min and max these make the
    Wasserstein distance exact wherever the two CDFs do not cross inside a cell.
    ``m2`` is the sum of squared deviations from ``mean`` (Chan et al.).
    """

    bins: NumericBins
    counts: np.ndarray
    offsets: np.ndarray
    missing: int = 0
    minimum: float | None = None
    maximum: float | None = None
    mean: float = 0.0
    m2: float = 0.0

    kind = "numeric"

    def __post_init__(self) -> None:
        # Profiles are values: their arrays are private read-only copies.
        self.counts = np.array(self.counts, dtype=np.int64)
        self.offsets = np.array(self.offsets, dtype=np.float64)
        self.counts.flags.writeable = False
        self.offsets.flags.writeable = False
        self._count = int(self.counts.sum())
        n_cells = self.bins.n_cells
        if self.counts.shape != (n_cells,) or self.offsets.shape != (n_cells,):
            raise BinsMismatchError(
                f"expected {n_cells} cells for these bins, got {self.counts.shape[0]}"
            )
        if (self.counts < 0).any():
            raise ValueError("counts must not be negative")
        if self.missing < 0:
            raise ValueError("missing must not be negative")
        if self.count:
            if self.minimum is None or self.maximum is None:
                raise ValueError("minimum and maximum are required when count > 0")
            self.minimum = finite_float(self.minimum, "minimum")
            self.maximum = finite_float(self.maximum, "maximum")
            if self.minimum > self.maximum:
                raise ValueError("minimum must not exceed maximum")
        else:
            self.minimum = self.maximum = None
        self.mean = finite_float(self.mean, "mean")
        self.m2 = finite_float(self.m2, "m2")
        if self.m2 < 0:
            raise ValueError("m2 must not be negative")

    @classmethod
    def empty(cls, bins: NumericBins, *, missing: int = 0) -> NumericProfile:
        return cls(
            bins=bins,
            counts=np.zeros(bins.n_cells, dtype=np.int64),
            offsets=np.zeros(bins.n_cells, dtype=np.float64),
            missing=missing,
        )

    @classmethod
    def from_values(cls, values: Any, bins: NumericBins) -> NumericProfile:
        """Profile an array of values (NaN and None count as missing)."""
        data, missing = split_missing(values)
        if data.size == 0:
            return cls.empty(bins, missing=missing)
        # Chunks of a few hundred kilobytes keep the temporaries in cache and
        # avoid page-faulting fresh buffers: about twice as fast as one pass.
        counts = np.zeros(bins.n_cells, dtype=np.int64)
        offsets = np.zeros(bins.n_cells, dtype=np.float64)
        mean = float(data.mean())
        m2 = 0.0
        for start in range(0, data.size, _CHUNK_SIZE):
            chunk = data[start : start + _CHUNK_SIZE]
            cells = bins.cell_index(chunk)
            counts += np.bincount(cells, minlength=bins.n_cells)
            offsets += np.bincount(
                cells, weights=chunk - bins.anchors[cells], minlength=bins.n_cells
            )
            # Squared in place and summed, not np.dot: BLAS threads buy nothing
            # on 64k values and stall when the cores are busy.
            deviations = chunk - mean
            deviations *= deviations
            m2 += float(deviations.sum())
        return cls(
            bins=bins,
            counts=counts,
            offsets=offsets,
            missing=missing,
            minimum=float(data.min()),
            maximum=float(data.max()),
            mean=mean,
            m2=m2,
        )

    @classmethod
    def from_reference(
        cls,
        values: Any,
        *,
        n_bins: int = DEFAULT_NUMERIC_BINS,
        tail_bins: int = DEFAULT_TAIL_BINS,
        sample_size: int = DEFAULT_EDGE_SAMPLE_SIZE,
        seed: int = 0,
    ) -> NumericProfile:
        """Fit bins to a reference sample and profile it on them."""
        bins = NumericBins.from_reference(
            values,
            n_bins=n_bins,
            tail_bins=tail_bins,
            sample_size=sample_size,
            seed=seed,
        )
        return cls.from_values(values, bins)

    # -- derived values --------------------------------------------------------

    @property
    def count(self) -> int:
        """Number of non-missing values."""
        return self._count

    @property
    def total(self) -> int:
        return self.count + self.missing

    @property
    def missing_rate(self) -> float | None:
        total = self.total
        return self.missing / total if total else None

    @property
    def variance(self) -> float | None:
        """Population variance (ddof=0, as ``numpy.var``)."""
        count = self.count
        return self.m2 / count if count else None

    @property
    def std(self) -> float | None:
        variance = self.variance
        return math.sqrt(variance) if variance is not None else None

    @property
    def below_range(self) -> int:
        """Values below the reference minimum."""
        return int(self.counts[: self.bins.n_low_cells].sum())

    @property
    def above_range(self) -> int:
        """Values above the reference maximum."""
        return int(self.counts[self.bins.n_low_cells + self.bins.n_range_cells :].sum())

    # -- merge -----------------------------------------------------------------

    def merge(self, other: NumericProfile) -> NumericProfile:
        """Return the profile of both windows together (inputs are unchanged)."""
        if not isinstance(other, NumericProfile):
            raise TypeError("a numeric profile merges only with a numeric profile")
        if self.bins != other.bins:
            raise BinsMismatchError("numeric profiles on different bins cannot merge")
        n_a, n_b = self.count, other.count
        n = n_a + n_b
        if n_a and n_b:
            # Chan et al.'s pairwise update, written symmetrically so that
            # a.merge(b) and b.merge(a) give bit-identical results.
            mean = (n_a * self.mean + n_b * other.mean) / n
            delta = other.mean - self.mean
            m2 = self.m2 + other.m2 + delta * delta * (n_a * n_b / n)
            minimum = min(self.minimum, other.minimum)
            maximum = max(self.maximum, other.maximum)
        elif n_a:
            mean, m2, minimum, maximum = self.mean, self.m2, self.minimum, self.maximum
        else:
            mean, m2 = other.mean, other.m2
            minimum, maximum = other.minimum, other.maximum
        return NumericProfile(
            bins=self.bins,
            counts=self.counts + other.counts,
            offsets=self.offsets + other.offsets,
            missing=self.missing + other.missing,
            minimum=minimum,
            maximum=maximum,
            mean=mean,
            m2=m2,
        )

    # -- serialisation ---------------------------------------------------------

    def to_dict(self, *, include_bins: bool = True) -> dict[str, Any]:
        """JSON-serialisable dict; without bins, ``from_dict`` needs them passed."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "version": PROFILE_FORMAT_VERSION,
            "bins_id": self.bins.fingerprint,
            "counts": self.counts.tolist(),
            "offsets": self.offsets.tolist(),
            "missing": self.missing,
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean,
            "m2": self.m2,
        }
        if include_bins:
            data["bins"] = self.bins.to_dict()
        return data

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, bins: NumericBins | None = None
    ) -> NumericProfile:
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a numeric profile: kind={data.get('kind')!r}")
        try:
            if bins is None:
                if "bins" not in data:
                    raise ValueError("profile stored without bins: pass bins=")
                bins = NumericBins.from_dict(data["bins"])
            bins_id = data.get("bins_id")
            if bins_id is not None and bins_id != bins.fingerprint:
                raise BinsMismatchError("the profile was made on different bins")
            return cls(
                bins=bins,
                counts=_int_array(data["counts"]),
                offsets=np.asarray(data["offsets"], dtype=np.float64),
                missing=_non_negative_int(data.get("missing", 0), "missing"),
                minimum=_optional_float(data.get("min")),
                maximum=_optional_float(data.get("max")),
                mean=data.get("mean", 0.0),
                m2=data.get("m2", 0.0),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"invalid numeric profile: {error!r}") from error


def _int_array(values: Sequence[Any]) -> np.ndarray:
    array = np.asarray(values)
    if array.size and array.dtype.kind not in "iu":
        raise ValueError("counts must be integers")
    return array.astype(np.int64, copy=False)


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return int(value)


def _is_missing_key(key: Any) -> bool:
    if key is None:
        return True
    try:
        return bool(isinstance(key, float | np.floating) and math.isnan(key))
    except TypeError:
        return False


def _count_categories(values: Any) -> tuple[Counter[str], int]:
    """Count values by ``str(value)``; None and NaN are missing."""
    counts: Counter[str] = Counter()
    missing = 0
    array = values if isinstance(values, np.ndarray) else None
    if array is not None and array.dtype.kind in "iub":
        keys, numbers = np.unique(array, return_counts=True)
        raw = zip(keys.tolist(), numbers.tolist(), strict=True)
    elif array is not None and array.dtype.kind == "f":
        nan_mask = np.isnan(array)
        missing = int(nan_mask.sum())
        keys, numbers = np.unique(array[~nan_mask], return_counts=True)
        raw = zip(keys.tolist(), numbers.tolist(), strict=True)
    else:
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            values = [values]
        raw = Counter(values).items()
    for key, number in raw:
        if _is_missing_key(key):
            missing += number
        else:
            counts[key if isinstance(key, str) else str(key)] += number
    return counts, missing


@dataclass(eq=False)
class CategoricalProfile:
    """Counts per category of a fixed vocabulary, plus ``__other__`` and missing.

    The vocabulary comes from the reference (its ``max_categories`` most frequent
    values); window profiles reuse it, so a category unknown to the reference
    lands in ``other``. Fixing the vocabulary is what keeps ``merge`` exactly
    associative: a bounded top-k recomputed at every merge would not be.
    """

    categories: tuple[str, ...]
    counts: np.ndarray
    other: int = 0
    missing: int = 0

    kind = "categorical"

    def __post_init__(self) -> None:
        self.categories = tuple(self.categories)
        if not all(isinstance(name, str) for name in self.categories):
            raise ValueError("category names must be strings")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("category names must be unique")
        self.counts = np.array(self.counts, dtype=np.int64).reshape(-1)
        self.counts.flags.writeable = False
        if self.counts.shape != (len(self.categories),):
            raise ValueError("counts must have one entry per category")
        if (self.counts < 0).any() or self.other < 0 or self.missing < 0:
            raise ValueError("counts must not be negative")
        self.other = int(self.other)
        self.missing = int(self.missing)

    @classmethod
    def empty(
        cls, categories: Sequence[str], *, missing: int = 0
    ) -> CategoricalProfile:
        return cls(
            categories=tuple(categories),
            counts=np.zeros(len(categories), dtype=np.int64),
            missing=missing,
        )

    @classmethod
    def from_values(
        cls,
        values: Any,
        categories: Sequence[str] | None = None,
        *,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
    ) -> CategoricalProfile:
        """Profile values on ``categories``, or on the top ``max_categories``.

        Values are compared as ``str(value)``; None and NaN count as missing.
        """
        counted, missing = _count_categories(values)
        if categories is None:
            if max_categories < 1:
                raise ValueError("max_categories must be at least 1")
            ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
            categories = tuple(name for name, _ in ranked[:max_categories])
        else:
            categories = tuple(categories)
        counts = np.fromiter(
            (counted.get(name, 0) for name in categories),
            dtype=np.int64,
            count=len(categories),
        )
        other = sum(counted.values()) - int(counts.sum())
        return cls(categories=categories, counts=counts, other=other, missing=missing)

    @classmethod
    def from_reference(
        cls, values: Any, *, max_categories: int = DEFAULT_MAX_CATEGORIES
    ) -> CategoricalProfile:
        return cls.from_values(values, None, max_categories=max_categories)

    @property
    def count(self) -> int:
        """Number of non-missing values (``other`` included)."""
        return int(self.counts.sum()) + self.other

    @property
    def total(self) -> int:
        return self.count + self.missing

    @property
    def missing_rate(self) -> float | None:
        total = self.total
        return self.missing / total if total else None

    @property
    def vocabulary_id(self) -> str:
        digest = hashlib.sha256("\x1f".join(self.categories).encode()).hexdigest()
        return digest[:32]

    def frequencies(self) -> dict[str, int]:
        """Counts by name, with ``__other__`` last when it is not empty."""
        result = dict(zip(self.categories, self.counts.tolist(), strict=True))
        if self.other:
            result[OTHER_CATEGORY] = self.other
        return result

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        if not isinstance(other, CategoricalProfile):
            raise TypeError("a categorical profile merges only with a categorical one")
        if self.categories != other.categories:
            raise BinsMismatchError("categorical profiles on different vocabularies")
        return CategoricalProfile(
            categories=self.categories,
            counts=self.counts + other.counts,
            other=self.other + other.other,
            missing=self.missing + other.missing,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": PROFILE_FORMAT_VERSION,
            "categories": list(self.categories),
            "counts": self.counts.tolist(),
            "other": self.other,
            "missing": self.missing,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a categorical profile: kind={data.get('kind')!r}")
        try:
            return cls(
                categories=tuple(data["categories"]),
                counts=_int_array(data["counts"]),
                other=_non_negative_int(data.get("other", 0), "other"),
                missing=_non_negative_int(data.get("missing", 0), "missing"),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"invalid categorical profile: {error!r}") from error


Profile = NumericProfile | CategoricalProfile


def profile_from_dict(
    data: dict[str, Any], *, bins: NumericBins | None = None
) -> NumericProfile | CategoricalProfile:
    """Rebuild a profile of either kind from ``to_dict`` output."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == NumericProfile.kind:
        return NumericProfile.from_dict(data, bins=bins)
    if kind == CategoricalProfile.kind:
        return CategoricalProfile.from_dict(data)
    raise ValueError(f"unknown profile kind: {kind!r}")


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Merge a non-empty sequence of profiles of one feature."""
    iterator = iter(profiles)
    try:
        result = next(iterator)
    except StopIteration:
        raise ValueError("merge_profiles needs at least one profile") from None
    for profile in iterator:
        result = result.merge(profile)
    return result
