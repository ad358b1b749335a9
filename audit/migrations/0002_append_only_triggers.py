"""Make the database itself refuse UPDATE, DELETE and TRUNCATE on audit events.

A trigger stops the application, not the table's owner (who can disable it) nor a
superuser (session_replication_role = replica): production runs the portal as a
role that does not own the table and holds only SELECT and INSERT on it (see
``manage.py audit_db_role``).

On SQLite a migration that rebuilds ``audit_auditevent`` drops these triggers;
such a migration must create them again.
"""

from django.db import migrations

TABLE = "audit_auditevent"

POSTGRESQL_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$;
    """,
    f"""
    CREATE TRIGGER audit_event_refuse_update_delete
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
    """,
    f"""
    CREATE TRIGGER audit_event_refuse_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
    """,
]
POSTGRESQL_BACKWARD = [
    f"DROP TRIGGER IF EXISTS audit_event_refuse_truncate ON {TABLE};",
    f"DROP TRIGGER IF EXISTS audit_event_refuse_update_delete ON {TABLE};",
    "DROP FUNCTION IF EXISTS audit_refuse_change();",
]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER audit_event_refuse_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END;
    """,
    f"""
    CREATE TRIGGER audit_event_refuse_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_refuse_update;",
    "DROP TRIGGER IF EXISTS audit_event_refuse_delete;",
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
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
