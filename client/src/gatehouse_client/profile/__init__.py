"""Gatehouse monitoring profiles: one implementation for the portal and clients.

A window profile summarises one hour of one deployed model's predictions in a
few kilobytes, whatever the number of rows; profiles of the same hour merge
associatively and commutatively, so they can be built where the data lives
(a Spark partition, a pandas chunk) and merged anywhere. The portal profiles
the rows it receives with this same code. No Django here: NumPy and PyArrow.

The parts, from small to large:

* ``NumericBins`` (``binning``): bin edges fixed once from the reference sample
  (reference-quantile bins plus geometrically growing tail bins each side).
* ``NumericProfile`` (``numeric``): per-cell counts and offsets on those bins,
  missing count, min, max, mean and M2 (Chan's parallel update).
* ``CategoricalProfile`` (``categorical``): counts per category of the
  reference's vocabulary (its top 500), the other categories hashed into 256
  tail buckets (CRC-32), and a missing count.
* ``WindowProfile`` (``window``): one hour: rows, a profile per feature, score
  and latency profiles, label-joined outcome counts, fairness segment counts
  and KPI sums; ``merge``, ``to_dict`` / ``from_dict`` (checked against a spec).
* ``ProfileSpec`` (``spec``): the features, layouts, task and segments of one
  model version, as the portal serves them.
* ``profile_table`` (``window``): the window profiles of an Arrow table.
* ``profiles_document``, ``encode_json``, ``encode_binary``, ``read_windows``
  (``wire``): the versioned document pushed to the portal.

docs/profiles.md documents the wire format, versions, merge laws, tolerances
and validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gatehouse_client.profile.binning import BinsMismatchError, NumericBins
from gatehouse_client.profile.categorical import (
    DEFAULT_MAX_CATEGORIES,
    DEFAULT_TAIL_BUCKETS,
    OTHER_CATEGORY,
    CategoricalProfile,
    top_categories,
)
from gatehouse_client.profile.errors import ProfileInvalid
from gatehouse_client.profile.format import PROFILE_FORMAT_VERSION
from gatehouse_client.profile.numeric import NumericProfile
from gatehouse_client.profile.slices import (
    DEFAULT_SCORE_BINS,
    LATENCY_BINS,
    Profile,
)
from gatehouse_client.profile.spec import ProfileSpec
from gatehouse_client.profile.window import (
    FLOAT_RTOL,
    WIRE_VERSION,
    WindowProfile,
    merge_windows,
    profile_table,
)
from gatehouse_client.profile.wire import (
    BINARY_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    decode_binary,
    document_header,
    encode_binary,
    encode_json,
    profiles_document,
    read_windows,
)

__all__ = [
    "BINARY_MEDIA_TYPE",
    "DEFAULT_MAX_CATEGORIES",
    "DEFAULT_SCORE_BINS",
    "DEFAULT_TAIL_BUCKETS",
    "FLOAT_RTOL",
    "JSON_MEDIA_TYPE",
    "LATENCY_BINS",
    "OTHER_CATEGORY",
    "PROFILE_FORMAT_VERSION",
    "WIRE_VERSION",
    "BinsMismatchError",
    "CategoricalProfile",
    "NumericBins",
    "NumericProfile",
    "Profile",
    "ProfileInvalid",
    "ProfileSpec",
    "WindowProfile",
    "decode_binary",
    "document_header",
    "encode_binary",
    "encode_json",
    "merge_profiles",
    "merge_windows",
    "profile_from_dict",
    "profile_table",
    "profiles_document",
    "read_windows",
    "top_categories",
]


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
