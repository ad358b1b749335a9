"""Tokens made before scopes existed keep today's rights: every scope there is
now, and the expiry they had (none, for most)."""

from django.db import migrations

# Frozen here: a later scope is not given to old tokens by a later migrate.
ALL_SCOPES = (
    "registry:read registry:write requests:read requests:create decisions:write "
    "validations:write deployments:rollback monitoring:read monitoring:push "
    "monitoring:write audit:read accounts:read accounts:write"
)


def grant_all_scopes(apps, schema_editor):
    apps.get_model("portal", "ApiToken").objects.filter(scopes="").update(
        scopes=ALL_SCOPES
    )


def forget_scopes(apps, schema_editor):
    apps.get_model("portal", "ApiToken").objects.update(scopes="")


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_service_accounts_token_scopes")]

    operations = [migrations.RunPython(grant_all_scopes, forget_scopes)]
