"""``CategoricalProfile``: counts per category of a vocabulary fixed from the
reference, an ``__other__`` bucket and a missing count."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitoring.profiles.format import (
    PROFILE_FORMAT_VERSION,
    int_array,
    non_negative_int,
)
from monitoring.statistics.binning import BinsMismatchError
from monitoring.statistics.categorical import OTHER_CATEGORY

DEFAULT_MAX_CATEGORIES = 100


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
                counts=int_array(data["counts"]),
                other=non_negative_int(data.get("other", 0), "other"),
                missing=non_negative_int(data.get("missing", 0), "missing"),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"invalid categorical profile: {error!r}") from error
