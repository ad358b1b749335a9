"""``ProfileSpec``: what the window profiles of one deployed model version are
made on, as the portal serves it (``GET .../profile-spec``).

A client fetches it and profiles exactly these features, on exactly these
layouts (the reference's numeric bin edges and categorical vocabularies), so a
profile of the wrong columns or on other bins cannot be built silently; the
portal checks the same layouts again when the profile arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gatehouse_client.profile import outcomes
from gatehouse_client.profile.binning import NumericBins
from gatehouse_client.profile.categorical import CategoricalProfile
from gatehouse_client.profile.errors import ProfileInvalid
from gatehouse_client.profile.format import PROFILE_FORMAT_VERSION
from gatehouse_client.profile.numeric import NumericProfile
from gatehouse_client.profile.rows import PredictionSettings
from gatehouse_client.profile.slices import DEFAULT_SCORE_BINS, LATENCY_BINS, Profile

SPEC_FORMAT = "gatehouse.profile-spec"
# The version of the window-profile document (``window.WIRE_VERSION`` too).
SPEC_VERSION = 1
NUMERIC = "numeric"
CATEGORICAL = "categorical"
TASKS = (outcomes.BINARY, outcomes.MULTICLASS, outcomes.REGRESSION)


@dataclass
class ProfileSpec:
    """The features (name -> an empty profile on the reference's layout), the
    score bins, the task and threshold that label outcomes are counted with,
    and the fairness attributes (segments) of one model version."""

    features: dict[str, Profile]
    score_bins: NumericBins = DEFAULT_SCORE_BINS
    task: str = outcomes.BINARY
    decision_threshold: float = 0.5
    segments: tuple[str, ...] = ()
    model: str = ""
    environment: str = ""
    version: int | None = None
    reference: int | None = None
    latency_bins: NumericBins = field(default=LATENCY_BINS)

    def __post_init__(self) -> None:
        self.features = {
            name: _empty_like(profile) for name, profile in self.features.items()
        }
        self.segments = tuple(self.segments)

    def kind_of(self, feature: str) -> str | None:
        profile = self.features.get(feature)
        if profile is None:
            return None
        return NUMERIC if isinstance(profile, NumericProfile) else CATEGORICAL

    def settings(self) -> PredictionSettings:
        """How label outcomes are counted (no review sampling in a profile)."""
        return PredictionSettings(
            task=self.task,
            threshold=self.decision_threshold,
            low_confidence=None,
            seed=0,
        )

    def to_dict(self) -> dict[str, Any]:
        features = []
        for name, profile in self.features.items():
            entry: dict[str, Any] = {"name": name, "kind": self.kind_of(name)}
            if isinstance(profile, NumericProfile):
                entry["bins"] = profile.bins.to_dict()
                entry["bins_id"] = profile.bins.fingerprint
            else:
                entry["categories"] = list(profile.categories)
                entry["tail_buckets"] = profile.tail_buckets
            features.append(entry)
        return {
            "format": SPEC_FORMAT,
            "format_version": SPEC_VERSION,
            "profile_format_version": PROFILE_FORMAT_VERSION,
            "model": self.model,
            "environment": self.environment,
            "version": self.version,
            "reference": self.reference,
            "task": self.task,
            "decision_threshold": self.decision_threshold,
            "segments": list(self.segments),
            "features": features,
            "score_bins": self.score_bins.to_dict(),
            "latency_bins": self.latency_bins.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileSpec:
        """Read a spec as the portal serves it (``ProfileInvalid`` if it is not one)."""
        if not isinstance(data, dict) or data.get("format") != SPEC_FORMAT:
            raise ProfileInvalid("Not a Gatehouse profile spec.")
        if data.get("format_version") != SPEC_VERSION:
            raise ProfileInvalid(
                f"Profile spec version {data.get('format_version')!r}: this client "
                f"reads version {SPEC_VERSION}. Upgrade gatehouse-client."
            )
        try:
            features: dict[str, Profile] = {}
            for entry in data["features"]:
                if entry["kind"] == NUMERIC:
                    bins = NumericBins.from_dict(entry["bins"])
                    features[entry["name"]] = NumericProfile.empty(bins)
                else:
                    features[entry["name"]] = CategoricalProfile.empty(
                        entry["categories"], tail_buckets=entry["tail_buckets"]
                    )
            return cls(
                features=features,
                score_bins=NumericBins.from_dict(data["score_bins"]),
                task=data["task"],
                decision_threshold=float(data["decision_threshold"]),
                segments=tuple(data.get("segments") or ()),
                model=data.get("model", ""),
                environment=data.get("environment", ""),
                version=data.get("version"),
                reference=data.get("reference"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ProfileInvalid(f"Invalid profile spec: {error}") from error


def _empty_like(profile: Profile) -> Profile:
    if isinstance(profile, NumericProfile):
        return profile if profile.total == 0 else NumericProfile.empty(profile.bins)
    return profile if profile.total == 0 else profile.empty_like()
