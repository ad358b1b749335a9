"""How a model's windows are judged for drift: methods, thresholds, per-feature
overrides and the multiple-testing correction (``DriftConfig``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from monitoring.statistics import DEFAULT_PSI_EPSILON

NUMERIC = "numeric"
CATEGORICAL = "categorical"

EFFECT_SIZE_METHODS = frozenset({"wasserstein", "jensenshannon", "psi"})
PVALUE_METHODS = frozenset({"ks", "chi2"})
METHODS_BY_KIND = {
    NUMERIC: frozenset({"wasserstein", "jensenshannon", "psi", "ks"}),
    CATEGORICAL: frozenset({"jensenshannon", "psi", "chi2"}),
}
CORRECTIONS = frozenset({"holm", "bonferroni", "bh", "none"})

# (warning, critical). Effect sizes: drift at or above the value. p-value tests:
# drift when the corrected p-value is below it. Rationale in docs/drift.md.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "wasserstein": (0.1, 0.2),
    "jensenshannon": (0.1, 0.2),
    "psi": (0.2, 0.5),
    "ks": (0.05, 0.001),
    "chi2": (0.05, 0.001),
}


def _check_thresholds(method: str, warning: float, critical: float) -> None:
    for name, value in (("warning", warning), ("critical", critical)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{method} {name} threshold must be a number")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{method} {name} threshold must be finite and >= 0")
    if method in PVALUE_METHODS:
        if not 0 < critical <= warning < 1:
            raise ValueError(f"{method} thresholds need 0 < critical <= warning < 1")
    elif critical < warning:
        raise ValueError(f"{method} critical threshold must be >= warning")


def _check_method(method: str) -> None:
    if method not in EFFECT_SIZE_METHODS | PVALUE_METHODS:
        known = ", ".join(sorted(EFFECT_SIZE_METHODS | PVALUE_METHODS))
        raise ValueError(f"unknown drift method {method!r} (known: {known})")


@dataclass(frozen=True)
class FeatureDriftConfig:
    """Per-feature overrides; ``None`` keeps the window-wide default."""

    method: str | None = None
    warning: float | None = None
    critical: float | None = None
    min_count: int | None = None

    def __post_init__(self) -> None:
        if self.method is not None:
            _check_method(self.method)
        if self.min_count is not None and (
            isinstance(self.min_count, bool)
            or not isinstance(self.min_count, int)
            or self.min_count < 1
        ):
            raise ValueError("min_count must be a positive integer")


@dataclass(frozen=True)
class DriftConfig:
    """How one model's windows are judged. JSON round trip: ``to_dict``/``from_dict``.

    * ``numeric_method`` / ``categorical_method``: the statistic that decides.
    * ``thresholds``: (warning, critical) per method, see ``DEFAULT_THRESHOLDS``.
    * ``require_significance``: an effect-size verdict also needs the feature's
      corrected p-value (KS or chi-square) below ``alpha``, so a small window's
      sampling noise does not raise alerts; at production volumes it is always
      met and the effect size decides.
    * ``correction``: ``holm`` (default, family-wise), ``bonferroni``, ``bh``
      (Benjamini-Hochberg false discovery rate) or ``none``, over the features of
      one evaluation.
    * ``min_count``: windows with fewer non-missing values are not judged.
    """

    numeric_method: str = "wasserstein"
    categorical_method: str = "jensenshannon"
    thresholds: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS)
    )
    features: Mapping[str, FeatureDriftConfig] = field(default_factory=dict)
    correction: str = "holm"
    alpha: float = 0.05
    require_significance: bool = True
    min_count: int = 30
    psi_epsilon: float = DEFAULT_PSI_EPSILON

    def __post_init__(self) -> None:
        for kind, method in (
            (NUMERIC, self.numeric_method),
            (CATEGORICAL, self.categorical_method),
        ):
            _check_method(method)
            if method not in METHODS_BY_KIND[kind]:
                raise ValueError(f"{method!r} does not apply to {kind} features")
        thresholds = dict(DEFAULT_THRESHOLDS)
        for method, pair in dict(self.thresholds).items():
            _check_method(method)
            warning, critical = pair
            _check_thresholds(method, warning, critical)
            thresholds[method] = (float(warning), float(critical))
        object.__setattr__(self, "thresholds", thresholds)
        features = {}
        for name, override in dict(self.features).items():
            if isinstance(override, Mapping):
                override = FeatureDriftConfig(**override)
            if not isinstance(override, FeatureDriftConfig):
                raise ValueError(f"feature {name!r}: invalid configuration")
            # Without a method the override applies to the kind's default method.
            methods = (
                [override.method]
                if override.method
                else [self.numeric_method, self.categorical_method]
            )
            for method in methods:
                warning, critical = thresholds[method]
                _check_thresholds(
                    method,
                    override.warning if override.warning is not None else warning,
                    override.critical if override.critical is not None else critical,
                )
            features[str(name)] = override
        object.__setattr__(self, "features", features)
        if self.correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {sorted(CORRECTIONS)}")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if (
            isinstance(self.min_count, bool)
            or not isinstance(self.min_count, int)
            or self.min_count < 1
        ):
            raise ValueError("min_count must be a positive integer")
        if not isinstance(self.require_significance, bool):
            raise ValueError("require_significance must be true or false")
        if not 0 < self.psi_epsilon < 1:
            raise ValueError("psi_epsilon must be between 0 and 1")

    def method_for(self, feature: str, kind: str) -> str:
        override = self.features.get(feature)
        default = self.numeric_method if kind == NUMERIC else self.categorical_method
        method = override.method if override and override.method else default
        if method not in METHODS_BY_KIND[kind]:
            raise ValueError(
                f"feature {feature!r}: {method!r} does not apply to {kind} data"
            )
        return method

    def thresholds_for(self, feature: str, method: str) -> tuple[float, float]:
        warning, critical = self.thresholds[method]
        override = self.features.get(feature)
        if override is not None:
            warning = override.warning if override.warning is not None else warning
            critical = override.critical if override.critical is not None else critical
        return float(warning), float(critical)

    def min_count_for(self, feature: str) -> int:
        override = self.features.get(feature)
        return override.min_count if override and override.min_count else self.min_count

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric_method": self.numeric_method,
            "categorical_method": self.categorical_method,
            "thresholds": {key: list(value) for key, value in self.thresholds.items()},
            "features": {
                name: {
                    key: value
                    for key, value in asdict(override).items()
                    if value is not None
                }
                for name, override in self.features.items()
            },
            "correction": self.correction,
            "alpha": self.alpha,
            "require_significance": self.require_significance,
            "min_count": self.min_count,
            "psi_epsilon": self.psi_epsilon,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        """Validate and build; unknown keys and bad values raise ValueError."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown drift configuration keys: {sorted(unknown)}")
        values = dict(data)
        try:
            if "thresholds" in values:
                values["thresholds"] = {
                    method: tuple(pair)
                    for method, pair in dict(values["thresholds"]).items()
                }
                if any(len(pair) != 2 for pair in values["thresholds"].values()):
                    raise ValueError("thresholds are [warning, critical] pairs")
            if "features" in values:
                values["features"] = {
                    name: FeatureDriftConfig(**dict(override))
                    for name, override in dict(values["features"]).items()
                }
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"invalid drift configuration: {error}") from error
