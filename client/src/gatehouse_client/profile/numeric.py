"""``NumericProfile``: counts and offsets on fixed ``NumericBins``, with the
moments of the window (Chan's parallel update)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gatehouse_client.profile.binning import (
    DEFAULT_EDGE_SAMPLE_SIZE,
    DEFAULT_NUMERIC_BINS,
    DEFAULT_TAIL_BINS,
    BinsMismatchError,
    NumericBins,
    finite_float,
    split_missing,
)
from gatehouse_client.profile.format import (
    PROFILE_FORMAT_VERSION,
    format_version,
    int_array,
    non_negative_int,
    optional_float,
)

_CHUNK_SIZE = 1 << 16


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
        format_version(data)
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
                counts=int_array(data["counts"]),
                offsets=np.asarray(data["offsets"], dtype=np.float64),
                missing=non_negative_int(data.get("missing", 0), "missing"),
                minimum=optional_float(data.get("min")),
                maximum=optional_float(data.get("max")),
                mean=data.get("mean", 0.0),
                m2=data.get("m2", 0.0),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"invalid numeric profile: {error!r}") from error
