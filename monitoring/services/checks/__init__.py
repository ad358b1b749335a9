"""Judging a closed window: every check, stored per window and subject, and the
alerts they raise or clear.

A window is checked when it closes (the beat task finds windows that are due:
closed for ``MONITORING_CHECK_GRACE_SECONDS`` and changed since their last
check) and again whenever late data or labels change it. Each check produces
one ``CheckResult`` per subject (feature, metric, KPI, attribute); the window
keeps a small ``summary`` of the numbers so dashboards never read profiles.

Defaults (documented in README, per model in ``MonitoringConfig``):

* data drift: ``monitoring.drift.DriftConfig`` (Wasserstein / std for numeric,
  Jensen-Shannon for categorical, warning 0.1, critical 0.2, significance
  required at alpha 0.05 after Holm's correction over the features);
* prediction drift: the same on the score distribution;
* training-serving skew: ``evaluate_feature_parity`` against an uploaded
  (training) reference; only data-quality gaps (missing rate, values outside
  the training range or vocabulary, absent features) count here, since the
  distribution itself is the data drift check;
* concept drift: each metric of the latest test evaluation that the labels
  support; a drop beyond ``performance_tolerance`` is a warning, below the
  model's offline success threshold is critical; needs
  ``MONITORING_MIN_LABELS`` labels;
* latency: the model's SLO percentile against ``latency_slo_ms``; the error
  budget is the share of requests allowed above the SLO (1 % for p99); a burn
  rate above 1 is a warning, at or above ``MONITORING_LATENCY_CRITICAL_BURN``
  critical;
* KPIs: the window mean of each online success metric against its threshold;
  a miss is a warning, a miss by more than ``MONITORING_KPI_CRITICAL_MARGIN``
  (relative) critical;
* fairness: per fairness attribute, over the window and the hours before it
  (``MONITORING_FAIRNESS_HOURS``, 24 in all), the gap between groups of the
  positive prediction rate, and with labels of the accuracy and true positive
  rate;
  above ``fairness_max_disparity`` a warning, above twice it critical, if the
  gap is significant (two-proportion z-test, p < 0.05); groups with fewer than
  ``MONITORING_MIN_COUNT`` predictions are left out.

Modules: ``window`` (checking a window, which windows are due), ``verdicts``
(what a check returns), ``distributions`` (data and prediction drift, skew),
``performance`` (concept drift, latency, KPIs), ``fairness``, and ``days``
(the day roll-ups).
"""

from monitoring.services.checks.days import day_roll_up
from monitoring.services.checks.distributions import drift_config_for
from monitoring.services.checks.performance import baseline_metrics
from monitoring.services.checks.verdicts import Verdict
from monitoring.services.checks.window import window_check, windows_due

__all__ = [
    "Verdict",
    "baseline_metrics",
    "day_roll_up",
    "drift_config_for",
    "window_check",
    "windows_due",
]
