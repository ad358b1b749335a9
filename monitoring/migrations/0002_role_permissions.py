"""Give the roles their monitoring permissions (portal/roles.py)."""

from django.db import migrations

from kernel.roles import sync_role_groups_migration


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("approvals", "0003_role_permissions"),
    ]

    operations = [
        migrations.RunPython(sync_role_groups_migration, migrations.RunPython.noop)
    ]
