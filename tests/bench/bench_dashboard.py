"""Benchmark the monitoring dashboard: server time for 90 days of hourly windows
and 50 features.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_dashboard.py

It drops and recreates a scratch database ``gatehouse_bench_dashboard`` on the
same server (never the one named in DATABASE_URL), fills it with one deployed
model of 50 features, its reference, 2,160 checked hourly windows (each with the
summary the checks write: 50 drift scores, latency, performance, KPIs,
fairness), a day of feature profiles and a few alerts, then renders
``/monitoring/deployments/<id>/`` in-process with Django's test client for 1, 7,
30 and 90 days and prints the median server time of ``--runs`` renders and the
number of queries. Target: under 300 ms at 90 days.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "bench"))
sys.path.insert(0, str(REPO_ROOT))

from bench_ingest import recreate_database, with_database  # noqa: E402

BENCH_DB = "gatehouse_bench_dashboard"
FEATURES = 50
DAYS = 90
TARGET_MS = 300


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    return parser.parse_args()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill():
    """Return (user, deployment id)."""
    from datetime import timedelta

    import numpy as np
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from approvals.models import Deployment, Environment
    from kernel.models import Team
    from models_registry import services as registry
    from monitoring.models import (
        Alert,
        FeatureProfile,
        MonitoringTarget,
        MonitoringWindow,
        ReferenceProfile,
        ReferenceSource,
    )
    from monitoring.windows import build_reference

    group = Group.objects.create(name="team:bench")
    team = Team.objects.create(name="Bench", slug="bench", group=group)
    user = get_user_model().objects.create_user(username="bench", password=None)
    user.groups.add(Group.objects.get(name="data_scientist"), group)
    model = registry.model_create(
        actor=user,
        name="bench-model",
        title="Bench",
        team=team,
        domain="credit",
        risk_class="high",
        regulatory_tier="high",
        serving_mode="real_time",
        latency_slo_ms=150,
        online_success_metrics=[
            {"kpi": "approval_rate", "direction": "higher", "threshold": 0.5}
        ],
        fairness_attributes=["sex"],
    )
    names = [f"feature_{i:02d}" for i in range(FEATURES)]
    version, _ = registry.model_version_register(
        actor=user,
        model=model,
        artifact={
            "uri": "s3://bench/model.onnx",
            "sha256": "d" * 64,
            "size_bytes": 1,
            "format": "onnx",
            "feature_spec": [{"name": name, "type": "numeric"} for name in names],
        },
    )
    production = Environment.objects.get(name="production")
    deployment = Deployment.objects.create(
        model=model,
        version=version,
        environment=production,
        artifact=version.artifact,
        artifact_sha256=version.artifact.sha256,
        strategy="full",
        deployed_by=user,
    )
    import pyarrow as pa
    from gatehouse_client.profile import NumericProfile

    from monitoring.parsing import FEATURE_PREFIX

    rng = np.random.default_rng(3)
    sample = pa.table(
        {FEATURE_PREFIX + name: rng.normal(0, 1, 20_000) for name in names}
        | {"score": rng.random(20_000)}
    )
    features, score = build_reference(sample, [(name, "numeric") for name in names])
    reference = ReferenceProfile.objects.create(
        version=version,
        source=ReferenceSource.UPLOAD,
        row_count=20_000,
        features=features,
        score=score,
    )
    target = MonitoringTarget.objects.create(
        model=model, version=version, environment=production
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    hours = DAYS * 24
    windows = []
    for hour in range(hours):
        drift = rng.gamma(1.0, 0.04, FEATURES)
        windows.append(
            MonitoringWindow(
                target=target,
                start=now - timedelta(hours=hours - hour),
                reference=reference,
                prediction_count=5000,
                label_count=3000,
                latency_count=5000,
                latency_p50=40.0,
                latency_p95=95.0,
                latency_p99=140.0,
                score_mean=0.5,
                drift=dict(zip(names, drift.round(4).tolist(), strict=True)),
                summary={
                    "drift_severity": {
                        name: "warning"
                        for name, value in zip(names, drift, strict=True)
                        if value >= 0.1
                    },
                    "prediction_drift": 0.02,
                    "performance": {"labelled": 3000, "auc": 0.8, "accuracy": 0.75},
                    "latency": {"p50": 40.0, "p95": 95.0, "p99": 140.0, "count": 5000},
                    "kpis": {"approval_rate": 0.55},
                    "fairness": {
                        "sex:positive_rate": {
                            "gap": 0.03,
                            "groups": {"female": 0.53, "male": 0.56},
                        }
                    },
                    "failing": [],
                },
                checked_revision=1,
                revision=1,
                checked_at=now,
            )
        )
    MonitoringWindow.objects.bulk_create(windows, batch_size=500)
    # The daily roll-ups, as the checks keep them (one per day).
    from django.db import transaction

    from monitoring.services.checks import day_roll_up as _roll_up_day

    first_of_day = {}
    for window in MonitoringWindow.objects.filter(target=target).order_by("start"):
        first_of_day.setdefault(window.start.date(), window)
    for window in first_of_day.values():
        with transaction.atomic():
            _roll_up_day(window, now)
    recent = list(
        MonitoringWindow.objects.filter(target=target).order_by("-start")[:24]
    )
    from gatehouse_client.profile import profile_from_dict

    profiles = []
    for window in recent:
        for name in names:
            bins = profile_from_dict(features[name]).bins
            profile = NumericProfile.from_values(rng.normal(0.1, 1, 5000), bins)
            profiles.append(
                FeatureProfile(
                    window=window,
                    feature=name,
                    kind="numeric",
                    profile=profile.to_dict(include_bins=False),
                    count=5000,
                )
            )
    FeatureProfile.objects.bulk_create(profiles, batch_size=500)
    for index in range(10):
        Alert.objects.create(
            target=target,
            kind="data_drift",
            subject=names[index],
            status="open" if index < 3 else "resolved",
            resolved_at=now if index >= 3 else None,
            severity="high",
            title=f"Data drift: {names[index]}",
            first_window_start=now - timedelta(hours=5),
            last_window_start=now - timedelta(hours=2),
        )
    return user, deployment.pk


def main():
    args = parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        sys.exit("Set DATABASE_URL to a PostgreSQL server")
    maintenance = with_database(base, "postgres")
    url = with_database(base, BENCH_DB)
    recreate_database(maintenance, BENCH_DB, create=True)
    try:
        setup_django(url)
        print(f"filling {DAYS * 24:,} windows x {FEATURES} features ...", flush=True)
        user, deployment_id = fill()
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.force_login(user)
        path = f"/monitoring/deployments/{deployment_id}/"
        client.get(path)  # imports, caches
        for days in (1, 7, 30, 90):
            times, cpu = [], []
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    started_cpu = time.process_time()
                    response = client.get(path, {"days": days})
                    cpu.append(time.process_time() - started_cpu)
                    times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
            median = statistics.median(times) * 1000
            print(
                f"{days:>2} days: median {median:6.1f} ms, best "
                f"{min(times) * 1000:6.1f} ms over {args.runs} renders "
                f"(web process CPU: median {statistics.median(cpu) * 1000:5.1f} ms), "
                f"{len(queries.captured_queries)} queries, "
                f"{len(response.content) / 1024:.0f} KiB"
            )
            if days == DAYS:
                verdict = "meets" if median < TARGET_MS else "misses"
                print(
                    f"90 days x {FEATURES} features: {verdict} the {TARGET_MS} ms "
                    f"target (load average {os.getloadavg()[0]:.1f} on "
                    f"{os.cpu_count()} CPUs)"
                )
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(maintenance, BENCH_DB, create=False)


if __name__ == "__main__":
    main()
