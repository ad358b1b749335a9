"""``CategoricalProfile``: counts per category of a vocabulary fixed from the
reference, a bounded sketch of the other categories (the tail) and a missing
count."""

from __future__ import annotations

import hashlib
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatehouse_client.profile.binning import BinsMismatchError
from gatehouse_client.profile.format import (
    PROFILE_FORMAT_VERSION,
    format_version,
    int_array,
    non_negative_int,
)

# The tail's total, as frequency tables name it.
OTHER_CATEGORY = "__other__"
# The vocabulary: the reference's most frequent categories, counted exactly.
DEFAULT_MAX_CATEGORIES = 500
# The tail: every other category is counted in one of this many buckets, chosen
# by a hash of its name that does not change between processes (CRC-32).
DEFAULT_TAIL_BUCKETS = 256


def tail_bucket(name: str, buckets: int) -> int:
    """The tail bucket of a category name (stable across processes)."""
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % buckets


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
    """Counts per category of a fixed vocabulary, a tail sketch and missing.

    The vocabulary comes from the reference (its ``max_categories`` most frequent
    values); window profiles reuse it. Categories outside it are not lumped into
    one bucket: each is counted in one of ``tail_buckets`` buckets chosen by a
    stable hash of its name, so drift among rare categories, and a category the
    reference never had, stay visible to the statistics while the profile keeps
    a bounded size. ``other`` is the tail's total. Fixing the vocabulary and the
    hash is what keeps ``merge`` exactly associative: a bounded top-k recomputed
    at every merge would not be.

    A profile stored in format 1 has no sketch (``tail_buckets == 0``): its tail
    is the single ``other`` count, as it was stored.
    """

    categories: tuple[str, ...]
    counts: np.ndarray
    other: int = 0
    missing: int = 0
    tail: np.ndarray | None = None

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
        tail = np.zeros(0, dtype=np.int64) if self.tail is None else self.tail
        self.tail = np.array(tail, dtype=np.int64).reshape(-1)
        self.tail.flags.writeable = False
        if (self.counts < 0).any() or (self.tail < 0).any():
            raise ValueError("counts must not be negative")
        if self.tail.size:
            self.other = int(self.tail.sum())
        if self.other < 0 or self.missing < 0:
            raise ValueError("counts must not be negative")
        self.other = int(self.other)
        self.missing = int(self.missing)

    @classmethod
    def empty(
        cls,
        categories: Sequence[str],
        *,
        missing: int = 0,
        tail_buckets: int = DEFAULT_TAIL_BUCKETS,
    ) -> CategoricalProfile:
        return cls(
            categories=tuple(categories),
            counts=np.zeros(len(categories), dtype=np.int64),
            missing=missing,
            tail=np.zeros(tail_buckets, dtype=np.int64),
        )

    @classmethod
    def from_counts(
        cls,
        counted: dict[str, int],
        categories: Sequence[str],
        *,
        missing: int = 0,
        tail_buckets: int = DEFAULT_TAIL_BUCKETS,
    ) -> CategoricalProfile:
        """Profile counts by name on a vocabulary; other names go to the tail."""
        if tail_buckets < 0:
            raise ValueError("tail_buckets must not be negative")
        categories = tuple(categories)
        vocabulary = set(categories)
        counts = np.fromiter(
            (counted.get(name, 0) for name in categories),
            dtype=np.int64,
            count=len(categories),
        )
        tail = np.zeros(tail_buckets, dtype=np.int64)
        other = 0
        for name, number in counted.items():
            if name in vocabulary:
                continue
            other += number
            if tail_buckets:
                tail[tail_bucket(name, tail_buckets)] += number
        return cls(
            categories=categories,
            counts=counts,
            other=other,
            missing=missing,
            tail=tail,
        )

    @classmethod
    def from_values(
        cls,
        values: Any,
        categories: Sequence[str] | None = None,
        *,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
        tail_buckets: int = DEFAULT_TAIL_BUCKETS,
    ) -> CategoricalProfile:
        """Profile values on ``categories``, or on the top ``max_categories``.

        Values are compared as ``str(value)``; None and NaN count as missing.
        """
        counted, missing = _count_categories(values)
        if categories is None:
            if max_categories < 1:
                raise ValueError("max_categories must be at least 1")
            categories = top_categories(counted, max_categories)
        return cls.from_counts(
            counted, categories, missing=missing, tail_buckets=tail_buckets
        )

    @classmethod
    def from_reference(
        cls,
        values: Any,
        *,
        max_categories: int = DEFAULT_MAX_CATEGORIES,
        tail_buckets: int = DEFAULT_TAIL_BUCKETS,
    ) -> CategoricalProfile:
        return cls.from_values(
            values, None, max_categories=max_categories, tail_buckets=tail_buckets
        )

    def empty_like(self) -> CategoricalProfile:
        """An empty profile on this one's vocabulary and tail sketch."""
        return CategoricalProfile.empty(self.categories, tail_buckets=self.tail_buckets)

    def profile_counts(
        self, counted: dict[str, int], *, missing: int = 0
    ) -> CategoricalProfile:
        """Counts by name profiled on this one's vocabulary and tail sketch."""
        return CategoricalProfile.from_counts(
            counted, self.categories, missing=missing, tail_buckets=self.tail_buckets
        )

    @property
    def tail_buckets(self) -> int:
        return int(self.tail.size)

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
        """Counts by name, with ``__other__`` (the tail's total) last when it is
        not empty."""
        result = dict(zip(self.categories, self.counts.tolist(), strict=True))
        if self.other:
            result[OTHER_CATEGORY] = self.other
        return result

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        if not isinstance(other, CategoricalProfile):
            raise TypeError("a categorical profile merges only with a categorical one")
        if self.categories != other.categories:
            raise BinsMismatchError("categorical profiles on different vocabularies")
        if self.tail_buckets != other.tail_buckets:
            raise BinsMismatchError("categorical profiles on different tail sketches")
        return CategoricalProfile(
            categories=self.categories,
            counts=self.counts + other.counts,
            other=self.other + other.other,
            missing=self.missing + other.missing,
            tail=self.tail + other.tail,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "version": PROFILE_FORMAT_VERSION,
            "categories": list(self.categories),
            "counts": self.counts.tolist(),
            "other": self.other,
            "missing": self.missing,
        }
        # A sparse list of [bucket, count]: most buckets of most windows are 0.
        data["tail_buckets"] = self.tail_buckets
        data["tail"] = [
            [int(index), int(self.tail[index])] for index in np.flatnonzero(self.tail)
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a categorical profile: kind={data.get('kind')!r}")
        version = format_version(data)
        try:
            tail = None
            if version >= 2:
                tail = _tail_from_pairs(
                    non_negative_int(data["tail_buckets"], "tail_buckets"),
                    data["tail"],
                )
            profile = cls(
                categories=tuple(data["categories"]),
                counts=int_array(data["counts"]),
                other=non_negative_int(data.get("other", 0), "other"),
                missing=non_negative_int(data.get("missing", 0), "missing"),
                tail=tail,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"invalid categorical profile: {error!r}") from error
        if tail is not None and tail.size and profile.other != data.get("other"):
            raise ValueError("other must equal the sum of the tail")
        return profile


def top_categories(counted: dict[str, int], max_categories: int) -> tuple[str, ...]:
    """The ``max_categories`` most frequent names, ties broken by name."""
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return tuple(name for name, _ in ranked[:max_categories])


def _tail_from_pairs(buckets: int, pairs: Any) -> np.ndarray:
    tail = np.zeros(buckets, dtype=np.int64)
    if not isinstance(pairs, list):
        raise ValueError("tail must be a list of [bucket, count] pairs")
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError("tail must be a list of [bucket, count] pairs")
        index = non_negative_int(pair[0], "tail bucket")
        if index >= buckets:
            raise ValueError("tail bucket out of range")
        tail[index] = non_negative_int(pair[1], "tail count")
    return tail
