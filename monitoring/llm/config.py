"""The limits LLM call monitoring judges windows by, per model (prompt) entry:
``MonitoringConfig.llm`` holds ``LlmConfig.to_dict()``, validated here before
it is stored; absent keys take the defaults below."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from kernel.numbers import is_finite_number
from monitoring.llm.parsing import METRIC_NAME


@dataclass(frozen=True)
class LlmConfig:
    # Cost per call against its baseline: the configured one, else the mean
    # cost per call of the target's previous ``cost_baseline_days`` days.
    cost_per_call_baseline: float | None = None
    cost_baseline_days: int = 7
    cost_spike_warning: float = 1.5  # ratio to the baseline
    cost_spike_critical: float = 3.0
    # Judge scores (higher is better) against the eval baseline: the configured
    # value per metric, else the latest evaluation of the version.
    judge_baselines: dict[str, float] = field(default_factory=dict)
    judge_tolerance: float = 0.05  # absolute drop for a warning; twice: critical
    judge_min_count: int = 20
    # Share of calls with a safety flag.
    safety_rate_warning: float = 0.01
    safety_rate_critical: float = 0.05

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> LlmConfig:
        """Raises ValueError naming the first bad key."""
        data = data or {}
        if not isinstance(data, dict):
            raise ValueError("An object of LLM monitoring limits.")
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown key: {unknown[0]}.")
        values = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            value = data[item.name]
            if item.name == "judge_baselines":
                values[item.name] = _baselines(value)
            elif item.name == "cost_per_call_baseline" and value is None:
                values[item.name] = None
            elif item.name in ("cost_baseline_days", "judge_min_count"):
                values[item.name] = _whole(item.name, value, 1, 365 * 24)
            else:
                values[item.name] = _number(item.name, value)
        config = cls(**values)
        if config.cost_spike_critical < config.cost_spike_warning:
            raise ValueError("cost_spike_critical: at least cost_spike_warning.")
        if config.safety_rate_critical < config.safety_rate_warning:
            raise ValueError("safety_rate_critical: at least safety_rate_warning.")
        for name in ("safety_rate_warning", "safety_rate_critical"):
            if getattr(config, name) > 1:
                raise ValueError(f"{name}: a share between 0 and 1.")
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def llm_config_of(config) -> LlmConfig:
    """A model's stored limits (validated when stored), or the defaults."""
    try:
        return LlmConfig.from_dict(getattr(config, "llm", None) or {})
    except ValueError:
        return LlmConfig()


def _number(name: str, value: Any) -> float:
    if not is_finite_number(value) or value < 0:
        raise ValueError(f"{name}: a finite number, not negative.")
    return float(value)


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise ValueError(f"{name}: a whole number from {low} to {high}.")
    return value


def _baselines(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError("judge_baselines: an object of baseline scores by metric.")
    for name in value:
        if not isinstance(name, str) or not METRIC_NAME.match(name):
            raise ValueError(
                f"judge_baselines: {str(name)[:60]!r} is not a metric name."
            )
    return {
        name: _number(f"judge_baselines.{name}", score) for name, score in value.items()
    }
