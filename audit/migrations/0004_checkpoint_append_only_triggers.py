"""Make the database refuse UPDATE, DELETE and TRUNCATE on audit checkpoints.

The same protection as audit events (0002), reusing its PostgreSQL function
``audit_refuse_change()``. On SQLite a migration that rebuilds
``audit_auditcheckpoint`` drops these triggers; such a migration must create
them again.
"""

from django.db import migrations

TABLE = "audit_auditcheckpoint"

POSTGRESQL_FORWARD = [
    f"""
    CREATE TRIGGER audit_checkpoint_refuse_update_delete
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
    """,
    f"""
    CREATE TRIGGER audit_checkpoint_refuse_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
    """,
]
POSTGRESQL_BACKWARD = [
    f"DROP TRIGGER IF EXISTS audit_checkpoint_refuse_truncate ON {TABLE};",
    f"DROP TRIGGER IF EXISTS audit_checkpoint_refuse_update_delete ON {TABLE};",
]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER audit_checkpoint_refuse_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END;
    """,
    f"""
    CREATE TRIGGER audit_checkpoint_refuse_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_checkpoint_refuse_update;",
    "DROP TRIGGER IF EXISTS audit_checkpoint_refuse_delete;",
]


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(f"no append-only triggers written for {vendor}")
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("audit", "0003_checkpoint"),
    ]

    operations = [migrations.RunPython(forward, backward)]
