"""Numeric bins fixed from a reference sample, and the fast cell lookup.

``NumericBins`` is the cell layout every numeric profile of a feature shares:
reference-quantile bins over ``[reference min, reference max]``, a point cell at
the minimum, and ``tail_bins`` geometrically growing cells on each side, so values
outside the reference range keep their position. ``gatehouse_client.profile`` counts
values on it; ``monitoring.statistics.numeric`` reads the counts back. See
docs/drift.md for the choice of edges and the error bounds they give.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_EDGE_SAMPLE_SIZE",
    "DEFAULT_NUMERIC_BINS",
    "DEFAULT_TAIL_BINS",
    "BinsMismatchError",
    "NumericBins",
    "finite_float",
    "split_missing",
]

# Part of the fingerprint: bump it if the meaning of a layout ever changes.
BINS_FORMAT_VERSION = 1

DEFAULT_NUMERIC_BINS = 100
DEFAULT_TAIL_BINS = 20
DEFAULT_EDGE_SAMPLE_SIZE = 200_000

# Fast cell lookup: a uniform grid over the reference range maps a value to the
# first edge that can hold it; a few vectorised compare-and-step passes finish
# the job. Grid cells holding more edges than this fall back to searchsorted.
_GRID_CELLS_PER_EDGE = 64
_GRID_MAX_CELLS = 1 << 16
_GRID_MAX_STEPS = 3


class BinsMismatchError(ValueError):
    """Two numeric profiles (or categorical vocabularies) are not comparable."""


def finite_float(value: Any, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def as_float_array(values: Any) -> np.ndarray:
    """Return a 1-D float64 array; None and NaN stay NaN (missing)."""
    array = np.asarray(values)
    if array.dtype == object:
        array = np.asarray(values, dtype=np.float64)  # None becomes NaN
    elif array.dtype.kind not in "fiub":
        raise ValueError(f"numeric values expected, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 1:
        array = array.reshape(-1)
    return array


def split_missing(values: Any) -> tuple[np.ndarray, int]:
    array = as_float_array(values)
    missing_mask = np.isnan(array)
    missing = int(np.count_nonzero(missing_mask))
    if missing:
        array = array[~missing_mask]
    if array.size and not (np.isfinite(array.min()) and np.isfinite(array.max())):
        raise ValueError("numeric values must be finite (NaN counts as missing)")
    return array, missing


@dataclass(eq=False)
class NumericBins:
    """Cell layout of one numeric feature, fixed from its reference sample.

    ``edges`` (strictly increasing, ``edges[0]`` = reference min, ``edges[-1]`` =
    reference max) define the in-range cells: ``{edges[0]}`` and the right-closed
    intervals ``(edges[i-1], edges[i]]``. Below ``edges[0]`` and above
    ``edges[-1]`` there are ``tail_bins`` cells per side whose boundaries lie at
    ``tail_scale * 2**k`` (k = 0, 1, ...) from the range, the outermost one open.
    All cells are right-closed, so cumulative counts are ``P(X <= boundary)``,
    the ECDF convention of ``scipy.stats.ks_2samp``.
    """

    edges: np.ndarray
    tail_scale: float
    tail_bins: int = DEFAULT_TAIL_BINS
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=np.float64).reshape(-1)
        if edges.size == 0:
            raise ValueError("edges must not be empty")
        if not np.isfinite(edges).all():
            raise ValueError("edges must be finite")
        if edges.size > 1 and not (np.diff(edges) > 0).all():
            raise ValueError("edges must be strictly increasing")
        self.edges = edges
        self.edges.flags.writeable = False
        self.tail_scale = finite_float(self.tail_scale, "tail_scale")
        if self.tail_scale <= 0:
            raise ValueError("tail_scale must be positive")
        if isinstance(self.tail_bins, bool) or int(self.tail_bins) != self.tail_bins:
            raise ValueError("tail_bins must be an integer")
        self.tail_bins = int(self.tail_bins)
        if not 0 <= self.tail_bins <= 64:
            raise ValueError("tail_bins must be between 0 and 64")
        self._build_layout()

    # -- construction -------------------------------------------------------

    @classmethod
    def from_reference(
        cls,
        values: Any,
        *,
        n_bins: int = DEFAULT_NUMERIC_BINS,
        tail_bins: int = DEFAULT_TAIL_BINS,
        sample_size: int = DEFAULT_EDGE_SAMPLE_SIZE,
        seed: int = 0,
    ) -> NumericBins:
        """Fit bins to a reference sample.

        Interior edges are the reference quantiles ``k / n_bins`` (inverted-CDF, so
        every edge is an observed value) plus a few extreme levels (0.002, 0.005,
        1e-3, 1e-4, ... and their mirrors, as far as the sample resolves them),
        computed on a seeded random sample of at most ``sample_size`` values; the
        outer edges are the exact min and max. A
        feature with at most ``n_bins + 1`` distinct values gets one edge per
        value, which makes every statistic exact for it. Ties collapse edges, so a
        feature may end up with fewer bins than asked for.
        """
        if n_bins < 1:
            raise ValueError("n_bins must be at least 1")
        if sample_size < 2:
            raise ValueError("sample_size must be at least 2")
        data, _missing = split_missing(values)
        if data.size == 0:
            raise ValueError("the reference has no non-missing values to fit bins to")
        low, high = float(data.min()), float(data.max())
        if data.size > sample_size:
            rng = np.random.default_rng(seed)
            sample = np.sort(data[rng.integers(0, data.size, sample_size)])
        else:
            sample = np.sort(data)
        distinct = sample[np.concatenate(([True], sample[1:] != sample[:-1]))]
        edges = None
        if distinct.size <= n_bins + 1:
            candidates = np.union1d(distinct, [low, high])
            if sample.size == data.size or _all_in(data, candidates):
                edges = candidates
        if edges is None:
            size = sample.size
            k = np.arange(1, n_bins, dtype=np.int64)
            positions = np.maximum((k * size + n_bins - 1) // n_bins - 1, 0)
            # The outermost equal-mass bins are the widest ones for long-tailed
            # data, and the Wasserstein error grows with cell width: split them
            # at extreme quantile levels the sample can resolve.
            levels = np.array(_tail_levels(size))
            extra = np.maximum(np.ceil(levels * size).astype(np.int64) - 1, 0)
            edges = np.unique(
                np.concatenate(([low], sample[positions], sample[extra], [high]))
            )
        # Tail cells start one mean interior bin width past the range; a constant
        # reference has no width, so a thousandth of its magnitude stands in.
        spread = (high - low) / n_bins
        tail_scale = spread if spread > 0 else max(abs(low), 1.0) * 1e-3
        return cls(edges=edges, tail_scale=tail_scale, tail_bins=tail_bins)

    def _build_layout(self) -> None:
        edges = self.edges
        low, high = float(edges[0]), float(edges[-1])
        steps = self.tail_scale * np.exp2(np.arange(self.tail_bins, dtype=np.float64))
        with np.errstate(over="ignore"):
            low_bounds = _strictly_increasing(low - steps[::-1], upper=low)
            high_bounds = _strictly_increasing(high + steps, lower=high)
        self._low_bounds = low_bounds
        self._high_bounds = high_bounds
        n_low = low_bounds.size + 1
        n_in = edges.size
        n_high = high_bounds.size + 1
        self.n_low_cells = n_low
        self.n_range_cells = n_in
        self.n_cells = n_low + n_in + n_high
        # Lower and upper bound of every cell (infinite for the two open cells).
        lower = np.concatenate(
            ([-np.inf], low_bounds, [low], edges[:-1], [high], high_bounds)
        )
        upper = np.concatenate((low_bounds, [low], edges, high_bounds, [np.inf]))
        self.cell_lower = lower
        self.cell_upper = upper
        # Offsets are stored relative to a finite anchor inside each cell: the
        # upper bound below the range, the lower bound from the range upwards.
        anchors = lower.copy()
        anchors[:n_low] = upper[:n_low]
        self.anchors = anchors
        for array in (lower, upper, anchors):
            array.flags.writeable = False

    # -- lookup ---------------------------------------------------------------

    def cell_index(self, values: np.ndarray) -> np.ndarray:
        """Cell index of every (finite) value, as an intp array."""
        x = np.asarray(values, dtype=np.float64)
        if x.size == 0:
            return np.zeros(0, dtype=np.intp)
        low, high = self.edges[0], self.edges[-1]
        smallest, largest = x.min(), x.max()
        inside = smallest >= low and largest <= high
        index = self._range_index(x if inside else np.clip(x, low, high))
        index += self.n_low_cells
        # Out-of-range values are usually few: fix them up by position.
        if smallest < low:
            where = np.flatnonzero(x < low)
            index[where] = np.searchsorted(self._low_bounds, x[where], side="left")
        if largest > high:
            where = np.flatnonzero(x > high)
            index[where] = np.searchsorted(self._high_bounds, x[where], side="left")
            index[where] += self.n_low_cells + self.n_range_cells
        return index

    def _range_index(self, x: np.ndarray) -> np.ndarray:
        """``searchsorted(edges, x, 'left')`` for x within the edges, but faster."""
        edges = self.edges
        if "grid" not in self._cache:
            # Built on first lookup only: evaluating stored profiles never needs it.
            self._cache["grid"] = _build_grid(edges)
        grid = self._cache["grid"]
        if grid is None:
            return np.searchsorted(edges, x, side="left").astype(np.intp, copy=False)
        cell = _grid_cell(x, grid)
        index = grid["start"][cell]
        padded = grid["padded_edges"]
        for _ in range(grid["steps"]):
            index += x > padded[index]
        if grid["crowded"] is not None:
            crowded = grid["crowded"][cell]
            if crowded.any():
                index[crowded] = np.searchsorted(edges, x[crowded], side="left")
        return index

    # -- identity and serialisation ------------------------------------------

    @property
    def fingerprint(self) -> str:
        """Stable identifier of the layout; profiles merge only on equal ones."""
        cached = self._cache.get("fingerprint")
        if cached is None:
            digest = hashlib.sha256()
            digest.update(f"v{BINS_FORMAT_VERSION}:{self.tail_bins}:".encode())
            digest.update(np.float64(self.tail_scale).tobytes())
            digest.update(self.edges.astype("<f8").tobytes())
            cached = self._cache["fingerprint"] = digest.hexdigest()[:32]
        return cached

    @property
    def low(self) -> float:
        return float(self.edges[0])

    @property
    def high(self) -> float:
        return float(self.edges[-1])

    @property
    def n_bins(self) -> int:
        """Number of interior bins (the point cell at the minimum not counted)."""
        return self.edges.size - 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericBins):
            return NotImplemented
        return self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": BINS_FORMAT_VERSION,
            "edges": self.edges.tolist(),
            "tail_scale": self.tail_scale,
            "tail_bins": self.tail_bins,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericBins:
        """Rebuild bins; equal layouts share one (immutable) instance."""
        try:
            edges = np.asarray(data["edges"], dtype=np.float64)
            key = (
                edges.tobytes(),
                float(data["tail_scale"]),
                data.get("tail_bins", DEFAULT_TAIL_BINS),
            )
            cached = _BINS_CACHE.get(key)
            if cached is not None:
                return cached
            bins = cls(edges=edges, tail_scale=key[1], tail_bins=key[2])
        except (KeyError, TypeError) as error:
            raise ValueError(f"invalid numeric bins: {error!r}") from error
        if len(_BINS_CACHE) >= _BINS_CACHE_SIZE:
            _BINS_CACHE.pop(next(iter(_BINS_CACHE)))
        _BINS_CACHE[key] = bins
        return bins


# Stored profiles repeat their feature's bins; rebuilding the cell layout for
# each of them would dominate an evaluation, so recent layouts are shared.
_BINS_CACHE: dict[tuple[bytes, float, Any], NumericBins] = {}
_BINS_CACHE_SIZE = 4096


def _tail_levels(size: int) -> list[float]:
    """Quantile levels 0.002, 0.005, 1e-3, 1e-4, ... (and mirrored) for a sample."""
    levels = [0.002, 0.005]
    exponent = 3
    while exponent <= 6 and size * 10.0**-exponent >= 1:
        levels.append(10.0**-exponent)
        exponent += 1
    return levels + [1 - level for level in levels]


def _strictly_increasing(
    bounds: np.ndarray, *, lower: float | None = None, upper: float | None = None
) -> np.ndarray:
    keep = np.isfinite(bounds)
    if lower is not None:
        keep &= bounds > lower
    if upper is not None:
        keep &= bounds < upper
    return np.unique(bounds[keep])


def _all_in(data: np.ndarray, sorted_values: np.ndarray) -> bool:
    position = np.searchsorted(sorted_values, data)
    np.minimum(position, sorted_values.size - 1, out=position)
    return bool((sorted_values[position] == data).all())


def _build_grid(edges: np.ndarray) -> dict[str, Any] | None:
    """Precompute the uniform-grid lookup for ``NumericBins._range_index``.

    The grid cell of a value is ``floor((x - edges[0]) * scale)``, a monotone
    function of x, computed with the same float operations for edges and values.
    Every edge in a lower grid cell is therefore below any value of this cell, and
    every edge in a higher cell above it, so the answer lies between ``start``
    (edges in lower cells) and ``start`` + (edges in this cell).
    """
    if edges.size < 3:
        return None
    span = float(edges[-1] - edges[0])
    if not math.isfinite(span) or span <= 0:
        return None
    n_grid = int(min(_GRID_MAX_CELLS, _GRID_CELLS_PER_EDGE * edges.size))
    scale = n_grid / span
    if not math.isfinite(scale):
        return None
    grid = {"origin": float(edges[0]), "scale": scale, "n_grid": n_grid}
    edge_cells = _grid_cell(edges, grid)
    cells = np.arange(n_grid)
    start = np.searchsorted(edge_cells, cells, side="left").astype(np.intp)
    per_cell = np.searchsorted(edge_cells, cells, side="right") - start
    crowded = per_cell > _GRID_MAX_STEPS
    grid["start"] = start
    grid["steps"] = int(min(per_cell.max(), _GRID_MAX_STEPS))
    grid["crowded"] = crowded if crowded.any() else None
    grid["padded_edges"] = np.concatenate((edges, [np.inf]))
    return grid


def _grid_cell(x: np.ndarray, grid: dict[str, Any]) -> np.ndarray:
    scaled = np.subtract(x, grid["origin"])
    scaled *= grid["scale"]
    cell = scaled.astype(np.intp)
    np.clip(cell, 0, grid["n_grid"] - 1, out=cell)
    return cell
