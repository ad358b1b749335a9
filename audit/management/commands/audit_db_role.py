from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from audit.models import AuditCheckpoint, AuditEvent

# Append-only tables: the runtime role may read them and add rows, nothing else.
APPEND_ONLY = (AuditEvent, AuditCheckpoint)


class Command(BaseCommand):
    help = (
        "Create (or update) the PostgreSQL role the portal runs as. It does not own "
        "any table, may read and write the portal's tables, and may only SELECT and "
        "INSERT audit events and checkpoints: it cannot UPDATE, DELETE or TRUNCATE "
        "them, nor disable their triggers. Run it as the owner of the schema after "
        "every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default="gatehouse_app", help="role name")
        parser.add_argument(
            "--password", default=None, help="login password (omit to keep the current)"
        )

    def handle(self, *args, role, password, **options):
        if connection.vendor != "postgresql":
            raise CommandError("audit_db_role needs PostgreSQL (DATABASE_URL).")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, database = cursor.fetchone()
        if role == owner:
            raise CommandError(
                "the runtime role must not be the role that owns the schema"
            )
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in role_statements(
                role=role, password=password, owner=owner, database=database
            ):
                cursor.execute(statement)
        self.stdout.write(
            self.style.SUCCESS(
                f"role {role} ready: run the portal with "
                f"DATABASE_URL=postgres://{role}:<password>@<host>/{database}"
            )
        )


def role_statements(*, role: str, password: str | None, owner: str, database: str):
    """The SQL that creates the role and its grants; safe to run again."""
    ident = sql.Identifier(role)
    statements = [
        sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) "
            "THEN CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            "NOREPLICATION NOBYPASSRLS; END IF; END $$"
        ).format(name=sql.Literal(role), role=ident),
        sql.SQL(
            "ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            "NOREPLICATION NOBYPASSRLS"
        ).format(role=ident),
        sql.SQL("GRANT CONNECT ON DATABASE {db} TO {role}").format(
            db=sql.Identifier(database), role=ident
        ),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {role}").format(role=ident),
        sql.SQL(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
            "TO {role}"
        ).format(role=ident),
        sql.SQL(
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"
        ).format(role=ident),
        *(
            statement.format(table=sql.Identifier(model._meta.db_table), role=ident)
            for model in APPEND_ONLY
            for statement in (
                sql.SQL(
                    "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} "
                    "FROM {role}"
                ),
                sql.SQL("GRANT SELECT, INSERT ON {table} TO {role}"),
            )
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        ).format(owner=sql.Identifier(owner), role=ident),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT USAGE, SELECT ON SEQUENCES TO {role}"
        ).format(owner=sql.Identifier(owner), role=ident),
    ]
    if password is not None:
        statements.insert(
            2,
            sql.SQL("ALTER ROLE {role} PASSWORD {password}").format(
                role=ident, password=sql.Literal(password)
            ),
        )
    return statements
