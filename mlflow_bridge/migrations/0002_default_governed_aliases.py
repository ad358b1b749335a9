"""The default governed aliases: champion follows production, challenger staging
(when those environments exist), and the roles' permissions on this app."""

from django.db import migrations

from kernel.roles import sync_role_groups_migration

DEFAULTS = {"champion": "production", "challenger": "staging"}


def create_defaults(apps, schema_editor):
    environment_model = apps.get_model("approvals", "Environment")
    governed_model = apps.get_model("mlflow_bridge", "GovernedAlias")
    for alias, environment_name in DEFAULTS.items():
        environment = environment_model.objects.filter(name=environment_name).first()
        if environment is not None:
            governed_model.objects.get_or_create(
                alias=alias, defaults={"environment": environment}
            )


def remove_defaults(apps, schema_editor):
    apps.get_model("mlflow_bridge", "GovernedAlias").objects.filter(
        alias__in=list(DEFAULTS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mlflow_bridge", "0001_initial"),
        ("approvals", "0002_default_policies"),
    ]

    operations = [
        migrations.RunPython(create_defaults, remove_defaults),
        migrations.RunPython(sync_role_groups_migration, migrations.RunPython.noop),
    ]
