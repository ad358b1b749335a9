"""Staging and production environments, and an approval policy for each risk
class in each, with defaults a model-risk function would start from."""

from django.db import migrations

ALL_ITEMS = [
    "success_metrics_defined",
    "lineage_recorded",
    "reproducibility_verified",
    "offline_metrics_met",
    "fairness_slices",
    "no_leakage",
    "model_card_complete",
    "artifact_pinned",
    "online_metrics_defined",
]
BASIC = ["success_metrics_defined", "artifact_pinned"]
STANDARD = [*BASIC, "offline_metrics_met", "model_card_complete", "no_leakage"]

# (risk class, environment): approvals, required roles, gates, staged, A/B, days
DEFAULTS = {
    ("low", "staging"): (1, [], BASIC, False, False, 30),
    ("low", "production"): (1, [], STANDARD, False, False, 14),
    ("medium", "staging"): (1, [], STANDARD, False, False, 30),
    ("medium", "production"): (
        2, [], [*STANDARD, "lineage_recorded", "reproducibility_verified"], True, True, 14,
    ),
    ("high", "staging"): (1, [], [*STANDARD, "fairness_slices"], False, False, 14),
    ("high", "production"): (
        2, ["risk_officer"], [*ALL_ITEMS, "independent_validation"], True, True, 7,
    ),
    ("critical", "staging"): (2, ["risk_officer"], ALL_ITEMS, False, False, 14),
    ("critical", "production"): (
        3, ["risk_officer"], [*ALL_ITEMS, "independent_validation"], True, True, 7,
    ),
}  # fmt: skip


def create_defaults(apps, schema_editor):
    environment_model = apps.get_model("approvals", "Environment")
    policy_model = apps.get_model("approvals", "ApprovalPolicy")
    environments = {
        "staging": environment_model.objects.get_or_create(
            name="staging", defaults={"title": "Staging", "order": 10}
        )[0],
        "production": environment_model.objects.get_or_create(
            name="production",
            defaults={"title": "Production", "order": 20, "is_production": True},
        )[0],
    }
    for (risk_class, environment), values in DEFAULTS.items():
        approvals, roles, gates, staged, ab, days = values
        policy_model.objects.get_or_create(
            risk_class=risk_class,
            environment=environments[environment],
            defaults={
                "required_approvals": approvals,
                "required_roles": roles,
                "gate_items": gates,
                "requires_staged_rollout": staged,
                "big_change_requires_ab": ab,
                "approval_valid_days": days,
            },
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("approvals", "ApprovalPolicy").objects.all().delete()
    apps.get_model("approvals", "Environment").objects.filter(
        name__in=["staging", "production"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
