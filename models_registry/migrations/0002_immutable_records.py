"""The database refuses UPDATE and DELETE on immutable registry records.

Dataset snapshots (and their parent links), artifacts and model card revisions are
written once. ``save()`` refuses updates too; these triggers stop raw SQL and bulk
``.update()`` that bypass it. On SQLite, a migration that rebuilds one of these
tables drops its triggers and must create them again.
"""

from django.db import migrations

TABLES = [
    "models_registry_datasetsnapshot",
    "models_registry_datasetsnapshot_parents",
    "models_registry_artifact",
    "models_registry_modelcardrevision",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION registry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();",
                params=None,
            )
    elif vendor == "sqlite":
        for table in TABLES:
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'{table} rows are immutable: {operation} refused'); END;",
                    params=None,
                )
    else:
        raise RuntimeError(f"no immutability triggers written for {vendor}")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};"
            )
        else:
            for operation in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS registry_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [("models_registry", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
