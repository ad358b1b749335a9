"""Give the roles their registry permissions (portal/roles.py)."""

from django.db import migrations

from kernel.roles import sync_role_groups_migration


class Migration(migrations.Migration):
    dependencies = [
        ("models_registry", "0002_immutable_records"),
        ("portal", "0002_role_groups"),
    ]

    operations = [
        migrations.RunPython(sync_role_groups_migration, migrations.RunPython.noop)
    ]
