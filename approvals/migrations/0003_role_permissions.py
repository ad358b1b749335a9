"""Give the roles their approvals permissions (portal/roles.py)."""

from django.db import migrations

from kernel.roles import sync_role_groups_migration


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0002_default_policies"),
        ("models_registry", "0003_role_permissions"),
    ]

    operations = [
        migrations.RunPython(sync_role_groups_migration, migrations.RunPython.noop)
    ]
